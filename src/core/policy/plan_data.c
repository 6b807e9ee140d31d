/* plan_data.c: the plan's lifecycle and bookkeeping: creating, counting and
 * freeing plans, shared by the planner and the plan file reader. */
#include "policy/plan.h"
#include "base/buf.h"
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

static int in_use_ref_add(struct rs_plan_in_use_ref **list, size_t *count,
			  const struct rs_image_ref *ref, const char *digest)
{
	struct rs_plan_in_use_ref *grown = realloc(*list, (*count + 1) * sizeof(*grown));
	struct rs_plan_in_use_ref *e;
	char source[1100];

	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	*list = grown;
	e = &grown[*count];
	memset(e, 0, sizeof(*e));
	snprintf(source, sizeof(source), "%s:%d", ref->source ? ref->source : "", ref->line);
	rs_strlcpy(e->digest, digest ? digest : "", sizeof(e->digest));
	e->repository = strdup(ref->repo);
	e->reference = strdup(ref->tag ? ref->tag : ref->digest);
	e->source = strdup(source);
	(*count)++;
	if (!e->repository || !e->reference || !e->source)
		return rs_error_set(RS_ERROR, "out of memory");
	return 0;
}

static int cmp_in_use_ref(const void *a, const void *b)
{
	const struct rs_plan_in_use_ref *x = a, *y = b;
	int c = strcmp(x->repository, y->repository);

	return c ? c : strcmp(x->reference, y->reference);
}

int rs_plan_in_use_start(struct rs_plan_in_use **out, const struct rs_inuse_match *m)
{
	struct rs_plan_in_use *u = calloc(1, sizeof(*u));
	struct rs_buf hosts = RS_BUF_INIT;
	size_t shown = 0;
	int rc = 0;

	*out = u;
	if (!u)
		return rs_error_set(RS_ERROR, "out of memory");
	u->references = m->set->nrefs;
	u->image_ids = m->set->image_ids;
	u->this_registry = m->nhere;
	u->other_registries = m->nelsewhere;
	/* a few of the other registries, for people to spot a misspelt host */
	for (size_t i = 0; rc == 0 && i < m->set->nrefs && shown < 4; i++) {
		const char *host = m->set->refs[i].host;
		int again = 0;

		if (m->here[i])
			continue;
		for (size_t j = 0; j < i; j++)
			again |= !m->here[j] && strcmp(m->set->refs[j].host, host) == 0;
		if (!again) {
			rc = rs_buf_printf(&hosts, "%s%s", shown ? ", " : "", host);
			shown++;
		}
	}
	if (rc == 0 && shown && !(u->other_hosts = rs_buf_detach(&hosts)))
		rc = rs_error_set(RS_ERROR, "out of memory");
	rs_buf_release(&hosts);
	return rc;
}

int rs_plan_in_use_found(struct rs_plan_in_use *u, const struct rs_image_ref *ref,
			 const char *digest)
{
	return in_use_ref_add(&u->kept, &u->nkept, ref, digest);
}

int rs_plan_in_use_finish(struct rs_plan_in_use *u, const struct rs_inuse_match *m)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < m->set->nrefs; i++)
		if (m->here[i] && !m->found[i])
			rc = in_use_ref_add(&u->missing, &u->nmissing, &m->set->refs[i], "");
	if (u->nkept > 1)
		qsort(u->kept, u->nkept, sizeof(*u->kept), cmp_in_use_ref);
	return rc;
}

static void in_use_refs_free(struct rs_plan_in_use_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(refs[i].repository);
		free(refs[i].reference);
		free(refs[i].source);
	}
	free(refs);
}

void rs_plan_in_use_free(struct rs_plan_in_use *in_use)
{
	if (!in_use)
		return;
	free(in_use->other_hosts);
	in_use_refs_free(in_use->kept, in_use->nkept);
	in_use_refs_free(in_use->missing, in_use->nmissing);
	free(in_use);
}

void rs_plan_free(struct rs_plan *plan)
{
	if (!plan)
		return;
	rs_plan_in_use_free(plan->in_use);
	for (size_t r = 0; r < plan->nrepos; r++)
		rs_plan_repo_release(&plan->repos[r]);
	free(plan->repos);
	free(plan->registry);
	free(plan->policy);
	free(plan);
}
