/* test_apply.c: the deleter against a scripted registry on loopback:
 * parents before children, the stop on a refusal, an interrupt that
 * finishes the request in flight and a second run that completes the job,
 * a delete the registry does not honour; DELETEs retried like reads (a 503,
 * an answer lost), a re-check that cannot read, the run's deadline. */
#include "act/apply.h"
#include "base/cancel.h"
#include "base/error.h"
#include "net/http.h"
#include "model/inventory.h"
#include "model/manifest.h"
#include "policy/plan.h"
#include "policy/policy.h"
#include "net/registry.h"
#include "config/settings.h"
#include "base/util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_http.h"

#define NMAN 5
#define MAX_LOG 64

/* The registry: one repository "app" whose manifests can be deleted. */
struct fake {
	char body[NMAN][512];
	char digest[NMAN][RS_DIGEST_MAX];
	const char *type[NMAN];
	const char *tag[NMAN];         /* NULL: untagged */
	int deleted[NMAN];
	int delete_status;             /* answer DELETEs with this (0: 202) */
	int fail_delete_of;            /* 500 for the DELETE of this manifest (-1: none) */
	int ignore_deletes;            /* answer 202 but keep serving */
	int interrupt_on_delete;       /* call rs_interrupt() on the first DELETE */
	int deadline_on_delete;        /* the run's deadline passes at the first DELETE */
	int delete_503s;               /* answer this many DELETEs 503 (Retry-After: 0) */
	int delete_lost;               /* ...and carry them out all the same (answers lost) */
	int tags_status;               /* answer the tag list with this (0: 200) */
	char log[MAX_LOG][160];        /* "DELETE <index>" for each DELETE */
	int nlog;
};

static struct fake fake;

static int find(const char *ref)
{
	for (int i = 0; i < NMAN; i++)
		if (strcmp(fake.digest[i], ref) == 0 || (fake.tag[i] && strcmp(fake.tag[i], ref) == 0))
			return i;
	return -1;
}

static void handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	const char *prefix = "/v2/app/manifests/";
	int i;

	(void)ud;
	if (strcmp(req->url, "/v2/") == 0) {
		mock_reply(resp, 200, "{}");
		return;
	}
	if (strncmp(req->url, "/v2/app/tags/list", 17) == 0) {
		char list[1024] = "";

		if (fake.tags_status) {
			mock_reply(resp, fake.tags_status, "{\"errors\":[{\"code\":\"UNAVAILABLE\"}]}");
			return;
		}

		for (i = 0; i < NMAN; i++)
			if (fake.tag[i] && !fake.deleted[i])
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
					 list[0] ? "," : "", fake.tag[i]);
		snprintf(resp->body, sizeof(resp->body), "{\"name\":\"app\",\"tags\":[%s]}", list);
		resp->body_len = strlen(resp->body);
		resp->status = 200;
		return;
	}
	if (strncmp(req->url, prefix, strlen(prefix)) != 0) {
		mock_reply(resp, 404, "{\"errors\":[{\"code\":\"NOT_FOUND\"}]}");
		return;
	}
	i = find(req->url + strlen(prefix));
	if (strcmp(req->method, "DELETE") == 0) {
		if (fake.nlog < MAX_LOG)
			snprintf(fake.log[fake.nlog++], sizeof(fake.log[0]), "DELETE %d", i);
		if (fake.interrupt_on_delete)
			rs_interrupt();
		if (fake.deadline_on_delete)
			rs_deadline_set_ms(1, "--deadline 1s");   /* long past */
		if (fake.delete_503s > 0) {
			fake.delete_503s--;
			if (fake.delete_lost && i >= 0)
				fake.deleted[i] = 1;
			mock_header(resp, "Retry-After: 0");
			mock_reply(resp, 503, "{\"errors\":[{\"code\":\"UNAVAILABLE\"}]}");
			return;
		}
		if (fake.delete_status) {
			mock_reply(resp, fake.delete_status, "{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}");
			return;
		}
		if (i >= 0 && i == fake.fail_delete_of) {
			mock_reply(resp, 500, "{\"errors\":[{\"code\":\"UNKNOWN\"}]}");
			return;
		}
		if (i < 0 || fake.deleted[i]) {
			mock_reply(resp, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
			return;
		}
		if (!fake.ignore_deletes)
			fake.deleted[i] = 1;
		mock_reply(resp, 202, NULL);
		return;
	}
	if (i < 0 || fake.deleted[i]) {
		mock_reply(resp, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
		return;
	}
	mock_reply(resp, 200, fake.body[i]);
	mock_header(resp, "Content-Type: %s", fake.type[i]);
	mock_header(resp, "Docker-Content-Digest: %s", fake.digest[i]);
}

static void set_manifest(int i, const char *type, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_manifest(int i, const char *type, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake.body[i], sizeof(fake.body[i]), fmt, ap);
	va_end(ap);
	rs_digest_sha256(fake.digest[i], fake.body[i], strlen(fake.body[i]));
	fake.type[i] = type;
	fake.tag[i] = tag;
}

#define CONFIG(n) "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2," \
	"\"digest\":\"sha256:" n "\"}"

/* 0 "old" image, 1 "multi" index over 2 and 3, 4 "keep" image. */
static void make_registry(void)
{
	static const char hex[] = "0000000000000000000000000000000000000000000000000000000000000";

	memset(&fake, 0, sizeof(fake));
	fake.fail_delete_of = -1;
	set_manifest(0, RS_MT_STR_OCI_MANIFEST, "old", "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"config\":" CONFIG("%s001") ",\"layers\":[]}", RS_MT_STR_OCI_MANIFEST, hex);
	set_manifest(2, RS_MT_STR_OCI_MANIFEST, NULL, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"config\":" CONFIG("%s002") ",\"layers\":[]}", RS_MT_STR_OCI_MANIFEST, hex);
	set_manifest(3, RS_MT_STR_OCI_MANIFEST, NULL, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"config\":" CONFIG("%s003") ",\"layers\":[]}", RS_MT_STR_OCI_MANIFEST, hex);
	set_manifest(1, RS_MT_STR_OCI_INDEX, "multi", "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"manifests\":[{\"mediaType\":\"%s\",\"size\":1,\"digest\":\"%s\"},"
		     "{\"mediaType\":\"%s\",\"size\":1,\"digest\":\"%s\"}]}", RS_MT_STR_OCI_INDEX,
		     RS_MT_STR_OCI_MANIFEST, fake.digest[2], RS_MT_STR_OCI_MANIFEST, fake.digest[3]);
	set_manifest(4, RS_MT_STR_OCI_MANIFEST, "keep", "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		     "\"config\":" CONFIG("%s004") ",\"layers\":[]}", RS_MT_STR_OCI_MANIFEST, hex);
}

struct env {
	struct mock_server *server;
	struct rs_http *http;
	struct rs_auth *auth;
	struct rs_registry *reg;
	struct rs_plan *plan;
	char dir[64];
};

/* Retries of the client setup() makes (0 unless a test says otherwise). */
static int setup_retries;

/* The plan: "old" and "multi" go (keep: none), "keep" stays. */
static void setup(struct env *e)
{
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;
	struct rs_inventory *inv = NULL;
	struct rs_repo *repo = NULL;
	struct rs_policy *policy = NULL;
	struct rs_settings s;

	memset(e, 0, sizeof(*e));
	rs_interrupt_reset();
	make_registry();
	e->server = mock_start(handler, NULL);
	cr_assert_not_null(e->server);
	hopts.jobs = 1;
	hopts.retries = setup_retries;
	hopts.backoff_base_ms = 10;
	cr_assert_eq(rs_http_new(&e->http, &hopts), 0);
	aopts.registry = mock_url(e->server, "", 0);
	cr_assert_eq(rs_auth_new(&e->auth, &aopts, e->http), 0);
	cr_assert_eq(rs_registry_new(&e->reg, mock_url(e->server, "", 0), e->http, e->auth), 0);

	cr_assert_eq(rs_inventory_new(&inv, rs_registry_url(e->reg)), 0);
	cr_assert_eq(rs_inventory_add_repo(&repo, inv, "app"), 0);
	for (int i = 0; i < NMAN; i++) {
		struct rs_manifest *m = NULL;

		cr_assert_eq(rs_manifest_parse(&m, fake.digest[i], fake.body[i], strlen(fake.body[i]),
					       fake.type[i]), 0, "%s", rs_error_message());
		m->flags |= RS_MF_FETCHED;
		m->created = 1600000000;   /* dated: keep_last 0 drops what it claims */
		cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
		if (fake.tag[i])
			cr_assert_eq(rs_repo_add_tag(NULL, repo, fake.tag[i], fake.digest[i]), 0);
	}
	rs_settings_init(&s);
	rs_settings_set(&s, rs_settings_lookup("tags"), "old,multi", RS_SRC_CLI);
	rs_settings_set(&s, rs_settings_lookup("keep_last"), "0", RS_SRC_CLI);
	cr_assert_eq(rs_policy_build(&policy, NULL, &s), 0, "%s", rs_error_message());
	rs_inventory_sort(inv);
	cr_assert_eq(rs_plan_build(&e->plan, inv, policy, 1700000000), 0);
	cr_assert_eq(e->plan->totals.manifests_deleted, 4);
	rs_policy_free(policy);
	rs_settings_release(&s);
	rs_inventory_free(inv);
	snprintf(e->dir, sizeof(e->dir), "%s/apply-test-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(e->dir));
}

static void teardown(struct env *e)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	cr_assert_eq(system(cmd), 0);
	rs_plan_free(e->plan);
	rs_registry_free(e->reg);
	rs_auth_free(e->auth);
	rs_http_free(e->http);
	mock_stop(e->server);
	rs_interrupt_reset();
	rs_deadline_set_ms(0, NULL);
}

static int run_apply(struct env *e, struct rs_apply_result **res)
{
	struct rs_apply_options opts = RS_APPLY_OPTIONS_INIT;

	opts.backup_dir = e->dir;
	opts.now = 1700000000;
	return rs_apply(res, e->reg, e->plan, &opts);
}

static enum rs_apply_outcome outcome_of(const struct rs_apply_result *r, int manifest)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].digest, fake.digest[manifest]) == 0)
			return r->items[i].outcome;
	cr_assert_fail("manifest %d is not in the result", manifest);
	return RS_APPLY_PENDING;
}

Test(apply, parents_before_children_and_confirmed)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_eq(res->deleted, 4);
	cr_assert_eq(fake.nlog, 4);
	/* the index (1) before its children (2, 3); "keep" (4) untouched */
	for (int k = 0; k < fake.nlog; k++)
		if (strcmp(fake.log[k], "DELETE 1") == 0)
			cr_assert(k < fake.nlog - 2, "the index goes before its children");
	cr_assert_eq(fake.deleted[4], 0);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, a_refusal_stops_every_further_delete)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	fake.delete_status = 405;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_EUNSUPPORTED);
	cr_assert(strstr(rs_error_message(), "deletes are disabled on this registry"), "%s",
		  rs_error_message());
	cr_assert_eq(fake.nlog, 1, "one refused DELETE, then no more");
	cr_assert_eq(res->failed, 1);
	cr_assert_eq(res->pending, 3);
	cr_assert_eq(res->stop_code, RS_EUNSUPPORTED);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, an_interrupt_finishes_the_request_in_flight_and_a_rerun_completes)
{
	struct rs_apply_result *res = NULL;
	char path[128];
	struct env e;
	int rc;

	setup(&e);
	fake.interrupt_on_delete = 1;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_ECANCELLED);
	cr_assert_eq(fake.nlog, 1, "nothing new starts after the interrupt");
	cr_assert_eq(res->deleted + res->failed, 1, "the delete in flight is finished and recorded");
	cr_assert_eq(res->pending, 3);
	snprintf(path, sizeof(path), "%s/apply-result.json", e.dir);
	cr_assert_eq(access(path, R_OK), 0, "what was done is written down");
	rs_apply_result_free(res);

	/* run again: what is gone counts as done, the rest is deleted */
	rs_interrupt_reset();
	fake.interrupt_on_delete = 0;
	res = NULL;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_eq(res->deleted + res->gone, 4);
	cr_assert_eq(res->gone, 1);
	for (int i = 0; i < 4; i++)
		cr_assert(fake.deleted[i], "manifest %d deleted in the end", i);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, a_delete_the_registry_does_not_honour_is_a_failure)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	fake.ignore_deletes = 1;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_EPARTIAL);
	cr_assert_eq(res->deleted, 0);
	cr_assert_geq(res->failed, 1);
	for (size_t i = 0; i < res->nitems; i++)
		if (res->items[i].outcome == RS_APPLY_FAILED)
			cr_assert(strstr(res->items[i].detail, "still serves"), "%s",
				  res->items[i].detail);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, children_stay_when_their_index_could_not_be_deleted)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	fake.fail_delete_of = 1;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_EPARTIAL);
	cr_assert_eq(outcome_of(res, 1), RS_APPLY_FAILED);
	cr_assert_eq(outcome_of(res, 2), RS_APPLY_SKIPPED);
	cr_assert_eq(outcome_of(res, 3), RS_APPLY_SKIPPED);
	cr_assert_eq(outcome_of(res, 0), RS_APPLY_DELETED);
	cr_assert_eq(fake.deleted[2] + fake.deleted[3], 0, "the index still needs its children");
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, a_tag_added_since_the_plan_keeps_its_digest)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	/* the child 2 is now tagged: it and nothing else of the plan changes */
	fake.tag[2] = "pinned";
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_ECONFLICT);
	cr_assert_eq(outcome_of(res, 2), RS_APPLY_SKIPPED);
	cr_assert_eq(fake.deleted[2], 0);
	cr_assert_eq(outcome_of(res, 3), RS_APPLY_DELETED);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, dry_run_changes_nothing)
{
	struct rs_apply_options opts = RS_APPLY_OPTIONS_INIT;
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	opts.dry_run = 1;
	rc = rs_apply(&res, e.reg, e.plan, &opts);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_eq(res->would_delete, 4);
	cr_assert_eq(fake.nlog, 0);
	cr_assert_null(res->backup_dir);
	rs_apply_result_free(res);
	teardown(&e);
}


Test(apply, a_delete_answered_503_is_sent_again)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup_retries = 2;
	setup(&e);
	fake.delete_503s = 2;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_eq(res->deleted, 4);
	cr_assert_eq(fake.nlog, 6, "two DELETEs answered 503 were sent again");
	for (int i = 0; i < 4; i++)
		cr_assert(fake.deleted[i], "manifest %d deleted", i);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, a_retried_delete_that_answers_404_went_through)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup_retries = 2;
	setup(&e);
	fake.delete_503s = 1;
	fake.delete_lost = 1;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	cr_assert_eq(res->deleted, 4, "the lost answer's delete counts as deleted");
	cr_assert_eq(res->gone, 0);
	cr_assert_eq(fake.nlog, 5);
	cr_assert(strstr(res->items[0].detail ? res->items[0].detail : "", "earlier try went through"),
		  "%s", res->items[0].detail ? res->items[0].detail : "(none)");
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, a_recheck_that_cannot_read_is_not_attempted_not_a_change)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup_retries = 1;
	setup(&e);
	fake.tags_status = 503;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_EPARTIAL, "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "4 of 4 deletions not attempted: a read failed"), "%s",
		  rs_error_message());
	cr_assert(strstr(rs_error_message(), "503"), "the read's error: %s", rs_error_message());
	cr_assert_null(strstr(rs_error_message(), "changed"), "%s", rs_error_message());
	cr_assert_eq(res->pending, 4);
	cr_assert_eq(res->skipped, 0);
	cr_assert_eq(fake.nlog, 0, "nothing deleted on a failed read");
	for (size_t i = 0; i < res->nitems; i++)
		cr_assert(strstr(res->items[i].detail, "could not read 'app' again"), "%s",
			  res->items[i].detail);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, past_the_deadline_nothing_starts)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	rs_deadline_set_ms(1, "--deadline 5m");
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_ECANCELLED);
	cr_assert(strstr(rs_error_message(), "the deadline (--deadline 5m) passed"), "%s",
		  rs_error_message());
	cr_assert_eq(fake.nlog, 0);
	cr_assert_eq(res->pending, 4);
	rs_apply_result_free(res);
	teardown(&e);
}

Test(apply, the_deadline_lets_the_delete_in_flight_finish)
{
	struct rs_apply_result *res = NULL;
	struct env e;
	int rc;

	setup(&e);
	fake.deadline_on_delete = 1;
	rc = run_apply(&e, &res);
	cr_assert_eq(rc, RS_ECANCELLED);
	cr_assert(strstr(rs_error_message(), "deadline"), "%s", rs_error_message());
	cr_assert_eq(fake.nlog, 1, "nothing new starts past the deadline");
	cr_assert_eq(res->deleted, 1, "the delete in flight finished and is recorded");
	cr_assert_eq(res->pending, 3);
	rs_apply_result_free(res);
	teardown(&e);
}
