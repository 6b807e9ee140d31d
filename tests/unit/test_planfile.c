/* test_planfile.c: the plan as JSON: what is written, that it reads back
 * the same, and that tampered or inconsistent plans are refused. */
#include "plan_fixture.h"

#include "base/error.h"
#include "base/file.h"
#include "net/url.h"
#include "base/log.h"
#include "policy/planfile.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* A plan with a kept index, a deleted image and untagged history. */
static struct rs_plan *sample_plan(void)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *app = fx_repo(inv, "team/app");
	struct rs_repo *lib = fx_repo(inv, "lib");
	struct rs_policy *policy = fx_policy(NULL, "repos=team/*", "keep_last=1", NULL);
	struct rs_manifest *old, *hist;
	struct rs_plan *plan;

	fx_image(app, "amd64", FX_NOW);
	fx_tag(app, "v2", fx_index(app, "idx", "amd64", NULL));
	old = fx_image(app, "old", FX_NOW - 30 * FX_DAY);
	fx_tag(app, "v1", old);
	fx_tag(app, "v1.0", old);
	rs_inventory_find_repo(inv, "team/app")->manifests[0]->created = FX_NOW;
	hist = fx_image(lib, "hist", FX_NOW - 30 * FX_DAY);
	fx_stored(hist, FX_NOW - 30 * FX_DAY);
	fx_tag(lib, "stable", fx_image(lib, "stable", RS_TIME_UNKNOWN));
	/* the index's date is its child's */
	for (size_t i = 0; i < app->nmanifests; i++)
		if (app->manifests[i]->nchildren)
			app->manifests[i]->created = FX_NOW;
	plan = fx_plan(inv, policy);
	rs_policy_free(policy);
	rs_inventory_free(inv);
	return plan;
}

static char *format_ok(const struct rs_plan *plan)
{
	char *text = NULL;

	cr_assert_eq(rs_planfile_format(&text, plan), 0, "%s", rs_error_message());
	return text;
}

static struct rs_plan *parse_ok(const char *text)
{
	struct rs_plan *plan = NULL;

	cr_assert_eq(rs_planfile_parse(&plan, text, strlen(text), "plan.json"), 0, "%s",
		     rs_error_message());
	return plan;
}

static void parse_fails(const char *text, const char *fragment)
{
	struct rs_plan *plan = (struct rs_plan *)1;

	cr_assert_eq(rs_planfile_parse(&plan, text, strlen(text), "plan.json"), RS_EUSAGE);
	cr_assert_null(plan);
	cr_assert(strstr(rs_error_message(), fragment), "message '%s' lacks '%s'",
		  rs_error_message(), fragment);
}

Test(planfile, document_shape)
{
	struct rs_plan *plan = sample_plan();
	char *text = format_ok(plan);
	cJSON *root = cJSON_Parse(text), *del, *repo;

	cr_assert_not_null(root);
	cr_assert_str_eq(cJSON_GetObjectItem(root, "format")->valuestring, "regsweep-plan");
	cr_assert_eq(cJSON_GetObjectItem(root, "version")->valueint, 1);
	cr_assert_str_eq(cJSON_GetObjectItem(root, "registry")->valuestring, "http://127.0.0.1:5000");
	cr_assert_str_eq(cJSON_GetObjectItem(root, "created")->valuestring, "2023-11-14T22:13:20Z");
	cr_assert(strstr(cJSON_GetObjectItem(root, "policy")->valuestring, "keep_last 1"));
	del = cJSON_GetObjectItem(root, "deletions");
	cr_assert_eq(cJSON_GetArraySize(del), 2);
	/* repositories in inventory order: lib, then team/app */
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(del, 0), "repository")->valuestring,
			 "lib");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(del, 0), "reason")->valuestring,
			 "untagged, stored 30d ago (grace 24h)");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(del, 1), "digest")->valuestring,
			 fx_digest("old"));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(del, 1), "tags")), 2);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(del, 1), "media_type")->valuestring,
			 RS_MT_STR_OCI_MANIFEST);
	repo = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "repositories"), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(repo, "name")->valuestring, "team/app");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(repo, "tags"), "v2")->valuestring,
			 fx_digest("idx"));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(repo, "decisions")), 3);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "totals"),
					 "manifests_deleted")->valueint, 2);
	cJSON_Delete(root);
	free(text);
	rs_plan_free(plan);
}

Test(planfile, round_trip)
{
	struct rs_plan *plan = sample_plan(), *back;
	char *text = format_ok(plan), *again;

	back = parse_ok(text);
	cr_assert_eq(back->nrepos, plan->nrepos);
	cr_assert_eq(back->created, plan->created);
	cr_assert_eq(back->totals.manifests_deleted, plan->totals.manifests_deleted);
	cr_assert_eq(back->totals.reclaimable_bytes, plan->totals.reclaimable_bytes);
	for (size_t r = 0; r < plan->nrepos; r++) {
		cr_assert_eq(back->repos[r].ndeletions, plan->repos[r].ndeletions);
		cr_assert_eq(back->repos[r].ntags, plan->repos[r].ntags);
		for (size_t i = 0; i < plan->repos[r].ndeletions; i++)
			cr_assert_str_eq(back->repos[r].deletions[i].digest,
					 plan->repos[r].deletions[i].digest);
	}
	again = format_ok(back);
	cr_assert_str_eq(again, text, "a plan read back writes the same document");
	free(again);
	free(text);
	rs_plan_free(back);
	rs_plan_free(plan);
}

Test(planfile, userinfo_is_never_written)
{
	struct rs_plan *plan = sample_plan();
	char *text, buf[256];

	free(plan->registry);
	plan->registry = strdup("https://bob:s3cret@r.example:5000/");
	text = format_ok(plan);
	cr_assert_null(strstr(text, "s3cret"));
	cr_assert(strstr(text, "\"https://r.example:5000/\""));
	free(text);
	cr_assert_str_eq(rs_url_strip_userinfo(buf, sizeof(buf), "http://r/x@y"), "http://r/x@y");
	rs_plan_free(plan);
}

Test(planfile, a_registered_secret_is_never_written)
{
	struct rs_plan *plan = sample_plan();
	char *text = (char *)1;

	free(plan->policy);
	plan->policy = strdup("hunter2-policy");
	rs_secret_register("hunter2");
	cr_assert_eq(rs_planfile_format(&text, plan), RS_ERROR);
	cr_assert_null(text);
	rs_secret_clear();
	rs_plan_free(plan);
}

/* Replace the first `from` in `text` by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	cr_assert_not_null(at, "'%s' not in the plan", from);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

Test(planfile, tampered_plans_are_refused)
{
	struct rs_plan *plan = sample_plan();
	char *text = format_ok(plan), *bad, key[128], val[128];

	parse_fails("[]", "no \"format\"");
	parse_fails("not json", "not JSON");
	bad = edit(text, "\"version\":\t1", "\"version\":\t2");
	parse_fails(bad, "unsupported version");
	free(bad);
	bad = edit(text, "\"name\":\t\"lib\"", "\"name\":\t\"Lib\"");
	parse_fails(bad, "invalid repository name");
	free(bad);
	/* a deletion whose tag the map points elsewhere */
	snprintf(key, sizeof(key), "\"v1\":\t\"%s\"", fx_digest("old"));
	snprintf(val, sizeof(val), "\"v1\":\t\"%s\"", fx_digest("idx"));
	bad = edit(text, key, val);
	parse_fails(bad, "names tag 'v1', which the tag map does not point at it");
	free(bad);
	/* a tag on the deleted digest that the deletion does not name */
	snprintf(key, sizeof(key), "\"v2\":\t\"%s\"", fx_digest("idx"));
	snprintf(val, sizeof(val), "\"v2\":\t\"%s\"", fx_digest("old"));
	bad = edit(text, key, val);
	parse_fails(bad, "would also remove tag 'v2'");
	free(bad);
	/* nothing may be deleted in an incomplete repository */
	bad = edit(text, "\"complete\":\ttrue", "\"complete\":\tfalse");
	parse_fails(bad, "in incomplete repository 'lib'");
	free(bad);
	bad = edit(text, "\"repository\":\t\"lib\"", "\"repository\":\t\"nope\"");
	parse_fails(bad, "a deletion names a repository the plan does not list");
	free(bad);
	snprintf(key, sizeof(key), "\"digest\":\t\"%s\"", fx_digest("hist"));
	bad = edit(text, key, "\"digest\":\t\"sha256:xyz\"");
	parse_fails(bad, "invalid digest 'sha256:xyz'");
	free(bad);
	free(text);
	rs_plan_free(plan);
}

Test(planfile, a_date_that_does_not_read_back_is_unknown)
{
	struct rs_plan *plan = sample_plan(), *back;
	char *text = format_ok(plan), *odd;

	/* dates only inform: a plan is not refused over one */
	odd = edit(text, "\"created\":\t\"2023-11-14T22:13:20Z\"", "\"created\":\t\"224-1-1\"");
	back = parse_ok(odd);
	cr_assert_eq(back->created, RS_TIME_UNKNOWN);
	cr_assert_eq(back->totals.manifests_deleted, 2);
	free(odd);
	free(text);
	rs_plan_free(back);
	rs_plan_free(plan);
}

Test(planfile, private_file_mode)
{
	struct stat st;
	const char *path = "planfile-test.json";
	struct rs_plan *back = NULL;
	struct rs_plan *plan = sample_plan();
	char *text = format_ok(plan);

	unlink(path);
	cr_assert_eq(rs_file_write(path, text, strlen(text)), 0, "%s", rs_error_message());
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(rs_planfile_read(&back, path), 0, "%s", rs_error_message());
	cr_assert_eq(back->totals.manifests_deleted, 2);
	rs_plan_free(back);
	unlink(path);
	cr_assert_eq(rs_planfile_read(&back, path), RS_EUSAGE);
	cr_assert_null(back);
	free(text);
	rs_plan_free(plan);
}

Test(planfile, push_times_and_in_use_are_written)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *app = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", "order=pushed",
					     "storage_root=/srv/registry", NULL);
	struct rs_plan *plan, *back;
	cJSON *root, *in_use, *kept, *d;
	char *text, *summary = NULL;

	fx_tag(app, "1.0", fx_image(app, "a", FX_NOW));
	fx_tag(app, "2.0", fx_image(app, "b", FX_NOW));
	fx_pushed(app, "1.0", FX_NOW - FX_DAY);
	inv->tag_times = 1;
	fx_in_use(policy, "127.0.0.1:5000/app:1.0 127.0.0.1:5000/app:3.0 nginx:1\n");
	plan = fx_plan(inv, policy);
	text = format_ok(plan);
	root = cJSON_Parse(text);
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(root, "repositories"), 0), "decisions"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(d, "tag")->valuestring, "1.0");
	cr_assert_str_eq(cJSON_GetObjectItem(d, "pushed")->valuestring, "2023-11-13T22:13:20Z");
	cr_assert_str_eq(cJSON_GetObjectItem(d, "reason")->valuestring, "in use");
	in_use = cJSON_GetObjectItem(root, "in_use");
	cr_assert_eq(cJSON_GetObjectItem(in_use, "references")->valueint, 3);
	cr_assert_eq(cJSON_GetObjectItem(in_use, "this_registry")->valueint, 2);
	cr_assert_eq(cJSON_GetObjectItem(in_use, "other_registries")->valueint, 1);
	kept = cJSON_GetObjectItem(in_use, "kept");
	cr_assert_eq(cJSON_GetArraySize(kept), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(kept, 0), "reference")->valuestring,
			 "1.0");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(kept, 0), "source")->valuestring,
			 "pods.txt:1");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(in_use, "missing"), 0), "digest")));
	back = parse_ok(text);
	cr_assert_eq(back->repos[0].tags[0].pushed_at, FX_NOW - FX_DAY, "push times read back");
	cr_assert_eq(back->repos[0].tags[1].pushed_at, RS_TIME_UNKNOWN);
	cr_assert_eq(rs_planfile_in_use_format(&summary, plan), 0);
	cr_assert(strncmp(summary, "{\"references\":3,", 16) == 0, "%s", summary);
	free(summary);
	rs_plan_free(back);
	cr_assert_eq(rs_planfile_in_use_format(&summary, back = parse_ok(text)), 0);
	cr_assert_str_eq(summary, "null", "not read back: it informs people");
	free(summary);
	rs_plan_free(back);
	cJSON_Delete(root);
	free(text);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* A plan that untags: pr-17 shares release-1.0's digest, pr-18 is alone. */
static struct rs_plan *untag_plan(void)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *app = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "tags=pr-*", "keep_last=0", NULL);
	struct rs_manifest *shared = fx_image(app, "shared", FX_NOW - 5 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(app, "release-1.0", shared);
	fx_tag(app, "pr-17", shared);
	fx_tag(app, "pr-18", fx_image(app, "alone", FX_NOW - 4 * FX_DAY));
	plan = fx_plan(inv, policy);
	rs_policy_free(policy);
	rs_inventory_free(inv);
	return plan;
}

Test(planfile, untag_decisions_round_trip)
{
	struct rs_plan *plan = untag_plan(), *back;
	struct rs_plan_tag *pr17 = (struct rs_plan_tag *)fx_plan_tag(plan, "app", "pr-17");
	char *text, *again;
	cJSON *root;

	pr17->blocked = strdup("the credentials lack 'push' on 'app'");
	rs_plan_count(plan);
	text = format_ok(plan);
	root = cJSON_Parse(text);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "totals"),
					 "tags_untagged")->valueint, 1);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "totals"),
					 "untags_blocked")->valueint, 1);
	cJSON_Delete(root);
	cr_assert(strstr(text, "\"decision\":\t\"untag\""));
	cr_assert(strstr(text, "\"untag_blocked\":\t\"the credentials lack 'push' on 'app'\""));
	back = parse_ok(text);
	cr_assert_eq(fx_plan_tag(back, "app", "pr-17")->verdict, RS_VERDICT_UNTAG);
	cr_assert_str_eq(fx_plan_tag(back, "app", "pr-17")->blocked,
			 "the credentials lack 'push' on 'app'");
	cr_assert_eq(fx_plan_tag(back, "app", "pr-18")->verdict, RS_VERDICT_DELETE);
	cr_assert_eq(back->totals.tags_untagged, 1);
	again = format_ok(back);
	cr_assert_str_eq(again, text, "a plan read back writes the same document");
	free(again);
	free(text);
	rs_plan_free(back);
	rs_plan_free(plan);
}

/* Plans written before untag existed (no untag totals, no such decision)
 * still load as they always did. */
Test(planfile, plans_from_before_untag_still_load)
{
	struct rs_plan *plan = sample_plan(), *back;
	char *text = format_ok(plan), *old, *older;

	old = edit(text, "\t\t\"tags_untagged\":\t0,\n", "");
	older = edit(old, "\t\t\"untags_blocked\":\t0,\n", "");
	cr_assert_null(strstr(older, "untags_blocked"), "%s", older);
	cr_assert_null(strstr(older, "tags_untagged"), "%s", older);
	back = parse_ok(older);
	cr_assert_eq(back->totals.manifests_deleted, 2);
	cr_assert_eq(back->totals.tags_untagged, 0);
	free(older);
	free(old);
	free(text);
	rs_plan_free(back);
	rs_plan_free(plan);
}

Test(planfile, an_untag_on_a_deleted_digest_is_refused)
{
	struct rs_plan *plan = untag_plan();
	char *text = format_ok(plan), *bad, *worse, key[160], val[160];

	/* pr-17 moved onto the digest the plan deletes */
	snprintf(key, sizeof(key), "\"pr-17\":\t\"%s\"", fx_digest("shared"));
	snprintf(val, sizeof(val), "\"pr-17\":\t\"%s\"", fx_digest("alone"));
	bad = edit(text, key, val);
	parse_fails(bad, "would also remove tag 'pr-17'");
	free(bad);
	/* an untag in a repository read incompletely */
	bad = edit(text, "\"complete\":\ttrue", "\"complete\":\tfalse");
	worse = edit(bad, "\"deletions\":\t[{", "\"deletions\":\t[], \"x\":\t[{");
	parse_fails(worse, "untags a tag in an incomplete repository");
	free(worse);
	free(bad);
	free(text);
	rs_plan_free(plan);
}
