/* sftp.c: the storage backend for a filesystem driver's root on the SSH
 * host, read over SFTP: the walk of walk.c, a round trip per directory and
 * file. Slower than one remote `find` (find.c), which falls back to it
 * where the host's find cannot print what the view needs. */
#include "storage/sftp.h"
#include "storage/backend.h"
#include "base/error.h"
#include "host/ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sftp {
	struct rs_ssh *ssh;            /* borrowed */
	char *root;
};

int rs_storage_sftp_read(struct rs_ssh *ssh, const char *root, unsigned what,
			 struct rs_storage_sink *sink)
{
	struct rs_fs fs;

	rs_ssh_fs(&fs, ssh);
	return rs_storage_walk(&fs, root, what, sink);
}

static int sftp_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	struct sftp *s = impl;

	return rs_storage_sftp_read(s->ssh, s->root, what, sink);
}

static void sftp_free(void *impl)
{
	struct sftp *s = impl;

	if (!s)
		return;
	free(s->root);
	free(s);
}

static const struct rs_storage_ops sftp_ops = { "filesystem", sftp_read, sftp_free };

int rs_storage_open_sftp(struct rs_storage **out, struct rs_ssh *ssh, const char *root)
{
	struct sftp *s;
	char *where = NULL;

	*out = NULL;
	if (!root || !*root)
		return rs_error_set(RS_EUSAGE, "no storage root directory given");
	s = calloc(1, sizeof(*s));
	if (!s || !(s->root = strdup(root))) {
		free(s);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	s->ssh = ssh;
	if (asprintf(&where, "'%s' on %s (SFTP)", root, rs_ssh_describe(ssh)) < 0)
		where = NULL;
	return rs_storage_new(out, &sftp_ops, s, where);
}
