/* apply.c: the deleter: backup, re-check against the registry as it is
 * now, delete by digest parents first, confirm each delete; then the
 * repository's untags (untag.c). */
#include "act/apply.h"
#include "act/backup.h"
#include "act/untag.h"
#include "base/buf.h"
#include "base/cancel.h"
#include "base/error.h"
#include "net/url.h"
#include "net/http.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/map.h"
#include "policy/planfile.h"
#include "scan/scan.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX_BODY (4u * 1024 * 1024)

/* What apply knows about one deletion besides its result. */
struct work {
	const struct rs_plan_repo *repo;
	const struct rs_plan_manifest *pm;
	struct rs_manifest *parsed;    /* the body read for the backup, or NULL */
	int blocked;                   /* a read failed: its repository gets no deletions */
};

struct apply_run {
	struct rs_registry *reg;
	const struct rs_plan *plan;
	const struct rs_apply_options *opts;
	struct rs_apply_result *res;
	struct rs_backup *backup;
	struct work *work;             /* parallel to res->items */
	const struct rs_plan_repo **untag_repo;   /* parallel to res->untags */
	struct rs_untagger *untagger;  /* when the plan untags */
};

static void set_outcome(struct rs_apply_item *item, enum rs_apply_outcome outcome,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_outcome(struct rs_apply_item *item, enum rs_apply_outcome outcome,
			const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	va_list ap;

	item->outcome = outcome;
	if (!fmt)
		return;
	va_start(ap, fmt);
	if (rs_buf_vprintf(&buf, fmt, ap) == 0) {
		free(item->detail);
		item->detail = rs_buf_detach(&buf);
	}
	va_end(ap);
}

const char *rs_apply_outcome_name(enum rs_apply_outcome outcome)
{
	switch (outcome) {
	case RS_APPLY_PENDING: return "not attempted";
	case RS_APPLY_DELETED: return "deleted";
	case RS_APPLY_GONE: return "already gone";
	case RS_APPLY_SKIPPED: return "skipped";
	case RS_APPLY_FAILED: return "failed";
	case RS_APPLY_WOULD_DELETE: return "would delete";
	}
	return "?";
}

int rs_apply_item_done(const struct rs_apply_item *item)
{
	return item->outcome == RS_APPLY_DELETED || item->outcome == RS_APPLY_GONE ||
	       item->outcome == RS_APPLY_WOULD_DELETE;
}

const char *rs_apply_item_outcome(const struct rs_apply_item *item)
{
	if (item->action == RS_APPLY_UNTAG && item->outcome == RS_APPLY_DELETED)
		return "untagged";
	if (item->action == RS_APPLY_UNTAG && item->outcome == RS_APPLY_WOULD_DELETE)
		return "would untag";
	return rs_apply_outcome_name(item->outcome);
}

static void item_release(struct rs_apply_item *item)
{
	free(item->repo);
	free(item->media_type);
	for (size_t t = 0; t < item->ntags; t++)
		free(item->tags[t]);
	free(item->tags);
	free(item->reason);
	free(item->detail);
}

void rs_apply_result_free(struct rs_apply_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++)
		item_release(&r->items[i]);
	for (size_t i = 0; i < r->nuntags; i++)
		item_release(&r->untags[i]);
	free(r->untags);
	free(r->items);
	free(r->registry);
	free(r->backup_dir);
	free(r->stop_reason);
	free(r);
}

/* One result item per deletion of the plan, in order. */
static int result_new(struct rs_apply_result **out, struct work **work, const struct rs_plan *plan,
		      const struct rs_apply_options *opts)
{
	struct rs_apply_result *r = calloc(1, sizeof(*r));
	char url[2048];
	size_t n = 0;

	*out = NULL;
	*work = NULL;
	if (!r)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < plan->nrepos; i++)
		n += plan->repos[i].ndeletions;
	r->items = calloc(n ? n : 1, sizeof(*r->items));
	*work = calloc(n ? n : 1, sizeof(**work));
	r->registry = strdup(rs_url_strip_userinfo(url, sizeof(url), plan->registry));
	r->dry_run = opts->dry_run;
	r->started = opts->now;
	if (!r->items || !*work || !r->registry)
		goto oom;
	for (size_t i = 0; i < plan->nrepos; i++) {
		const struct rs_plan_repo *pr = &plan->repos[i];

		for (size_t d = 0; d < pr->ndeletions; d++) {
			const struct rs_plan_manifest *pm = &pr->deletions[d];
			struct rs_apply_item *item = &r->items[r->nitems];

			(*work)[r->nitems].repo = pr;
			(*work)[r->nitems].pm = pm;
			r->nitems++;
			rs_strlcpy(item->digest, pm->digest, sizeof(item->digest));
			item->repo = strdup(pr->name);
			item->media_type = rs_strdup(pm->media_type);
			item->reason = rs_strdup(pm->reason);
			item->tags = calloc(pm->ntags + 1, sizeof(*item->tags));
			if (!item->repo || !item->tags || (pm->media_type && !item->media_type) ||
			    (pm->reason && !item->reason))
				goto oom;
			for (size_t t = 0; t < pm->ntags; t++) {
				if (!(item->tags[t] = strdup(pm->tags[t])))
					goto oom;
				item->ntags++;
			}
		}
	}
	*out = r;
	return 0;
oom:
	rs_apply_result_free(r);
	free(*work);
	*work = NULL;
	return rs_error_set(RS_ERROR, "out of memory");
}

/* The media type of the manifest a kept tag points at, or NULL. */
static const char *kept_media_type(const struct rs_plan_repo *pr, const char *digest)
{
	for (size_t k = 0; k < pr->nkept; k++)
		if (strcmp(pr->kept[k].digest, digest) == 0)
			return pr->kept[k].media_type;
	return NULL;
}

/* One untag item per tag the plan untags, by repository in plan order. */
static int untags_new(struct apply_run *run)
{
	const struct rs_plan *plan = run->plan;
	struct rs_apply_result *r = run->res;
	size_t n = 0;

	for (size_t i = 0; i < plan->nrepos; i++)
		for (size_t t = 0; t < plan->repos[i].ntags; t++)
			n += plan->repos[i].tags[t].verdict == RS_VERDICT_UNTAG;
	if (!n)
		return 0;
	r->untags = calloc(n, sizeof(*r->untags));
	run->untag_repo = calloc(n, sizeof(*run->untag_repo));
	if (!r->untags || !run->untag_repo)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < plan->nrepos; i++) {
		const struct rs_plan_repo *pr = &plan->repos[i];

		for (size_t t = 0; t < pr->ntags; t++) {
			const struct rs_plan_tag *pt = &pr->tags[t];
			struct rs_apply_item *item;
			const char *mt;

			if (pt->verdict != RS_VERDICT_UNTAG)
				continue;
			run->untag_repo[r->nuntags] = pr;
			item = &r->untags[r->nuntags++];
			item->action = RS_APPLY_UNTAG;
			rs_strlcpy(item->digest, pt->digest, sizeof(item->digest));
			mt = kept_media_type(pr, pt->digest);
			item->repo = strdup(pr->name);
			item->media_type = rs_strdup(mt);
			item->reason = rs_strdup(pt->reason);
			item->tags = calloc(1, sizeof(*item->tags));
			if (item->tags) {
				item->tags[0] = strdup(pt->name);
				item->ntags = 1;
			}
			if (!item->repo || (mt && !item->media_type) || (pt->reason && !item->reason) ||
			    !item->tags || !item->tags[0])
				return rs_error_set(RS_ERROR, "out of memory");
		}
	}
	return 0;
}

static void count_item(struct rs_apply_result *r, const struct rs_apply_item *item)
{
	int untag = item->action == RS_APPLY_UNTAG;

	switch (item->outcome) {
	case RS_APPLY_PENDING: r->pending++; break;
	case RS_APPLY_DELETED: untag ? r->untagged++ : r->deleted++; break;
	case RS_APPLY_GONE: r->gone++; break;
	case RS_APPLY_SKIPPED: r->skipped++; break;
	case RS_APPLY_FAILED: r->failed++; break;
	case RS_APPLY_WOULD_DELETE: untag ? r->would_untag++ : r->would_delete++; break;
	}
}

static void count_outcomes(struct rs_apply_result *r)
{
	r->deleted = r->untagged = r->gone = r->skipped = r->failed = r->pending = 0;
	r->would_delete = r->would_untag = 0;
	for (size_t i = 0; i < r->nitems; i++)
		count_item(r, &r->items[i]);
	for (size_t i = 0; i < r->nuntags; i++)
		count_item(r, &r->untags[i]);
}

/* What deletion `w` references (children, subject or signed image), as the
 * plan says and as its body read for the backup says: ref_at(w, k) for k
 * below ref_count(w); "" for an absent subject. */
static size_t ref_count(const struct work *w)
{
	return 1 + w->pm->nchildren + (w->parsed ? 1 + w->parsed->nchildren : 0);
}

static const char *ref_at(const struct work *w, size_t k)
{
	if (k == 0)
		return w->pm->subject;
	k--;
	if (k < w->pm->nchildren)
		return w->pm->children[k];
	k -= w->pm->nchildren;
	if (k == 0)
		return w->parsed->subject;
	return w->parsed->children[k - 1].digest;
}

/* The deletions of one repository (items first .. first + count - 1) and
 * look-ups over them. */
struct span {
	size_t first, count;
	struct rs_map by_digest;       /* digest -> item index + 1 */
	size_t **parents;              /* per item of the span: items that reference it */
	size_t *nparents;
};

static void span_release(struct span *sp)
{
	for (size_t i = 0; sp->parents && i < sp->count; i++)
		free(sp->parents[i]);
	free(sp->parents);
	free(sp->nparents);
	rs_map_release(&sp->by_digest);
	memset(sp, 0, sizeof(*sp));
}

/* The item of the span with `digest`, or (size_t)-1. */
static size_t span_find(const struct span *sp, const char *digest)
{
	uintptr_t slot = digest[0] ? (uintptr_t)rs_map_get(&sp->by_digest, digest) : 0;

	return slot ? (size_t)slot - 1 : (size_t)-1;
}

static int add_parent(struct span *sp, size_t child, size_t parent)
{
	size_t k = child - sp->first, *grown;

	for (size_t i = 0; i < sp->nparents[k]; i++)
		if (sp->parents[k][i] == parent)
			return 0;
	grown = realloc(sp->parents[k], (sp->nparents[k] + 1) * sizeof(*grown));
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	sp->parents[k] = grown;
	sp->parents[k][sp->nparents[k]++] = parent;
	return 0;
}

static int span_build(struct span *sp, const struct apply_run *run, size_t first, size_t count)
{
	int rc = 0;

	memset(sp, 0, sizeof(*sp));
	sp->first = first;
	sp->count = count;
	sp->parents = calloc(count ? count : 1, sizeof(*sp->parents));
	sp->nparents = calloc(count ? count : 1, sizeof(*sp->nparents));
	if (!sp->parents || !sp->nparents)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = first; rc == 0 && i < first + count; i++)
		rc = rs_map_put(&sp->by_digest, run->res->items[i].digest, (void *)(uintptr_t)(i + 1));
	for (size_t j = first; rc == 0 && j < first + count; j++) {
		const struct work *w = &run->work[j];

		for (size_t k = 0; rc == 0 && k < ref_count(w); k++) {
			size_t child = span_find(sp, ref_at(w, k));

			if (child != (size_t)-1 && child != j)
				rc = add_parent(sp, child, j);
		}
	}
	return rc;
}

/* The items of the repository starting at `first`: its count. */
static size_t repo_span(const struct apply_run *run, size_t first)
{
	size_t n = 0;

	while (first + n < run->res->nitems && run->work[first + n].repo == run->work[first].repo)
		n++;
	return n;
}

/* A read failed: the repository's deletions are not attempted (they stay
 * pending, with the read's error as the reason, and the repository is
 * neither re-checked nor touched), never skipped as if the registry had
 * changed. */
static void not_attempted_span(struct apply_run *run, size_t first, size_t count,
			       const char *why)
{
	for (size_t i = first; i < first + count; i++) {
		run->work[i].blocked = 1;
		if (run->res->items[i].outcome == RS_APPLY_PENDING)
			set_outcome(&run->res->items[i], RS_APPLY_PENDING, "%s", why);
	}
}

static int span_blocked(const struct apply_run *run, const struct span *sp)
{
	return sp->count && run->work[sp->first].blocked;
}

/* ----------------------------------------------------------------- backup */

static int backup_item(struct apply_run *run, size_t i)
{
	struct rs_apply_item *item = &run->res->items[i];
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", item->repo, item->digest);
	call.path = path;
	call.accept = RS_MANIFEST_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), item->repo, "pull");
	call.max_body = MANIFEST_MAX_BODY;
	rc = rs_registry_call(run->reg, &call, &answer);
	if (rc == RS_ENOTFOUND) {
		/* already deleted (a second run): nothing to save, the delete will see 404 */
		rc = rs_backup_add(run->backup, item->repo, item->digest, item->media_type,
				   item->tags, item->ntags, NULL, 0);
		rs_reg_answer_release(&answer);
		return rc;
	}
	if (rc == 0 && !rs_digest_matches(item->digest, answer.body ? answer.body : "",
					  answer.body_len))
		rc = rs_error_set(RS_EPROTO, "the registry's body for %s does not match it",
				  item->digest);
	if (rc == 0)
		rc = rs_manifest_parse(&run->work[i].parsed, item->digest, answer.body,
				       answer.body_len, answer.content_type);
	if (rc == 0)
		rc = rs_backup_add(run->backup, item->repo, item->digest, item->media_type,
				   item->tags, item->ntags, answer.body, answer.body_len);
	rs_reg_answer_release(&answer);
	return rc;
}

/* The manifest an untagged tag points at, saved with the tag, so that
 * restore can put the tag back. A read that fails leaves the tag. */
static int backup_untag(struct apply_run *run, size_t i)
{
	struct rs_apply_item *item = &run->res->untags[i];
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", item->repo, item->digest);
	call.path = path;
	call.accept = RS_MANIFEST_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), item->repo, "pull");
	call.max_body = MANIFEST_MAX_BODY;
	rc = rs_registry_call(run->reg, &call, &answer);
	if (rc == RS_ENOTFOUND) {
		/* its image is gone: the re-check will find the tag gone or moved */
		rs_reg_answer_release(&answer);
		return rs_backup_add_untag(run->backup, item->repo, item->digest, item->media_type,
					   item->tags, item->ntags, NULL, 0);
	}
	if (rc == 0)
		rc = rs_backup_add_untag(run->backup, item->repo, item->digest, item->media_type,
					 item->tags, item->ntags, answer.body, answer.body_len);
	rs_reg_answer_release(&answer);
	if (rc == RS_EPROTO || rc == RS_ENET || rc == RS_ETIMEOUT || rc == RS_EAUTH ||
	    rc == RS_EDENIED) {
		set_outcome(item, RS_APPLY_SKIPPED, "could not back up %s, so the tag stays: %s",
			    item->digest, rs_error_message());
		rc = 0;
	}
	return rc;
}

/* Back up every deletion; a repository where a read fails is skipped. */
static int backup_all(struct apply_run *run)
{
	size_t first = 0;

	rs_log(RS_LOG_INFO, "backing up %zu manifest%s to '%s'",
	       run->res->nitems + run->res->nuntags,
	       run->res->nitems + run->res->nuntags == 1 ? "" : "s", run->backup->dir);
	while (first < run->res->nitems) {
		size_t count = repo_span(run, first);

		for (size_t i = first; i < first + count; i++) {
			int rc = backup_item(run, i);
			char why[2048];

			if (rc == RS_ECANCELLED) {
				/* keep what was saved so far on record */
				rs_backup_save(run->backup);
				return rs_error_set(rc, "interrupted while backing up");
			}
			if (rc < 0 && rc != RS_ENET && rc != RS_EPROTO && rc != RS_ETIMEOUT &&
			    rc != RS_EAUTH && rc != RS_EDENIED)
				return rc;   /* the backup itself cannot be written */
			if (rc < 0) {
				snprintf(why, sizeof(why), "could not back up %s, so nothing is "
					 "deleted in this repository: %s", run->res->items[i].digest,
					 rs_error_message());
				not_attempted_span(run, first, count, why);
				break;
			}
		}
		first += count;
	}
	for (size_t i = 0; i < run->res->nuntags; i++) {
		int rc = backup_untag(run, i);

		if (rc == RS_ECANCELLED) {
			rs_backup_save(run->backup);
			return rs_error_set(rc, "interrupted while backing up");
		}
		if (rc < 0)
			return rc;
	}
	return rs_backup_save(run->backup);
}

/* --------------------------------------------------------------- re-check */

struct keep_set {
	struct rs_map why;             /* digest -> malloc'd reason it stays */
};

static int keep_add(struct keep_set *ks, const char *digest, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Returns 1 when newly added, 0 when known, <0 on error. */
static int keep_add(struct keep_set *ks, const char *digest, const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	va_list ap;
	int rc;

	if (!digest[0] || rs_map_get(&ks->why, digest))
		return 0;
	va_start(ap, fmt);
	rc = rs_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = rs_map_put(&ks->why, digest, rs_buf_detach(&buf));
	rs_buf_release(&buf);
	return rc < 0 ? rc : 1;
}

static void keep_release(struct keep_set *ks)
{
	size_t pos = 0;
	void *value;

	while (rs_map_next(&ks->why, &pos, NULL, &value))
		free(value);
	rs_map_release(&ks->why);
}

static int item_has_tag(const struct rs_apply_item *item, const char *tag)
{
	for (size_t t = 0; t < item->ntags; t++)
		if (strcmp(item->tags[t], tag) == 0)
			return 1;
	return 0;
}

/* Tags now: a tag on a deletion's digest that the plan did not drop with
 * it keeps the digest; a dropped tag that moved skips the deletion. */
static int check_tags(struct apply_run *run, const struct span *sp, const struct rs_repo *now,
		      struct keep_set *ks)
{
	struct rs_map tags = RS_MAP_INIT;      /* tag name -> struct rs_tag * now */
	char shortd[RS_DIGEST_MAX];
	int rc = 0;

	for (size_t t = 0; rc >= 0 && t < now->ntags; t++) {
		const struct rs_tag *tag = &now->tags[t];
		size_t i = span_find(sp, tag->digest);

		rc = rs_map_put(&tags, tag->name, (void *)tag);
		if (rc == 0 && (i == (size_t)-1 || !item_has_tag(&run->res->items[i], tag->name)))
			rc = keep_add(ks, tag->digest, "tag '%s' now points at it", tag->name);
	}
	for (size_t i = sp->first; rc >= 0 && i < sp->first + sp->count; i++) {
		struct rs_apply_item *item = &run->res->items[i];

		for (size_t k = 0; k < item->ntags; k++) {
			const struct rs_tag *tag = rs_map_get(&tags, item->tags[k]);

			if (!tag || strcmp(tag->digest, item->digest) == 0 ||
			    item->outcome != RS_APPLY_PENDING)
				continue;
			set_outcome(item, RS_APPLY_SKIPPED, "tag '%s' moved since the plan (now %s)",
				    tag->name, rs_digest_short(shortd, tag->digest));
		}
	}
	rs_map_release(&tags);
	return rc < 0 ? rc : 0;
}

/* Grow the set of what stays until nothing changes: children of what stays
 * stay; a deletion that stays (kept now, skipped) keeps what it references;
 * a referrer or signature whose subject stays is skipped. */
static int close_keep(struct apply_run *run, const struct span *sp, const struct rs_repo *now,
		      struct keep_set *ks)
{
	char shortd[RS_DIGEST_MAX];
	int changed = 1, rc = 0;

	while (changed && rc >= 0) {
		changed = 0;
		for (size_t m = 0; rc >= 0 && m < now->nmanifests; m++) {
			const struct rs_manifest *man = now->manifests[m];

			if (!rs_map_get(&ks->why, man->digest))
				continue;
			for (size_t c = 0; rc >= 0 && c < man->nchildren; c++) {
				rc = keep_add(ks, man->children[c].digest, "child of %s, which stays",
					      rs_digest_short(shortd, man->digest));
				changed |= rc > 0;
			}
		}
		for (size_t i = sp->first; rc >= 0 && i < sp->first + sp->count; i++) {
			struct rs_apply_item *item = &run->res->items[i];
			const struct work *w = &run->work[i];
			const char *why = rs_map_get(&ks->why, item->digest);

			if (item->outcome == RS_APPLY_PENDING && why) {
				set_outcome(item, RS_APPLY_SKIPPED, "%s", why);
				changed = 1;
			} else if (item->outcome == RS_APPLY_PENDING && w->pm->subject[0] &&
				   rs_map_get(&ks->why, w->pm->subject)) {
				set_outcome(item, RS_APPLY_SKIPPED, "its subject %s stays",
					    rs_digest_short(shortd, w->pm->subject));
				changed = 1;
			}
			if (item->outcome != RS_APPLY_SKIPPED)
				continue;
			rc = keep_add(ks, item->digest, "skipped");
			changed |= rc > 0;
			/* what a skipped deletion references must stay with it */
			for (size_t k = 0; rc >= 0 && k < ref_count(w); k++) {
				size_t j = span_find(sp, ref_at(w, k));

				if (j == (size_t)-1 || j == i ||
				    run->res->items[j].outcome != RS_APPLY_PENDING)
					continue;
				rc = keep_add(ks, run->res->items[j].digest, "referenced by %s, which "
					      "stays", rs_digest_short(shortd, item->digest));
				changed |= rc > 0;
			}
		}
	}
	return rc < 0 ? rc : 0;
}

/* Re-list and re-resolve repository `name`, and skip what may not go now:
 * its deletions (the span) and its untags (ufirst, ucount). *inv holds the
 * listing (the caller's) and *now the repository, NULL when it could not be
 * listed (everything is skipped then). */
static int recheck_repo(struct apply_run *run, const struct span *sp, const char *name,
			size_t ufirst, size_t ucount, struct rs_inventory **inv,
			const struct rs_repo **now)
{
	struct keep_set ks;
	char why[2048];
	int rc;

	*now = NULL;
	memset(&ks, 0, sizeof(ks));
	rc = rs_scan_repo(inv, run->reg, name);
	if (rc == RS_ECANCELLED)
		return rc;
	*now = *inv ? rs_inventory_find_repo(*inv, name) : NULL;
	if (rc < 0 || !*now || (*now)->failed) {
		/* a failed read is not a change: nothing here is attempted */
		snprintf(why, sizeof(why), "could not read '%s' again before acting on it, so "
			 "nothing is done in it: %s", name, rc < 0 ? rs_error_message()
			 : "some reads failed");
		not_attempted_span(run, sp->first, sp->count, why);
		for (size_t i = ufirst; i < ufirst + ucount; i++)
			if (run->res->untags[i].outcome == RS_APPLY_PENDING)
				set_outcome(&run->res->untags[i], RS_APPLY_PENDING, "%s", why);
		*now = NULL;
		return 0;
	}
	rc = check_tags(run, sp, *now, &ks);
	if (rc == 0)
		rc = close_keep(run, sp, *now, &ks);
	keep_release(&ks);
	return rc;
}

/* ----------------------------------------------------------------- delete */

static int is_refusal(int rc)
{
	return rc == RS_EUNSUPPORTED || rc == RS_EREADONLY || rc == RS_EAUTH || rc == RS_EDENIED;
}

/* A registry that no longer answers at all (no status came back): sending
 * it the remaining deletes would only fail each one. A 5xx is an answer. */
static int unreachable(int rc, long status)
{
	return (rc == RS_ENET || rc == RS_ETIMEOUT) && status == 0;
}

/* Must every further delete stop? A refusal, or a registry gone away. */
static int stops_deleting(int rc)
{
	return is_refusal(rc) || rc == RS_ENET || rc == RS_ETIMEOUT;
}

/* DELETE one digest and confirm it is gone. Returns a refusal or
 * RS_ECANCELLED when deleting must stop, else 0 (the item says how it went). */
static int delete_item(struct apply_run *run, struct rs_apply_item *item)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	long status;
	int rc, retried_404 = 0;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", item->repo, item->digest);
	call.method = "DELETE";
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), item->repo, "delete");
	call.max_body = 64 * 1024;
	rc = rs_registry_call(run->reg, &call, &answer);
	status = answer.status;
	/* A 404 to a delete that was sent more than once: an earlier try may
	 * have gone through and its answer been lost. The HEAD below decides. */
	retried_404 = rc == RS_ENOTFOUND && answer.attempts > 1;
	rs_reg_answer_release(&answer);
	if (rc == RS_ENOTFOUND && !retried_404) {
		set_outcome(item, RS_APPLY_GONE, NULL);
		return 0;
	}
	if (retried_404)
		rc = 0;
	if (rc == RS_ECANCELLED)
		return rc;
	if (rc == RS_EAUTH || rc == RS_EDENIED)
		rc = rs_error_set(rc, "the credentials lack 'delete' permission on repository "
				  "'%s': %s", item->repo, rs_error_message());
	if (rc < 0) {
		set_outcome(item, RS_APPLY_FAILED, "%s", rs_error_message());
		return is_refusal(rc) || unreachable(rc, status) ? rc : 0;
	}
	call = (struct rs_reg_call)RS_REG_CALL_INIT;
	call.method = "HEAD";
	call.path = path;
	call.accept = RS_MANIFEST_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), item->repo, "pull");
	rc = rs_registry_call(run->reg, &call, &answer);
	status = answer.status;
	rs_reg_answer_release(&answer);
	if (rc == RS_ENOTFOUND && retried_404)
		set_outcome(item, RS_APPLY_DELETED, "the delete was retried and answered 404: an "
			    "earlier try went through (confirmed gone)");
	else if (rc == RS_ENOTFOUND)
		set_outcome(item, RS_APPLY_DELETED, NULL);
	else if (rc == RS_ECANCELLED && retried_404)
		set_outcome(item, RS_APPLY_FAILED, "the retried delete answered 404; not confirmed "
			    "(%s)", rs_stop_reason());
	else if (rc == RS_ECANCELLED)
		set_outcome(item, RS_APPLY_DELETED, "the registry accepted the delete; not confirmed "
			    "(%s)", rs_stop_reason());
	else if (rc == 0 && retried_404)
		set_outcome(item, RS_APPLY_FAILED, "the retried delete answered 404, but the "
			    "registry still serves %s", item->digest);
	else if (rc == 0)
		set_outcome(item, RS_APPLY_FAILED, "the registry accepted the delete but still "
			    "serves %s", item->digest);
	else if (unreachable(rc, status)) {
		/* the registry accepted it (202); it went away before we could look */
		set_outcome(item, RS_APPLY_DELETED, "the registry accepted the delete; not confirmed: "
			    "%s", rs_error_message());
		return rs_error_set(rc, "the registry stopped answering after deleting %s: %s",
				    item->digest, rs_error_message());
	} else
		set_outcome(item, RS_APPLY_FAILED, "deleted, but the check that it is gone "
			    "failed: %s", rs_error_message());
	return 0;
}

/* A deletion that references `i` and did not happen: its item, or NULL. */
static const struct rs_apply_item *undeleted_parent(const struct apply_run *run,
						    const struct span *sp, size_t i)
{
	size_t k = i - sp->first;

	for (size_t p = 0; p < sp->nparents[k]; p++) {
		const struct rs_apply_item *parent = &run->res->items[sp->parents[k][p]];

		if (parent->outcome != RS_APPLY_DELETED && parent->outcome != RS_APPLY_GONE &&
		    parent->outcome != RS_APPLY_WOULD_DELETE)
			return parent;
	}
	return NULL;
}

static int delete_repo(struct apply_run *run, const struct span *sp)
{
	char shortd[RS_DIGEST_MAX];

	for (size_t i = sp->first; i < sp->first + sp->count; i++) {
		struct rs_apply_item *item = &run->res->items[i];
		const struct rs_apply_item *parent;
		int rc;

		if (item->outcome != RS_APPLY_PENDING || run->work[i].blocked)
			continue;
		if (rs_stopping())
			return rs_error_set(RS_ECANCELLED, "%s", rs_stop_reason());
		parent = undeleted_parent(run, sp, i);
		if (parent) {
			set_outcome(item, RS_APPLY_SKIPPED, "%s, which references it, was not deleted",
				    rs_digest_short(shortd, parent->digest));
			continue;
		}
		if (run->opts->dry_run) {
			set_outcome(item, RS_APPLY_WOULD_DELETE, NULL);
			continue;
		}
		rc = delete_item(run, item);
		if (rc < 0)
			return rc;
		rs_log(RS_LOG_VERBOSE, "%s@%s: %s", item->repo, item->digest,
		       rs_apply_outcome_name(item->outcome));
	}
	return 0;
}

/* ------------------------------------------------------------------ apply */

/* The first pending item's reason: the read that failed. */
static const char *first_pending_detail(const struct rs_apply_result *r)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (r->items[i].outcome == RS_APPLY_PENDING && r->items[i].detail)
			return r->items[i].detail;
	return "";
}

/* What a run that went to the end says when not everything was done:
 * failures and deletions not attempted because a read failed come first
 * (RS_EPARTIAL); skips because the registry changed alone are
 * RS_ECONFLICT. A failed read is never told as a change. */
static int summary_error(const struct rs_apply_result *r)
{
	struct rs_buf msg = RS_BUF_INIT;
	int code = r->failed || r->pending ? RS_EPARTIAL : r->skipped ? RS_ECONFLICT : 0;
	int rc = 0;

	if (!code)
		return 0;
	if (r->failed)
		rc = rs_buf_printf(&msg, "%zu of %zu deletions failed", r->failed, r->nitems);
	if (rc == 0 && r->pending)
		rc = rs_buf_printf(&msg, "%s%zu of %zu deletions not attempted: a read failed (%s)",
				   msg.len ? "; " : "", r->pending, r->nitems, first_pending_detail(r));
	if (rc == 0 && r->skipped && (r->failed || r->pending))
		rc = rs_buf_printf(&msg, "; %zu skipped (see each one's reason)", r->skipped);
	else if (rc == 0 && r->skipped)
		rc = rs_buf_printf(&msg, "%zu of %zu deletions skipped: the registry changed since "
				   "the plan", r->skipped, r->nitems);
	if (rc == 0)
		rc = rs_error_set(code, "%s", rs_buf_cstr(&msg));
	rs_buf_release(&msg);
	return rc;
}

/* Why the first skipped untag stays ("'app:x': why"), into `out`; NULL
 * when every untag went. */
static const char *untag_left(const struct rs_apply_result *r, char *out, size_t outsize)
{
	for (size_t i = 0; i < r->nuntags; i++)
		if (r->untags[i].outcome == RS_APPLY_SKIPPED) {
			snprintf(out, outsize, "'%s:%s': %s", r->untags[i].repo, r->untags[i].tags[0],
				 r->untags[i].detail ? r->untags[i].detail : "");
			return out;
		}
	return NULL;
}

static int finish(struct apply_run *run, int rc)
{
	struct rs_apply_result *r = run->res;
	char *json = NULL, left[1024];

	count_outcomes(r);
	if (rc < 0 && (stops_deleting(rc) || rc == RS_ECANCELLED)) {
		r->stop_code = rc;
		r->stop_reason = strdup(rs_error_message());
	}
	if (run->backup && rs_apply_result_json(&json, r) == 0) {
		struct rs_error_state kept;

		/* keep the error we report, whatever writing does */
		rs_error_save(&kept);
		if (rs_backup_write_file(run->backup, "apply-result.json", json) < 0)
			rs_log(RS_LOG_WARN, "warning: %s", rs_error_message());
		rs_error_restore(&kept);
	}
	free(json);
	if (rc == RS_ECANCELLED)
		return rs_error_set(rc, "%s: %zu deleted, %zu not attempted; run apply again to "
				    "finish", rs_stop_reason()[0] ? rs_stop_reason() : "interrupted",
				    r->deleted, r->pending);
	if (rc < 0 && stops_deleting(rc))
		return rs_error_set(rc, "%s; stopped: %zu deleted, %zu not attempted%s", r->stop_reason
				    ? r->stop_reason : "the registry refused", r->deleted, r->pending,
				    is_refusal(rc) ? "" : "; run apply again once the registry answers");
	if (rc < 0)
		return rc;
	if (!r->failed && !r->pending && r->skipped && untag_left(r, left, sizeof(left)))
		return rs_error_set(RS_EPARTIAL, "%zu of %zu %s skipped; a tag that stays: %s",
				    r->skipped, r->nitems + r->nuntags, r->nitems
				    ? "deletions and untags" : "untags", left);
	return summary_error(r);
}

static size_t nitems(const struct apply_run *run, const struct rs_apply_result *out)
{
	return run->res ? run->res->nitems : out ? out->nitems : 0;
}

/* One repository: its deletions (items first .. first + count - 1), then
 * its untags (untags ufirst .. ufirst + ucount - 1), against one listing. */
static int act_on_repo(struct apply_run *run, const struct rs_plan_repo *pr, size_t first,
		       size_t count, size_t ufirst, size_t ucount)
{
	struct rs_inventory *inv = NULL;
	const struct rs_repo *now = NULL;
	struct span sp;
	int rc = span_build(&sp, run, first, count);

	/* a read for the backup failed there: nothing in it is attempted */
	if (rc == 0 && span_blocked(run, &sp)) {
		for (size_t i = ufirst; i < ufirst + ucount; i++)
			if (run->res->untags[i].outcome == RS_APPLY_PENDING)
				set_outcome(&run->res->untags[i], RS_APPLY_PENDING, "%s",
					    run->res->items[first].detail ? run->res->items[first].detail
					    : "a read failed");
		span_release(&sp);
		return 0;
	}
	if (rc == 0)
		rc = recheck_repo(run, &sp, pr->name, ufirst, ucount, &inv, &now);
	if (rc == 0)
		rc = delete_repo(run, &sp);
	if (rc == 0 && now && ucount) {
		if (rs_stopping())
			rc = rs_error_set(RS_ECANCELLED, "%s", rs_stop_reason());
		else
			rc = rs_untag_repo(run->untagger, now, &run->res->untags[ufirst], ucount,
					   run->opts->dry_run);
	}
	rs_inventory_free(inv);
	span_release(&sp);
	return rc;
}

int rs_apply(struct rs_apply_result **out, struct rs_registry *reg, const struct rs_plan *plan,
	     const struct rs_apply_options *opts)
{
	struct apply_run run;
	char want[2048], have[2048], dir[512];
	size_t first = 0;
	int rc;

	*out = NULL;
	memset(&run, 0, sizeof(run));
	rs_url_strip_userinfo(want, sizeof(want), plan->registry);
	rs_url_strip_userinfo(have, sizeof(have), rs_registry_url(reg));
	if (strcmp(want, have) != 0)
		return rs_error_set(RS_EUSAGE, "the plan was made for '%s', not '%s'", want, have);
	rc = result_new(&run.res, &run.work, plan, opts);
	if (rc < 0)
		return rc;
	run.reg = reg;
	run.plan = plan;
	run.opts = opts;
	rc = untags_new(&run);
	if (rc == 0 && run.res->nuntags)
		rc = rs_untagger_new(&run.untagger, reg, opts->now);
	if (rc < 0)
		goto fail;
	if ((run.res->nitems || run.res->nuntags) && !opts->dry_run) {
		const char *path = opts->backup_dir ? opts->backup_dir
				   : rs_backup_default_dir(dir, sizeof(dir), opts->now);

		rc = rs_backup_open(&run.backup, path, plan->registry, opts->now);
		if (rc == 0 && !(run.res->backup_dir = strdup(run.backup->dir)))
			rc = rs_error_set(RS_ERROR, "out of memory");
		if (rc == 0)
			rc = backup_all(&run);
		if (rc < 0 && rc != RS_ECANCELLED) {
			rs_error_prefix("backup: ");
			goto fail;
		}
	}
	for (size_t r = 0, ufirst = 0; rc == 0 && r < plan->nrepos; r++) {
		const struct rs_plan_repo *pr = &plan->repos[r];
		size_t count = 0, ucount = 0;

		while (first + count < run.res->nitems && run.work[first + count].repo == pr)
			count++;
		while (ufirst + ucount < run.res->nuntags && run.untag_repo[ufirst + ucount] == pr)
			ucount++;
		if (count || ucount)
			rc = act_on_repo(&run, pr, first, count, ufirst, ucount);
		first += count;
		ufirst += ucount;
	}
	rc = finish(&run, rc);
	*out = run.res;
	run.res = NULL;
fail:
	for (size_t i = 0; run.work && i < nitems(&run, *out); i++)
		rs_manifest_free(run.work[i].parsed);
	free(run.work);
	free(run.untag_repo);
	rs_untagger_free(run.untagger);
	rs_backup_free(run.backup);
	rs_apply_result_free(run.res);
	return rc;
}
