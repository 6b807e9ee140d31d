/* test_plan.c: the planner's decisions, one case of the reference graph at
 * a time. */
#include "plan_fixture.h"

#include "base/error.h"

static char *short_of(const struct rs_manifest *m)
{
	static char out[RS_DIGEST_MAX];

	return rs_digest_short(out, m->digest);
}

/* `prefix` followed by the short digest of `m`. */
static char *expect(const char *prefix, const struct rs_manifest *m)
{
	static char out[256];

	snprintf(out, sizeof(out), "%s%s", prefix, short_of(m));
	return out;
}

Test(plan, no_rules_keep_every_tag)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_manifest *a = fx_image(repo, "a", FX_NOW - 400 * FX_DAY);
	struct rs_manifest *b = fx_image(repo, "b", FX_NOW);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan;

	fx_tag(repo, "old", a);
	fx_tag(repo, "new", b);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "old", RS_VERDICT_KEEP, "no rule claims it");
	fx_assert_tag(plan, "app", "new", RS_VERDICT_KEEP, "no rule claims it");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	cr_assert_eq(plan->totals.tags, 2);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, keep_last_counts_newest_images)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy("rules:\n  - name: ci-builds\n    keep_last: 2\n", NULL);
	struct rs_manifest *m[5];
	struct rs_plan *plan;
	char seed[16], tag[16];

	for (int i = 0; i < 5; i++) {
		snprintf(seed, sizeof(seed), "img%d", i);
		snprintf(tag, sizeof(tag), "b%d", i);
		m[i] = fx_image(repo, seed, FX_NOW - (5 - i) * FX_DAY);
		fx_tag(repo, tag, m[i]);
	}
	plan = fx_plan(inv, policy);
	for (int i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "b%d", i);
		fx_assert_tag(plan, "app", tag, RS_VERDICT_DELETE, "rule 'ci-builds': beyond newest 2");
	}
	fx_assert_tag(plan, "app", "b3", RS_VERDICT_KEEP, "rule 'ci-builds': among newest 2");
	fx_assert_tag(plan, "app", "b4", RS_VERDICT_KEEP, "rule 'ci-builds': among newest 2");
	fx_assert_deleted(plan, "app", m[0], "rule 'ci-builds': beyond newest 2");
	fx_assert_kept(plan, "app", m[4], "kept tag 'b4'");
	cr_assert_eq(plan->totals.tags_deleted, 3);
	cr_assert_eq(plan->totals.manifests_deleted, 3);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, keep_last_sorts_by_date_not_name)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	struct rs_plan *plan;

	/* "v9" sorts after "v10" by name, but v10 is newer */
	fx_tag(repo, "v10", fx_image(repo, "ten", FX_NOW - FX_DAY));
	fx_tag(repo, "v9", fx_image(repo, "nine", FX_NOW - 2 * FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "v10", RS_VERDICT_KEEP, "rule 'command line': among newest 1");
	fx_assert_tag(plan, "app", "v9", RS_VERDICT_DELETE, "rule 'command line': beyond newest 1");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, unknown_and_epoch_dates_are_kept)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	struct rs_manifest *unknown = fx_image(repo, "unknown", RS_TIME_UNKNOWN);
	struct rs_plan *plan;

	fx_tag(repo, "jib", unknown);
	fx_tag(repo, "new", fx_image(repo, "new", FX_NOW - FX_DAY));
	fx_tag(repo, "old", fx_image(repo, "old", FX_NOW - 9 * FX_DAY));
	plan = fx_plan(inv, policy);
	/* an unknown date counts as newest: kept, and it takes no slot from dated images */
	fx_assert_tag(plan, "app", "jib", RS_VERDICT_KEEP,
		      "rule 'command line': date unknown, counted as newest");
	fx_assert_tag(plan, "app", "new", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "old", RS_VERDICT_DELETE, NULL);
	fx_assert_kept(plan, "app", unknown, NULL);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, keep_newer_than_and_keep_last_either_keeps)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(
		"rules:\n  - name: r\n    keep_last: 1\n    keep_newer_than: 10d\n", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "a", fx_image(repo, "a", FX_NOW - 1 * FX_DAY));
	fx_tag(repo, "b", fx_image(repo, "b", FX_NOW - 5 * FX_DAY));
	fx_tag(repo, "c", fx_image(repo, "c", FX_NOW - 20 * FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "a", RS_VERDICT_KEEP, "rule 'r': among newest 1");
	fx_assert_tag(plan, "app", "b", RS_VERDICT_KEEP, "rule 'r': newer than 10d");
	fx_assert_tag(plan, "app", "c", RS_VERDICT_DELETE,
		      "rule 'r': beyond newest 1 and older than 10d");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, keep_newer_than_alone)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_newer_than=30d", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "young", fx_image(repo, "young", FX_NOW - 29 * FX_DAY));
	fx_tag(repo, "aged", fx_image(repo, "aged", FX_NOW - 31 * FX_DAY));
	fx_tag(repo, "future", fx_image(repo, "future", FX_NOW + FX_DAY));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "young", RS_VERDICT_KEEP, "rule 'command line': newer than 30d");
	fx_assert_tag(plan, "app", "future", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", "aged", RS_VERDICT_DELETE, "rule 'command line': older than 30d");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, first_matching_rule_claims_and_unclaimed_stay)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *app = fx_repo(inv, "team/app");
	struct rs_repo *other = fx_repo(inv, "other");
	struct rs_policy *policy = fx_policy(
		"rules:\n"
		"  - name: releases\n    repos: team/*\n    tags: [v*]\n    keep: all\n"
		"  - name: junk\n    repos: team/*\n    tags: 'regex:(pr|tmp)-[0-9]+'\n    keep: none\n"
		"  - name: everything\n    tags: v1\n    keep: none\n", NULL);
	struct rs_plan *plan;

	fx_tag(app, "v1", fx_image(app, "v1", FX_NOW));
	fx_tag(app, "pr-12", fx_image(app, "pr", FX_NOW));
	fx_tag(app, "pr-x", fx_image(app, "prx", FX_NOW));
	fx_tag(other, "v1", fx_image(other, "ov1", FX_NOW));
	fx_tag(other, "pr-12", fx_image(other, "opr", FX_NOW));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "team/app", "v1", RS_VERDICT_KEEP, "rule 'releases': keep all");
	fx_assert_tag(plan, "team/app", "pr-12", RS_VERDICT_DELETE, "rule 'junk': keep none");
	fx_assert_tag(plan, "team/app", "pr-x", RS_VERDICT_KEEP, "no rule claims it");
	fx_assert_tag(plan, "other", "v1", RS_VERDICT_DELETE, "rule 'everything': keep none");
	fx_assert_tag(plan, "other", "pr-12", RS_VERDICT_KEEP, "no rule claims it");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, keep_tags_always_kept)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(
		"keep_tags: [stable]\nrules:\n  - name: wipe\n    keep: none\n    keep_tags: 'release-*'\n",
		NULL);
	struct rs_plan *plan;

	fx_tag(repo, "stable", fx_image(repo, "s", FX_NOW - 100 * FX_DAY));
	fx_tag(repo, "release-1", fx_image(repo, "r", FX_NOW - 100 * FX_DAY));
	fx_tag(repo, "nightly", fx_image(repo, "n", FX_NOW));
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "stable", RS_VERDICT_KEEP, "always kept (keep_tags 'stable')");
	fx_assert_tag(plan, "app", "release-1", RS_VERDICT_KEEP,
		      "always kept (keep_tags 'release-*')");
	fx_assert_tag(plan, "app", "nightly", RS_VERDICT_DELETE, "rule 'wipe': keep none");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* untag: false keeps what one DELETE of the digest would take */
Test(plan, dropped_tag_sharing_a_kept_digest_stays)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "tags=build-*", "keep_last=0", "untag=false",
					     NULL);
	struct rs_manifest *m = fx_image(repo, "shared", FX_NOW - 50 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "latest", m);
	fx_tag(repo, "build-7", m);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "latest", RS_VERDICT_KEEP, "no rule claims it");
	fx_assert_tag(plan, "app", "build-7", RS_VERDICT_KEEP,
		      "shares digest with kept tag 'latest'");
	fx_assert_kept(plan, "app", m, "kept tag 'latest'");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	cr_assert_eq(plan->totals.tags_deleted, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, deleted_digest_lists_all_its_tags)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "tags=*", "keep_last=1", NULL);
	struct rs_manifest *old = fx_image(repo, "old", FX_NOW - 50 * FX_DAY);
	const struct rs_plan_manifest *pm;
	struct rs_plan *plan;

	fx_tag(repo, "a", old);
	fx_tag(repo, "b", old);
	fx_tag(repo, "c", fx_image(repo, "new", FX_NOW));
	plan = fx_plan(inv, policy);
	pm = fx_plan_manifest(plan, "app", old, NULL);
	cr_assert_eq(pm->verdict, RS_VERDICT_DELETE);
	cr_assert_eq(pm->ntags, 2);
	cr_assert_str_eq(pm->tags[0], "a");
	cr_assert_str_eq(pm->tags[1], "b");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, children_of_kept_index_are_kept)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *amd = fx_image(repo, "amd64", FX_NOW);
	struct rs_manifest *arm = fx_image(repo, "arm64", FX_NOW);
	struct rs_manifest *idx = fx_index(repo, "idx", "amd64", "arm64", NULL);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=5", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "v2", idx);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "multi", idx, "kept tag 'v2'");
	fx_assert_kept(plan, "multi", amd, "child of kept index 'v2'");
	fx_assert_kept(plan, "multi", arm, "child of kept index 'v2'");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, children_of_deleted_index_go_after_it_unless_kept_elsewhere)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *old_amd = fx_image(repo, "old-amd64", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *shared = fx_image(repo, "arm64", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *new_amd = fx_image(repo, "new-amd64", FX_NOW);
	struct rs_manifest *old = fx_index(repo, "old", "old-amd64", "arm64", NULL);
	struct rs_manifest *cur = fx_index(repo, "cur", "new-amd64", "arm64", NULL);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	size_t pos_index = 99, pos_child = 99;
	struct rs_plan *plan;

	fx_tag(repo, "v1", old);
	fx_tag(repo, "v2", cur);
	/* the indexes' dates come from their children */
	old->created = FX_NOW - 90 * FX_DAY;
	cur->created = FX_NOW;
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "multi", old, "rule 'command line': beyond newest 1");
	fx_assert_deleted(plan, "multi", old_amd, "child of deleted index 'v1'");
	fx_assert_kept(plan, "multi", shared, "child of kept index 'v2'");
	fx_assert_kept(plan, "multi", new_amd, "child of kept index 'v2'");
	fx_plan_manifest(plan, "multi", old, &pos_index);
	fx_plan_manifest(plan, "multi", old_amd, &pos_child);
	cr_assert_lt(pos_index, pos_child, "parents are deleted before children");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, dropped_tag_on_a_child_of_a_kept_index_stays)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *amd = fx_image(repo, "amd64", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *idx = fx_index(repo, "idx", "amd64", NULL);
	struct rs_policy *policy = fx_policy(NULL, "tags=amd64-*", "keep_last=0", "untag=false",
					     NULL);
	struct rs_plan *plan;

	fx_tag(repo, "v2", idx);
	fx_tag(repo, "amd64-only", amd);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "multi", "amd64-only", RS_VERDICT_KEEP, "child of kept index 'v2'");
	fx_assert_kept(plan, "multi", amd, "child of kept index 'v2'");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* untag (the default): the dropped tag goes alone, its image stays */
Test(plan, dropped_tag_sharing_a_kept_digest_is_untagged)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "tags=pr-*", "keep_last=0", NULL);
	struct rs_manifest *shared = fx_image(repo, "shared", FX_NOW - 50 * FX_DAY);
	struct rs_manifest *alone = fx_image(repo, "alone", FX_NOW - 40 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "release-1.0", shared);
	fx_tag(repo, "pr-17", shared);
	fx_tag(repo, "pr-18", alone);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "release-1.0", RS_VERDICT_KEEP, "no rule claims it");
	fx_assert_tag(plan, "app", "pr-17", RS_VERDICT_UNTAG,
		      "rule 'command line': beyond newest 0; its image stays (kept tag "
		      "'release-1.0'): the tag goes alone");
	cr_assert_null(fx_plan_tag(plan, "app", "pr-17")->blocked, "the planner blocks nothing");
	fx_assert_tag(plan, "app", "pr-18", RS_VERDICT_DELETE, "rule 'command line': beyond newest 0");
	fx_assert_kept(plan, "app", shared, "kept tag 'release-1.0'");
	fx_assert_deleted(plan, "app", alone, NULL);
	cr_assert_eq(plan->totals.tags_untagged, 1);
	cr_assert_eq(plan->totals.untags_blocked, 0);
	cr_assert_eq(plan->totals.tags_deleted, 1);
	cr_assert_eq(plan->totals.manifests_deleted, 1);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, dropped_tag_on_a_child_of_a_kept_index_is_untagged)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *amd = fx_image(repo, "amd64", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *idx = fx_index(repo, "idx", "amd64", NULL);
	struct rs_policy *policy = fx_policy(NULL, "tags=amd64-*", "keep_last=0", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "v2", idx);
	fx_tag(repo, "amd64-only", amd);
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "multi", "amd64-only", RS_VERDICT_UNTAG,
		      "rule 'command line': beyond newest 0; its image stays (child of kept index "
		      "'v2'): the tag goes alone");
	fx_assert_kept(plan, "multi", amd, "child of kept index 'v2'");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* Tags that go with their digest, signatures that follow their subject and
 * everything in a repository read incompletely are never untagged. */
Test(plan, untag_only_where_a_dropped_tag_shares_a_kept_digest)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_repo *bad = fx_repo(inv, "bad");
	struct rs_policy *policy = fx_policy(NULL, "tags=*", "keep_last=1", NULL);
	struct rs_manifest *old = fx_image(repo, "old", FX_NOW - 50 * FX_DAY);
	struct rs_manifest *now = fx_image(repo, "now", FX_NOW);
	struct rs_manifest *sig = fx_image(repo, "sig", FX_NOW);
	struct rs_manifest *b1 = fx_image(bad, "b-old", FX_NOW - 50 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "a", old);
	fx_tag(repo, "b", old);
	fx_tag(repo, "c", now);
	fx_tag(repo, fx_cosign(now, ".sig"), sig);
	fx_tag(bad, "x", b1);
	fx_tag(bad, "y", b1);
	fx_tag(bad, "z", fx_image(bad, "b-new", FX_NOW));
	bad->failed = 1;
	plan = fx_plan(inv, policy);
	fx_assert_tag(plan, "app", "a", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "app", "b", RS_VERDICT_DELETE, NULL);
	fx_assert_tag(plan, "app", "c", RS_VERDICT_KEEP, NULL);
	fx_assert_tag(plan, "app", fx_cosign(now, ".sig"), RS_VERDICT_KEEP, NULL);
	fx_assert_deleted(plan, "app", old, NULL);
	fx_assert_tag(plan, "bad", "x", RS_VERDICT_KEEP, "repository could not be read completely");
	fx_assert_tag(plan, "bad", "y", RS_VERDICT_KEEP, "repository could not be read completely");
	cr_assert_eq(plan->totals.tags_untagged, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

/* A repository that could not be read says what failed. */
Test(plan, incomplete_repository_names_its_failure)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "old");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "v1", fx_image(repo, "v1", FX_NOW - 50 * FX_DAY));
	rs_repo_set_failed(repo, "reading manifest 'old:v1': schema 1");
	rs_repo_set_failed(repo, "a later failure");
	plan = fx_plan(inv, policy);
	cr_assert_eq(fx_plan_repo(plan, "old")->complete, 0);
	cr_assert_str_eq(fx_plan_repo(plan, "old")->failure, "reading manifest 'old:v1': schema 1");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, nested_index_children_are_followed)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "nest");
	struct rs_manifest *leaf = fx_image(repo, "leaf", FX_NOW);
	struct rs_manifest *inner = fx_index(repo, "inner", "leaf", NULL);
	struct rs_manifest *outer = fx_index(repo, "outer", "inner", NULL);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	size_t p_outer = 0, p_inner = 0, p_leaf = 0;
	struct rs_plan *plan;

	fx_tag(repo, "top", outer);
	leaf->created = inner->created = outer->created = FX_NOW - 90 * FX_DAY;
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "nest", outer, NULL);
	fx_assert_deleted(plan, "nest", inner, "child of deleted index 'top'");
	fx_assert_deleted(plan, "nest", leaf, expect("child of deleted index ", inner));
	fx_plan_manifest(plan, "nest", outer, &p_outer);
	fx_plan_manifest(plan, "nest", inner, &p_inner);
	fx_plan_manifest(plan, "nest", leaf, &p_leaf);
	cr_assert_lt(p_outer, p_inner);
	cr_assert_lt(p_inner, p_leaf);
	rs_plan_free(plan);
	rs_policy_free(policy);

	policy = fx_policy(NULL, NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "nest", leaf, expect("child of kept index ", inner));
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, cosign_tags_follow_their_subject)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *kept = fx_image(repo, "kept", FX_NOW);
	struct rs_manifest *gone = fx_image(repo, "gone", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *sig_kept = fx_image(repo, "sig-kept", RS_TIME_UNKNOWN);
	struct rs_manifest *att_kept = fx_image(repo, "att-kept", RS_TIME_UNKNOWN);
	struct rs_manifest *sig_gone = fx_image(repo, "sig-gone", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	size_t p_sig = 0, p_subject = 0;
	char name[128];
	struct rs_plan *plan;

	fx_tag(repo, "new", kept);
	fx_tag(repo, "old", gone);
	fx_tag(repo, fx_cosign(kept, ".sig"), sig_kept);
	fx_tag(repo, fx_cosign(kept, ".att"), att_kept);
	fx_tag(repo, fx_cosign(gone, ".sig"), sig_gone);
	plan = fx_plan(inv, policy);
	/* signatures have unknown dates, yet are not ranked: they follow the image */
	fx_assert_kept(plan, "signed", sig_kept, expect("signature of kept ", kept));
	fx_assert_kept(plan, "signed", att_kept, expect("attestation of kept ", kept));
	fx_assert_deleted(plan, "signed", gone, "rule 'command line': beyond newest 1");
	fx_assert_deleted(plan, "signed", sig_gone, expect("signature of deleted ", gone));
	snprintf(name, sizeof(name), "%s", fx_cosign(kept, ".sig"));
	fx_assert_tag(plan, "signed", name, RS_VERDICT_KEEP, expect("signature of kept ", kept));
	snprintf(name, sizeof(name), "%s", fx_cosign(gone, ".sig"));
	fx_assert_tag(plan, "signed", name, RS_VERDICT_DELETE, expect("signature of deleted ", gone));
	fx_plan_manifest(plan, "signed", sig_gone, &p_sig);
	fx_plan_manifest(plan, "signed", gone, &p_subject);
	cr_assert_lt(p_sig, p_subject, "a signature goes before what it signs");
	cr_assert_str_eq(fx_plan_manifest(plan, "signed", sig_gone, NULL)->subject, gone->digest);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, cosign_tag_of_deleted_untagged_history_goes_with_it)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *history = fx_image(repo, "history", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *sig = fx_image(repo, "sig", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan;

	fx_stored(history, FX_NOW - 90 * FX_DAY);
	fx_tag(repo, fx_cosign(history, ".sig"), sig);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "signed", history, "untagged, stored 90d ago (grace 24h)");
	fx_assert_deleted(plan, "signed", sig, expect("signature of deleted ", history));
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, cosign_tag_without_its_subject_is_kept)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "signed");
	struct rs_manifest *sig = fx_image(repo, "sig", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	const char *tag = "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig";
	struct rs_plan *plan;

	fx_tag(repo, tag, sig);
	plan = fx_plan(inv, policy);
	/* nothing but signatures here: maybe a signature store (COSIGN_REPOSITORY) */
	fx_assert_tag(plan, "signed", tag, RS_VERDICT_KEEP,
		      "signature of sha256:0123456789ab, which this repository does not list: a "
		      "repository whose tags are all signatures may be a signature store "
		      "(COSIGN_REPOSITORY) whose images live elsewhere");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, oci_referrers_follow_their_subject)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "refs");
	struct rs_manifest *kept = fx_image(repo, "kept", FX_NOW);
	struct rs_manifest *gone = fx_image(repo, "gone", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *sbom_kept = fx_image(repo, "sbom-kept", RS_TIME_UNKNOWN);
	struct rs_manifest *sbom_gone = fx_image(repo, "sbom-gone", RS_TIME_UNKNOWN);
	struct rs_manifest *sig_of_sbom = fx_image(repo, "sig-of-sbom", RS_TIME_UNKNOWN);
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	size_t p_ref = 0, p_subject = 0, p_refref = 0;
	struct rs_plan *plan;

	cr_assert_eq(rs_manifest_set_subject(sbom_kept, kept->digest), 0);
	cr_assert_eq(rs_manifest_set_subject(sbom_gone, gone->digest), 0);
	cr_assert_eq(rs_manifest_set_subject(sig_of_sbom, sbom_gone->digest), 0);
	/* referrers pushed by digest are untagged: the storage lists them */
	fx_stored(sbom_kept, FX_NOW - 90 * FX_DAY);
	fx_stored(sbom_gone, FX_NOW - 90 * FX_DAY);
	fx_stored(sig_of_sbom, FX_NOW - 90 * FX_DAY);
	fx_tag(repo, "new", kept);
	fx_tag(repo, "old", gone);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "refs", sbom_kept, expect("referrer of kept ", kept));
	fx_assert_deleted(plan, "refs", sbom_gone, expect("referrer of deleted ", gone));
	fx_assert_deleted(plan, "refs", sig_of_sbom, expect("referrer of deleted ", sbom_gone));
	fx_plan_manifest(plan, "refs", sbom_gone, &p_ref);
	fx_plan_manifest(plan, "refs", gone, &p_subject);
	fx_plan_manifest(plan, "refs", sig_of_sbom, &p_refref);
	cr_assert_lt(p_ref, p_subject);
	cr_assert_lt(p_refref, p_ref);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, untagged_history_follows_untagged_and_grace)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_manifest *old = fx_image(repo, "old", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *young = fx_image(repo, "young", FX_NOW);
	struct rs_manifest *undated = fx_image(repo, "undated", FX_NOW);
	struct rs_manifest *unlisted = fx_image(repo, "unlisted", FX_NOW - 90 * FX_DAY);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan;

	fx_stored(old, FX_NOW - 3 * FX_DAY);
	fx_stored(young, FX_NOW - 3600);
	fx_stored(undated, RS_TIME_UNKNOWN);
	fx_tag(repo, "latest", fx_image(repo, "latest", FX_NOW));
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "app", old, "untagged, stored 3d ago (grace 24h)");
	fx_assert_kept(plan, "app", young, "untagged, younger than grace 24h");
	fx_assert_kept(plan, "app", undated, "untagged, storage time unknown");
	fx_assert_kept(plan, "app", unlisted, "untagged, not listed by the storage");
	cr_assert_eq(plan->totals.untagged_deleted, 1);
	rs_plan_free(plan);
	rs_policy_free(policy);

	policy = fx_policy(NULL, "untagged_grace=4d", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "app", old, "untagged, younger than grace 4d");
	rs_plan_free(plan);
	rs_policy_free(policy);

	policy = fx_policy("untagged: keep\n", NULL);
	plan = fx_plan(inv, policy);
	fx_assert_kept(plan, "app", old, "untagged (untagged: keep)");
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, untagged_index_history_takes_its_children)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *child = fx_image(repo, "child", FX_NOW - 90 * FX_DAY);
	struct rs_manifest *idx = fx_index(repo, "idx", "child", NULL);
	struct rs_manifest *young_child = fx_image(repo, "young-child", FX_NOW);
	struct rs_manifest *young_idx = fx_index(repo, "young-idx", "young-child", NULL);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan;

	fx_stored(idx, FX_NOW - 90 * FX_DAY);
	fx_stored(child, FX_NOW - 90 * FX_DAY);
	fx_stored(young_idx, FX_NOW - 60);
	fx_stored(young_child, FX_NOW - 3 * FX_DAY);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "multi", idx, "untagged, stored 90d ago (grace 24h)");
	fx_assert_deleted(plan, "multi", child, expect("child of deleted index ", idx));
	fx_assert_kept(plan, "multi", young_idx, "untagged, younger than grace 24h");
	fx_assert_kept(plan, "multi", young_child, expect("child of kept index ", young_idx));
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, young_child_of_a_deleted_index_is_kept)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "multi");
	struct rs_manifest *child = fx_image(repo, "child", FX_NOW);
	struct rs_manifest *idx = fx_index(repo, "idx", "child", NULL);
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan;

	/* a push in progress may be reusing the child right now */
	fx_stored(idx, FX_NOW - 90 * FX_DAY);
	fx_stored(child, FX_NOW - 600);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "multi", idx, NULL);
	fx_assert_kept(plan, "multi", child, "untagged, younger than grace 24h");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, failed_repository_deletes_nothing)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *bad = fx_repo(inv, "bad");
	struct rs_repo *good = fx_repo(inv, "good");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	struct rs_manifest *old;
	const struct rs_plan_repo *pr;
	struct rs_plan *plan;

	old = fx_image(bad, "old", FX_NOW - 90 * FX_DAY);
	fx_stored(old, FX_NOW - 90 * FX_DAY);
	fx_tag(bad, "x", fx_image(bad, "x", FX_NOW - 90 * FX_DAY));
	fx_tag(bad, "unresolved", NULL);
	bad->failed = 1;
	fx_tag(good, "x", fx_image(good, "gx", FX_NOW - 90 * FX_DAY));
	plan = fx_plan(inv, policy);
	pr = fx_plan_repo(plan, "bad");
	cr_assert_eq(pr->complete, 0);
	cr_assert_eq(pr->ndeletions, 0);
	cr_assert_not_null(pr->note);
	fx_assert_tag(plan, "bad", "x", RS_VERDICT_KEEP, "repository could not be read completely");
	fx_assert_tag(plan, "bad", "unresolved", RS_VERDICT_KEEP,
		      "repository could not be read completely");
	fx_assert_kept(plan, "bad", old, "repository could not be read completely");
	fx_assert_tag(plan, "good", "x", RS_VERDICT_DELETE, NULL);
	cr_assert_eq(plan->totals.incomplete, 1);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, failed_manifest_read_deletes_nothing_in_its_repository)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=0", NULL);
	struct rs_manifest *m = fx_image(repo, "m", FX_NOW - 90 * FX_DAY);
	struct rs_plan *plan;

	fx_tag(repo, "x", m);
	m->flags |= RS_MF_FETCH_FAILED;
	plan = fx_plan(inv, policy);
	cr_assert_eq(plan->totals.manifests_deleted, 0);
	fx_assert_tag(plan, "app", "x", RS_VERDICT_KEEP, "repository could not be read completely");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, same_digest_in_two_repositories_is_decided_per_repository)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *a = fx_repo(inv, "a");
	struct rs_repo *b = fx_repo(inv, "b");
	struct rs_policy *policy = fx_policy("rules:\n  - repos: a\n    keep: none\n", NULL);
	struct rs_manifest *ma = fx_image(a, "same", FX_NOW);
	struct rs_manifest *mb = fx_image(b, "same", FX_NOW);
	struct rs_plan *plan;

	fx_tag(a, "v1", ma);
	fx_tag(b, "v1", mb);
	plan = fx_plan(inv, policy);
	fx_assert_deleted(plan, "a", ma, "rule 'rule 1': keep none");
	fx_assert_kept(plan, "b", mb, "kept tag 'v1'");
	/* the blobs stay in use by b: nothing to reclaim */
	cr_assert_eq(plan->totals.reclaimable_bytes, 0);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, reclaimable_bytes_count_blobs_only_deleted_manifests_use)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_repo *repo = fx_repo(inv, "app");
	struct rs_policy *policy = fx_policy(NULL, "keep_last=1", NULL);
	struct rs_plan *plan;

	fx_tag(repo, "new", fx_image_layer(repo, "new", "base", FX_NOW));
	fx_tag(repo, "old", fx_image_layer(repo, "old", "base", FX_NOW - FX_DAY));
	plan = fx_plan(inv, policy);
	/* old's config (100) goes; the shared layer stays */
	cr_assert_eq(plan->totals.reclaimable_bytes, 100);
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}

Test(plan, empty_inventory)
{
	struct rs_inventory *inv = fx_inventory();
	struct rs_policy *policy = fx_policy(NULL, NULL);
	struct rs_plan *plan = fx_plan(inv, policy);

	cr_assert_eq(plan->nrepos, 0);
	cr_assert_eq(plan->totals.manifests, 0);
	cr_assert_str_eq(plan->policy, "no rules (every tag kept); untagged: delete after 24h");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_inventory_free(inv);
}
