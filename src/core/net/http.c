/* http.c: the libcurl multi loop, retries, pacing, and the registry-wide
 * back-off in a storm of transient failures. */
#include "net/http.h"
#include "net/url.h"
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
/* The registry's health: the outcomes of the last HEALTH_WINDOW answers.
 * STORM_FAILURES transient failures among them make a storm (the client
 * backs off as a whole) until fewer than STORM_CALM remain; a storm in
 * which at least STORM_GOOD answers were good is a flaky registry, not a
 * dead one, and its failures do not use up a request's retries. */
#define HEALTH_WINDOW 16
#define STORM_FAILURES 4
#define STORM_CALM 2
#define STORM_GOOD 4
/* Tries of one request when failures do not use up its retries; the time
 * budget usually ends it first. */
#define MAX_TRIES 32
/* A retry is not started with less than this left of the request's budget. */
#define MIN_TRY_MS 1000L

struct rs_http_req {
	char *method;
	char *url;
	char *path;                  /* path and query, for log lines */
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	size_t max_body;
	int retryable;
	int follow;
	long timeout_ms;             /* per attempt, 0: none */
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
	int64_t first_ms;            /* when the first try started: the budget counts from it */
	int strikes;                 /* failed tries that used up one of the retries */
	int timeouts;                /* tries that stalled or timed out */
	int said_when;               /* the last answer carried a Retry-After */
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
	int64_t pause_until_ms;           /* 429/Retry-After, storms: whole client waits */
	long budget_ms;                   /* all tries of one request, waits included */
	uint32_t history;                 /* the last answers, bit set: a transient failure */
	int history_len;
	int storm;                        /* in a storm (see health_record) */
	int storm_jobs;                   /* requests in flight allowed during it */
	int storms;                       /* storms so far (the first one is a warning) */
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
	http->budget_ms = http->opts.request_budget_ms > 0 ? http->opts.request_budget_ms
			  : 2 * http->opts.stall_timeout_ms + http->opts.connect_timeout_ms;
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
	req->said_when = 0;
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
	free(req->path);
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
	if (!req->method || !req->url || rs_url_path_query(&req->path, url) < 0) {
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

void rs_http_req_timeout(struct rs_http_req *req, long ms)
{
	req->timeout_ms = ms > 0 ? ms : 0;
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
	if (req->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
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
	struct curl_header *h;

	req->content_type = header_copy(req->easy, "Content-Type", 0);
	req->digest = header_copy(req->easy, "Docker-Content-Digest", 0);
	req->link = header_copy(req->easy, "Link", 1);
	req->www_authenticate = header_copy(req->easy, "WWW-Authenticate", 1);
	req->location = header_copy(req->easy, "Location", 0);
	req->etag = header_copy(req->easy, "ETag", 0);
	req->said_when = curl_easy_header(req->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) ==
			 CURLHE_OK;
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

/* Is this outcome a transient failure: a 429, 502, 503 or 504, or a
 * connection that failed, broke or stalled? */
static int is_transient(CURLcode cc, long status)
{
	if (cc == CURLE_OK)
		return status == 429 || status == 502 || status == 503 || status == 504;
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	       cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
	       cc == CURLE_PARTIAL_FILE || cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM ||
	       cc == CURLE_COULDNT_RESOLVE_HOST;
}

static int history_failures(const struct rs_http *http)
{
	int n = 0;

	for (uint32_t h = http->history; h; h &= h - 1)
		n++;
	return n;
}

/* A storm in which the registry still serves a good share of what it is
 * asked: flaky, not down. */
static int flaky_but_up(const struct rs_http *http)
{
	return http->storm && http->history_len - history_failures(http) >= STORM_GOOD;
}

/* Record how an answer went (`failed`: a transient failure) and enter or
 * leave a storm. In a storm the client backs off as a whole: each failure
 * halves the requests it keeps in flight (down to one) and holds every
 * start for backoff_base; each good answer allows one more in flight. It
 * leaves the storm, back to full speed, once failures are rare again. */
static void health_record(struct rs_http *http, int failed)
{
	int failures;

	http->history = ((http->history << 1) | (failed ? 1u : 0u)) & ((1u << HEALTH_WINDOW) - 1);
	if (http->history_len < HEALTH_WINDOW)
		http->history_len++;
	failures = history_failures(http);
	if (!http->storm && failures >= STORM_FAILURES) {
		http->storm = 1;
		http->storm_jobs = http->opts.jobs;
		rs_log(http->storms++ ? RS_LOG_VERBOSE : RS_LOG_WARN, "warning: the registry failed "
		       "%d of its last %d answers: slowing down until it recovers", failures,
		       http->history_len);
	} else if (http->storm && failures < STORM_CALM) {
		http->storm = 0;
		rs_log(RS_LOG_VERBOSE, "the registry answers again: back to %d requests in flight",
		       http->opts.jobs);
	}
	if (!http->storm)
		return;
	if (failed) {
		int64_t until = now_ms() + http->opts.backoff_base_ms;

		http->storm_jobs = http->storm_jobs > 1 ? http->storm_jobs / 2 : 1;
		if (http->pause_until_ms < until)
			http->pause_until_ms = until;
	} else if (http->storm_jobs < http->opts.jobs) {
		http->storm_jobs++;
	}
}

/* A transient failure of `req` was recorded: try again, and after how
 * long? A failure uses up one of the retries unless the registry is up
 * and says so: its answer said when to come back (Retry-After), or it
 * fails in a storm while still answering well (flaky_but_up); those tries
 * stop at MAX_TRIES. A try that stalled is retried once, never twice. No
 * try starts past the request's time budget. Backoff is exponential in the
 * retries used, with jitter; a server's Retry-After (seconds or an HTTP
 * date, read by libcurl) replaces it, capped like it, and sets
 * *server_asked when it is more than 0. */
static int may_retry(struct rs_http *http, struct rs_http_req *req, CURLcode cc,
		     long *delay_ms, int *server_asked)
{
	long base = http->opts.backoff_base_ms, delay;
	int shift;
	curl_off_t retry_after = 0;
	int said_when = cc == CURLE_OK && req->said_when;
	int64_t start;

	*server_asked = 0;
	if (!req->retryable || http->opts.retries <= 0 || req->attempts >= MAX_TRIES)
		return 0;
	if (cc == CURLE_OPERATION_TIMEDOUT && ++req->timeouts > 1)
		return 0;
	if (!said_when && !flaky_but_up(http))
		req->strikes++;
	if (req->strikes > http->opts.retries)
		return 0;
	/* exponential backoff with "equal jitter": half fixed, half random, so
	 * that clients failing together do not come back together */
	shift = req->strikes > 1 ? (req->strikes - 1 < 10 ? req->strikes - 1 : 10) : 0;
	delay = base << shift;
	if (delay > http->opts.backoff_max_ms)
		delay = http->opts.backoff_max_ms;
	delay = delay / 2 + (long)(rand_r(&http->rng) % (unsigned)(delay / 2 + 1));
	if (said_when &&
	    curl_easy_getinfo(req->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK) {
		/* A server that asks for longer than the user lets a transfer stall
		 * (--timeout), or than the backoff cap, is not waited for that long:
		 * a hostile Retry-After must not hold the run past its own limits. */
		long cap = http->opts.backoff_max_ms < http->opts.stall_timeout_ms
				   ? http->opts.backoff_max_ms : http->opts.stall_timeout_ms;

		if (retry_after > cap / 1000) {
			if (!http->warned_retry_after) {
				http->warned_retry_after = 1;
				rs_log(RS_LOG_WARN, "warning: the registry asks to wait %ld s before "
				       "retrying; waiting %ld ms at most (--timeout)",
				       (long)retry_after, cap);
			}
			delay = cap;
		} else {
			delay = (long)retry_after * 1000;   /* "0": now */
		}
		*server_asked = retry_after > 0;
	}
	/* the try would start after this delay and any client-wide pause */
	start = now_ms() + delay;
	if (start < http->pause_until_ms)
		start = http->pause_until_ms;
	if (req->first_ms + http->budget_ms - start < MIN_TRY_MS)
		return 0;
	*delay_ms = delay;
	return 1;
}

/* Start a try: the clock of the budget, and the cut at its end. */
static void try_begin(struct rs_http *http, struct rs_http_req *req, int64_t now)
{
	int64_t left;

	if (req->attempts == 0)
		req->first_ms = now;
	req->attempts++;
	req->started_ms = now;
	http->requests++;
	left = req->first_ms + http->budget_ms - now;
	/* a request's own limit per try (rs_http_req_timeout) holds within it */
	if (req->timeout_ms > 0 && req->timeout_ms < left)
		left = req->timeout_ms;
	curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
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
		if (now_ms() - req->first_ms >= http->budget_ms - 100)
			return rs_error_set(RS_ETIMEOUT, "%s %s: gave up after %d tr%s in %.0f s, the "
					    "most one request is given (twice --timeout plus "
					    "--connect-timeout)", req->method, req->url, req->attempts,
					    req->attempts == 1 ? "y" : "ies",
					    (double)(now_ms() - req->first_ms) / 1000.0);
		return rs_error_set(RS_ETIMEOUT, "%s %s: timed out (%d tr%s): %s (see "
				    "--connect-timeout and --timeout)", req->method, req->url,
				    req->attempts, req->attempts == 1 ? "y" : "ies", why);
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
	int rc = 0, server_asked = 0, failed;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		collect_headers(req);
	rs_log(RS_LOG_VERBOSE, "%s %s %ld (%.0f ms%s)%s", req->method, req->path, status,
	       secs * 1000, http_version(req->easy), cc == CURLE_OK ? "" : " failed");
	failed = is_transient(cc, status);
	health_record(http, failed);
	if (failed && !http->cancelled && !rs_stopping() &&
	    may_retry(http, req, cc, &delay, &server_asked)) {
		rs_log(RS_LOG_VERBOSE, "%s %s: retrying in %ld ms (attempt %d)", req->method,
		       req->path, delay, req->attempts + 1);
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

	/* in a storm, fewer in flight (see health_record) */
	int jobs = http->storm ? http->storm_jobs : http->opts.jobs;

	for (req = http->queue_head; req && http->in_flight < jobs; req = next) {
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
		try_begin(http, req, now);
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
		finish(req, rs_error_set(RS_ECANCELLED, "%s before '%s' was sent",
					 http->cancelled ? "cancelled" : rs_stop_reason(),
					 req->path), 0, 0);
	}
}

int rs_http_run(struct rs_http *http)
{
	int still = 0;

	for (;;) {
		CURLMsg *msg;
		int queued, finished = 0;
		long wait;

		if (http->cancelled || rs_stopping())
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
	if (http->cancelled || rs_stopping())
		return rs_error_set(RS_ECANCELLED, "%s", http->cancelled ? "cancelled"
				    : rs_stop_reason());
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
		int64_t wait;

		if (rs_stopping()) {
			rc = rs_error_set(RS_ECANCELLED, "%s", rs_stop_reason());
			break;
		}
		if (setup_easy(http, req) < 0) {
			rc = RS_ERROR;
			break;
		}
		try_begin(http, req, now_ms());
		cc = curl_easy_perform(req->easy);
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK)
			collect_headers(req);
		rs_log(RS_LOG_VERBOSE, "%s %s %ld (%s)%s", req->method, req->path, status,
		       http_version(req->easy) + 2, cc == CURLE_OK ? "" : " failed");
		health_record(http, is_transient(cc, status));
		if (is_transient(cc, status) && !rs_stopping() &&
		    may_retry(http, req, cc, &delay, &server_asked)) {
			struct timespec ts;

			rs_log(RS_LOG_VERBOSE, "%s %s: retrying in %ld ms (attempt %d)", req->method,
			       req->path, delay, req->attempts + 1);
			/* the client-wide pause (429, Retry-After, a storm) holds this one too */
			if ((status == 429 || (status == 503 && server_asked)) &&
			    http->pause_until_ms < now_ms() + delay)
				http->pause_until_ms = now_ms() + delay;
			wait = http->pause_until_ms - now_ms();
			if (wait < delay)
				wait = delay;
			ts.tv_sec = (time_t)(wait / 1000);
			ts.tv_nsec = (long)(wait % 1000) * 1000000L;
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
