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
#include "scan/scan.h"

#include <stddef.h>
#include <stdint.h>

enum rs_fs_type {
	RS_FS_OTHER = 0,
	RS_FS_FILE,
	RS_FS_DIR
};

struct rs_fs_entry {
	const char *name;        /* in a listing: the entry's name, borrowed for the callback */
	enum rs_fs_type type;    /* symbolic links are followed */
	uint64_t size;
	int64_t mtime;           /* Unix seconds, RS_TIME_UNKNOWN if not known */
};

/* Called for each entry of a directory ("." and ".." left out); return 0
 * to go on, negative to stop the listing with that code. */
typedef int (*rs_fs_list_fn)(const struct rs_fs_entry *entry, void *userdata);

/* What a filesystem offers. Every function returns 0, RS_ENOTFOUND when
 * the path does not exist (without setting a message, as that is expected
 * during a walk), or another code with the message set. */
struct rs_fs_ops {
	const char *name;        /* "local", "sftp" */
	int (*list)(void *impl, const char *path, rs_fs_list_fn fn, void *userdata);
	int (*stat)(void *impl, const char *path, struct rs_fs_entry *out);
	/* Read a whole file of at most `max` bytes into `out` (appended);
	 * a bigger file is RS_EPROTO. `mtime` (may be NULL) gets its mtime. */
	int (*read)(void *impl, const char *path, size_t max, struct rs_buf *out, int64_t *mtime);
};

struct rs_fs {
	const struct rs_fs_ops *ops;
	void *impl;              /* borrowed from whoever made the view */
};

/* The local filesystem. */
void rs_fs_local(struct rs_fs *out);

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
