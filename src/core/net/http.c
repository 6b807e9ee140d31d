/* http.c: the libcurl multi loop, retries, pacing and URL helpers. */
#include "net/http.h"
#include "base/cancel.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_MAX_BODY (4u * 1024 * 1024)
#define MAX_REDIRECTS 5L
#define STALL_BYTES_PER_SECOND 1024L

struct rs_http_req {
	char *method;
	char *url;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	size_t max_body;
	int retryable;
	int follow;
	/* AWS Signature Version 4 (rs_http_req_aws_sigv4); NULL when unsigned */
	char *aws_provider;
	char *aws_access_key;
	char *aws_secret_key;

	/* set once submitted */
	rs_http_done_fn done;
	void *userdata;
	CURL *easy;
	struct rs_buf resp_body;
	int attempts;
	int64_t not_before_ms;       /* retry backoff: do not start before */
	int64_t started_ms;
	struct rs_http_req *next;    /* queue link */
	char errbuf[CURL_ERROR_SIZE];
	/* response headers, owned copies */
	char *content_type, *digest, *link, *www_authenticate, *location, *etag;
};

struct rs_http {
	struct rs_http_options opts;
	CURLM *multi;
	CURLSH *share;
	struct rs_http_req *queue_head;   /* waiting to start */
	struct rs_http_req *queue_tail;
	int in_flight;
	int cancelled;
	int warned_retry_after;           /* said once that a Retry-After was too long */
	uint64_t requests;
	int64_t pause_until_ms;           /* 429/Retry-After: whole client waits */
	double tokens;                    /* rate limiter bucket */
	int64_t tokens_at_ms;
	unsigned rng;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int curl_initialised;

int rs_http_new(struct rs_http **out, const struct rs_http_options *opts)
{
	struct rs_http *http;

	*out = NULL;
	if (!curl_initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return rs_error_set(RS_ERROR, "cannot initialise libcurl");
		curl_initialised = 1;
	}
	http = calloc(1, sizeof(*http));
	if (!http)
		return rs_error_set(RS_ERROR, "out of memory");
	http->opts = *opts;
	if (http->opts.jobs < 1)
		http->opts.jobs = 1;
	http->multi = curl_multi_init();
	http->share = curl_share_init();
	if (!http->multi || !http->share) {
		rs_http_free(http);
		return rs_error_set(RS_ERROR, "cannot initialise libcurl");
	}
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(http->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)http->opts.jobs);
	curl_multi_setopt(http->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)http->opts.jobs);
	curl_multi_setopt(http->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	http->tokens = http->opts.rate > 0 ? 1 : 0;
	http->tokens_at_ms = now_ms();
	http->rng = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)http;
	*out = http;
	return 0;
}

static void req_clear_response(struct rs_http_req *req)
{
	free(req->content_type);
	free(req->digest);
	free(req->link);
	free(req->www_authenticate);
	free(req->location);
	free(req->etag);
	req->content_type = req->digest = req->link = NULL;
	req->www_authenticate = req->location = req->etag = NULL;
	rs_buf_release(&req->resp_body);
	rs_buf_init(&req->resp_body, req->max_body);
}

/* Wipe and free a copy of a secret. */
static void secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static void aws_release(struct rs_http_req *req)
{
	free(req->aws_provider);
	free(req->aws_access_key);
	secret_free(req->aws_secret_key);
	req->aws_provider = req->aws_access_key = req->aws_secret_key = NULL;
}

void rs_http_req_free(struct rs_http_req *req)
{
	if (!req)
		return;
	if (req->easy)
		curl_easy_cleanup(req->easy);
	req_clear_response(req);
	rs_buf_release(&req->resp_body);
	curl_slist_free_all(req->headers);
	aws_release(req);
	free(req->body);
	free(req->method);
	free(req->url);
	free(req);
}

void rs_http_free(struct rs_http *http)
{
	struct rs_http_req *req, *next;

	if (!http)
		return;
	for (req = http->queue_head; req; req = next) {
		next = req->next;
		rs_http_req_free(req);
	}
	if (http->multi)
		curl_multi_cleanup(http->multi);
	if (http->share)
		curl_share_cleanup(http->share);
	free(http);
}

int rs_http_req_new(struct rs_http_req **out, const char *method, const char *url)
{
	struct rs_http_req *req = calloc(1, sizeof(*req));

	*out = NULL;
	if (!req)
		return rs_error_set(RS_ERROR, "out of memory");
	req->method = strdup(method);
	req->url = strdup(url);
	if (!req->method || !req->url) {
		rs_http_req_free(req);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	req->max_body = DEFAULT_MAX_BODY;
	req->retryable = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	rs_buf_init(&req->resp_body, req->max_body);
	*out = req;
	return 0;
}

int rs_http_req_header(struct rs_http_req *req, const char *line)
{
	struct curl_slist *l = curl_slist_append(req->headers, line);

	if (!l)
		return rs_error_set(RS_ERROR, "out of memory");
	req->headers = l;
	return 0;
}

int rs_http_req_body(struct rs_http_req *req, const void *data, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return rs_error_set(RS_ERROR, "out of memory");
	if (len)
		memcpy(copy, data, len);
	free(req->body);
	req->body = copy;
	req->body_len = len;
	return 0;
}

int rs_http_req_aws_sigv4(struct rs_http_req *req, const char *provider, const char *access_key,
			  const char *secret_key, const char *session_token)
{
	struct curl_slist *l;
	char *token_header = NULL;

	aws_release(req);
	req->aws_provider = strdup(provider);
	req->aws_access_key = strdup(access_key);
	req->aws_secret_key = strdup(secret_key);
	if (!req->aws_provider || !req->aws_access_key || !req->aws_secret_key)
		goto oom;
	l = curl_slist_append(req->headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (!l)
		goto oom;
	req->headers = l;
	if (session_token && *session_token) {
		if (asprintf(&token_header, "x-amz-security-token: %s", session_token) < 0) {
			token_header = NULL;
			goto oom;
		}
		l = curl_slist_append(req->headers, token_header);
		secret_free(token_header);
		if (!l)
			goto oom;
		req->headers = l;
	}
	return 0;
oom:
	aws_release(req);
	return rs_error_set(RS_ERROR, "out of memory");
}

void rs_http_req_max_body(struct rs_http_req *req, size_t max)
{
	req->max_body = max;
	req->resp_body.max = max;
}

void rs_http_req_retryable(struct rs_http_req *req, int retryable)
{
	req->retryable = retryable;
}

void rs_http_req_follow(struct rs_http_req *req, int follow)
{
	req->follow = follow;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct rs_http_req *req = userdata;
	size_t n = size * nmemb;

	if (!req->resp_body.ptr && req->resp_body.max == 0)
		req->resp_body.max = req->max_body;
	if (rs_buf_put(&req->resp_body, data, n) < 0)
		return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
	return n;
}

static int setup_easy(struct rs_http *http, struct rs_http_req *req)
{
	CURL *e = req->easy;

	if (!e) {
		e = curl_easy_init();
		if (!e)
			return rs_error_set(RS_ERROR, "cannot create a libcurl handle");
		req->easy = e;
	} else {
		curl_easy_reset(e);
	}
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_SHARE, http->share);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "regsweep/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, http->opts.connect_timeout_ms);
	/* a transfer trickling slower than this for the stall time is stalled:
	 * a server dripping bytes must not hold a run forever */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES_PER_SECOND);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
			 (long)((http->opts.stall_timeout_ms + 999) / 1000));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* never send credentials along to another host on a redirect */
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	if (req->aws_provider) {
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, req->aws_provider);
		curl_easy_setopt(e, CURLOPT_USERNAME, req->aws_access_key);
		curl_easy_setopt(e, CURLOPT_PASSWORD, req->aws_secret_key);
	}
	if (req->follow) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	}
	if (http->opts.cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, http->opts.cacert);
	if (http->opts.cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, http->opts.cert);
	if (http->opts.key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, http->opts.key);
	if (http->opts.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
	}
	req_clear_response(req);
	req->errbuf[0] = '\0';
	return 0;
}

static char *header_copy(CURL *e, const char *name, int join)
{
	struct curl_header *h;
	size_t amount, i;
	struct rs_buf buf = RS_BUF_INIT;

	if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	amount = h->amount;
	if (!join || amount == 1)
		return strdup(h->value);
	for (i = 0; i < amount; i++) {
		if (curl_easy_header(e, name, i, CURLH_HEADER, -1, &h) != CURLHE_OK)
			break;
		if ((i && rs_buf_puts(&buf, ", ") < 0) || rs_buf_puts(&buf, h->value) < 0)
			return NULL;
	}
	return rs_buf_detach(&buf);
}

static void collect_headers(struct rs_http_req *req)
{
	req->content_type = header_copy(req->easy, "Content-Type", 0);
	req->digest = header_copy(req->easy, "Docker-Content-Digest", 0);
	req->link = header_copy(req->easy, "Link", 1);
	req->www_authenticate = header_copy(req->easy, "WWW-Authenticate", 1);
	req->location = header_copy(req->easy, "Location", 0);
	req->etag = header_copy(req->easy, "ETag", 0);
}

static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : url;
}

/* ", HTTP/2" when the transfer used it (for the -v line), else ", HTTP/1.1". */
static const char *http_version(CURL *e)
{
	long version = 0;

	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
	switch (version) {
	case CURL_HTTP_VERSION_3: return ", HTTP/3";
	case CURL_HTTP_VERSION_2_0: return ", HTTP/2";
	case CURL_HTTP_VERSION_1_0: return ", HTTP/1.0";
	case CURL_HTTP_VERSION_1_1: return ", HTTP/1.1";
	default: return ", no answer";
	}
}

/* Is this outcome worth another try, and after how long? A server's
 * Retry-After (seconds or an HTTP date, read by libcurl) replaces the
 * backoff, capped like it. *server_asked is set when it did. */
static int transient(struct rs_http *http, struct rs_http_req *req, CURLcode cc, long status,
		     long *delay_ms, int *server_asked)
{
	long base = http->opts.backoff_base_ms, delay;
	int shift = req->attempts - 1 < 10 ? req->attempts - 1 : 10;
	curl_off_t retry_after = 0;

	*server_asked = 0;
	if (!req->retryable || req->attempts > http->opts.retries)
		return 0;
	if (cc == CURLE_OK) {
		if (status != 429 && status != 502 && status != 503 && status != 504)
			return 0;
	} else if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_OPERATION_TIMEDOUT &&
		   cc != CURLE_RECV_ERROR && cc != CURLE_SEND_ERROR && cc != CURLE_GOT_NOTHING &&
		   cc != CURLE_PARTIAL_FILE && cc != CURLE_HTTP2 && cc != CURLE_HTTP2_STREAM &&
		   cc != CURLE_COULDNT_RESOLVE_HOST) {
		return 0;
	}
	/* exponential backoff with "equal jitter": half fixed, half random, so
	 * that clients failing together do not come back together */
	delay = base << shift;
	if (delay > http->opts.backoff_max_ms)
		delay = http->opts.backoff_max_ms;
	delay = delay / 2 + (long)(rand_r(&http->rng) % (unsigned)(delay / 2 + 1));
	if (cc == CURLE_OK &&
	    curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
	    retry_after > 0) {
		/* A server that asks for longer than the user lets a transfer stall
		 * (--timeout), or than the backoff cap, is not waited for that long:
		 * a hostile Retry-After must not hold the run past its own limits. */
		long cap = http->opts.backoff_max_ms < http->opts.stall_timeout_ms
				   ? http->opts.backoff_max_ms : http->opts.stall_timeout_ms;

		if (retry_after > cap / 1000) {
			if (!http->warned_retry_after) {
				http->warned_retry_after = 1;
				rs_log(RS_LOG_WARN, "warning: the registry asks to wait %ld s before "
				       "retrying (%ld); waiting %ld ms at most (--timeout)",
				       (long)retry_after, status, cap);
			}
			delay = cap;
		} else {
			delay = (long)retry_after * 1000;
		}
		*server_asked = 1;
	}
	*delay_ms = delay;
	return 1;
}

static void queue_push(struct rs_http *http, struct rs_http_req *req)
{
	req->next = NULL;
	if (http->queue_tail)
		http->queue_tail->next = req;
	else
		http->queue_head = req;
	http->queue_tail = req;
}

int rs_http_submit(struct rs_http *http, struct rs_http_req *req, rs_http_done_fn done,
		   void *userdata)
{
	req->done = done;
	req->userdata = userdata;
	req->attempts = 0;
	req->not_before_ms = 0;
	queue_push(http, req);
	return 0;
}

static void finish(struct rs_http_req *req, int rc, long status, double seconds)
{
	struct rs_http_response resp;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	resp.body = req->resp_body;
	resp.content_type = req->content_type;
	resp.digest = req->digest;
	resp.link = req->link;
	resp.www_authenticate = req->www_authenticate;
	resp.location = req->location;
	resp.etag = req->etag;
	resp.url = req->url;
	resp.attempts = req->attempts;
	resp.seconds = seconds;
	if (req->done)
		req->done(req, &resp, rc, req->userdata);
	/* the callback may have detached the body */
	req->resp_body = resp.body;
	rs_http_req_free(req);
}

/* A TLS 1.3 server that wants a client certificate refuses it after the
 * handshake: the client sees an alert, or the connection drop before any
 * answer. Is that what this failure looks like? */
static int looks_like_client_cert_refusal(const struct rs_http *http, struct rs_http_req *req,
					  CURLcode cc, const char *why)
{
	curl_off_t handshake_us = 0;

	if (http->opts.cert || strncasecmp(req->url, "https://", 8) != 0)
		return 0;
	if (strstr(why, "certificate required") || strstr(why, "alert bad certificate") ||
	    strstr(why, "alert handshake failure"))
		return 1;
	return (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR) &&
	       curl_easy_getinfo(req->easy, CURLINFO_APPCONNECT_TIME_T, &handshake_us) == CURLE_OK &&
	       handshake_us > 0;
}

static int describe_failure(const struct rs_http *http, struct rs_http_req *req, CURLcode cc)
{
	const char *why = req->errbuf[0] ? req->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_WRITE_ERROR:
		return rs_error_set(RS_EPROTO, "%s %s: response larger than %zu bytes", req->method,
				    req->url, req->max_body);
	case CURLE_OPERATION_TIMEDOUT:
		return rs_error_set(RS_ETIMEOUT, "%s %s: timed out: %s (see --connect-timeout and "
				    "--timeout)", req->method, req->url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return rs_error_set(RS_ENET, "cannot reach %s: TLS failure: the server's certificate "
				    "cannot be verified: %s (use --cacert FILE for a private CA)",
				    req->url, why);
	case CURLE_SSL_CERTPROBLEM:
		return rs_error_set(RS_ENET, "cannot reach %s: TLS failure: the client certificate or "
				    "key cannot be used: %s (check --cert and --key)", req->url, why);
	default:
		if (looks_like_client_cert_refusal(http, req, cc, why))
			return rs_error_set(RS_ENET, "cannot reach %s: TLS failure: %s (the registry may "
					    "require a client certificate: use --cert FILE --key FILE)",
					    req->url, why);
		if (cc == CURLE_SSL_CONNECT_ERROR)
			return rs_error_set(RS_ENET, "cannot reach %s: TLS failure: %s", req->url, why);
		return rs_error_set(RS_ENET, "cannot reach %s: %s", req->url, why);
	}
}

/* An attempt ended; retry it or complete it. Returns 1 when re-queued. */
static int attempt_done(struct rs_http *http, struct rs_http_req *req, CURLcode cc)
{
	long status = 0, delay = 0;
	double secs = (double)(now_ms() - req->started_ms) / 1000.0;
	int rc = 0, server_asked = 0;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		collect_headers(req);
	rs_log(RS_LOG_VERBOSE, "%s %s %ld (%.0f ms%s)%s", req->method, url_path(req->url), status,
	       secs * 1000, http_version(req->easy), cc == CURLE_OK ? "" : " failed");
	if (!http->cancelled && !rs_interrupted() &&
	    transient(http, req, cc, status, &delay, &server_asked)) {
		rs_log(RS_LOG_VERBOSE, "%s %s: retrying in %ld ms (attempt %d)", req->method,
		       url_path(req->url), delay, req->attempts + 1);
		req->not_before_ms = now_ms() + delay;
		/* "too many requests", or "unavailable, come back then": the whole
		 * client waits, not just this request */
		if ((status == 429 || (status == 503 && server_asked)) &&
		    http->pause_until_ms < req->not_before_ms)
			http->pause_until_ms = req->not_before_ms;
		queue_push(http, req);
		return 1;
	}
	if (cc != CURLE_OK)
		rc = describe_failure(http, req, cc);
	finish(req, rc, cc == CURLE_OK ? status : 0, secs);
	return 0;
}

/* May a request start now? Returns 0 or the ms to wait. */
static long pacing_wait(struct rs_http *http, int64_t now)
{
	if (http->pause_until_ms > now)
		return (long)(http->pause_until_ms - now);
	if (http->opts.rate > 0) {
		http->tokens += (double)(now - http->tokens_at_ms) * http->opts.rate / 1000.0;
		if (http->tokens > http->opts.rate)
			http->tokens = http->opts.rate;
		http->tokens_at_ms = now;
		if (http->tokens < 1)
			return (long)((1 - http->tokens) * 1000.0 / http->opts.rate) + 1;
	}
	return 0;
}

/* Start queued requests while there is room; returns the ms until the next
 * delayed one may start (-1 if none waits). */
static long start_requests(struct rs_http *http)
{
	int64_t now = now_ms();
	long wait = -1;
	struct rs_http_req *req, *prev = NULL, *next;

	for (req = http->queue_head; req && http->in_flight < http->opts.jobs; req = next) {
		long pw;

		next = req->next;
		if (req->not_before_ms > now) {
			long w = (long)(req->not_before_ms - now);

			if (wait < 0 || w < wait)
				wait = w;
			prev = req;
			continue;
		}
		pw = pacing_wait(http, now);
		if (pw > 0) {
			if (wait < 0 || pw < wait)
				wait = pw;
			break;
		}
		/* unlink */
		if (prev)
			prev->next = next;
		else
			http->queue_head = next;
		if (http->queue_tail == req)
			http->queue_tail = prev;
		req->next = NULL;
		if (setup_easy(http, req) < 0) {
			finish(req, RS_ERROR, 0, 0);
			continue;
		}
		req->attempts++;
		req->started_ms = now;
		http->requests++;
		if (http->opts.rate > 0)
			http->tokens -= 1;
		if (curl_multi_add_handle(http->multi, req->easy) != CURLM_OK) {
			finish(req, rs_error_set(RS_ERROR, "cannot start a request"), 0, 0);
			continue;
		}
		http->in_flight++;
	}
	return wait;
}

static void cancel_queued(struct rs_http *http)
{
	struct rs_http_req *req;

	while ((req = http->queue_head)) {
		http->queue_head = req->next;
		if (!http->queue_head)
			http->queue_tail = NULL;
		finish(req, rs_error_set(RS_ECANCELLED, "interrupted before '%s' was sent",
					 url_path(req->url)), 0, 0);
	}
}

int rs_http_run(struct rs_http *http)
{
	int still = 0;

	for (;;) {
		CURLMsg *msg;
		int queued, finished = 0;
		long wait;

		if (http->cancelled || rs_interrupted())
			cancel_queued(http);
		wait = start_requests(http);
		if (http->in_flight == 0 && !http->queue_head)
			break;
		curl_multi_perform(http->multi, &still);
		while ((msg = curl_multi_info_read(http->multi, &queued))) {
			struct rs_http_req *req = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
			curl_multi_remove_handle(http->multi, msg->easy_handle);
			http->in_flight--;
			finished++;
			attempt_done(http, req, msg->data.result);
		}
		if (!finished) {
			int timeout = 200;   /* also bounds how late an interrupt is seen */

			if (wait >= 0 && wait < timeout)
				timeout = (int)wait;
			if (http->in_flight || timeout > 0)
				curl_multi_poll(http->multi, NULL, 0, timeout, NULL);
		}
	}
	if (http->cancelled || rs_interrupted())
		return rs_error_set(RS_ECANCELLED, "interrupted");
	return 0;
}

void rs_http_cancel(struct rs_http *http)
{
	http->cancelled = 1;
}

uint64_t rs_http_request_count(const struct rs_http *http)
{
	return http->requests;
}


int rs_http_perform(struct rs_http *http, struct rs_http_req *req, struct rs_http_response *resp)
{
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	for (;;) {
		CURLcode cc;
		long delay = 0, status = 0;
		int server_asked = 0;

		if (rs_interrupted()) {
			rc = rs_error_set(RS_ECANCELLED, "interrupted");
			break;
		}
		if (setup_easy(http, req) < 0) {
			rc = RS_ERROR;
			break;
		}
		req->attempts++;
		req->started_ms = now_ms();
		http->requests++;
		cc = curl_easy_perform(req->easy);
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK)
			collect_headers(req);
		rs_log(RS_LOG_VERBOSE, "%s %s %ld (%s)%s", req->method, url_path(req->url), status,
		       http_version(req->easy) + 2, cc == CURLE_OK ? "" : " failed");
		if (!rs_interrupted() && transient(http, req, cc, status, &delay, &server_asked)) {
			rs_log(RS_LOG_VERBOSE, "%s %s: retrying in %ld ms (attempt %d)", req->method,
			       url_path(req->url), delay, req->attempts + 1);
			struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			continue;
		}
		if (cc != CURLE_OK) {
			rc = describe_failure(http, req, cc);
			break;
		}
		resp->status = status;
		break;
	}
	/* hand everything to the response; the request is consumed */
	resp->body = req->resp_body;
	rs_buf_init(&req->resp_body, 0);
	resp->content_type = req->content_type;
	resp->digest = req->digest;
	resp->link = req->link;
	resp->www_authenticate = req->www_authenticate;
	resp->location = req->location;
	resp->etag = req->etag;
	resp->url = req->url;
	resp->attempts = req->attempts;
	req->content_type = req->digest = req->link = NULL;
	req->www_authenticate = req->location = req->etag = NULL;
	req->url = NULL;
	rs_http_req_free(req);
	return rc;
}

void rs_http_response_release(struct rs_http_response *resp)
{
	if (!resp)
		return;
	rs_buf_release(&resp->body);
	free((char *)resp->content_type);
	free((char *)resp->digest);
	free((char *)resp->link);
	free((char *)resp->www_authenticate);
	free((char *)resp->location);
	free((char *)resp->etag);
	free((char *)resp->url);
	memset(resp, 0, sizeof(*resp));
}

/* Find rel="next" in a Link header: `<url>; rel="next", <url2>; rel="prev"`. */
static int link_find_next(char **out, const char *link)
{
	const char *p = link;

	*out = NULL;
	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *params, *end;

		if (!lt)
			break;
		gt = strchr(lt + 1, '>');
		if (!gt)
			return rs_error_set(RS_EPROTO, "malformed Link header");
		params = gt + 1;
		end = strchr(params, '<');   /* next link-value starts at '<' */
		{
			size_t plen = end ? (size_t)(end - params) : strlen(params);
			const char *r = params;
			int is_next = 0;

			while ((r = strstr(r, "rel")) && r < params + plen) {
				const char *v = r + 3;

				while (*v == ' ')
					v++;
				if (*v == '=') {
					v++;
					while (*v == ' ')
						v++;
					if (strncmp(v, "\"next\"", 6) == 0 || strncmp(v, "next", 4) == 0 ||
					    strncmp(v, "\"next ", 6) == 0)
						is_next = 1;
				}
				r += 3;
			}
			if (is_next) {
				*out = strndup(lt + 1, (size_t)(gt - lt - 1));
				return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
			}
		}
		p = end;
	}
	return 0;
}

int rs_http_link_next(char **out, const char *link, const char *base)
{
	char *target = NULL, *resolved = NULL, *origin_base = NULL, *origin_next = NULL;
	CURLU *u = NULL;
	int rc;

	*out = NULL;
	if (!link || !*link)
		return 0;
	rc = link_find_next(&target, link);
	if (rc < 0 || !target)
		return rc;
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, target, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &resolved, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_EPROTO, "malformed Link target '%s'", target);
		goto done;
	}
	rc = rs_http_url_origin(&origin_base, base);
	if (rc == 0)
		rc = rs_http_url_origin(&origin_next, resolved);
	if (rc < 0)
		goto done;
	if (strcmp(origin_base, origin_next) != 0) {
		rc = rs_error_set(RS_EPROTO, "pagination link points to another server ('%s')",
				  origin_next);
		goto done;
	}
	*out = strdup(resolved);
	if (!*out)
		rc = rs_error_set(RS_ERROR, "out of memory");
done:
	if (resolved)
		curl_free(resolved);
	curl_url_cleanup(u);
	free(target);
	free(origin_base);
	free(origin_next);
	return rc;
}

int rs_http_escape(char **out, const char *in)
{
	char *e = curl_easy_escape(NULL, in, 0);

	*out = NULL;
	if (!e)
		return rs_error_set(RS_ERROR, "out of memory");
	*out = strdup(e);
	curl_free(e);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

int rs_http_url_origin(char **out, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	struct rs_buf buf = RS_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc = rs_error_set(RS_EUSAGE, "invalid URL '%s'", url);
		goto done;
	}
	if (rs_buf_printf(&buf, "%s://%s:%s", scheme, host, port) < 0) {
		rc = RS_ERROR;
		goto done;
	}
	*out = rs_buf_detach(&buf);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}
