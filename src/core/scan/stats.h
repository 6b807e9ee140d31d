/* stats.h: the data summary (the seed's "[ Data summary ]") of an inventory.
 *
 * Repositories and tags as listed; manifests once per repository that holds
 * them (index children included); blobs (configs and layers) once per
 * digest across the whole registry, and their bytes as the descriptors
 * declare them. Storage figures (what the blob store really holds on disk)
 * come from the storage view when one was read, else they are -1.
 */
#ifndef RS_STATS_H
#define RS_STATS_H

#include "base/buf.h"
#include "model/inventory.h"

#include <stdint.h>

struct rs_stats {
	uint64_t repositories;
	uint64_t tags;
	uint64_t manifests;
	uint64_t blobs;
	uint64_t bytes;
	int64_t storage_blobs;    /* -1: unknown */
	int64_t storage_bytes;    /* -1: unknown */
};

struct rs_repo_stats {
	const char *name;         /* borrowed from the inventory */
	struct rs_stats stats;    /* blobs and bytes counted within the repository */
};

/* Compute the registry-wide figures. */
int rs_stats_compute(struct rs_stats *out, const struct rs_inventory *inv);

/* Figures per repository, in inventory order; *out has inv->nrepos entries
 * and is the caller's (free()). */
int rs_stats_per_repo(struct rs_repo_stats **out, const struct rs_inventory *inv);

/* The text summary, as the seed printed it. */
int rs_stats_format_text(struct rs_buf *out, const struct rs_stats *stats);

/* One JSON object {"repositories":N,"tags":N,"manifests":N,"blobs":N,
 * "bytes":N[,"storage_blobs":N,"storage_bytes":N][,"repos":[...]]}. */
int rs_stats_format_json(struct rs_buf *out, const struct rs_stats *stats,
			 const struct rs_repo_stats *per_repo, size_t nrepos);

#endif
