/* inventory.h (job): the inventory that plans and figures are made from.
 *
 * The registry is read through its API (the catalog, every tag, every
 * manifest: scan/scan.h), or, with `index_from_storage`, its tags are read
 * from the storage's tag links and only the manifests through the API, by
 * digest. When a storage is given, its view is merged in: every stored
 * manifest (untagged history, with the time it was stored, read by digest
 * through the API), each tag's push time, the blob store's figures, and the
 * repositories the storage could not vouch for (marked failed: the planner
 * deletes nothing there).
 */
#ifndef RS_JOB_INVENTORY_H
#define RS_JOB_INVENTORY_H

#include "model/inventory.h"
#include "net/registry.h"
#include "scan/scan.h"
#include "storage/storage.h"

#include <stdint.h>

struct rs_job_read {
	struct rs_registry *reg;              /* borrowed */
	const struct rs_scan_options *scan;   /* borrowed */
	struct rs_storage *storage;           /* borrowed; NULL: no storage view */
	int index_from_storage;               /* tags from the storage (needs `storage`) */
	int tag_times;                        /* read each tag's push time from the storage */
};

/* The storage's figures (-1 when there is no storage view). */
struct rs_job_storage_figures {
	int64_t blobs;
	int64_t bytes;
};

/* Read the registry as `r` says. *out holds the inventory on success and on
 * RS_EPARTIAL (some repositories could not be read completely: the message
 * says which; they are marked failed); on any other error *out is NULL. */
int rs_job_inventory(struct rs_inventory **out, struct rs_job_storage_figures *figures,
		     const struct rs_job_read *r);

/* How many manifests of `view` are not in `inv` (untagged history, and
 * manifests of repositories the scan did not list). */
size_t rs_job_count_unseen(const struct rs_storage_view *view, const struct rs_inventory *inv);

#endif
