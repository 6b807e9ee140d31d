/* collect.c: garbage collection as a job (see job/collect.h). */
#include "job/collect.h"
#include "base/error.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>

int rs_collect_check_delete_untagged(const struct rs_inventory *inv)
{
	for (size_t r = 0; r < inv->nrepos; r++) {
		const struct rs_repo *repo = inv->repos[r];

		if (repo->failed)
			return rs_error_set(RS_EUSAGE, "refusing --delete-untagged: the scan could not "
					    "read all of '%s', so it cannot rule out multi-arch "
					    "images there", repo->name);
		for (size_t m = 0; m < repo->nmanifests; m++) {
			const struct rs_manifest *man = repo->manifests[m];

			if (!rs_media_type_is_index(man->type))
				continue;
			return rs_error_set(RS_EUSAGE,
					    "refusing --delete-untagged: '%s' holds the multi-arch "
					    "index '%s', and garbage-collect --delete-untagged on "
					    "distribution 2.x deletes the children of tagged indexes "
					    "(their images stop pulling; fixed only in 3.0); remove "
					    "untagged history with 'regsweep apply' instead, which "
					    "keeps what indexes need", repo->name, man->digest);
		}
	}
	return 0;
}

/* The registry scanned for indexes, when the caller had no inventory. */
static int check_delete_untagged(const struct rs_collect_options *opts)
{
	struct rs_scan_options scan = RS_SCAN_OPTIONS_INIT;
	struct rs_inventory *scanned = NULL;
	int rc;

	if (opts->inv)
		return rs_collect_check_delete_untagged(opts->inv);
	if (!opts->reg)
		return rs_error_set(RS_EUSAGE, "--delete-untagged needs -r URL: regsweep first checks "
				    "that the registry holds no multi-arch index, whose children "
				    "garbage-collect --delete-untagged would delete on 2.x");
	rs_log(RS_LOG_INFO, "gc: scanning the registry for multi-arch indexes (--delete-untagged)");
	rc = rs_scan(&scanned, opts->reg, &scan);
	if (rc == RS_EPARTIAL)
		rc = rs_error_set(RS_EUSAGE, "refusing --delete-untagged: the scan could not read "
				  "everything (%s)", rs_error_message());
	if (rc == 0)
		rc = rs_collect_check_delete_untagged(scanned);
	rs_inventory_free(scanned);
	return rc;
}

/* The blob store's count and bytes. */
static int measure(const struct rs_storage_location *loc, int64_t *blobs, int64_t *bytes)
{
	struct rs_storage *st = NULL;
	struct rs_storage_view *view = NULL;
	int rc = rs_storage_open(&st, loc);

	if (rc == 0)
		rc = rs_storage_read(&view, st, RS_STORAGE_BLOBS);
	if (rc == 0) {
		*blobs = view->blobs;
		*bytes = view->bytes;
	}
	rs_storage_view_free(view);
	rs_storage_free(st);
	return rc;
}

int rs_collect_run(struct rs_collect *out, const struct rs_collect_options *opts)
{
	struct rs_storage_location loc = opts->storage;
	struct rs_ssh *ssh = NULL;
	int rc, measured;

	memset(out, 0, sizeof(*out));
	rs_gc_result_init(&out->result, "");
	out->dry_run = opts->gc.dry_run;
	out->blobs_before = out->bytes_before = out->blobs_after = out->bytes_after = -1;
	rc = rs_gc_validate(&opts->gc);
	if (rc == 0 && opts->gc.delete_untagged)
		rc = check_delete_untagged(opts);
	if (rc < 0)
		return rc;
	if (!opts->gc.dry_run && !(opts->gc.before && *opts->gc.before))
		rs_log(RS_LOG_WARN, "warning: no --before-gc command: garbage-collect runs while the "
		       "registry accepts pushes, and a push during GC can lose blobs; make it "
		       "read-only or stop it with --before-gc, and restore it with --after-gc");
	rc = rs_ssh_connect(&ssh, opts->ssh);
	if (rc < 0)
		return rc;
	out->host = strdup(rs_ssh_describe(ssh));
	if (!out->host) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	loc.ssh = ssh;
	measured = (loc.root && *loc.root) || (loc.registry_config && *loc.registry_config);
	if (measured) {
		rc = measure(&loc, &out->blobs_before, &out->bytes_before);
		if (rc < 0)
			goto done;
	}
	rc = rs_gc_run(&out->result, ssh, &opts->gc);
	if (rc == 0 && measured && !opts->gc.dry_run) {
		rc = measure(&loc, &out->blobs_after, &out->bytes_after);
		if (rc < 0)
			rs_error_prefix("garbage collection done, but measuring the storage failed: ");
	}
done:
	rs_ssh_free(ssh);
	return rc;
}

void rs_collect_release(struct rs_collect *c)
{
	free(c->host);
	c->host = NULL;
}

int rs_collect_started(const struct rs_collect *c)
{
	return c->host && c->result.id[0];
}
