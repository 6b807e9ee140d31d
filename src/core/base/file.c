/* file.c: reading and writing whole files safely (see file.h). */
#include "base/file.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory of `path` and its base name, as malloc'd copies. */
static int split(const char *path, char **dir, char **base)
{
	char *a = strdup(path), *b = strdup(path);

	*dir = *base = NULL;
	if (!a || !b) {
		free(a);
		free(b);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	*dir = strdup(dirname(a));
	*base = strdup(basename(b));
	free(a);
	free(b);
	if (!*dir || !*base) {
		free(*dir);
		free(*base);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

int rs_file_temp(int *fd, char **tmp, const char *path)
{
	char *dir = NULL, *base = NULL;
	int rc;

	*fd = -1;
	*tmp = NULL;
	rc = split(path, &dir, &base);
	if (rc < 0)
		return rc;
	if (asprintf(tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		*tmp = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	*fd = mkostemp(*tmp, O_CLOEXEC);   /* mode 0600 */
	if (*fd < 0) {
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
	}
done:
	free(dir);
	free(base);
	return rc;
}

int rs_file_sync_dir(const char *path)
{
	char *dir = NULL, *base = NULL;
	int fd, rc = split(path, &dir, &base);

	if (rc < 0)
		return rc;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = rs_error_set(RS_ERROR, "cannot sync the directory of '%s': %s", path,
				  strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	free(base);
	return rc;
}

int rs_file_commit(int fd, const char *tmp, const char *path)
{
	struct stat st;
	int rc = 0;

	if (fsync(fd) < 0)
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	if (rc == 0 && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		rs_log(RS_LOG_WARN, "warning: '%s' was a symbolic link: it is replaced by the file, "
		       "and what it pointed at is left alone", path);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return rs_file_sync_dir(path);
}

int rs_file_write(const char *path, const void *data, size_t len)
{
	const char *p = data;
	char *tmp = NULL;
	size_t done = 0;
	int fd, rc;

	rc = rs_file_temp(&fd, &tmp, path);
	if (rc < 0)
		return rc;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (rc < 0) {
		close(fd);
		unlink(tmp);
	} else {
		rc = rs_file_commit(fd, tmp, path);
	}
	free(tmp);
	return rc;
}

int rs_file_read(char **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0, cap = 0;
	int fd, rc = 0;

	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return RS_ENOTFOUND;
		return rs_error_set(RS_ERROR, "cannot read '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = rs_error_set(RS_ERROR, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rs_error_set(RS_ERROR, "cannot read '%s': not a regular file", path);
		goto done;
	}
	for (;;) {
		ssize_t n;

		if (have == cap) {
			size_t grow = cap ? cap * 2 : 4096;
			char *bigger;

			if (cap > max) {
				rc = rs_error_set(RS_EPROTO, "'%s' is larger than %zu bytes", path, max);
				goto done;
			}
			bigger = realloc(buf, grow + 1);
			if (!bigger) {
				rc = rs_error_set(RS_ERROR, "out of memory");
				goto done;
			}
			buf = bigger;
			cap = grow;
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rs_error_set(RS_ERROR, "cannot read '%s': %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			rc = rs_error_set(RS_EPROTO, "'%s' is larger than %zu bytes", path, max);
			goto done;
		}
	}
	if (!buf && !(buf = malloc(1))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	buf[have] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = have;
done:
	free(buf);
	close(fd);
	return rc;
}

int rs_file_private_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return rs_error_set(RS_ERROR, "cannot create '%s': %s", path, strerror(errno));
	if (lstat(path, &st) < 0)
		return rs_error_set(RS_ERROR, "cannot use '%s': %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return rs_error_set(RS_EUSAGE, "'%s' is a symbolic link: give the directory itself",
				    path);
	if (!S_ISDIR(st.st_mode))
		return rs_error_set(RS_EUSAGE, "'%s' exists and is not a directory", path);
	if (st.st_uid != geteuid())
		return rs_error_set(RS_EUSAGE, "'%s' belongs to another user (uid %ld): regsweep keeps "
				    "its backups only in directories of its own", path, (long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return rs_error_set(RS_EUSAGE, "'%s' is writable by others (mode %03o): make it 0700",
				    path, (unsigned)(st.st_mode & 0777));
	return 0;
}
