/* inventory.c (job): the registry read through the API and its storage,
 * as one inventory (see job/inventory.h). */
#include "job/inventory.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t rs_job_count_unseen(const struct rs_storage_view *view, const struct rs_inventory *inv)
{
	size_t n = 0;

	for (size_t i = 0; i < view->nmanifests; i++) {
		const struct rs_repo *repo = rs_inventory_find_repo(inv, view->manifests[i].repo);

		if (!repo || !rs_repo_find_manifest(repo, view->manifests[i].digest))
			n++;
	}
	return n;
}

/* Repositories the storage could not vouch for get no deletions. */
static void mark_incomplete(struct rs_inventory *inv, const struct rs_storage_view *view)
{
	for (size_t i = 0; i < view->nrepos; i++) {
		struct rs_repo *repo;

		if (!view->repos[i].incomplete)
			continue;
		repo = rs_inventory_find_repo(inv, view->repos[i].name);
		if (repo)
			repo->failed = 1;
	}
}

/* Each tag's push time, from the storage's tag links; a tag the storage
 * did not list stays unknown (the planner keeps it). */
static void set_tag_times(struct rs_inventory *inv, const struct rs_storage_view *view)
{
	for (size_t i = 0; i < view->ntags; i++) {
		struct rs_repo *repo = rs_inventory_find_repo(inv, view->tags[i].repo);
		struct rs_tag *tag = repo ? rs_repo_find_tag(repo, view->tags[i].tag) : NULL;

		if (tag)
			tag->pushed_at = view->tags[i].pushed_at;
	}
	inv->tag_times = 1;
}

/* The tags the storage lists, as an inventory: manifests by digest. */
static int scan_known_tags(struct rs_inventory **out, const struct rs_job_read *r,
			   const struct rs_storage_view *view)
{
	struct rs_known_tag *known = NULL;
	char **names = NULL;
	unsigned char *failed = NULL;
	int rc;

	known = calloc(view->ntags ? view->ntags : 1, sizeof(*known));
	names = calloc(view->nrepos ? view->nrepos : 1, sizeof(*names));
	failed = calloc(view->nrepos ? view->nrepos : 1, 1);
	if (!known || !names || !failed) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < view->nrepos; i++) {
		names[i] = view->repos[i].name;
		failed[i] = view->repos[i].incomplete != 0;
	}
	for (size_t i = 0; i < view->ntags; i++) {
		known[i].repo = view->tags[i].repo;
		known[i].tag = view->tags[i].tag;
		known[i].digest = view->tags[i].digest;
	}
	rc = rs_scan_known_tags(out, r->reg, r->scan, names, failed, view->nrepos, known,
				view->ntags);
done:
	free(known);
	free(names);
	free(failed);
	return rc;
}

/* The first partial result's error, kept across the calls that follow. */
static void partial_note(struct rs_error_state *partial)
{
	if (!partial->code)
		rs_error_save(partial);
}

int rs_job_inventory(struct rs_inventory **out, struct rs_job_storage_figures *figures,
		     const struct rs_job_read *r)
{
	struct rs_storage_view *view = NULL;
	struct rs_error_state partial = {0, ""};
	unsigned what = RS_STORAGE_MANIFESTS | RS_STORAGE_BLOBS;
	char size[32];
	int rc = 0;

	*out = NULL;
	figures->blobs = figures->bytes = -1;
	if (r->index_from_storage && !r->storage)
		return rs_error_set(RS_EUSAGE, "--index-from-storage needs the storage: give "
				    "--storage-root DIR or --registry-config FILE (with --ssh HOST "
				    "when it is on the registry host)");
	if (r->storage) {
		if (r->index_from_storage)
			what |= RS_STORAGE_TAG_LINKS;
		if (r->tag_times)
			what |= RS_STORAGE_TAGS;
		rc = rs_storage_read(&view, r->storage, what);
		if (rc < 0)
			return rc;
		if (view->problem) {
			rs_error_set(RS_EPARTIAL, "%s", view->problem);
			partial_note(&partial);
		}
		if (r->index_from_storage)
			rs_log(RS_LOG_VERBOSE, "storage: %zu tags of %zu repositories read from %s in %llu "
			       "requests", view->ntags, view->nrepos, view->where,
			       (unsigned long long)view->requests);
	}
	if (r->index_from_storage)
		rc = scan_known_tags(out, r, view);
	else
		rc = rs_scan(out, r->reg, r->scan);
	if (rc == RS_EPARTIAL)
		partial_note(&partial);
	else if (rc < 0)
		goto done;
	rc = 0;
	if (view) {
		rs_log(RS_LOG_INFO, "storage: %s: %zu repositories, %zu manifest revisions (%zu not "
		       "reached through tags), %lld blobs, %s on disk", view->where, view->nrepos,
		       view->nmanifests, rs_job_count_unseen(view, *out), (long long)view->blobs,
		       rs_size_format(size, sizeof(size), view->bytes > 0 ? (uint64_t)view->bytes : 0));
		figures->blobs = view->blobs;
		figures->bytes = view->bytes;
		mark_incomplete(*out, view);
		if (view->what & RS_STORAGE_TAGS)
			set_tag_times(*out, view);
		rc = rs_scan_add_stored(*out, r->reg, view->manifests, view->nmanifests, r->scan);
		if (rc == RS_EPARTIAL)
			partial_note(&partial);
		else if (rc < 0)
			goto done;
		rc = 0;
	}
	if (partial.code) {
		rs_error_restore(&partial);
		rc = rs_error_set(RS_EPARTIAL, "%s", rs_error_message());
	}
done:
	if (rc < 0 && rc != RS_EPARTIAL) {
		rs_inventory_free(*out);
		*out = NULL;
	}
	rs_storage_view_free(view);
	return rc;
}
