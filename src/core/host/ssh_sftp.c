/* ssh_sftp.c: the registry host's filesystem over SFTP, as a struct rs_fs
 * for the storage view (see storage.h). Every call is blocking with the
 * session's time limit; a dropped connection ends the walk with RS_ENET. */
#include "host/ssh_internal.h"
#include "base/cancel.h"
#include "base/error.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sftp_start(struct rs_ssh *ssh)
{
	if (rs_interrupted())
		return rs_error_set(RS_ECANCELLED, "interrupted while reading '%s' over SFTP",
				    ssh->describe);
	if (ssh->sftp)
		return 0;
	libssh2_session_set_blocking(ssh->session, 1);
	libssh2_session_set_timeout(ssh->session, ssh->timeout_ms);
	ssh->sftp = libssh2_sftp_init(ssh->session);
	if (!ssh->sftp)
		return rs_ssh_fail(ssh, libssh2_session_last_errno(ssh->session),
				   "starting SFTP (is the sftp subsystem enabled?)");
	return 0;
}

/* Map the failure of an SFTP call on `path`. */
static int sftp_fail(struct rs_ssh *ssh, const char *what, const char *path)
{
	int code = libssh2_session_last_errno(ssh->session);
	unsigned long fx;

	if (code != LIBSSH2_ERROR_SFTP_PROTOCOL) {
		char msg[1200];

		snprintf(msg, sizeof(msg), "%s '%s' over SFTP", what, path);
		return rs_ssh_fail(ssh, code, msg);
	}
	fx = libssh2_sftp_last_error(ssh->sftp);
	switch (fx) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return RS_ENOTFOUND;
	case LIBSSH2_FX_PERMISSION_DENIED:
		return rs_error_set(RS_EDENIED, "cannot %s '%s' on '%s': permission denied", what, path,
				    ssh->describe);
	default:
		return rs_error_set(RS_EPROTO, "cannot %s '%s' on '%s': SFTP status %lu", what, path,
				    ssh->describe, fx);
	}
}

static void entry_from_attrs(struct rs_fs_entry *e, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	e->type = RS_FS_OTHER;
	if (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		if (LIBSSH2_SFTP_S_ISDIR(a->permissions))
			e->type = RS_FS_DIR;
		else if (LIBSSH2_SFTP_S_ISREG(a->permissions))
			e->type = RS_FS_FILE;
	}
	e->size = a->flags & LIBSSH2_SFTP_ATTR_SIZE ? a->filesize : 0;
	e->mtime = a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME ? (int64_t)a->mtime : RS_TIME_UNKNOWN;
}

static int sftp_stat(void *impl, const char *path, struct rs_fs_entry *out)
{
	struct rs_ssh *ssh = impl;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	int rc = sftp_start(ssh);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	memset(&attrs, 0, sizeof(attrs));
	if (libssh2_sftp_stat_ex(ssh->sftp, path, (unsigned)strlen(path), LIBSSH2_SFTP_STAT,
				 &attrs) != 0)
		return sftp_fail(ssh, "read", path);
	entry_from_attrs(out, &attrs);
	return 0;
}

static int sftp_list(void *impl, const char *path, rs_fs_list_fn fn, void *userdata)
{
	struct rs_ssh *ssh = impl;
	LIBSSH2_SFTP_HANDLE *dir;
	char name[1024];
	int rc = sftp_start(ssh);

	if (rc < 0)
		return rc;
	dir = libssh2_sftp_opendir(ssh->sftp, path);
	if (!dir)
		return sftp_fail(ssh, "list", path);
	while (rc == 0) {
		LIBSSH2_SFTP_ATTRIBUTES attrs;
		struct rs_fs_entry e;
		int n;

		memset(&attrs, 0, sizeof(attrs));
		n = libssh2_sftp_readdir_ex(dir, name, sizeof(name), NULL, 0, &attrs);
		if (n == 0)
			break;
		if (n < 0) {
			rc = sftp_fail(ssh, "list", path);
			if (rc == RS_ENOTFOUND)
				rc = 0;     /* it went away while we listed it */
			break;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		memset(&e, 0, sizeof(e));
		entry_from_attrs(&e, &attrs);
		if ((attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && LIBSSH2_SFTP_S_ISLNK(attrs.permissions)) {
			/* follow symbolic links, as the registry's driver does */
			char full[2200];

			snprintf(full, sizeof(full), "%s/%s", path, name);
			rc = sftp_stat(ssh, full, &e);
			if (rc == RS_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc < 0)
				break;
		}
		e.name = name;
		rc = fn(&e, userdata);
	}
	libssh2_sftp_closedir(dir);
	return rc;
}

static int sftp_read(void *impl, const char *path, size_t max, struct rs_buf *out, int64_t *mtime)
{
	struct rs_ssh *ssh = impl;
	LIBSSH2_SFTP_HANDLE *file;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	char chunk[16384];
	size_t total = 0;
	int rc = sftp_start(ssh);

	if (rc < 0)
		return rc;
	file = libssh2_sftp_open(ssh->sftp, path, LIBSSH2_FXF_READ, 0);
	if (!file)
		return sftp_fail(ssh, "read", path);
	memset(&attrs, 0, sizeof(attrs));
	if (libssh2_sftp_fstat(file, &attrs) != 0) {
		rc = sftp_fail(ssh, "read", path);
		goto close_file;
	}
	if ((attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && !LIBSSH2_SFTP_S_ISREG(attrs.permissions)) {
		rc = rs_error_set(RS_ERROR, "cannot read '%s' on '%s': not a regular file", path,
				  ssh->describe);
		goto close_file;
	}
	if ((attrs.flags & LIBSSH2_SFTP_ATTR_SIZE) && attrs.filesize > max) {
		rc = rs_error_set(RS_EPROTO, "'%s' on '%s' is larger than %zu bytes", path,
				  ssh->describe, max);
		goto close_file;
	}
	if (mtime)
		*mtime = attrs.flags & LIBSSH2_SFTP_ATTR_ACMODTIME ? (int64_t)attrs.mtime
			 : RS_TIME_UNKNOWN;
	for (;;) {
		ssize_t n = libssh2_sftp_read(file, chunk, sizeof(chunk));

		if (n == 0)
			break;
		if (n < 0) {
			rc = sftp_fail(ssh, "read", path);
			break;
		}
		total += (size_t)n;
		if (total > max) {
			rc = rs_error_set(RS_EPROTO, "'%s' on '%s' is larger than %zu bytes", path,
					  ssh->describe, max);
			break;
		}
		rc = rs_buf_put(out, chunk, (size_t)n);
		if (rc < 0)
			break;
	}
close_file:
	libssh2_sftp_close(file);
	return rc;
}

static const struct rs_fs_ops sftp_ops = { "sftp", sftp_list, sftp_stat, sftp_read };

void rs_ssh_fs(struct rs_fs *out, struct rs_ssh *ssh)
{
	out->ops = &sftp_ops;
	out->impl = ssh;
}
