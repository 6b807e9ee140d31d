/* test_retention.c: the planner's retention for real fleets: what "newest"
 * means (created, pushed, version), ties and unknowns, images in use, and
 * orphaned signatures and referrers. */
#include "plan_fixture.h"

#include "base/error.h"

static char *short_of(const struct rs_manifest *m)
{
	static char out[RS_DIGEST_MAX];

	return rs_digest_short(out, m->digest);
}

/* `prefix`, the short digest of `m`, then `suffix`. */
static char *expect(const char *prefix, const struct rs_manifest *m, const char *suffix)
{
	static char out[256];

	snprintf(out, sizeof(out), "%s%s%s", prefix, short_of(m), suffix);
	return out;
}

/* `n` images tagged NAME1..NAMEn, image i created at created[i]. */
static void images(struct rs_repo *repo, const char *prefix, size_t n, const int64_t *created,
		   struct rs_manifest **out)
{
	char seed[64], tag[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(seed, sizeof(seed), "%s/%s%zu", repo->name, prefix, i + 1);
		snprintf(tag, sizeof(tag), "%s%zu", prefix, i + 1);
		out[i] = fx_image(repo, seed, created[i]);
		fx_tag(repo, tag, out[i]);
	}
}

static void free_all(struct rs_plan *plan, struct rs_policy *policy, struct rs_inventory *inv)
{
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* ------------------------------------------------------------ order: created */

Test(retention, jib_images_dated_1970_are_kept_and_the_plan_says_why)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "jib");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=2", NULL);
	int64_t dates[6] = {RS_TIME_UNKNOWN, RS_TIME_UNKNOWN, RS_TIME_UNKNOWN, RS_TIME_UNKNOWN,
			    RS_TIME_UNKNOWN, RS_TIME_UNKNOWN};
	struct rs_manifest *m[6];
	const struct rs_plan_repo *pr;
	struct rs_plan *plan;

	images(repo, "1.0.", 6, dates, m);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "jib", "1.0.1", RS_VERDICT_KEEP,
		      "rule 'command line': date unknown, counted as newest");
	cr_assert_eq(plan->totals.tags_deleted, 0);
	pr = fx_plan_repo(plan, "jib");
	cr_assert_not_null(pr->note, "the plan says why nothing goes");
	cr_assert_str_eq(pr->note, "rule 'command line': none of the 6 images it ranks has a "
			 "creation date (reproducible builds write 1970), so all are kept: rank "
			 "them by push time (--order pushed, with the storage view) or by tag name "
			 "(--order version)");
	free_all(plan, policy, inv);
}

Test(retention, buildpacks_images_tied_on_1980_are_ties_not_among_newest)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "bp");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=2", NULL);
	const int64_t t1980 = 315532801;    /* 1980-01-01T00:00:01Z */
	int64_t dates[6] = {t1980, t1980, t1980, t1980, t1980, t1980};
	struct rs_manifest *m[6];
	struct rs_plan *plan;

	images(repo, "v", 6, dates, m);
	plan = fx_plan(inv, policy);
	for (int i = 1; i <= 6; i++) {
		char tag[8];

		snprintf(tag, sizeof(tag), "v%d", i);
		fx_assert_tag(plan, "bp", tag, RS_VERDICT_KEEP,
			      "rule 'command line': tied with the 2nd newest (6 images have the same "
			      "date)");
	}
	cr_assert_str_eq(fx_plan_repo(plan, "bp")->note,
			 "rule 'command line': the 6 images it ranks all have the creation date "
			 "1980-01-01T00:00:01Z (reproducible builds write a constant), so their dates "
			 "cannot tell them apart: rank them by push time (--order pushed, with the "
			 "storage view) or by tag name (--order version)");
	free_all(plan, policy, inv);
}

Test(retention, ties_across_the_cutoff_are_kept_and_named)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy("rules:\n  - name: r\n    keep_last: 2\n", NULL);
	int64_t dates[6] = {FX_NOW - 9 * FX_DAY, FX_NOW - 5 * FX_DAY, FX_NOW - 5 * FX_DAY,
			    FX_NOW - 5 * FX_DAY, FX_NOW - FX_DAY, RS_TIME_UNKNOWN};
	struct rs_manifest *m[6];
	struct rs_plan *plan;

	images(repo, "b", 6, dates, m);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "b5", RS_VERDICT_KEEP, "rule 'r': among newest 2");
	fx_assert_tag(plan, "app", "b2", RS_VERDICT_KEEP,
		      "rule 'r': tied with the 2nd newest (3 images have the same date)");
	fx_assert_tag(plan, "app", "b3", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "b4", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "b1", RS_VERDICT_DELETE, "rule 'r': beyond newest 2");
	fx_assert_tag(plan, "app", "b6", RS_VERDICT_KEEP, "rule 'r': date unknown, counted as newest");
	cr_assert_null(fx_plan_repo(plan, "app")->note, "the dates differ: nothing to say");
	rs_plan_free(plan);
	rs_policy_free(policy);

	/* a tie inside the newest N is no tie worth naming */
	policy = fx_policy("rules:\n  - name: r\n    keep_last: 4\n", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "b3", RS_VERDICT_KEEP, "rule 'r': among newest 4");
	fx_assert_tag(plan, "app", "b1", RS_VERDICT_DELETE, "rule 'r': beyond newest 4");
	free_all(plan, policy, inv);
}

Test(retention, no_note_when_the_dates_do_not_matter)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=5", NULL);
	int64_t dates[3] = {FX_NOW, FX_NOW, FX_NOW};
	struct rs_manifest *m[3];
	struct rs_plan *plan;

	images(repo, "t", 3, dates, m);
	plan = fx_plan(inv, policy);
	cr_assert_null(fx_plan_repo(plan, "app")->note, "5 of 3 keeps them all, whatever the dates");
	fx_assert_tag(plan, "app", "t1", RS_VERDICT_KEEP, "rule 'command line': among newest 5");
	free_all(plan, policy, inv);
}

/* ------------------------------------------------------------- order: pushed */

Test(retention, pushed_orders_by_the_tags_last_push)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "bp");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=2", "order=pushed",
					     "storage_root=/srv/registry", NULL);
	const int64_t t1980 = 315532801;
	int64_t dates[5] = {t1980, t1980, t1980, t1980, t1980};
	struct rs_manifest *m[5];
	struct rs_plan *plan;

	images(repo, "1.0.", 5, dates, m);
	/* pushed out of version order: 1.0.3 last, 1.0.5 before it */
	fx_pushed(repo, "1.0.1", FX_NOW - 9 * FX_DAY);
	fx_pushed(repo, "1.0.2", FX_NOW - 8 * FX_DAY);
	fx_pushed(repo, "1.0.4", FX_NOW - 7 * FX_DAY);
	fx_pushed(repo, "1.0.5", FX_NOW - 2 * FX_DAY);
	fx_pushed(repo, "1.0.3", FX_NOW - 1 * FX_DAY);
	inv->tag_times = 1;
	plan = fx_plan(inv, policy);
	cr_assert(plan->by_push_time);
	fx_assert_tag(plan, "bp", "1.0.3", RS_VERDICT_KEEP,
		      "rule 'command line': among newest 2 by push time");
	fx_assert_tag(plan, "bp", "1.0.5", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "bp", "1.0.4", RS_VERDICT_DELETE,
		      "rule 'command line': beyond newest 2 by push time");
	fx_assert_tag(plan, "bp", "1.0.1", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "bp", "1.0.2", RS_VERDICT_DELETE, NULL);
	cr_assert_eq(fx_plan_tag(plan, "bp", "1.0.3")->pushed_at, FX_NOW - FX_DAY,
		     "the plan shows the push time");
	cr_assert_null(fx_plan_repo(plan, "bp")->note, "push times tell the images apart");
	free_all(plan, policy, inv);
}

Test(retention, pushed_unknown_and_ties_and_age)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy("rules:\n  - name: p\n    order: pushed\n"
					     "    keep_last: 1\n    keep_newer_than: 3d\n",
					     "ssh=ops@registry", NULL);
	struct rs_manifest *shared = fx_image(repo, "shared", FX_NOW - 90 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "a", fx_image(repo, "a", FX_NOW));
	fx_tag(repo, "b", fx_image(repo, "b", FX_NOW));
	fx_tag(repo, "c", fx_image(repo, "c", FX_NOW));
	fx_tag(repo, "unlisted", fx_image(repo, "unlisted", FX_NOW - 90 * FX_DAY));
	fx_tag(repo, "old-name", shared);
	fx_tag(repo, "new-name", shared);
	fx_pushed(repo, "a", FX_NOW - 10 * FX_DAY);
	fx_pushed(repo, "b", FX_NOW - 10 * FX_DAY);
	fx_pushed(repo, "c", FX_NOW - 20 * FX_DAY);
	/* an image's push time is its latest tag push: a retag counts */
	fx_pushed(repo, "old-name", FX_NOW - 30 * FX_DAY);
	fx_pushed(repo, "new-name", FX_NOW - 2 * FX_DAY);
	inv->tag_times = 1;
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "old-name", RS_VERDICT_KEEP,
		      "rule 'p': among newest 1 by push time");
	fx_assert_tag(plan, "app", "a", RS_VERDICT_DELETE,
		      "rule 'p': beyond newest 1 by push time and pushed more than 3d ago");
	fx_assert_tag(plan, "app", "unlisted", RS_VERDICT_KEEP,
		      "rule 'p': push time unknown, counted as newest");
	rs_plan_free(plan);
	rs_policy_free(policy);

	policy = fx_policy("rules:\n  - name: p\n    order: pushed\n    keep_last: 2\n",
			   "ssh=ops@registry", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "a", RS_VERDICT_KEEP,
		      "rule 'p': tied with the 2nd newest by push time (2 images have the same "
		      "push time)");
	fx_assert_tag(plan, "app", "b", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "c", RS_VERDICT_DELETE, "rule 'p': beyond newest 2 by push time");
	rs_plan_free(plan);
	rs_policy_free(policy);

	policy = fx_policy("rules:\n  - name: p\n    order: pushed\n    keep_newer_than: 15d\n",
			   "ssh=ops@registry", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "a", RS_VERDICT_KEEP, "rule 'p': pushed less than 15d ago");
	fx_assert_tag(plan, "app", "c", RS_VERDICT_DELETE, "rule 'p': pushed more than 15d ago");
	free_all(plan, policy, inv);
}

Test(retention, pushed_without_tag_times_is_a_usage_error)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", "order=pushed",
					     "storage_root=/srv/registry", NULL);
	struct rs_plan *plan = (struct rs_plan *)1;

	fx_tag(repo, "a", fx_image(repo, "a", FX_NOW));
	cr_assert_eq(rs_plan_build(&plan, inv, policy, FX_NOW), RS_EUSAGE);
	cr_assert_null(plan);
	cr_assert_str_eq(rs_error_message(), "rule 'command line' orders by push time (order: "
			 "pushed), but the tags' push times were not read from the registry's "
			 "storage: add --storage-root DIR, or --ssh HOST with --storage-root DIR or "
			 "--registry-config FILE");
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* ------------------------------------------------------------ order: version */

Test(retention, version_orders_semantic_versions)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=2", "order=version", NULL);
	const char *tags[] = {"v1.2.9", "v1.2.10", "1.0.0-rc.1", "1.0.0", "1.1.0", "1.3.0-beta.2"};
	struct rs_plan *plan;

	for (size_t i = 0; i < 6; i++)
		fx_tag(repo, tags[i], fx_image(repo, tags[i], FX_NOW - (int64_t)i * FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "1.3.0-beta.2", RS_VERDICT_KEEP,
		      "rule 'command line': among newest 2 by version");
	fx_assert_tag(plan, "app", "v1.2.10", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "v1.2.9", RS_VERDICT_DELETE,
		      "rule 'command line': beyond newest 2 by version");
	fx_assert_tag(plan, "app", "1.1.0", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "app", "1.0.0", RS_VERDICT_DELETE, NULL);
	cr_assert_null(fx_plan_repo(plan, "app")->note);
	rs_plan_free(plan);
	rs_policy_free(policy);

	/* a pre-release comes before its release */
	policy = fx_policy(NULL, "keep_last=5", "order=version", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "1.0.0", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "1.0.0-rc.1", RS_VERDICT_DELETE, NULL);
	free_all(plan, policy, inv);
}

Test(retention, version_orders_digit_runs_by_value_and_keeps_names_without_one)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "ci");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", "order=version", NULL);
	struct rs_manifest *multi = fx_image(repo, "multi", FX_NOW - 50 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "build-9", fx_image(repo, "b9", FX_NOW));
	fx_tag(repo, "build-10", fx_image(repo, "b10", FX_NOW - 40 * FX_DAY));
	fx_tag(repo, "build-100", multi);
	fx_tag(repo, "stable", multi);    /* no digit: the image's version is build-100 */
	fx_tag(repo, "latest", fx_image(repo, "latest", FX_NOW - 60 * FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "ci", "build-100", RS_VERDICT_KEEP,
		      "rule 'command line': among newest 1 by version");
	fx_assert_tag(plan, "ci", "stable", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "ci", "build-10", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "ci", "build-9", RS_VERDICT_DELETE,
		      "rule 'command line': beyond newest 1 by version");
	fx_assert_tag(plan, "ci", "latest", RS_VERDICT_KEEP,
		      "rule 'command line': no version in the tag name, kept");
	free_all(plan, policy, inv);
}

Test(retention, version_with_mixed_numeric_and_semver_names)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "mix");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=2", "order=version", NULL);
	const char *tags[] = {"7", "10", "1.2.3", "20240101", "9.0.0"};
	struct rs_plan *plan;

	for (size_t i = 0; i < 5; i++)
		fx_tag(repo, tags[i], fx_image(repo, tags[i], FX_NOW));
	plan = fx_plan(inv, policy);
	/* the first number decides: 20240101 > 10 > 9.0.0 > 7 > 1.2.3 */
	fx_assert_tag(plan, "mix", "20240101", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "mix", "10", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "mix", "9.0.0", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "mix", "7", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "mix", "1.2.3", RS_VERDICT_DELETE, NULL);
	free_all(plan, policy, inv);
}

Test(retention, version_with_keep_newer_than_goes_by_date)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy("rules:\n  - name: v\n    order: version\n"
					     "    keep_last: 1\n    keep_newer_than: 7d\n", NULL);
	struct rs_plan *plan;

	cr_assert(rs_policy_needs_dates(policy));
	fx_tag(repo, "2.0.0", fx_image(repo, "2", FX_NOW - 30 * FX_DAY));
	fx_tag(repo, "1.9.0", fx_image(repo, "19", FX_NOW - FX_DAY));
	fx_tag(repo, "1.8.0", fx_image(repo, "18", RS_TIME_UNKNOWN));
	fx_tag(repo, "1.7.0", fx_image(repo, "17", FX_NOW - 30 * FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "2.0.0", RS_VERDICT_KEEP, "rule 'v': among newest 1 by version");
	fx_assert_tag(plan, "app", "1.9.0", RS_VERDICT_KEEP, "rule 'v': newer than 7d");
	fx_assert_tag(plan, "app", "1.8.0", RS_VERDICT_KEEP,
		      "rule 'v': date unknown, counted as newer than 7d");
	fx_assert_tag(plan, "app", "1.7.0", RS_VERDICT_DELETE,
		      "rule 'v': beyond newest 1 by version and older than 7d");
	free_all(plan, policy, inv);
}

/* ---------------------------------------------------------------- in use */

Test(retention, in_use_keeps_tags_and_digests_whatever_the_rules_say)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_repo *other = fx_repo(inv, "other");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	struct rs_manifest *old_tag = fx_image(repo, "old-tag", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *old_digest = fx_image(repo, "old-digest", FX_NOW - 80 * FX_DAY);
	struct rs_manifest *history = fx_image(repo, "history", FX_NOW - 70 * FX_DAY);
	struct rs_manifest *gone = fx_image(repo, "gone", FX_NOW - 60 * FX_DAY);
	struct rs_manifest *newest = fx_image(repo, "newest", FX_NOW);
	const struct rs_plan_in_use *u;
	char list[1024];
	struct rs_plan *plan;

	fx_tag(repo, "1.0", old_tag);
	fx_tag(repo, "1.1", old_digest);
	fx_tag(repo, "1.2", gone);
	fx_tag(repo, "2.0", newest);
	fx_stored(history, FX_NOW - 70 * FX_DAY);
	fx_tag(other, "1.0", fx_image(other, "o", FX_NOW - 90 * FX_DAY));
	fx_tag(other, "2.0", fx_image(other, "o2", FX_NOW));
	snprintf(list, sizeof(list),
		 "127.0.0.1:5000/app:1.0 docker-pullable://127.0.0.1:5000/app@%s\n"
		 "localhost:5000/app@%s\n"
		 "docker.io/library/app:1.2 ghcr.io/team/other:1.0 sha256:%s\n"
		 "127.0.0.1:5000/app:9.9 127.0.0.1:5000/nope:1\n",
		 old_digest->digest, history->digest, history->digest + 7);
	fx_in_use(policy, list);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "1.0", RS_VERDICT_KEEP, "in use");
	fx_assert_kept(plan, "app", old_tag, "kept tag '1.0'");
	/* by digest: the manifest stays, and so does the tag on it */
	fx_assert_kept(plan, "app", old_digest, "in use");
	fx_assert_tag(plan, "app", "1.1", RS_VERDICT_KEEP, "in use");
	fx_assert_kept(plan, "app", history, "in use");
	/* other registries are ignored */
	fx_assert_tag(plan, "app", "1.2", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "other", "1.0", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "app", "2.0", RS_VERDICT_KEEP, "rule 'command line': among newest 1");

	u = plan->in_use;
	cr_assert_not_null(u);
	cr_assert_eq(u->references, 7);
	cr_assert_eq(u->this_registry, 5);
	cr_assert_eq(u->other_registries, 2);
	cr_assert_eq(u->image_ids, 1);
	cr_assert_str_eq(u->other_hosts, "docker.io, ghcr.io");
	cr_assert_eq(u->nkept, 3);
	cr_assert_str_eq(u->kept[0].repository, "app");
	cr_assert_str_eq(u->kept[0].reference, "1.0");
	cr_assert_str_eq(u->kept[0].digest, old_tag->digest);
	cr_assert_str_eq(u->kept[0].source, "pods.txt:1");
	cr_assert_eq(u->nmissing, 2, "app:9.9 and nope:1 do not exist");
	cr_assert_str_eq(u->missing[0].reference, "9.9");
	cr_assert_str_eq(u->missing[0].source, "pods.txt:4");
	cr_assert_str_eq(u->missing[1].repository, "nope");
	cr_assert_str_eq(u->missing[1].digest, "");
	free_all(plan, policy, inv);
}

Test(retention, in_use_keeps_an_index_and_its_children)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *amd = fx_image(repo, "amd64", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *idx = fx_index(repo, "idx", "amd64", NULL);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	char list[256];
	struct rs_plan *plan;

	fx_tag(repo, "v1", idx);
	idx->created = FX_NOW - 90 * FX_DAY;
	snprintf(list, sizeof(list), "127.0.0.1:5000/multi@%s", idx->digest);
	fx_in_use(policy, list);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "multi", idx, "in use");
	fx_assert_kept(plan, "multi", amd, "child of kept index 'v1'");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	free_all(plan, policy, inv);
}

Test(retention, in_use_naming_no_repository_here_keeps_nothing_more)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "1.0", fx_image(repo, "a", FX_NOW));
	/* right repository and tag, wrong registry (port) */
	fx_in_use(policy, "127.0.0.1:5001/app:1.0 registry.example.com/app:1.0\n");
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "1.0", RS_VERDICT_DELETE, "rule 'command line': beyond newest 0");
	cr_assert_eq(plan->in_use->this_registry, 0);
	cr_assert_eq(plan->in_use->nkept, 0);
	cr_assert_eq(plan->in_use->nmissing, 0);
	free_all(plan, policy, inv);
}

/* ---------------------------------------------------------------- orphans */

Test(retention, signature_whose_subject_never_existed_goes_like_untagged_history)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *image = fx_image(repo, "image", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *sig = fx_image(repo, "orphan-sig", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	const char *tag = "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig";
	struct rs_plan *plan;

	fx_tag(repo, "v1", image);
	fx_tag(repo, tag, sig);
	fx_stored(sig, FX_NOW - 3 * FX_DAY);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "signed", sig, "subject gone (signature of missing "
			  "sha256:0123456789ab), stored 3d ago (grace 24h)");
	fx_assert_tag(plan, "signed", tag, RS_VERDICT_DELETE, NULL);
	fx_assert_kept(plan, "signed", image, "kept tag 'v1'");
	rs_plan_free(plan);
	rs_policy_free(policy);

	/* the same switch and grace as untagged history */
	policy = fx_policy(NULL, "untagged_grace=4d", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "signed", sig, "subject gone, younger than grace 4d");
	fx_assert_tag(plan, "signed", tag, RS_VERDICT_KEEP, "subject gone, younger than grace 4d");
	rs_plan_free(plan);
	rs_policy_free(policy);
	policy = fx_policy("untagged: keep\n", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "signed", sig, "subject gone (untagged: keep)");
	rs_plan_free(plan);
	rs_policy_free(policy);

	/* without the storage view its age is unknown: it stays */
	sig->flags &= ~(unsigned)RS_MF_FROM_STORAGE;
	sig->stored_at = RS_TIME_UNKNOWN;
	policy = fx_policy(NULL, NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "signed", sig, "subject gone, not listed by the storage");
	free_all(plan, policy, inv);
}

Test(retention, signature_whose_subject_is_deleted_in_the_same_run_goes_first)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *old = fx_image(repo, "old", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *cur = fx_image(repo, "cur", FX_NOW);
	struct rs_manifest *sig = fx_image(repo, "sig", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	size_t p_sig = 0, p_old = 0;
	struct rs_plan *plan;

	fx_tag(repo, "1.0", old);
	fx_tag(repo, "2.0", cur);
	fx_tag(repo, fx_cosign(old, ".sig"), sig);
	/* stored a minute ago: the grace does not hold a signature of a deleted image */
	fx_stored(sig, FX_NOW - 60);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "signed", old, NULL);
	fx_assert_deleted(plan, "signed", sig, expect("signature of deleted ", old, ""));
	fx_plan_manifest(plan, "signed", sig, &p_sig);
	fx_plan_manifest(plan, "signed", old, &p_old);
	cr_assert_lt(p_sig, p_old, "the signature goes before its subject");
	free_all(plan, policy, inv);
}

Test(retention, referrer_whose_subject_is_gone)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "refs");
	struct rs_manifest *image = fx_image(repo, "image", FX_NOW);
	struct rs_manifest *sbom = fx_image(repo, "sbom", RS_TIME_UNKNOWN);
	struct rs_manifest *young = fx_image(repo, "young-sbom", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	const char *missing = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	struct rs_plan *plan;

	fx_tag(repo, "v1", image);
	cr_assert_eq(rs_manifest_set_subject(sbom, missing), 0);
	cr_assert_eq(rs_manifest_set_subject(young, missing), 0);
	fx_stored(sbom, FX_NOW - 10 * FX_DAY);
	fx_stored(young, FX_NOW - 3600);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "refs", sbom, "subject gone (referrer of missing "
			  "sha256:fedcba987654), stored 10d ago (grace 24h)");
	fx_assert_kept(plan, "refs", young, "subject gone, younger than grace 24h");
	free_all(plan, policy, inv);
}

Test(retention, an_orphan_never_takes_what_something_kept_needs)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *image = fx_image(repo, "image", FX_NOW);
	struct rs_manifest *shared = fx_image(repo, "shared", RS_TIME_UNKNOWN);
	struct rs_manifest *child = fx_image(repo, "child", RS_TIME_UNKNOWN);
	struct rs_manifest *idx = fx_index(repo, "idx", "child", NULL);
	struct rs_manifest *in_use = fx_image(repo, "in-use", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	char tag[3][128], list[256];
	struct rs_plan *plan;

	for (int i = 0; i < 3; i++)
		snprintf(tag[i], sizeof(tag[i]), "sha256-%064d.sig", i + 1);
	fx_tag(repo, "v1", image);
	/* an orphaned signature's manifest that a kept tag also names */
	fx_tag(repo, tag[0], shared);
	fx_tag(repo, "keep-me", shared);
	/* one that a kept index names */
	fx_tag(repo, tag[1], child);
	fx_tag(repo, "multi", idx);
	/* one that is in use */
	fx_tag(repo, tag[2], in_use);
	snprintf(list, sizeof(list), "127.0.0.1:5000/signed:%s\n", tag[2]);
	fx_in_use(policy, list);
	fx_stored(shared, FX_NOW - 90 * FX_DAY);
	fx_stored(child, FX_NOW - 90 * FX_DAY);
	fx_stored(in_use, FX_NOW - 90 * FX_DAY);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "signed", shared, "kept tag 'keep-me'");
	fx_assert_kept(plan, "signed", child, "child of kept index 'multi'");
	fx_assert_kept(plan, "signed", in_use, NULL);
	fx_assert_tag(plan, "signed", tag[2], RS_VERDICT_KEEP, "in use");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	free_all(plan, policy, inv);
}

Test(retention, in_use_takes_its_place_in_the_ranking)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "new", fx_image(repo, "new", FX_NOW));
	fx_tag(repo, "old", fx_image(repo, "old", FX_NOW - 9 * FX_DAY));
	fx_in_use(policy, "127.0.0.1:5000/app:new\n");
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "new", RS_VERDICT_KEEP, "in use");
	/* the list never changes what the rules decide for the other tags */
	fx_assert_tag(plan, "app", "old", RS_VERDICT_DELETE, "rule 'command line': beyond newest 1");
	free_all(plan, policy, inv);
}

Test(retention, a_signature_store_keeps_its_signatures)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signatures");
	struct rs_manifest *sig = fx_image(repo, "sig", RS_TIME_UNKNOWN);
	struct rs_manifest *old_sig = fx_image(repo, "old-sig", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	const char *tag = "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig";
	struct rs_plan *plan;

	/* COSIGN_REPOSITORY: every tag a signature of an image kept elsewhere; an
	 * older signature a re-signing left untagged is no image of its own */
	fx_tag(repo, tag, sig);
	fx_stored(sig, FX_NOW - 90 * FX_DAY);
	fx_stored(old_sig, FX_NOW - 90 * FX_DAY);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "signatures", sig, NULL);
	fx_assert_tag(plan, "signatures", tag, RS_VERDICT_KEEP, NULL);
	fx_assert_deleted(plan, "signatures", old_sig, "untagged, stored 90d ago (grace 24h)");
	free_all(plan, policy, inv);
}
