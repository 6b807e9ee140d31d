/* fs.c: the local-disk implementation of the filesystem interface (fs.h). */
#include "base/fs.h"
#include "base/error.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void entry_from_stat(struct rs_fs_entry *e, const struct stat *st)
{
	e->type = S_ISDIR(st->st_mode) ? RS_FS_DIR : S_ISREG(st->st_mode) ? RS_FS_FILE : RS_FS_OTHER;
	e->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
	e->mtime = (int64_t)st->st_mtime;
}

static int local_fail(const char *what, const char *path, int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return RS_ENOTFOUND;
	return rs_error_set(RS_ERROR, "cannot %s '%s': %s", what, path, strerror(err));
}

static int local_list(void *impl, const char *path, rs_fs_list_fn fn, void *userdata)
{
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	(void)impl;
	dir = opendir(path);
	if (!dir)
		return local_fail("list", path, errno);
	errno = 0;
	while (rc == 0 && (de = readdir(dir))) {
		struct rs_fs_entry e;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.name = de->d_name;
		e.mtime = RS_TIME_UNKNOWN;
		/* follow symbolic links, as the registry's driver does */
		if (fstatat(dirfd(dir), de->d_name, &st, 0) == 0)
			entry_from_stat(&e, &st);
		rc = fn(&e, userdata);
		errno = 0;
	}
	if (rc == 0 && errno)
		rc = rs_error_set(RS_ERROR, "cannot list '%s': %s", path, strerror(errno));
	closedir(dir);
	return rc;
}

static int local_stat(void *impl, const char *path, struct rs_fs_entry *out)
{
	struct stat st;

	(void)impl;
	memset(out, 0, sizeof(*out));
	if (stat(path, &st) < 0)
		return local_fail("read", path, errno);
	entry_from_stat(out, &st);
	return 0;
}

static int local_read(void *impl, const char *path, size_t max, struct rs_buf *out, int64_t *mtime)
{
	struct stat st;
	char chunk[4096];
	size_t total = 0;
	int fd, rc = 0;

	(void)impl;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return local_fail("read", path, errno);
	if (fstat(fd, &st) < 0) {
		rc = local_fail("read", path, errno);
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rs_error_set(RS_ERROR, "cannot read '%s': not a regular file", path);
		goto close_fd;
	}
	if (mtime)
		*mtime = (int64_t)st.st_mtime;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rs_error_set(RS_ERROR, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			rc = rs_error_set(RS_EPROTO, "'%s' is larger than %zu bytes", path, max);
			break;
		}
		rc = rs_buf_put(out, chunk, (size_t)n);
		if (rc < 0)
			break;
	}
close_fd:
	close(fd);
	return rc;
}

static const struct rs_fs_ops local_ops = { "local", local_list, local_stat, local_read };

void rs_fs_local(struct rs_fs *out)
{
	out->ops = &local_ops;
	out->impl = NULL;
}

