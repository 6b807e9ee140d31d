/* backend.h: what a storage backend implements, and the sink it reports
 * to. Internal to src/core/storage/.
 *
 * A backend walks or lists its storage and reports what it finds, raw, to
 * the sink: names as found (not yet checked), link contents as read, sizes
 * and times as the storage gives them. The sink (view.c) applies the one
 * set of rules of storage.h and builds the view, so that every backend
 * decides alike. Paths given to the sink are relative to
 * ROOT/docker/registry/v2/repositories (repository names) or are the parts
 * of a blob's path; lengths are explicit because backends parse them out of
 * longer lines or keys.
 */
#ifndef RS_STORAGE_BACKEND_H
#define RS_STORAGE_BACKEND_H

#include "base/buf.h"
#include "storage/storage.h"

#include <stddef.h>
#include <stdint.h>

#define RS_STORAGE_V2 "docker/registry/v2"
/* Bounds of a walk: components of a repository name, and entries looked at. */
#define RS_STORAGE_MAX_DEPTH 32
#define RS_STORAGE_MAX_ENTRIES 50000000ULL
/* The most a link file may hold before it is not a link. */
#define RS_STORAGE_LINK_MAX 256

struct rs_storage_sink;

struct rs_storage_ops {
	const char *driver;          /* "filesystem", "s3" */
	/* Report everything `what` asks for to `sink`. Returns 0, or an error
	 * when the storage could not be read (the sink's view is then dropped).
	 * A missing root is reported with rs_sink_root_missing(). */
	int (*read)(void *impl, unsigned what, struct rs_storage_sink *sink);
	void (*free)(void *impl);
};

struct rs_storage {
	const struct rs_storage_ops *ops;
	void *impl;
	char *where;                 /* for messages; owned */
};

/* Wrap a backend (takes `impl` and `where`, also on failure). */
int rs_storage_new(struct rs_storage **out, const struct rs_storage_ops *ops, void *impl,
		   char *where);

/* --- the sink --------------------------------------------------------------
 * Each function returns 0, or a negative code (out of memory, a bound passed)
 * that the backend must pass up, stopping its read. */

/* The root does not exist (RS_ENOTFOUND is then returned by the read), or
 * exists but holds something other than docker/registry/v2 (`not_registry`). */
int rs_sink_root_missing(struct rs_storage_sink *s, int not_registry);

/* A directory (or key prefix) NAME holding _manifests: a repository. */
int rs_sink_repo(struct rs_storage_sink *s, const char *name, size_t len);

/* NAME/_manifests/revisions/sha256/HEX/link: `size` -1 when unknown, `mtime`
 * RS_TIME_UNKNOWN when unknown, `content` NULL when not read. */
int rs_sink_revision(struct rs_storage_sink *s, const char *repo, size_t repo_len,
		     const char *hex, size_t hex_len, int64_t size, int64_t mtime,
		     const char *content, size_t content_len);

/* NAME/_manifests/tags/TAG: `has_link` 0 when the tag holds no current/link
 * (then size and mtime are ignored). */
int rs_sink_tag(struct rs_storage_sink *s, const char *repo, size_t repo_len, const char *tag,
		size_t tag_len, int has_link, int64_t size, int64_t mtime);

/* A line of the content of NAME/_manifests/tags/TAG/current/link (may come
 * apart from rs_sink_tag, before or after it; a link holds exactly one). */
int rs_sink_tag_content(struct rs_storage_sink *s, const char *repo, size_t repo_len,
			const char *tag, size_t tag_len, const char *content, size_t content_len);

/* blobs/sha256/PREFIX/HEX/data of `size` bytes (-1: unknown). */
int rs_sink_blob(struct rs_storage_sink *s, const char *prefix, size_t prefix_len,
		 const char *hex, size_t hex_len, int64_t size);

/* A name with characters no registry name has ([^A-Za-z0-9._-]), found in
 * the directory `parent` (relative to repositories/, "" at the top): inside
 * a repository's _manifests its repository is incomplete; elsewhere the view
 * is partial. The name itself is not given: it may hold anything. */
int rs_sink_odd_name(struct rs_storage_sink *s, const char *parent, size_t len);

/* Does a path component hold a character no registry name has? Backends
 * report such names with rs_sink_odd_name() instead of their records. */
int rs_storage_name_is_odd(const char *name, size_t len);

/* Something inside repository `repo` that is not what a registry writes
 * (`what`, a phrase: "a revision link too large to be one"). */
int rs_sink_odd(struct rs_storage_sink *s, const char *repo, size_t len, const char *what);

/* Output that cannot be understood, attributable to no repository: every
 * repository is incomplete. */
int rs_sink_garbage(struct rs_storage_sink *s, const char *what);

/* Count an entry looked at (a bound: RS_STORAGE_MAX_ENTRIES) and a round
 * trip to the backend. */
int rs_sink_entry(struct rs_storage_sink *s);
void rs_sink_request(struct rs_storage_sink *s);

/* Build a view from `read` (a backend's read function and its impl), as
 * rs_storage_read does; `where` names the storage in messages;
 * `max_entries` bounds the entries looked at (0: RS_STORAGE_MAX_ENTRIES).
 * For backends and tests. */
int rs_storage_view_build(struct rs_storage_view **out, const char *where, unsigned what,
			  uint64_t max_entries,
			  int (*read)(void *impl, unsigned what, struct rs_storage_sink *sink),
			  void *impl);

/* --- backends ---------------------------------------------------------------- */

/* The find backend's script (find.c) for `what`, appended to `out`: POSIX
 * sh, the root as $1. And its output's parser: feed it each line (without
 * its newline); *state starts at 0 and ends RS_STORAGE_FIND_DONE when the
 * script finished. */
enum rs_storage_find_state {
	RS_STORAGE_FIND_RUNNING = 0,
	RS_STORAGE_FIND_NO_ROOT,
	RS_STORAGE_FIND_NOT_REGISTRY,
	RS_STORAGE_FIND_NO_FIND,
	RS_STORAGE_FIND_DONE
};
int rs_storage_find_script(struct rs_buf *out, unsigned what);
int rs_storage_find_line(struct rs_storage_sink *s, const char *line, size_t len,
			 enum rs_storage_find_state *state);

/* The walk of storage.h over any filesystem interface (local, SFTP). */
int rs_storage_walk(const struct rs_fs *fs, const char *root, unsigned what,
		    struct rs_storage_sink *sink);

#endif
