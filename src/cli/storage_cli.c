/* storage_cli.c: reading the registry's storage for plan, stats and run:
 * every stored manifest (tagged or not) goes into the inventory, and the
 * blob store's figures become the storage figures of the summary. */
#include "cli.h"
#include "storage/storage_remote.h"
#include "base/error.h"
#include "model/inventory.h"
#include "base/log.h"
#include "scan/scan.h"
#include "ssh_cli.h"
#include "storage/storage.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>

int cli_storage_view(struct cli_ctx *ctx, struct rs_inventory *inv,
		     const struct rs_scan_options *opts, int64_t *blobs, int64_t *bytes)
{
	const struct rs_settings *s = &ctx->settings;
	struct rs_storage_view *view = NULL;
	struct rs_ssh *ssh = NULL;
	struct rs_fs fs;
	char *root = NULL, size[32];
	size_t unseen;
	int rc;

	*blobs = -1;
	*bytes = -1;
	if (!s->ssh && !s->storage_root && !s->registry_config)
		return 0;
	if (!ctx->registry)
		return rs_error_set(RS_ERROR, "the storage view needs the registry connection first");
	if (s->ssh && *s->ssh) {
		rc = cli_ssh_connect(ctx, &ssh);
		if (rc < 0)
			return rc;
	}
	rc = cli_storage_locate(ctx, ssh, &fs, &root);
	/* over SSH one remote `find` reads it all; locally, walk the files */
	if (rc == 0 && ssh)
		rc = rs_storage_read_remote(&view, ssh, root, (long)s->command_timeout * 1000);
	else if (rc == 0)
		rc = rs_storage_read(&view, &fs, root, NULL);
	if (rc < 0)
		goto done;
	unseen = rs_storage_count_unseen(view, inv);
	rs_log(RS_LOG_INFO, "storage: '%s'%s%s: %zu repositories, %zu manifest revisions (%zu not "
	       "reached through tags), %" PRId64 " blobs, %s on disk", root, ssh ? " on " : "",
	       ssh ? rs_ssh_describe(ssh) : "", view->nrepos, view->nmanifests, unseen, view->blobs,
	       rs_size_format(size, sizeof(size), view->bytes > 0 ? (uint64_t)view->bytes : 0));
	*blobs = view->blobs;
	*bytes = view->bytes;
	/* the SSH session is not needed while the API reads the untagged ones */
	rs_ssh_free(ssh);
	ssh = NULL;
	rc = rs_scan_add_stored(inv, ctx->registry, view->manifests, view->nmanifests, opts);
done:
	rs_storage_view_free(view);
	rs_ssh_free(ssh);
	free(root);
	return rc;
}
