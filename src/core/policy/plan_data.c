/* plan_data.c: the plan's lifecycle and bookkeeping: creating, counting and
 * freeing plans, shared by the planner and the plan file reader. */
#include "policy/plan.h"
#include "base/error.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rs_digest_short(char *out, const char *digest)
{
	const char *colon = strchr(digest, ':');

	if (!colon) {
		rs_strlcpy(out, digest, RS_DIGEST_MAX);
		return out;
	}
	snprintf(out, RS_DIGEST_MAX, "%.*s:%.12s", (int)(colon - digest), digest, colon + 1);
	return out;
}

int rs_plan_new(struct rs_plan **out, const char *registry)
{
	struct rs_plan *plan = calloc(1, sizeof(*plan));

	*out = NULL;
	if (!plan || !(plan->registry = strdup(registry ? registry : ""))) {
		free(plan);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	plan->totals.reclaimable_bytes = -1;
	*out = plan;
	return 0;
}

void rs_plan_count(struct rs_plan *plan)
{
	struct rs_plan_totals *t = &plan->totals;
	int64_t reclaimable = t->reclaimable_bytes;

	memset(t, 0, sizeof(*t));
	t->reclaimable_bytes = reclaimable;
	t->repositories = plan->nrepos;
	for (size_t r = 0; r < plan->nrepos; r++) {
		const struct rs_plan_repo *pr = &plan->repos[r];

		t->incomplete += !pr->complete;
		t->tags += pr->ntags;
		for (size_t i = 0; i < pr->ntags; i++) {
			t->tags_deleted += pr->tags[i].verdict == RS_VERDICT_DELETE;
			t->tags_untagged += pr->tags[i].verdict == RS_VERDICT_UNTAG;
			t->untags_blocked += pr->tags[i].verdict == RS_VERDICT_UNTAG &&
					     pr->tags[i].blocked;
		}
		t->manifests += pr->ndeletions + pr->nkept;
		t->manifests_deleted += pr->ndeletions;
		for (size_t i = 0; i < pr->ndeletions; i++)
			t->untagged_deleted += pr->deletions[i].ntags == 0;
	}
}

static void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void rs_plan_manifest_release(struct rs_plan_manifest *m)
{
	rs_media_type_free(m->media_type);
	free(m->reason);
	strv_free_n(m->tags, m->ntags);
	strv_free_n(m->children, m->nchildren);
	memset(m, 0, sizeof(*m));
}

void rs_plan_tag_release(struct rs_plan_tag *t)
{
	free(t->name);
	free(t->reason);
	free(t->blocked);
	memset(t, 0, sizeof(*t));
}

void rs_plan_repo_release(struct rs_plan_repo *r)
{
	free(r->name);
	free(r->note);
	free(r->failure);
	for (size_t i = 0; i < r->ntags; i++)
		rs_plan_tag_release(&r->tags[i]);
	free(r->tags);
	for (size_t i = 0; i < r->ndeletions; i++)
		rs_plan_manifest_release(&r->deletions[i]);
	free(r->deletions);
	for (size_t i = 0; i < r->nkept; i++)
		rs_plan_manifest_release(&r->kept[i]);
	free(r->kept);
	memset(r, 0, sizeof(*r));
}

void rs_plan_free(struct rs_plan *plan)
{
	if (!plan)
		return;
	for (size_t r = 0; r < plan->nrepos; r++)
		rs_plan_repo_release(&plan->repos[r]);
	free(plan->repos);
	free(plan->registry);
	free(plan->policy);
	free(plan);
}
