/* local.c: the storage backend for a filesystem driver's root on this
 * machine: the walk of walk.c over the local disk. */
#include "storage/backend.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct local {
	char *root;
};

static int local_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	struct local *l = impl;
	struct rs_fs fs;

	rs_fs_local(&fs);
	return rs_storage_walk(&fs, l->root, what, sink);
}

static void local_free(void *impl)
{
	struct local *l = impl;

	if (!l)
		return;
	free(l->root);
	free(l);
}

static const struct rs_storage_ops local_ops = { "filesystem", local_read, local_free };

int rs_storage_open_local(struct rs_storage **out, const char *root)
{
	struct local *l;
	char *where = NULL;

	*out = NULL;
	if (!root || !*root)
		return rs_error_set(RS_EUSAGE, "no storage root directory given");
	l = calloc(1, sizeof(*l));
	if (!l || !(l->root = strdup(root))) {
		free(l);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	if (asprintf(&where, "'%s' on this machine", root) < 0)
		where = NULL;
	return rs_storage_new(out, &local_ops, l, where);
}
