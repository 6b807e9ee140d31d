/* storage.h: the storage view, what the registry's filesystem storage really
 * holds: every manifest revision of every repository, tagged or not, with
 * the time its link was written, and the blob store's count and bytes.
 *
 * It reads through a small filesystem interface (struct rs_fs) so the same
 * walk runs over SFTP (ssh.h) or on the local disk (rs_fs_local). The
 * layout, under ROOT/docker/registry/v2/:
 *   repositories/NAME/_manifests/revisions/sha256/HEX/link  ("sha256:HEX")
 *   blobs/sha256/XX/HEX/data
 * NAME may have several components (a/b/c): a repository is a directory
 * that holds `_manifests`, and the walk goes on below it for nested names.
 * A revision directory without a link is a deleted manifest and is not
 * listed. The walk is bounded in depth and in entries looked at.
 *
 * Nothing read here is ever placed in a command: names only become strings
 * in the view.
 */
#ifndef RS_STORAGE_H
#define RS_STORAGE_H

#include "base/buf.h"
#include "base/digest.h"
#include "base/fs.h"

#include <stddef.h>
#include <stdint.h>

/* A manifest the storage lists (tagged or not), with when it was stored. */
struct rs_stored_manifest {
	const char *repo;
	char digest[RS_DIGEST_MAX];
	int64_t stored_at;          /* RS_TIME_UNKNOWN if not known */
};

struct rs_inventory;

struct rs_storage_options {
	unsigned max_depth;      /* components of a repository name (default 32) */
	uint64_t max_entries;    /* directory entries and files looked at (default 10 million) */
	int list_manifests;      /* walk the repositories (default on) */
	int count_blobs;         /* walk the blob store (default on) */
};

#define RS_STORAGE_OPTIONS_INIT { 32, 10000000, 1, 1 }

struct rs_storage_view {
	char *root;                            /* owned */
	char **repos;                          /* owned names, in walk order (sorted) */
	size_t nrepos;
	struct rs_stored_manifest *manifests;  /* `repo` points into repos[] */
	size_t nmanifests;
	int64_t blobs;                         /* -1 when not counted */
	int64_t bytes;                         /* -1 when not counted */
	uint64_t entries;                      /* entries looked at */
	uint64_t bad_links;                    /* links whose content did not match */
};

/* Walk the storage under `root` through `fs`. *out is the caller's (free
 * with rs_storage_view_free). A missing root, or one that holds something
 * but no docker/registry/v2, is RS_ENOTFOUND with a message; an empty root
 * or one without repositories (a registry that never had a push) is an
 * empty view. Exceeding a bound is RS_ERROR naming it. */
int rs_storage_read(struct rs_storage_view **out, const struct rs_fs *fs, const char *root,
		    const struct rs_storage_options *opts);

void rs_storage_view_free(struct rs_storage_view *view);

/* How many revisions of `view` are not in `inv` (untagged history and
 * manifests of repositories the scan did not list). */
size_t rs_storage_count_unseen(const struct rs_storage_view *view,
			       const struct rs_inventory *inv);

#endif
