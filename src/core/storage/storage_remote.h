/* storage_remote.h: the storage view in one remote pass. Over SFTP the walk
 * of storage.c costs a round trip per directory and file; here a single
 * `find` on the host prints every manifest revision (with its time) and
 * every blob's size, so reading a large registry's storage costs one
 * command. Only the storage root (the user's setting, quoted) goes into the
 * command; its output is parsed and checked, never run. The view is the
 * same as rs_storage_read() gives, except that revision links are not
 * opened (their directory names the digest), so bad_links stays 0.
 */
#ifndef RS_STORAGE_REMOTE_H
#define RS_STORAGE_REMOTE_H

#include "host/ssh.h"
#include "storage/storage.h"

/* Read the view of the storage under `root` on the SSH host. *out is the
 * caller's (rs_storage_view_free). A missing root, or one that holds
 * something but no docker/registry/v2, is RS_ENOTFOUND; an empty root is an
 * empty view. */
int rs_storage_read_remote(struct rs_storage_view **out, struct rs_ssh *ssh, const char *root,
			   long timeout_ms);

/* Run `script` on the SSH host from the directory `root` (quoted: the only
 * setting that goes into a command), each line of its output to `line_fn`.
 * The `cd` failing is the script's to handle: it follows `cd ROOT`
 * directly, as in "cd ROOT 2>/dev/null || exit 0; ...". */
int rs_storage_remote_exec(struct rs_ssh *ssh, const char *root, const char *script,
			   rs_ssh_line_fn line_fn, void *userdata, long timeout_ms,
			   struct rs_ssh_exit *exit);

#endif
