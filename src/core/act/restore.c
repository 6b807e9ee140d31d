/* restore.c: putting manifests and tags back from a backup, children
 * first, after checking that what they need still exists. */
#include "act/restore.h"
#include "act/backup.h"
#include "base/buf.h"
#include "base/cancel.h"
#include "base/error.h"
#include "net/url.h"
#include "net/http.h"
#include "model/inventory.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/map.h"
#include "policy/planfile.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct restore_run {
	struct rs_registry *reg;
	struct rs_backup *backup;
	const struct rs_restore_options *opts;
	struct rs_restore_result *res;
	const struct rs_backup_entry **entry;   /* parallel to res->items */
	struct rs_map coming_back;              /* "repo@digest" put back or possible (dry run) */
};

static void note(struct rs_restore_item *item, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append a sentence to the item's detail. */
static void note(struct rs_restore_item *item, const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	va_list ap;

	if (item->detail && rs_buf_printf(&buf, "%s; ", item->detail) < 0)
		return;
	va_start(ap, fmt);
	if (rs_buf_vprintf(&buf, fmt, ap) == 0) {
		free(item->detail);
		item->detail = rs_buf_detach(&buf);
	}
	va_end(ap);
}

const char *rs_restore_outcome_name(enum rs_restore_outcome outcome)
{
	switch (outcome) {
	case RS_RESTORE_PENDING: return "not attempted";
	case RS_RESTORE_DONE: return "restored";
	case RS_RESTORE_PRESENT: return "present";
	case RS_RESTORE_IMPOSSIBLE: return "cannot come back";
	case RS_RESTORE_FAILED: return "failed";
	case RS_RESTORE_POSSIBLE: return "can be restored";
	}
	return "?";
}

void rs_restore_result_free(struct rs_restore_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++) {
		free(r->items[i].repo);
		for (size_t t = 0; t < r->items[i].ntags; t++)
			free(r->items[i].tags[t]);
		free(r->items[i].tags);
		free(r->items[i].detail);
	}
	free(r->items);
	free(r->registry);
	free(r);
}

/* Items in restore order: the backup's entries backwards. */
static int result_new(struct restore_run *run)
{
	const struct rs_backup *b = run->backup;
	struct rs_restore_result *r = calloc(1, sizeof(*r));

	run->res = r;
	if (!r)
		return rs_error_set(RS_ERROR, "out of memory");
	r->dry_run = run->opts->dry_run;
	r->registry = strdup(b->registry);
	r->items = calloc(b->nentries + 1, sizeof(*r->items));
	run->entry = calloc(b->nentries + 1, sizeof(*run->entry));
	if (!r->registry || !r->items || !run->entry)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t k = b->nentries; k-- > 0;) {
		const struct rs_backup_entry *e = &b->entries[k];
		struct rs_restore_item *item = &r->items[r->nitems];

		run->entry[r->nitems] = e;
		r->nitems++;
		rs_strlcpy(item->digest, e->digest, sizeof(item->digest));
		item->repo = strdup(e->repo);
		item->tags = calloc(e->ntags + 1, sizeof(*item->tags));
		if (!item->repo || !item->tags)
			return rs_error_set(RS_ERROR, "out of memory");
		for (size_t t = 0; t < e->ntags; t++) {
			if (!(item->tags[t] = strdup(e->tags[t])))
				return rs_error_set(RS_ERROR, "out of memory");
			item->ntags++;
		}
	}
	return 0;
}

/* HEAD a manifest or blob: 1 present, 0 absent, <0 error. *digest, when
 * not NULL, receives the Docker-Content-Digest of a manifest. */
static int exists(struct restore_run *run, const char *repo, const char *kind, const char *ref,
		  char digest[RS_DIGEST_MAX])
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/%s/%s", repo, kind, ref);
	call.method = "HEAD";
	call.path = path;
	call.accept = strcmp(kind, "manifests") == 0 ? RS_MANIFEST_ACCEPT : NULL;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo, "pull");
	call.follow = strcmp(kind, "blobs") == 0;
	rc = rs_registry_call(run->reg, &call, &answer);
	if (digest)
		rs_strlcpy(digest, rc == 0 && answer.digest ? answer.digest : "", RS_DIGEST_MAX);
	rs_reg_answer_release(&answer);
	if (rc == RS_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : 1;
}

static int put_manifest(struct restore_run *run, const char *repo, const char *ref,
			const char *media_type, const char *body, size_t len, const char *digest)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
	call.method = "PUT";
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo, "pull,push");
	call.content_type = media_type;
	call.body = body;
	call.body_len = len;
	call.max_body = 64 * 1024;
	rc = rs_registry_call(run->reg, &call, &answer);
	if (rc == 0 && answer.digest && strcmp(answer.digest, digest) != 0)
		rc = rs_error_set(RS_EPROTO, "the registry stored %s as %s", digest, answer.digest);
	rs_reg_answer_release(&answer);
	return rc;
}

static int coming_back(struct restore_run *run, const char *repo, const char *digest, int mark)
{
	char key[600];

	snprintf(key, sizeof(key), "%s@%s", repo, digest);
	if (mark)
		return rs_map_put(&run->coming_back, key, (void *)1);
	return rs_map_get(&run->coming_back, key) != NULL;
}

/* What the manifest needs that is gone: 0 when nothing, 1 when something
 * (the item says what), <0 on error. */
static int check_needs(struct restore_run *run, struct rs_restore_item *item,
		       const struct rs_manifest *m)
{
	char shortd[RS_DIGEST_MAX];
	int gone = 0, rc;

	for (size_t c = 0; c < m->nchildren; c++) {
		if (coming_back(run, item->repo, m->children[c].digest, 0))
			continue;
		rc = exists(run, item->repo, "manifests", m->children[c].digest, NULL);
		if (rc < 0)
			return rc;
		if (!rc) {
			note(item, "child %s cannot come back", rs_digest_short(shortd,
										m->children[c].digest));
			gone = 1;
		}
	}
	for (size_t l = 0; l <= m->nlayers; l++) {
		const struct rs_descriptor *d = l == 0 ? &m->config : &m->layers[l - 1];

		if (!d->digest[0])
			continue;
		rc = exists(run, item->repo, "blobs", d->digest, NULL);
		if (rc < 0)
			return rc;
		if (!rc) {
			note(item, "blob %s is gone (removed by garbage collection)",
			     rs_digest_short(shortd, d->digest));
			gone = 1;
		}
	}
	return gone;
}

/* Put one manifest back by digest. Returns <0 only when restoring must stop. */
static int restore_manifest(struct restore_run *run, size_t i)
{
	struct rs_restore_item *item = &run->res->items[i];
	const struct rs_backup_entry *e = run->entry[i];
	struct rs_manifest *m = NULL;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (!e->file) {
		item->outcome = RS_RESTORE_IMPOSSIBLE;
		note(item, "the backup holds no copy: it was already gone when the backup was made");
		return 0;
	}
	rc = rs_backup_read(run->backup, e, &body, &len);
	if (rc == 0)
		rc = rs_manifest_parse(&m, e->digest, body, len, e->media_type);
	if (rc < 0) {
		item->outcome = RS_RESTORE_FAILED;
		note(item, "%s", rs_error_message());
		rc = 0;
		goto out;
	}
	rc = exists(run, item->repo, "manifests", item->digest, NULL);
	if (rc == 1) {
		item->outcome = RS_RESTORE_PRESENT;
		rc = 0;
		goto out;
	}
	if (rc == 0)
		rc = check_needs(run, item, m);
	if (rc == RS_ECANCELLED)
		goto out;
	if (rc < 0) {
		item->outcome = RS_RESTORE_FAILED;
		note(item, "%s", rs_error_message());
		rc = 0;
		goto out;
	}
	if (rc == 1) {
		item->outcome = RS_RESTORE_IMPOSSIBLE;
		rc = 0;
		goto out;
	}
	if (run->opts->dry_run) {
		item->outcome = RS_RESTORE_POSSIBLE;
	} else {
		rc = put_manifest(run, item->repo, item->digest, m->media_type, body, len, item->digest);
		if (rc == RS_ECANCELLED)
			goto out;
		item->outcome = rc == 0 ? RS_RESTORE_DONE : RS_RESTORE_FAILED;
		if (rc < 0)
			note(item, "%s", rs_error_message());
		rc = 0;
	}
	if (item->outcome == RS_RESTORE_DONE || item->outcome == RS_RESTORE_POSSIBLE)
		rc = coming_back(run, item->repo, item->digest, 1);
out:
	rs_manifest_free(m);
	free(body);
	return rc;
}

/* Put back the tags of a manifest that is there (or would be). */
static int restore_tags(struct restore_run *run, size_t i)
{
	struct rs_restore_item *item = &run->res->items[i];
	const struct rs_backup_entry *e = run->entry[i];
	char now[RS_DIGEST_MAX], shortd[RS_DIGEST_MAX];
	char *body = NULL;
	size_t len = 0;
	int rc = 0;

	for (size_t t = 0; t < item->ntags; t++) {
		rc = exists(run, item->repo, "manifests", item->tags[t], now);
		if (rc == RS_ECANCELLED)
			break;
		if (rc == 1 && strcmp(now, item->digest) == 0) {
			item->tags_restored++;
		} else if (rc == 1) {
			note(item, "tag '%s' now points at %s: left alone", item->tags[t],
			     rs_digest_short(shortd, now));
			run->res->tags_conflicting++;
		} else if (rc == 0 && run->opts->dry_run) {
			item->tags_restored++;
		} else if (rc == 0) {
			if (!body && (rc = rs_backup_read(run->backup, e, &body, &len)) < 0) {
				item->outcome = RS_RESTORE_FAILED;
				note(item, "%s", rs_error_message());
				break;
			}
			rc = put_manifest(run, item->repo, item->tags[t], e->media_type, body, len,
					  item->digest);
			if (rc == RS_ECANCELLED)
				break;
			if (rc == 0) {
				item->tags_restored++;
			} else {
				item->outcome = RS_RESTORE_FAILED;
				note(item, "tag '%s' could not be put back: %s", item->tags[t],
				     rs_error_message());
			}
		} else {
			item->outcome = RS_RESTORE_FAILED;
			note(item, "tag '%s': %s", item->tags[t], rs_error_message());
		}
		rc = 0;
	}
	run->res->tags_restored += item->tags_restored;
	free(body);
	return rc == RS_ECANCELLED ? rc : 0;
}

static void count_outcomes(struct rs_restore_result *r)
{
	r->done = r->present = r->impossible = r->failed = r->pending = r->possible = 0;
	for (size_t i = 0; i < r->nitems; i++) {
		switch (r->items[i].outcome) {
		case RS_RESTORE_PENDING: r->pending++; break;
		case RS_RESTORE_DONE: r->done++; break;
		case RS_RESTORE_PRESENT: r->present++; break;
		case RS_RESTORE_IMPOSSIBLE: r->impossible++; break;
		case RS_RESTORE_FAILED: r->failed++; break;
		case RS_RESTORE_POSSIBLE: r->possible++; break;
		}
	}
}

int rs_restore(struct rs_restore_result **out, struct rs_registry *reg, const char *dir,
	       const struct rs_restore_options *opts)
{
	struct restore_run run;
	char here[2048];
	int rc;

	*out = NULL;
	memset(&run, 0, sizeof(run));
	run.reg = reg;
	run.opts = opts;
	rc = rs_backup_load(&run.backup, dir);
	if (rc < 0)
		return rc;
	rs_url_strip_userinfo(here, sizeof(here), rs_registry_url(reg));
	if (strcmp(here, run.backup->registry) != 0)
		rs_log(RS_LOG_WARN, "warning: the backup was made of '%s', restoring to '%s'",
		       run.backup->registry, here);
	rc = result_new(&run);
	for (size_t i = 0; rc == 0 && i < run.res->nitems; i++)
		rc = rs_stopping() ? RS_ECANCELLED : restore_manifest(&run, i);
	for (size_t i = 0; rc == 0 && i < run.res->nitems; i++) {
		enum rs_restore_outcome o = run.res->items[i].outcome;

		if (o == RS_RESTORE_DONE || o == RS_RESTORE_PRESENT || o == RS_RESTORE_POSSIBLE)
			rc = rs_stopping() ? RS_ECANCELLED : restore_tags(&run, i);
	}
	if (run.res) {
		count_outcomes(run.res);
		*out = run.res;
	}
	if (rc == RS_ECANCELLED)
		rc = rs_error_set(rc, "%s: run restore again to finish",
				  rs_stop_reason()[0] ? rs_stop_reason() : "interrupted");
	else if (rc == 0 && (run.res->impossible || run.res->failed || run.res->tags_conflicting))
		rc = rs_error_set(RS_EPARTIAL, "%zu manifest%s cannot come back, %zu failed, %zu "
				  "tag%s left alone", run.res->impossible,
				  run.res->impossible == 1 ? "" : "s", run.res->failed,
				  run.res->tags_conflicting, run.res->tags_conflicting == 1 ? "" : "s");
	free(run.entry);
	rs_map_release(&run.coming_back);
	rs_backup_free(run.backup);
	return rc;
}
