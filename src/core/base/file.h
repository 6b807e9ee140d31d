/* file.h: whole files, read and written the one safe way.
 *
 * Every file regsweep writes (reports, metrics, plans, backups, cache packs
 * and indexes) goes through rs_file_write: a temporary file made with
 * mkstemp in the target's own directory (mode 0600), written, fsync'ed,
 * renamed over the target, and the directory fsync'ed, so that a crash
 * leaves either the old file or the new one, never half of one, and no
 * other user can read it meanwhile. A target that is a symbolic link is
 * replaced by the file (rename acts on the link): the link's target is never
 * written through.
 */
#ifndef RS_FILE_H
#define RS_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write `len` bytes of `data` to `path` as described above. RS_ERROR with
 * the path and the system's reason. */
int rs_file_write(const char *path, const void *data, size_t len);

/* Read the whole regular file `path` (at most `max` bytes) into *out,
 * NUL-terminated (the caller's), its length in *len (may be NULL).
 * RS_ENOTFOUND without a message when it does not exist; RS_EPROTO when it
 * is larger than `max`; RS_ERROR otherwise. */
int rs_file_read(char **out, size_t *len, const char *path, size_t max);

/* Make a temporary file next to `path` ("DIR/.NAME.XXXXXX", mode 0600):
 * *fd is open for writing, *tmp (the caller's) its name. For writers that
 * stream (cache packs); finish with rs_file_commit. */
int rs_file_temp(int *fd, char **tmp, const char *path);

/* fsync and close `fd`, rename `tmp` over `path`, fsync the directory. On
 * failure `tmp` is removed. */
int rs_file_commit(int fd, const char *tmp, const char *path);

/* fsync the directory holding `path` (a rename there is then durable). */
int rs_file_sync_dir(const char *path);

/* A directory regsweep keeps private things in (backups, the cache):
 * create it (0700) if missing; when it exists, it must be a real directory
 * (not a symbolic link), owned by this user, and not writable by others.
 * RS_EUSAGE saying which rule it breaks. */
int rs_file_private_dir(const char *path);

#endif
