/* scan.h: enumerate a registry into an inventory, concurrently.
 *
 * The scan is a pipeline on one event loop: catalog pages (following Link)
 * feed tag-list requests per repository (following Link), which feed one
 * manifest GET per tag (all four media types accepted, the body's SHA-256
 * checked against Docker-Content-Digest), which feed GETs of index children
 * by digest and, when dates are needed, of config blobs (each distinct
 * config once across the registry). Every distinct manifest body is read
 * once per repository.
 *
 * A failed read never aborts the whole scan: it marks the repository
 * `failed` (the planner then deletes nothing there) and the scan returns
 * RS_EPARTIAL with the first error's message. Errors that make the whole
 * registry unreadable (not a registry, bad credentials for the catalog)
 * are returned as they are.
 */
#ifndef RS_SCAN_H
#define RS_SCAN_H

#include "model/inventory.h"
#include "net/registry.h"
#include "storage/storage.h"

#include <stdint.h>

struct rs_cache;

struct rs_scan_progress {
	const char *stage;          /* "catalog", "tags", "manifests", "configs" */
	uint64_t repos;
	uint64_t tags;
	uint64_t manifests;
	uint64_t configs;
	uint64_t requests;
	uint64_t errors;
};

typedef void (*rs_scan_progress_fn)(const struct rs_scan_progress *p, void *userdata);

struct rs_scan_options {
	int need_dates;             /* read config blobs for `created` */
	int page_size;              /* catalog and tag-list page size, 0 = 1000 */
	int shard_index;            /* 1-based K of --shard K/N; 0 = all */
	int shard_count;            /* N */
	/* Only repositories for which this returns non-zero are scanned
	 * (NULL: all). */
	int (*repo_filter)(const char *name, void *userdata);
	void *filter_userdata;
	struct rs_cache *cache;     /* content-addressed cache, may be NULL */
	rs_scan_progress_fn progress;
	void *progress_userdata;
	int need_tag_times;         /* each tag's push time, from the storage view (job/) */
};

#define RS_SCAN_OPTIONS_INIT { 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0 }

/* Parse "K/N" (1 <= K <= N). */
int rs_shard_parse(int *index, int *count, const char *text);

/* Does repository `name` belong to shard K of N? */
int rs_shard_member(const char *name, int index, int count);

/* Scan the registry. On success or RS_EPARTIAL, *out holds the inventory
 * (the caller's); on any other error *out is NULL. */
int rs_scan(struct rs_inventory **out, struct rs_registry *reg, const struct rs_scan_options *opts);

/* Scan one repository's tags and manifests again (apply's re-check right
 * before deleting). *out is the caller's. */
int rs_scan_repo(struct rs_inventory **out, struct rs_registry *reg, const char *repo);

/* Add what the storage lists to an inventory from rs_scan(): each manifest
 * is marked RS_MF_FROM_STORAGE with its stored_at; one the scan did not see
 * (untagged history) is read by digest through the API, verified and
 * parsed, and its children followed. Repositories the scan did not list are
 * ignored (another shard, or filtered out). Dates are read when `opts`
 * asks. Returns 0, or RS_EPARTIAL when some reads failed (those
 * repositories are marked failed). */
int rs_scan_add_stored(struct rs_inventory *inv, struct rs_registry *reg,
		       const struct rs_stored_manifest *list, size_t count,
		       const struct rs_scan_options *opts);

/* A tag whose digest is already known (read from the storage). */
struct rs_known_tag {
	const char *repo;
	const char *tag;
	const char *digest;
};

/* Build an inventory from known repositories and tags instead of the
 * catalog and one request per tag: each distinct manifest is read by digest
 * (from the cache when it is there) and verified, and index children are
 * followed. Repositories named in `failed_repos` are marked failed. The
 * options' shard and filter apply. Returns like rs_scan(). */
int rs_scan_known_tags(struct rs_inventory **out, struct rs_registry *reg,
		       const struct rs_scan_options *opts, char *const *repos,
		       const unsigned char *failed_repos, size_t nrepos,
		       const struct rs_known_tag *tags, size_t ntags);

#endif
