/* test_notify.c: the notification's body is the report's figures with a
 * line for people and nothing secret; when it is sent; its delivery to a
 * loopback receiver (one POST, one retry, bounded by the timeout, a
 * receiver that is down); and the masking of webhook URLs. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "net/url.h"
#include "base/log.h"
#include "net/http.h"
#include "report/notify.h"

#include "mock_http.h"

static const char run_doc[] =
	"{\"report_version\":1,\"tool\":\"regsweep\",\"tool_version\":\"0.1.0\","
	"\"registry\":\"https://registry.example.com\",\"dry_run\":false,"
	"\"started\":\"2026-11-27T03:30:00Z\",\"finished\":\"2026-11-27T03:31:12Z\","
	"\"success\":false,\"exit_code\":3,\"requests\":10240,"
	"\"before\":{\"repositories\":3,\"tags\":14,\"manifests\":43,\"blobs\":143,\"bytes\":350321,"
	"\"storage_blobs\":150,\"storage_bytes\":379904},"
	"\"after\":{\"repositories\":3,\"tags\":8,\"manifests\":10,\"blobs\":26,\"bytes\":30720,"
	"\"storage_blobs\":30,\"storage_bytes\":36864},"
	"\"change\":{\"repositories\":0,\"tags\":-6,\"manifests\":-33,\"blobs\":-117,\"bytes\":-319601,"
	"\"storage_blobs\":-120,\"storage_bytes\":-343040},"
	"\"per_repo\":[{\"name\":\"huge\",\"before\":{\"repositories\":1,\"tags\":1,\"manifests\":1,"
	"\"blobs\":1,\"bytes\":1},\"after\":null}],"
	"\"stages\":[{\"name\":\"stats-before\",\"status\":\"ok\",\"seconds\":8.1,\"error\":null},"
	"{\"name\":\"apply\",\"status\":\"partial\",\"seconds\":2.5,\"error\":\"<!channel> moved\"}],"
	"\"deletions\":[{\"repository\":\"secret-project\",\"digest\":\"sha256:01\",\"tags\":[],"
	"\"reason\":\"r\",\"outcome\":\"deleted\",\"detail\":null}],"
	"\"untags\":[{\"repository\":\"huge\",\"tag\":\"old\",\"digest\":\"sha256:02\","
	"\"reason\":\"r\",\"outcome\":\"untagged\",\"detail\":null}],"
	"\"skips\":[],"
	"\"apply\":{\"registry\":\"https://registry.example.com\",\"dry_run\":false,"
	"\"backup_dir\":\"b\",\"started\":\"2026-11-27T03:30:09Z\",\"deleted\":33,\"already_gone\":0,"
	"\"skipped\":2,\"failed\":1,\"not_attempted\":0,\"would_delete\":0,\"stopped\":null},"
	"\"gc\":null,\"errors\":[\"apply: <!channel> tag moved\"]}";

static cJSON *body_of(const char *doc, const char *command, char **text)
{
	cJSON *body;

	cr_assert_eq(rs_notify_body(text, doc, command), 0, "%s", rs_error_message());
	body = cJSON_Parse(*text);
	cr_assert_not_null(body);
	return body;
}

static int same(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(a, b, 1);
}

Test(notify_body, text_and_the_reports_figures)
{
	cJSON *doc = cJSON_Parse(run_doc), *body;
	char *text;
	const char *line;

	body = body_of(run_doc, "run", &text);
	line = cJSON_GetStringValue(cJSON_GetObjectItem(body, "text"));
	cr_assert_str_eq(line, "regsweep run on https://registry.example.com: done in part (exit 3) "
			 "at apply: 335 KiB freed on disk, 33 deleted, 1 untagged, 2 skipped, "
			 "1 failed; 1 error in the report");
	for (const char *const *k = (const char *const[]){"registry", "exit_code", "success",
		     "before", "after", "change", "stages", "errors", "requests", "started",
		     "finished", "dry_run", "tool_version", NULL}; *k; k++)
		cr_assert(same(cJSON_GetObjectItem(body, *k), cJSON_GetObjectItem(doc, *k)),
			  "'%s' is not the report's", *k);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "apply"), "deleted")->valuedouble,
		     33);
	cr_assert_eq(cJSON_GetObjectItem(body, "bytes_freed")->valuedouble, 343040);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(body, "outcome")), "done in part");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(body, "command")), "run");
	cr_assert_null(cJSON_GetObjectItem(body, "deletions"), "the lists stay in the report");
	cr_assert_null(cJSON_GetObjectItem(body, "per_repo"));
	cr_assert_null(strstr(text, "secret-project"), "no repository name");
	cr_assert_null(strstr(line, "<!channel>"), "no error message in the line a chat shows");
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(doc);
}

Test(notify_body, a_dry_run_and_a_failed_run)
{
	const char *dry = "{\"registry\":\"http://r\",\"dry_run\":true,\"exit_code\":0,"
			  "\"before\":{},\"after\":null,\"change\":null,\"stages\":[],\"apply\":"
			  "{\"dry_run\":true,\"would_delete\":27,\"skipped\":0,\"failed\":0},"
			  "\"errors\":[]}";
	const char *failed = "{\"registry\":\"http://r\",\"dry_run\":false,\"exit_code\":1,"
			     "\"before\":null,\"after\":null,\"change\":null,\"stages\":[{\"name\":"
			     "\"stats-before\",\"status\":\"failed\",\"error\":\"x\"}],\"apply\":null,"
			     "\"gc\":null,\"errors\":[\"x\"]}";
	char *text;
	cJSON *body = body_of(dry, "run", &text);

	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(body, "text")),
			 "regsweep run on http://r: done, dry run: 27 would be deleted, 0 failed");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(body, "bytes_freed")));
	free(text);
	cJSON_Delete(body);
	body = body_of(failed, "apply", &text);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(body, "text")),
			 "regsweep apply on http://r: failed (exit 1) at stats-before: nothing "
			 "deleted; 1 error in the report");
	free(text);
	cJSON_Delete(body);
}

Test(notify_body, a_plan_says_what_it_would_delete)
{
	const char *plan = "{\"registry\":\"http://r\",\"dry_run\":true,\"exit_code\":0,\"command\":"
			   "\"plan\",\"before\":{},\"after\":null,\"change\":null,\"stages\":[],"
			   "\"deletions\":[{},{}],\"apply\":null,\"gc\":null,\"errors\":[],\"plan\":"
			   "{\"policy\":\"p\",\"created\":null,\"totals\":{\"manifests_deleted\":2,"
			   "\"tags_deleted\":3,\"reclaimable_bytes\":4096},\"tags\":[{}]}}";
	char *text;
	cJSON *body = body_of(plan, "plan", &text);

	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(body, "text")),
			 "regsweep plan on http://r: done: 2 manifests to delete (3 tags), up to "
			 "4.0 KiB freed by garbage collection");
	cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "plan"), "totals"));
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "plan"), "tags"));
	free(text);
	cJSON_Delete(body);
}

Test(notify_body, not_json_is_refused)
{
	char *text = (char *)1;

	cr_assert_eq(rs_notify_body(&text, "nope", "run"), RS_EPROTO);
	cr_assert_null(text);
}

Test(notify_when, always_failure_change)
{
	const char *ok_nothing = "{\"exit_code\":0,\"apply\":{\"deleted\":0,\"would_delete\":0}}";
	const char *ok_deleted = "{\"exit_code\":0,\"apply\":{\"deleted\":4,\"would_delete\":0}}";
	const char *ok_untagged = "{\"exit_code\":0,\"apply\":{\"deleted\":0},\"untags\":[{}]}";
	const char *partial = "{\"exit_code\":3,\"apply\":{\"deleted\":0}}";
	const char *plan_some = "{\"exit_code\":0,\"apply\":null,\"plan\":{},\"deletions\":[{}]}";
	enum rs_notify_when w;

	cr_assert_eq(rs_notify_when_parse(&w, "change"), 0);
	cr_assert_eq(w, RS_NOTIFY_CHANGE);
	cr_assert_eq(rs_notify_when_parse(&w, "sometimes"), RS_EUSAGE);
	cr_assert_eq(rs_notify_wanted(ok_nothing, RS_NOTIFY_ALWAYS), 1);
	cr_assert_eq(rs_notify_wanted(ok_nothing, RS_NOTIFY_FAILURE), 0);
	cr_assert_eq(rs_notify_wanted(ok_deleted, RS_NOTIFY_FAILURE), 0);
	cr_assert_eq(rs_notify_wanted(partial, RS_NOTIFY_FAILURE), 1);
	cr_assert_eq(rs_notify_wanted(ok_nothing, RS_NOTIFY_CHANGE), 0);
	cr_assert_eq(rs_notify_wanted(ok_deleted, RS_NOTIFY_CHANGE), 1);
	cr_assert_eq(rs_notify_wanted(ok_untagged, RS_NOTIFY_CHANGE), 1);
	cr_assert_eq(rs_notify_wanted(partial, RS_NOTIFY_CHANGE), 1);
	cr_assert_eq(rs_notify_wanted(plan_some, RS_NOTIFY_CHANGE), 1);
	cr_assert_eq(rs_notify_wanted("garbage", RS_NOTIFY_FAILURE), 1, "unreadable: tell");
}

/* ---- delivery ------------------------------------------------------------- */

struct receiver {
	pthread_mutex_t lock;
	int requests;
	int fail_first;            /* answer 500 to this many requests first */
	int status;                /* then this (default 200) */
	int stall_ms;              /* wait this long before answering */
	char body[8192];
	char content_type[128];
	char authorization[256];
	char url[256];
};

static void receive(const struct mock_request *req, struct mock_response *resp, void *userdata)
{
	struct receiver *r = userdata;
	int n;

	pthread_mutex_lock(&r->lock);
	n = ++r->requests;
	snprintf(r->body, sizeof(r->body), "%s", req->body);
	snprintf(r->content_type, sizeof(r->content_type), "%s",
		 req->content_type ? req->content_type : "");
	snprintf(r->authorization, sizeof(r->authorization), "%s",
		 req->authorization ? req->authorization : "");
	snprintf(r->url, sizeof(r->url), "%s", req->url);
	pthread_mutex_unlock(&r->lock);
	if (r->stall_ms) {
		struct timespec ts = {r->stall_ms / 1000, (r->stall_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);   /* a receiver that is slow, not a synchronisation */
	}
	mock_reply(resp, n <= r->fail_first ? 500 : r->status ? r->status : 200, "ok");
}

static struct rs_notify_options quick(long timeout_ms)
{
	struct rs_notify_options o = RS_NOTIFY_OPTIONS_INIT;

	o.connect_timeout_ms = 2000;
	o.timeout_ms = timeout_ms;
	o.retry_delay_ms = 50;
	return o;
}

static int64_t ms(void)
{
	return mock_now_ms();
}

Test(notify_send, one_post_with_the_body)
{
	struct receiver r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct mock_server *server = mock_start(receive, &r);
	struct rs_notify_options o = quick(5000);
	char url[256];

	cr_assert_not_null(server);
	snprintf(url, sizeof(url), "http://hook:hook-pass@127.0.0.1:%d/hooks/T0KEN", mock_port(server));
	cr_assert_eq(rs_notify_send(url, "{\"text\":\"hi\"}", &o), 0, "%s", rs_error_message());
	mock_stop(server);
	cr_assert_eq(r.requests, 1);
	cr_assert_str_eq(r.body, "{\"text\":\"hi\"}");
	cr_assert_str_eq(r.content_type, "application/json");
	cr_assert_str_eq(r.url, "/hooks/T0KEN");
	cr_assert_str_eq(r.authorization, "Basic aG9vazpob29rLXBhc3M=", "credentials in the URL "
			 "are sent as basic authentication");
}

Test(notify_send, a_server_error_is_retried_once)
{
	struct receiver r = {.lock = PTHREAD_MUTEX_INITIALIZER, .fail_first = 1};
	struct mock_server *server = mock_start(receive, &r);
	struct rs_notify_options o = quick(5000);

	cr_assert_eq(rs_notify_send(mock_url(server, "/hook", 0), "{}", &o), 0, "%s",
		     rs_error_message());
	cr_assert_eq(r.requests, 2);
	r.fail_first = 10;
	r.requests = 0;
	cr_assert_eq(rs_notify_send(mock_url(server, "/hook", 0), "{}", &o), RS_EPROTO);
	cr_assert_eq(r.requests, 2, "once, not more");
	cr_assert(strstr(rs_error_message(), "answered 500 (tried twice)"), "%s", rs_error_message());
	mock_stop(server);
}

Test(notify_send, a_client_error_is_not_retried)
{
	struct receiver r = {.lock = PTHREAD_MUTEX_INITIALIZER, .status = 404};
	struct mock_server *server = mock_start(receive, &r);
	struct rs_notify_options o = quick(5000);

	cr_assert_eq(rs_notify_send(mock_url(server, "/gone", 0), "{}", &o), RS_EPROTO);
	cr_assert_eq(r.requests, 1);
	mock_stop(server);
}

Test(notify_send, a_receiver_that_is_down_fails_quickly_and_masked)
{
	struct receiver r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct mock_server *server = mock_start(receive, &r);
	struct rs_notify_options o = quick(5000);
	char url[256];
	int64_t t0;
	int rc;

	snprintf(url, sizeof(url), "http://hook:hook-pass@127.0.0.1:%d/hooks/T0KEN", mock_port(server));
	mock_stop(server);   /* nothing listens there now */
	t0 = ms();
	rc = rs_notify_send(url, "{}", &o);
	cr_assert_eq(rc, RS_ENET, "%s", rs_error_message());
	cr_assert_lt(ms() - t0, 3000);
	cr_assert(strstr(rs_error_message(), "http://hook:***@127.0.0.1:"), "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "no answer (tried twice)"), "%s", rs_error_message());
	cr_assert_null(strstr(rs_error_message(), "hook-pass"), "%s", rs_error_message());
	cr_assert_null(strstr(rs_error_message(), "T0KEN"), "%s", rs_error_message());
}

Test(notify_send, a_receiver_that_stalls_is_bounded_by_the_timeout)
{
	struct receiver r = {.lock = PTHREAD_MUTEX_INITIALIZER, .stall_ms = 1500};
	struct mock_server *server = mock_start(receive, &r);
	struct rs_notify_options o = quick(600);
	int64_t t0 = ms();

	cr_assert_eq(rs_notify_send(mock_url(server, "/slow", 0), "{}", &o), RS_ETIMEOUT, "%s",
		     rs_error_message());
	cr_assert_lt(ms() - t0, 1200, "both attempts within --timeout (took %lld ms)",
		     (long long)(ms() - t0));
	mock_stop(server);
}

/* ---- the URL, masked ------------------------------------------------------- */

static char *masked(const char *url)
{
	char *out = NULL;

	cr_assert_eq(rs_url_mask(&out, url), 0, "%s", url);
	return out;
}

Test(notify_url, credentials_and_paths_are_masked)
{
	struct { const char *url, *want; } cases[] = {
		{"https://user:pa55@chat.example.com/hooks/abc?x=1", "https://user:***@chat.example.com/***"},
		{"https://T0KEN@chat.example.com/", "https://***@chat.example.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/***"},
		{"http://h/?token=abc", "http://h/***"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = masked(cases[i].url);

		cr_assert_str_eq(m, cases[i].want);
		free(m);
	}
}

Test(notify_url, an_unparseable_url_is_not_shown)
{
	char *out = (char *)1;

	cr_assert_eq(rs_url_mask(&out, "http://[sekrit"), RS_EUSAGE);
	cr_assert_null(out);
	cr_assert_null(strstr(rs_error_message(), "sekrit"));
}

Test(notify_url, secret_parts_reach_the_redactor)
{
	char clean[512];

	rs_secret_clear();
	cr_assert_eq(rs_url_register_secrets("https://u:pa%2455@chat.example/hooks/T0KEN?k=v1v2"),
		     0);
	rs_redact("POST /hooks/T0KEN 200; pa%2455 pa$55 k=v1v2 u", clean, sizeof(clean));
	cr_assert_str_eq(clean, "POST *** 200; *** *** *** u");
	rs_secret_clear();
}
