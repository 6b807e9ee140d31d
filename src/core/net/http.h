/* http.h: the HTTP transport, the only module that includes libcurl.
 *
 * A client runs many requests at once on libcurl's multi interface, reusing
 * connections (HTTP/1.1 keep-alive, HTTP/2 multiplexing over TLS). Requests
 * are submitted with a completion callback; rs_http_run() drives them until
 * none is left. Callbacks may submit more requests, which is how a scan
 * walks catalog -> tags -> manifests as a pipeline.
 *
 * The transport knows nothing of registries: it bounds requests in flight
 * (`jobs`) and per second (`rate`), retries idempotent requests (GET, HEAD)
 * on transient failures, caps response bodies, and logs each request's
 * method, path, status, time and HTTP version at RS_LOG_VERBOSE. Request
 * headers are never logged.
 *
 * Retries and time limits, per request (all documented for users in the
 * README's "Faults" section and regsweep(1)):
 *  - transient failures are 429, 502, 503, 504 and connections refused,
 *    reset, timed out or answered with nothing;
 *  - a failure uses up one of `retries`, with exponential backoff and
 *    jitter, unless the registry is up and says so: its answer carries a
 *    Retry-After (seconds or an HTTP date, honoured, capped at the backoff
 *    cap and the stall time; 0 means now), or the failure comes in a storm
 *    (below) in which the registry still answers well. Those tries do not
 *    use up retries and stop at 32. `retries` 0 turns every retry off;
 *  - a try that stalls (no progress for `stall_timeout_ms`) is retried
 *    once, never twice;
 *  - all tries of one request, waits included, end within the request
 *    budget, `request_budget_ms` (default twice the stall time plus the
 *    connect time: 70 s with regsweep's defaults): no try starts after it,
 *    and the one running is cut there.
 *
 * Storms: when 4 of the last 16 answers were transient failures, the
 * client backs off as a whole: each failure halves the requests in flight
 * (down to one) and holds every start for `backoff_base_ms`; each good
 * answer allows one more in flight; when fewer than 2 of the last 16
 * failed, it is back to `jobs`. A 429, or a 503 with a Retry-After, pauses
 * the whole client as long as asked, storm or not.
 *
 * The run's interrupt and deadline (base/cancel.h): once either is set, no
 * request or retry starts; those in flight finish.
 *
 * DELETE, PUT, POST and PATCH are never resent unless the caller says so
 * with rs_http_req_retryable(): a DELETE whose answer was lost may have
 * happened. The registry module allows it for DELETE and PUT, which are
 * idempotent on a registry (a repeated delete by digest answers 404).
 *
 * Transport security: certificates are verified unless `insecure`;
 * `cacert` adds a private CA, `cert`/`key` present a client certificate;
 * HTTP/2 is negotiated over TLS (ALPN) when the server offers it; redirects
 * are followed only when asked for, and libcurl drops the Authorization
 * header when one leads to another host, port or scheme. The standard
 * proxy variables (http_proxy, https_proxy, no_proxy...) are honoured by
 * libcurl.
 */
#ifndef RS_HTTP_H
#define RS_HTTP_H

#include "base/buf.h"
#include "base/cancel.h"

#include <stddef.h>
#include <stdint.h>

struct rs_http;
struct rs_http_req;

struct rs_http_options {
	int jobs;                 /* requests in flight, >= 1 */
	int rate;                 /* requests started per second, 0 = no limit */
	int retries;              /* retries of a transient failure */
	long connect_timeout_ms;
	long stall_timeout_ms;    /* abort a transfer that moves less than 1 KiB/s for this long */
	const char *cacert;       /* CA bundle file, NULL = system */
	const char *cert;         /* client certificate (mutual TLS) */
	const char *key;          /* client key */
	int insecure;             /* skip certificate verification */
	long backoff_base_ms;     /* first retry delay (doubles each time) */
	long backoff_max_ms;      /* cap on one delay, Retry-After included */
	long request_budget_ms;   /* all tries of one request; 0: 2 x stall + connect */
};

#define RS_HTTP_OPTIONS_INIT { 8, 0, 4, 10000, 30000, NULL, NULL, NULL, 0, 200, 30000, 0 }

/* What came back. Valid only during the completion callback. */
struct rs_http_response {
	long status;              /* 0 when no response arrived */
	struct rs_buf body;       /* the callback may rs_buf_detach() it */
	const char *content_type; /* headers of the final response, or NULL */
	const char *digest;       /* Docker-Content-Digest */
	const char *link;         /* Link */
	const char *www_authenticate; /* every WWW-Authenticate, joined by ", " */
	const char *location;
	const char *etag;
	const char *url;          /* the request URL */
	int attempts;             /* how many times it was sent */
	double seconds;           /* wall time of the last attempt */
};

/* Called once per request: rc is 0 when a response arrived (any status),
 * negative when none did (RS_ENET, RS_ETIMEOUT, RS_ECANCELLED, RS_EPROTO for
 * an oversize body); the message is then set. */
typedef void (*rs_http_done_fn)(struct rs_http_req *req, struct rs_http_response *resp,
				int rc, void *userdata);

/* Create a client; *out is the caller's, free with rs_http_free(). */
int rs_http_new(struct rs_http **out, const struct rs_http_options *opts);
void rs_http_free(struct rs_http *http);

/* A new request; the caller owns it until rs_http_submit(). `url` is copied. */
int rs_http_req_new(struct rs_http_req **out, const char *method, const char *url);

/* Add a header line ("Accept: ..."); copied. Headers are never logged. */
int rs_http_req_header(struct rs_http_req *req, const char *line);

/* Set a request body; copied. */
int rs_http_req_body(struct rs_http_req *req, const void *data, size_t len);

/* The largest body accepted (default 4 MiB); more fails with RS_EPROTO. */
void rs_http_req_max_body(struct rs_http_req *req, size_t max);

/* Allow retries of a non-idempotent request (default: GET and HEAD only). */
void rs_http_req_retryable(struct rs_http_req *req, int retryable);

/* Follow redirects (default off; blob downloads need it). Authorization is
 * never sent to another host, scheme or port on a redirect. */
void rs_http_req_follow(struct rs_http_req *req, int follow);

/* Give up on each attempt of this request after `ms` in all (connecting,
 * sending, waiting for and reading the answer); 0 (the default) leaves only
 * the client's connect and stall timeouts. Fails like a stall: RS_ETIMEOUT. */
void rs_http_req_timeout(struct rs_http_req *req, long ms);

/* Sign the request with AWS Signature Version 4 (libcurl's
 * CURLOPT_AWS_SIGV4): `provider` is "aws:amz:REGION:SERVICE". The access
 * key and secret are set apart (an access key may hold a colon); the
 * payload is declared unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD,
 * which libcurl 7.88 does not add itself) and `session_token`, when not
 * NULL, goes in x-amz-security-token. Every string is copied; the copies of
 * the secret and the token are wiped when the request is freed. libcurl
 * 7.88 signs the query as given: build the URL with rs_http_url_build. */
int rs_http_req_aws_sigv4(struct rs_http_req *req, const char *provider, const char *access_key,
			  const char *secret_key, const char *session_token);

/* Free a request that was never submitted. */
void rs_http_req_free(struct rs_http_req *req);

/* Queue `req` (ownership passes to the client, even on failure); `done`
 * runs from within rs_http_run(). */
int rs_http_submit(struct rs_http *http, struct rs_http_req *req, rs_http_done_fn done,
		   void *userdata);

/* Drive every queued request, and those the callbacks add, to completion.
 * Returns 0, or RS_ECANCELLED when rs_http_cancel(), an interrupt or the
 * run's deadline stopped it (requests in flight are finished first; queued
 * ones complete with RS_ECANCELLED, the message saying why). */
int rs_http_run(struct rs_http *http);

/* Perform one request now, outside the multi loop (token fetches): blocks,
 * retries like any other request, and fills *resp, which the caller must
 * release with rs_http_response_release(). Safe to call from a callback. */
int rs_http_perform(struct rs_http *http, struct rs_http_req *req, struct rs_http_response *resp);
void rs_http_response_release(struct rs_http_response *resp);

/* Stop starting new requests (signal-safe flag; see rs_interrupt()). */
void rs_http_cancel(struct rs_http *http);

/* Requests sent so far (retries included), for the report and benchmarks. */
uint64_t rs_http_request_count(const struct rs_http *http);

/* Extract the target of the first rel="next" link from a Link header, as
 * an absolute URL resolved against `base` (the URL the header came with).
 * *out is NULL when there is no next link. A next link to another host or
 * scheme is refused with RS_EPROTO. */
int rs_http_link_next(char **out, const char *link, const char *base);

/* Percent-encode `in` for use in a query value; *out is the caller's. */
int rs_http_escape(char **out, const char *in);

/* A query parameter of rs_http_url_build. */
struct rs_http_param {
	const char *name;
	const char *value;
};

/* The absolute URL `base` (scheme://host[:port][/path]) with `host_prefix`
 * (NULL or "" for none, e.g. "BUCKET.") put before its host, `path`
 * appended to its path, and its query replaced by `params` (`n` of them),
 * in the canonical form request signing expects: parameters sorted by
 * name, names and values percent-encoded with only A-Za-z0-9-_.~ left as
 * they are, and every byte of `path` (raw, not encoded) encoded the same
 * way except '/'. *out is the caller's. RS_EUSAGE for a `base` that is not
 * an absolute http(s) URL. */
int rs_http_url_build(char **out, const char *base, const char *host_prefix, const char *path,
		      const struct rs_http_param *params, size_t n);

#endif
