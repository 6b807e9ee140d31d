/* notify.c: the notification's body, made from the report document, and
 * its delivery through the transport. */
#include "report/notify.h"
#include "base/buf.h"
#include "base/cancel.h"
#include "base/error.h"
#include "net/url.h"
#include "base/util.h"
#include "net/http.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rs_notify_when_parse(enum rs_notify_when *out, const char *text)
{
	if (strcmp(text, "always") == 0)
		*out = RS_NOTIFY_ALWAYS;
	else if (strcmp(text, "failure") == 0)
		*out = RS_NOTIFY_FAILURE;
	else if (strcmp(text, "change") == 0)
		*out = RS_NOTIFY_CHANGE;
	else
		return rs_error_set(RS_EUSAGE, "invalid value '%s' for 'notify_on' (use always, "
				    "failure or change)", text);
	return 0;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int64_t number(const cJSON *obj, const char *key, int64_t fallback)
{
	const cJSON *n = get(obj, key);

	return cJSON_IsNumber(n) ? rs_double_to_int64(n->valuedouble, fallback) : fallback;
}

/* Manifests the run deleted (or would, in a dry run or a plan), and tags it
 * removed on their own. */
static int64_t changes(const cJSON *doc)
{
	const cJSON *apply = get(doc, "apply");
	int64_t n = cJSON_GetArraySize(get(doc, "untags"));

	if (cJSON_IsObject(apply))
		n += number(apply, "deleted", 0) + number(apply, "would_delete", 0);
	else if (cJSON_IsObject(get(doc, "plan")))
		n += cJSON_GetArraySize(get(doc, "deletions"));
	return n;
}

int rs_notify_wanted(const char *report_json, enum rs_notify_when when)
{
	cJSON *doc = cJSON_Parse(report_json ? report_json : "");
	int64_t code = number(doc, "exit_code", 1);
	int wanted = 1;

	if (cJSON_IsObject(doc) && when == RS_NOTIFY_FAILURE)
		wanted = code != 0;
	else if (cJSON_IsObject(doc) && when == RS_NOTIFY_CHANGE)
		wanted = code != 0 || changes(doc) > 0;
	cJSON_Delete(doc);
	return wanted;
}

/* Bytes freed: on disk when the report measured it, else blob bytes; -1
 * when there are no figures after. */
static int64_t bytes_freed(const cJSON *doc, int *on_disk)
{
	const cJSON *change = get(doc, "change");

	*on_disk = 0;
	if (!cJSON_IsObject(change))
		return -1;
	if (cJSON_IsNumber(get(change, "storage_bytes"))) {
		*on_disk = 1;
		return -number(change, "storage_bytes", 0);
	}
	return -number(change, "bytes", 0);
}

static const char *outcome(int64_t code)
{
	return code == 0 ? "done" : code == 3 ? "done in part" : "failed";
}

/* The name of the first stage that failed (or was partial), or NULL. */
static const char *failed_stage(const cJSON *doc)
{
	const cJSON *st;

	cJSON_ArrayForEach(st, get(doc, "stages")) {
		const char *status = cJSON_GetStringValue(get(st, "status"));

		if (status && (strcmp(status, "failed") == 0 || strcmp(status, "partial") == 0))
			return cJSON_GetStringValue(get(st, "name"));
	}
	return NULL;
}

static int text_line(struct rs_buf *t, const cJSON *doc, const char *command)
{
	const cJSON *apply = get(doc, "apply"), *plan = get(doc, "plan");
	int64_t code = number(doc, "exit_code", 1), freed;
	const char *registry = cJSON_GetStringValue(get(doc, "registry")), *stage;
	int dry = cJSON_IsTrue(get(doc, "dry_run")), on_disk, rc;
	char size[32];

	rc = rs_buf_printf(t, "regsweep %s on %s: %s", command, registry ? registry : "?",
			   outcome(code));
	if (rc == 0 && code != 0)
		rc = rs_buf_printf(t, " (exit %" PRId64 ")", code);
	if (rc == 0 && code != 0 && (stage = failed_stage(doc)))
		rc = rs_buf_printf(t, " at %s", stage);
	if (rc == 0 && dry && !cJSON_IsObject(plan))
		rc = rs_buf_puts(t, ", dry run");
	freed = bytes_freed(doc, &on_disk);
	if (rc == 0 && freed >= 0)
		rc = rs_buf_printf(t, ": %s freed%s", rs_size_format(size, sizeof(size), (uint64_t)freed),
				   on_disk ? " on disk" : "");
	if (rc == 0 && cJSON_IsObject(plan)) {
		const cJSON *totals = get(plan, "totals");
		int64_t reclaim = number(totals, "reclaimable_bytes", -1);

		rc = rs_buf_printf(t, ": %" PRId64 " manifests to delete (%" PRId64 " tags)",
				   number(totals, "manifests_deleted", 0),
				   number(totals, "tags_deleted", 0));
		if (rc == 0 && reclaim > 0)
			rc = rs_buf_printf(t, ", up to %s freed by garbage collection",
					   rs_size_format(size, sizeof(size), (uint64_t)reclaim));
	} else if (rc == 0 && cJSON_IsObject(apply)) {
		rc = rs_buf_puts(t, freed >= 0 ? ", " : ": ");
		if (rc == 0 && dry)
			rc = rs_buf_printf(t, "%" PRId64 " would be deleted", number(apply, "would_delete", 0));
		else if (rc == 0)
			rc = rs_buf_printf(t, "%" PRId64 " deleted", number(apply, "deleted", 0));
		if (rc == 0 && cJSON_GetArraySize(get(doc, "untags")))
			rc = rs_buf_printf(t, ", %d untagged", cJSON_GetArraySize(get(doc, "untags")));
		if (rc == 0 && number(apply, "skipped", 0))
			rc = rs_buf_printf(t, ", %" PRId64 " skipped", number(apply, "skipped", 0));
		if (rc == 0)
			rc = rs_buf_printf(t, ", %" PRId64 " failed", number(apply, "failed", 0));
	} else if (rc == 0) {
		rc = rs_buf_puts(t, freed >= 0 ? ", nothing deleted" : ": nothing deleted");
	}
	if (rc == 0 && cJSON_GetArraySize(get(doc, "errors")))
		rc = rs_buf_printf(t, "; %d error%s in the report", cJSON_GetArraySize(get(doc, "errors")),
				   cJSON_GetArraySize(get(doc, "errors")) == 1 ? "" : "s");
	return rc;
}

/* Copy `key` from the document when it is there. */
static void copy(cJSON *body, const cJSON *doc, const char *key)
{
	const cJSON *v = get(doc, key);

	if (v)
		cJSON_AddItemToObject(body, key, cJSON_Duplicate(v, 1));
}

int rs_notify_body(char **out, const char *report_json, const char *command)
{
	static const char *const keys[] = {
		"report_version", "tool", "tool_version", "registry", "dry_run", "started",
		"finished", "success", "exit_code", "requests", "before", "after", "change",
		"stages", "apply", "gc", "errors"
	};
	cJSON *doc = cJSON_Parse(report_json ? report_json : ""), *body = NULL, *apply, *plan;
	struct rs_buf text = RS_BUF_INIT;
	int64_t freed;
	int on_disk, rc;

	*out = NULL;
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return rs_error_set(RS_EPROTO, "the report to notify about is not a JSON object");
	}
	rc = text_line(&text, doc, command);
	if (rc < 0 || !(body = cJSON_CreateObject())) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	cJSON_AddStringToObject(body, "text", rs_buf_cstr(&text));
	cJSON_AddStringToObject(body, "command", command);
	cJSON_AddStringToObject(body, "outcome", outcome(number(doc, "exit_code", 1)));
	freed = bytes_freed(doc, &on_disk);
	if (freed >= 0)
		cJSON_AddNumberToObject(body, "bytes_freed", (double)freed);
	else
		cJSON_AddNullToObject(body, "bytes_freed");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		copy(body, doc, keys[i]);
	/* the counts, not the lists: those are the report's */
	apply = cJSON_GetObjectItemCaseSensitive(body, "apply");
	cJSON_DeleteItemFromObjectCaseSensitive(apply, "items");
	if (cJSON_IsObject(get(doc, "plan"))) {
		plan = cJSON_AddObjectToObject(body, "plan");
		copy(plan, get(doc, "plan"), "policy");
		copy(plan, get(doc, "plan"), "created");
		copy(plan, get(doc, "plan"), "totals");
	}
	*out = cJSON_Print(body);
	if (!*out)
		rc = rs_error_set(RS_ERROR, "out of memory");
done:
	rs_buf_release(&text);
	cJSON_Delete(body);
	cJSON_Delete(doc);
	return rc;
}

/* ------------------------------------------------------------- sending */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `text` with every `url` replaced by `masked`, into `out`: the
 * transport's messages name the URL as given. */
static void mask_in(char *out, size_t outsize, const char *text, const char *url,
		    const char *masked)
{
	size_t used = 0, n = strlen(url);

	while (*text && used + 1 < outsize) {
		if (n && strncmp(text, url, n) == 0) {
			used += (size_t)snprintf(out + used, outsize - used, "%s", masked);
			if (used >= outsize)
				used = outsize - 1;
			text += n;
		} else {
			out[used++] = *text++;
		}
	}
	out[used] = '\0';
}

/* One attempt, at most `budget_ms` long. Returns 0 on 2xx; else sets
 * *again when another attempt may pass, and the message. */
static int attempt(struct rs_http *http, const char *url, const char *masked, const char *body,
		   long budget_ms, const char *which, int *again)
{
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;
	char why[1024];
	int rc;

	*again = 0;
	rc = rs_http_req_new(&req, "POST", url);
	if (rc == 0)
		rc = rs_http_req_header(req, "Content-Type: application/json");
	if (rc == 0)
		rc = rs_http_req_body(req, body, strlen(body));
	if (rc < 0) {
		rs_http_req_free(req);
		return rc;
	}
	rs_http_req_max_body(req, 64 * 1024);
	rs_http_req_timeout(req, budget_ms > 0 ? budget_ms : 1);
	rc = rs_http_perform(http, req, &resp);
	if (rc < 0) {
		mask_in(why, sizeof(why), rs_error_message(), url, masked);
		*again = rc != RS_ECANCELLED;
		rc = rs_error_set(rc, "notification to %s: no answer%s: %s", masked, which, why);
	} else if (resp.status < 200 || resp.status > 299) {
		*again = resp.status == 408 || resp.status == 429 || resp.status >= 500;
		rc = rs_error_set(RS_EPROTO, "notification to %s: the receiver answered %ld%s", masked,
				  resp.status, which);
	}
	rs_http_response_release(&resp);
	return rc;
}

int rs_notify_send(const char *url, const char *body, const struct rs_notify_options *opts)
{
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;
	char *masked = NULL;
	int64_t deadline = now_ms() + (opts->timeout_ms > 0 ? opts->timeout_ms : 30000);
	int rc, again = 0;

	rc = rs_url_mask(&masked, url);
	if (rc < 0)
		return rs_error_prefix("notification: ");
	hopts.jobs = 1;
	hopts.retries = 0;   /* retried here, within the deadline */
	hopts.connect_timeout_ms = opts->connect_timeout_ms;
	hopts.stall_timeout_ms = opts->timeout_ms;
	rc = rs_http_new(&http, &hopts);
	if (rc < 0)
		goto done;
	rc = attempt(http, url, masked, body, (long)(deadline - now_ms()), "", &again);
	if (rc < 0 && again && !rs_interrupted()) {
		long left = (long)(deadline - now_ms()), pause = opts->retry_delay_ms;

		if (pause > left / 2)
			pause = left / 2;
		if (left > 100) {
			struct timespec ts = {pause / 1000, (pause % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			rc = attempt(http, url, masked, body, (long)(deadline - now_ms()),
				     " (tried twice)", &again);
		}
	}
done:
	rs_http_free(http);
	free(masked);
	return rc;
}
