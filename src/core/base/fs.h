/* fs.h: a small filesystem interface (list a directory, stat a path, read
 * a whole small file), so that the same walk over a registry's storage runs
 * on the local disk (rs_fs_local) or on the registry host over SFTP
 * (rs_ssh_fs in host/ssh.h). */
#ifndef RS_FS_H
#define RS_FS_H

#include "base/buf.h"

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

#endif
