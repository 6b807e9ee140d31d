/* test_http.c: Link headers, origins and escaping; and (with a loopback
 * server) the transport's resilience: retries with backoff and Retry-After,
 * the client-wide pause after a 429, what is never resent, timeouts, a
 * stall retried once, the time budget of one request, storms (a flaky
 * registry ridden out, the whole client backing off and recovering),
 * Authorization on redirects, the proxy variables. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "net/http.h"
#include "net/url.h"
#include "base/log.h"

#include "mock_http.h"

/* ---- Link: rel="next" ------------------------------------------------------ */

static char *next_of(const char *link, const char *base)
{
	char *out = (void *)1;

	cr_assert_eq(rs_http_link_next(&out, link, base), 0, "'%s': %s", link, rs_error_message());
	return out;
}

Test(link, relative_next_resolved_against_the_request)
{
	char *n = next_of("</v2/_catalog?last=b&n=2>; rel=\"next\"",
			  "http://127.0.0.1:5000/v2/_catalog?n=2");

	cr_assert_str_eq(n, "http://127.0.0.1:5000/v2/_catalog?last=b&n=2");
	free(n);
	n = next_of("<?last=x&n=5>; rel=\"next\"", "https://r.example/v2/app/tags/list?n=5");
	cr_assert_str_eq(n, "https://r.example/v2/app/tags/list?last=x&n=5");
	free(n);
}

Test(link, absolute_same_origin_and_forms_of_rel)
{
	char *n = next_of("<https://r.example/v2/_catalog?last=z>; rel=next",
			  "https://r.example/v2/_catalog");

	cr_assert_str_eq(n, "https://r.example/v2/_catalog?last=z");
	free(n);
	n = next_of("</v2/a?page=1>; rel=\"prev\", </v2/a?page=3>; rel=\"next\"",
		    "https://r.example/v2/a?page=2");
	cr_assert_str_eq(n, "https://r.example/v2/a?page=3", "the next one, not the first one");
	free(n);
	n = next_of("</v2/a?page=3>; title=\"x\"; rel = \"next\"", "https://r.example/v2/a");
	cr_assert_str_eq(n, "https://r.example/v2/a?page=3");
	free(n);
}

Test(link, no_next_link)
{
	cr_assert_null(next_of(NULL, "https://r.example/v2/a"));
	cr_assert_null(next_of("", "https://r.example/v2/a"));
	cr_assert_null(next_of("</v2/a?page=1>; rel=\"prev\"", "https://r.example/v2/a"));
}

Test(link, another_server_is_refused)
{
	static const char *const links[] = {
		"<https://evil.example/v2/_catalog?last=a>; rel=\"next\"",
		"<http://r.example/v2/_catalog?last=a>; rel=\"next\"",
		"<https://r.example:8443/v2/_catalog?last=a>; rel=\"next\"",
	};
	char *out = (void *)1;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		cr_assert_eq(rs_http_link_next(&out, links[i], "https://r.example/v2/_catalog"),
			     RS_EPROTO, "%s", links[i]);
		cr_assert_null(out);
		cr_assert(strstr(rs_error_message(), "another server"));
	}
	cr_assert_eq(rs_http_link_next(&out, "</v2/x; rel=\"next\"", "https://r.example/"), RS_EPROTO);
}

Test(origin, scheme_host_port)
{
	static const char *const cases[][2] = {
		{"https://r.example/v2/x", "https://r.example:443"},
		{"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000"},
		{"http://r.example", "http://r.example:80"},
		{"HTTPS://r.example:8443/a?b=c", "https://r.example:8443"},
	};
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(rs_url_origin(&out, cases[i][0]), 0);
		cr_assert_str_eq(out, cases[i][1], "%s", cases[i][0]);
		free(out);
	}
	cr_assert_eq(rs_url_origin(&out, "not a url"), RS_EUSAGE);
	cr_assert_null(out);
}

Test(escape, query_values)
{
	char *out;

	cr_assert_eq(rs_http_escape(&out, "repository:team/app:pull,delete"), 0);
	cr_assert_str_eq(out, "repository%3Ateam%2Fapp%3Apull%2Cdelete");
	free(out);
	cr_assert_eq(rs_http_escape(&out, "a b&c=d"), 0);
	cr_assert_str_eq(out, "a%20b%26c%3Dd");
	free(out);
	cr_assert_eq(rs_http_escape(&out, "safe-._~09AZ"), 0);
	cr_assert_str_eq(out, "safe-._~09AZ");
	free(out);
	cr_assert_eq(rs_http_escape(&out, ""), 0);
	cr_assert_str_eq(out, "");
	free(out);
}

/* ---- transport -------------------------------------------------------------- */

static struct rs_http *client(int jobs, int retries, long base_ms, long max_ms)
{
	struct rs_http_options o = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;

	o.jobs = jobs;
	o.retries = retries;
	o.backoff_base_ms = base_ms;
	o.backoff_max_ms = max_ms;
	o.connect_timeout_ms = 2000;
	o.stall_timeout_ms = 1000;
	cr_assert_eq(rs_http_new(&http, &o), 0);
	return http;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* perform `method url`; returns rc, fills status and attempts. */
static int perform(struct rs_http *http, const char *method, const char *url, int retryable,
		   long *status, int *attempts)
{
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;
	int rc;

	cr_assert_eq(rs_http_req_new(&req, method, url), 0);
	if (retryable >= 0)
		rs_http_req_retryable(req, retryable);
	rc = rs_http_perform(http, req, &resp);
	*status = resp.status;
	*attempts = resp.attempts;
	rs_http_response_release(&resp);
	return rc;
}

/* A port where nothing listens. */
static int closed_port(void)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

/* A listening socket that never accepts nor answers; returns its fd. */
static int silent_listener(int *port)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

Test(transport, connection_refused_is_retried_then_reported)
{
	struct rs_http *http = client(1, 2, 10, 50);
	char url[64];
	long status;
	int attempts;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", closed_port());
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ENET);
	cr_assert_eq(attempts, 3, "one try and two retries");
	cr_assert_eq(status, 0);
	cr_assert(strstr(rs_error_message(), url), "%s", rs_error_message());
	rs_http_free(http);
}

Test(transport, stalled_transfer_times_out)
{
	struct rs_http *http = client(1, 0, 10, 50);
	char url[64];
	long status;
	int attempts, port, fd = silent_listener(&port);
	int64_t t0 = now_ms(), ms;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", port);
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ETIMEOUT,
		     "%s", rs_error_message());
	ms = now_ms() - t0;
	cr_assert_geq(ms, 900);
	cr_assert_lt(ms, 5000, "the 1 s stall limit, not forever");
	close(fd);
	rs_http_free(http);
}

/* A server that answers a trickle: 2 bytes every 200 ms, for ever. */
static void *drip(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	struct timespec pause = {0, 200 * 1000000L};

	if (fd < 0)
		return NULL;
	if (write(fd, head, strlen(head)) > 0)
		while (write(fd, "{ ", 2) == 2)
			nanosleep(&pause, NULL);
	close(fd);
	return NULL;
}

Test(transport, a_trickle_counts_as_stalled)
{
	struct rs_http *http = client(1, 0, 10, 50);
	pthread_t thread;
	char url[64];
	long status;
	int attempts, port, fd = silent_listener(&port);
	int64_t t0 = now_ms(), ms;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pthread_create(&thread, NULL, drip, &fd), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", port);
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ETIMEOUT,
		     "%s", rs_error_message());
	ms = now_ms() - t0;
	cr_assert_lt(ms, 5000, "10 bytes/s is cut after the 1 s stall limit");
	pthread_join(thread, NULL);
	close(fd);
	rs_http_free(http);
}

Test(transport, connect_timeout_is_honoured)
{
	struct rs_http_options o = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), fill[4], attempts;
	char url[64];
	long status;
	int64_t t0, ms;

	/* a listener whose accept queue is full drops new SYNs: connecting hangs */
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(fd, 0), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&addr, sizeof(addr));
	}
	o.retries = 0;
	o.connect_timeout_ms = 1000;
	o.stall_timeout_ms = 30000;
	cr_assert_eq(rs_http_new(&http, &o), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", ntohs(addr.sin_port));
	t0 = now_ms();
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ETIMEOUT,
		     "%s", rs_error_message());
	ms = now_ms() - t0;
	cr_assert(strstr(rs_error_message(), "onnect"), "%s", rs_error_message());
	cr_assert_geq(ms, 900);
	cr_assert_lt(ms, 10000, "the 1 s connect limit, not the 30 s stall limit");
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
	rs_http_free(http);
}

#define MAX_HITS 64

#define SCRIPTED 24

struct script {
	int statuses[SCRIPTED];     /* answers in turn (0: 200); past them, 200 */
	int always;                 /* answer this to everything (0: the statuses) */
	const char *retry_after;    /* sent with the 429s and 503s */
	int hits;
	int64_t at[MAX_HITS];
	char paths[MAX_HITS][128];
	char authorization[MAX_HITS][256];
	char host[256];
	char url[512];
	const char *redirect_to;    /* 302 to here for /redirect */
	size_t body_size;           /* answer this many bytes */
};

static void scripted(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	struct script *s = ud;
	int i = s->hits++;
	int status = s->always ? s->always : i < SCRIPTED && s->statuses[i] ? s->statuses[i] : 200;

	if (i < MAX_HITS) {
		s->at[i] = req->at_ms;
		snprintf(s->paths[i], sizeof(s->paths[i]), "%s", req->url);
		snprintf(s->authorization[i], sizeof(s->authorization[i]), "%s",
			 req->authorization ? req->authorization : "");
	}
	snprintf(s->host, sizeof(s->host), "%s", req->host ? req->host : "");
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	if (s->redirect_to && strcmp(req->url, "/redirect") == 0) {
		mock_header(resp, "Location: %s", s->redirect_to);
		mock_reply(resp, 302, "");
		return;
	}
	if ((status == 429 || status == 503) && s->retry_after)
		mock_header(resp, "Retry-After: %s", s->retry_after);
	if (s->body_size) {
		size_t n = s->body_size < sizeof(resp->body) ? s->body_size : sizeof(resp->body);

		memset(resp->body, 'x', n);
		resp->body_len = n;
		resp->status = status;
		return;
	}
	mock_reply(resp, status, status == 200 ? "{\"ok\":true}" : "{\"errors\":[]}");
}

static struct script script;
static struct mock_server *server;

static void start_server(void)
{
	memset(&script, 0, sizeof(script));
	server = mock_start(scripted, &script);
	cr_assert_not_null(server);
}

static void stop_server(void)
{
	mock_stop(server);
	server = NULL;
}

Test(retry, transient_statuses_are_retried, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 4, 10, 100);
	long status;
	int attempts;

	script.statuses[0] = 503;
	script.statuses[1] = 502;
	script.statuses[2] = 504;
	script.statuses[3] = 429;
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(attempts, 5);
	cr_assert_eq(script.hits, 5);
	cr_assert_eq(rs_http_request_count(http), 5);
	rs_http_free(http);
}

Test(retry, backoff_grows, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 3, 200, 5000);
	long status;
	int attempts;

	script.statuses[0] = 503;
	script.statuses[1] = 503;
	script.statuses[2] = 503;
	cr_assert_eq(perform(http, "HEAD", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(attempts, 4);
	/* delays are base * 2^n, each between half and all of it: 100-200, 200-400, 400-800 */
	cr_assert_geq(script.at[1] - script.at[0], 90);
	cr_assert_geq(script.at[2] - script.at[1], 190);
	cr_assert_geq(script.at[3] - script.at[2], 390);
	cr_assert_lt(script.at[3] - script.at[0], 3000);
	rs_http_free(http);
}

Test(retry, retries_run_out, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 50);
	long status;
	int attempts;

	for (int i = 0; i < 8; i++)
		script.statuses[i] = 502;
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0,
		     "an answer arrived: the caller judges the status");
	cr_assert_eq(status, 502);
	cr_assert_eq(attempts, 3);
	rs_http_free(http);
}

Test(retry, retry_after_seconds_is_honoured, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 5000);
	long status;
	int attempts;

	script.statuses[0] = 429;
	script.retry_after = "1";
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_geq(script.at[1] - script.at[0], 950, "waited as told, not 10 ms");
	rs_http_free(http);
}

Test(retry, retry_after_date_is_honoured, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 5000);
	char date[64];
	time_t when = time(NULL) + 2;
	struct tm tm;
	long status;
	int attempts;

	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	script.statuses[0] = 503;
	script.retry_after = date;
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_geq(script.at[1] - script.at[0], 900, "an HTTP date two seconds ahead");
	rs_http_free(http);
}

Test(retry, retry_after_is_capped, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 300);
	long status;
	int attempts;
	int64_t t0 = now_ms();

	script.statuses[0] = 503;
	script.retry_after = "3600";
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_lt(now_ms() - t0, 3000, "an hour is capped at backoff_max");
	rs_http_free(http);
}

Test(retry, delete_and_post_are_not_resent, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 4, 10, 50);
	long status;
	int attempts;

	for (int i = 0; i < 8; i++)
		script.statuses[i] = 503;
	cr_assert_eq(perform(http, "DELETE", mock_url(server, "/v2/a/manifests/sha256:00", 0), -1,
			     &status, &attempts), 0);
	cr_assert_eq(status, 503);
	cr_assert_eq(attempts, 1);
	cr_assert_eq(perform(http, "POST", mock_url(server, "/token", 0), -1, &status, &attempts), 0);
	cr_assert_eq(attempts, 1);
	cr_assert_eq(script.hits, 2);
	rs_http_free(http);
}

Test(retry, a_caller_may_allow_it, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 4, 10, 50);
	long status;
	int attempts;

	script.statuses[0] = 503;
	cr_assert_eq(perform(http, "DELETE", mock_url(server, "/v2/a/manifests/sha256:00", 0), 1,
			     &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(attempts, 2);
	rs_http_free(http);
}

/* ---- the multi loop ---------------------------------------------------------- */

struct outcome {
	int done;
	long status;
	int attempts;
};

static void on_done(struct rs_http_req *req, struct rs_http_response *resp, int rc, void *ud)
{
	struct outcome *o = ud;

	(void)req;
	o->done = 1;
	o->status = rc == 0 ? resp->status : rc;
	o->attempts = resp->attempts;
}

static void submit(struct rs_http *http, const char *url, struct outcome *o)
{
	struct rs_http_req *req = NULL;

	cr_assert_eq(rs_http_req_new(&req, "GET", url), 0);
	cr_assert_eq(rs_http_submit(http, req, on_done, o), 0);
}

static int64_t arrival(const char *path, int nth)
{
	for (int i = 0; i < script.hits && i < MAX_HITS; i++)
		if (strcmp(script.paths[i], path) == 0 && nth-- == 0)
			return script.at[i];
	return -1;
}

Test(loop, a_429_pauses_the_whole_client, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 5000);
	struct outcome a = {0}, b = {0};

	script.statuses[0] = 429;
	script.retry_after = "1";
	submit(http, mock_url(server, "/a", 0), &a);
	submit(http, mock_url(server, "/b", 1), &b);
	cr_assert_eq(rs_http_run(http), 0);
	cr_assert(a.done && b.done);
	cr_assert_eq(a.status, 200);
	cr_assert_eq(a.attempts, 2);
	cr_assert_eq(b.status, 200);
	cr_assert_geq(arrival("/b", 0) - arrival("/a", 0), 950, "/b waited for the pause");
	rs_http_free(http);
}

Test(loop, a_503_without_retry_after_delays_only_itself, .init = start_server,
     .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 2000, 5000);
	struct outcome a = {0}, b = {0};

	script.statuses[0] = 503;
	submit(http, mock_url(server, "/a", 0), &a);
	submit(http, mock_url(server, "/b", 1), &b);
	cr_assert_eq(rs_http_run(http), 0);
	cr_assert_eq(a.status, 200);
	cr_assert_eq(b.status, 200);
	cr_assert_lt(arrival("/b", 0) - arrival("/a", 0), 900, "/b went while /a backed off");
	cr_assert_geq(arrival("/a", 1) - arrival("/a", 0), 900);
	rs_http_free(http);
}

Test(loop, many_requests_in_flight, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(4, 0, 10, 50);
	struct outcome o[40];

	memset(o, 0, sizeof(o));
	for (int i = 0; i < 40; i++)
		submit(http, mock_url(server, "/v2/x", i), &o[i]);
	cr_assert_eq(rs_http_run(http), 0);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(o[i].status, 200);
	cr_assert_eq(script.hits, 40);
	rs_http_free(http);
}

Test(loop, oversize_bodies_are_refused, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 0, 10, 50);
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;

	script.body_size = 10000;
	cr_assert_eq(rs_http_req_new(&req, "GET", mock_url(server, "/big", 0)), 0);
	rs_http_req_max_body(req, 1000);
	cr_assert_eq(rs_http_perform(http, req, &resp), RS_EPROTO);
	cr_assert(strstr(rs_error_message(), "larger than 1000 bytes"), "%s", rs_error_message());
	rs_http_response_release(&resp);
	rs_http_free(http);
}

/* ---- redirects and proxies ----------------------------------------------------- */

static int redirect_get(struct rs_http *http, const char *url, int follow, long *status)
{
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;
	int rc;

	cr_assert_eq(rs_http_req_new(&req, "GET", url), 0);
	cr_assert_eq(rs_http_req_header(req, "Authorization: Bearer top-secret"), 0);
	rs_http_req_follow(req, follow);
	rc = rs_http_perform(http, req, &resp);
	*status = resp.status;
	rs_http_response_release(&resp);
	return rc;
}

Test(redirect, authorization_never_follows_to_another_port, .init = start_server,
     .fini = stop_server)
{
	struct script other;
	struct mock_server *blobs;
	struct rs_http *http = client(1, 0, 10, 50);
	char target[128];
	long status;

	memset(&other, 0, sizeof(other));
	blobs = mock_start(scripted, &other);
	cr_assert_not_null(blobs);
	snprintf(target, sizeof(target), "%s", mock_url(blobs, "/storage/blob", 0));
	script.redirect_to = target;
	cr_assert_eq(redirect_get(http, mock_url(server, "/redirect", 1), 1, &status), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(other.hits, 1, "the redirect was followed");
	cr_assert_str_eq(other.authorization[0], "", "no Authorization for the other server");
	cr_assert_str_eq(script.authorization[0], "Bearer top-secret", "the registry had it");
	mock_stop(blobs);
	rs_http_free(http);
}

Test(redirect, same_server_keeps_it_and_none_by_default, .init = start_server,
     .fini = stop_server)
{
	struct rs_http *http = client(1, 0, 10, 50);
	char target[128];
	long status;

	snprintf(target, sizeof(target), "%s", mock_url(server, "/v2/elsewhere", 0));
	script.redirect_to = target;
	cr_assert_eq(redirect_get(http, mock_url(server, "/redirect", 1), 1, &status), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(script.hits, 2);
	cr_assert_str_eq(script.authorization[1], "Bearer top-secret");
	cr_assert_eq(redirect_get(http, mock_url(server, "/redirect", 1), 0, &status), 0);
	cr_assert_eq(status, 302, "not followed unless asked");
	cr_assert_eq(script.hits, 3);
	rs_http_free(http);
}

Test(proxy, http_proxy_variable_is_honoured, .init = start_server, .fini = stop_server)
{
	struct rs_http *http;
	char proxy[64];
	long status;
	int attempts;

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", mock_port(server));
	setenv("http_proxy", proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	http = client(1, 0, 10, 50);
	cr_assert_eq(perform(http, "GET", "http://registry.invalid/v2/", -1, &status, &attempts), 0,
		     "%s", rs_error_message());
	cr_assert_eq(status, 200);
	cr_assert_eq(script.hits, 1, "the request went to the proxy");
	cr_assert_str_eq(script.host, "registry.invalid");
	setenv("no_proxy", "registry.invalid", 1);
	cr_assert_eq(perform(http, "GET", mock_url(server, "/direct", 0), -1, &status, &attempts), 0);
	cr_assert_eq(script.hits, 2);
	rs_http_free(http);
}

static char logged[8192];

static void capture(enum rs_log_level level, const char *line, void *ud)
{
	(void)level;
	(void)ud;
	strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
	strcat(logged, "\n");
}

Test(log, requests_logged_without_headers, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 1, 10, 50);
	long status;

	logged[0] = '\0';
	rs_log_set_handler(capture, NULL);
	rs_log_set_level(RS_LOG_DEBUG);
	script.statuses[0] = 503;
	cr_assert_eq(redirect_get(http, mock_url(server, "/v2/", 0), 0, &status), 0);
	cr_assert(strstr(logged, "GET /v2/ 503"), "%s", logged);
	cr_assert(strstr(logged, "HTTP/1.1"), "%s", logged);
	cr_assert(strstr(logged, "retrying in"), "%s", logged);
	cr_assert(strstr(logged, "GET /v2/ 200"), "%s", logged);
	cr_assert(!strstr(logged, "top-secret"));
	rs_log_set_handler(NULL, NULL);
	rs_http_free(http);
}


/* ---- storms, stalls and the time budget of one request -------------------- */

Test(retry, retry_after_zero_does_not_use_up_retries, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 1, 10, 50);
	long status;
	int attempts;

	/* a registry that says "come back now" is up: its 503s do not count */
	for (int i = 0; i < 5; i++)
		script.statuses[i] = 503;
	script.retry_after = "0";
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(attempts, 6, "five 503s with Retry-After: 0, then the answer");
	rs_http_free(http);
}

Test(storm, a_flaky_registry_does_not_use_up_retries, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 1, 10, 50);
	static const int pattern[] = {503, 200, 503, 200, 503, 200, 503, 200, 503, 503, 503};
	long status;
	int attempts;

	/* four requests fail once each (a storm: 4 of the last 8 answers failed,
	 * 4 were good); the fifth fails three times in a row, more than its one
	 * retry, and still gets through: the registry is flaky, not down */
	memcpy(script.statuses, pattern, sizeof(pattern));
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/x", 0), -1, &status,
				     &attempts), 0);
		cr_assert_eq(status, 200);
		cr_assert_eq(attempts, 2);
	}
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/y", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 200);
	cr_assert_eq(attempts, 4);
	rs_http_free(http);
}

Test(storm, a_registry_that_is_down_still_uses_up_retries, .init = start_server,
     .fini = stop_server)
{
	struct rs_http *http = client(1, 2, 10, 50);
	long status;
	int attempts;

	/* two good answers, then nothing but 503s: a storm, but not a flaky one */
	script.statuses[0] = 200;
	script.statuses[1] = 200;
	for (int i = 2; i < SCRIPTED; i++)
		script.statuses[i] = 503;
	cr_assert_eq(perform(http, "GET", mock_url(server, "/a", 0), -1, &status, &attempts), 0);
	cr_assert_eq(perform(http, "GET", mock_url(server, "/b", 0), -1, &status, &attempts), 0);
	cr_assert_eq(perform(http, "GET", mock_url(server, "/c", 0), -1, &status, &attempts), 0);
	cr_assert_eq(status, 503);
	cr_assert_eq(attempts, 3, "one try and --retries 2, no more");
	cr_assert_eq(perform(http, "GET", mock_url(server, "/d", 0), -1, &status, &attempts), 0);
	cr_assert_eq(attempts, 3);
	rs_http_free(http);
}

Test(storm, the_whole_client_backs_off_and_recovers, .init = start_server, .fini = stop_server)
{
	struct rs_http *http = client(1, 4, 300, 5000);
	struct outcome o[20];

	/* "come back now" (no wait of its own), four times: the fourth failure
	 * makes a storm, and from then on every start waits for the backoff
	 * base (300 ms) after a failure, whichever request it is */
	for (int i = 0; i < 4; i++)
		script.statuses[i] = 503;
	script.retry_after = "0";
	logged[0] = '\0';
	rs_log_set_handler(capture, NULL);
	rs_log_set_level(RS_LOG_VERBOSE);
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 20; i++)
		submit(http, mock_url(server, "/v2/x", i % 4), &o[i]);
	cr_assert_eq(rs_http_run(http), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(o[i].status, 200);
	cr_assert_lt(script.at[3] - script.at[0], 250, "before the storm, no waiting");
	cr_assert(strstr(logged, "slowing down until it recovers"), "%s", logged);
	cr_assert_geq(script.at[4] - script.at[3], 290, "the client paused after the 4th failure");
	cr_assert(strstr(logged, "back to 1 requests in flight"), "recovered: %s", logged);
	cr_assert_lt(script.at[23] - script.at[5], 500, "no pauses once answers are good");
	rs_log_set_handler(NULL, NULL);
	rs_http_free(http);
}

Test(transport, a_stall_is_retried_once)
{
	struct rs_http *http = client(1, 4, 10, 50);
	char url[64];
	long status;
	int attempts, port, fd = silent_listener(&port);
	int64_t t0 = now_ms(), ms;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", port);
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ETIMEOUT,
		     "%s", rs_error_message());
	ms = now_ms() - t0;
	cr_assert_eq(attempts, 2, "--retries 4, but a stall is retried once");
	cr_assert(strstr(rs_error_message(), "2 tries"), "%s", rs_error_message());
	cr_assert_lt(ms, 4500, "two 1 s stalls, not five");
	close(fd);
	rs_http_free(http);
}

Test(budget, no_try_starts_past_it, .init = start_server, .fini = stop_server)
{
	struct rs_http_options o = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;
	long status;
	int attempts;
	int64_t t0, ms;

	/* "come back now", for ever: tries that do not use up retries, until
	 * the request's budget (2.5 s) is spent */
	o.jobs = 1;
	o.retries = 1;
	o.backoff_base_ms = 200;
	o.request_budget_ms = 2500;
	cr_assert_eq(rs_http_new(&http, &o), 0);
	script.always = 503;
	script.retry_after = "0";
	t0 = now_ms();
	cr_assert_eq(perform(http, "GET", mock_url(server, "/v2/", 0), -1, &status, &attempts), 0);
	ms = now_ms() - t0;
	cr_assert_eq(status, 503);
	cr_assert_gt(attempts, 2, "more tries than --retries");
	cr_assert_lt(attempts, 32);
	cr_assert_lt(ms, 2500, "nothing started past the budget (%d tries in %lld ms)", attempts,
		     (long long)ms);
	rs_http_free(http);
}

Test(budget, the_running_try_is_cut_at_it)
{
	struct rs_http_options o = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;
	char url[64];
	long status;
	int attempts, port, fd = silent_listener(&port);
	int64_t t0 = now_ms(), ms;

	o.retries = 4;
	o.stall_timeout_ms = 10000;
	o.request_budget_ms = 1500;
	cr_assert_eq(rs_http_new(&http, &o), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/", port);
	cr_assert_eq(perform(http, "GET", url, -1, &status, &attempts), RS_ETIMEOUT);
	ms = now_ms() - t0;
	cr_assert(strstr(rs_error_message(), "the most one request is given"), "%s",
		  rs_error_message());
	cr_assert_geq(ms, 1400);
	cr_assert_lt(ms, 3000, "the 1.5 s budget, not the 10 s stall limit");
	close(fd);
	rs_http_free(http);
}
