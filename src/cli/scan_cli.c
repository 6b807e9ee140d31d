/* scan_cli.c: choosing how to enumerate the registry: through the API, or
 * with --index-from-storage from the storage's tag links in one pass. */
#include "cli.h"
#include "base/error.h"
#include "base/log.h"
#include "progress.h"
#include "base/util.h"
#include "ssh_cli.h"
#include "storage/tagindex.h"

#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int scan_from_storage(struct cli_ctx *ctx, const struct rs_scan_options *opts,
			     struct rs_inventory **out)
{
	struct rs_ssh *ssh = NULL;
	struct rs_tag_index *index = NULL;
	struct rs_known_tag *known = NULL;
	struct rs_fs fs;
	char *root = NULL;
	double started = now_s();
	int rc = 0;

	if (ctx->settings.ssh && *ctx->settings.ssh)
		rc = cli_ssh_connect(ctx, &ssh);
	if (rc == 0)
		rc = cli_storage_locate(ctx, ssh, &fs, &root);
	/* over SSH one remote command lists every link; locally, read the files */
	if (rc == 0 && ssh)
		rc = rs_tag_index_read_remote(&index, ssh, root,
					      (long)ctx->settings.command_timeout * 1000);
	else if (rc == 0)
		rc = rs_tag_index_read(&index, &fs, root);
	if (rc < 0) {
		rs_error_prefix("--index-from-storage: ");
		goto done;
	}
	rs_log(RS_LOG_VERBOSE, "storage: %zu tags of %zu repositories read from '%s' in %.2f s "
	       "(%llu links)", index->ntags, index->nrepos, root, now_s() - started,
	       (unsigned long long)index->files_read);
	known = calloc(index->ntags ? index->ntags : 1, sizeof(*known));
	if (!known) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < index->ntags; i++) {
		known[i].repo = index->repos[index->tags[i].repo];
		known[i].tag = index->tags[i].tag;
		known[i].digest = index->tags[i].digest;
	}
	rc = rs_scan_known_tags(out, ctx->registry, opts, index->repos, index->failed,
				index->nrepos, known, index->ntags);
done:
	free(known);
	rs_tag_index_free(index);
	free(root);
	rs_ssh_free(ssh);
	return rc;
}

int cli_scan(struct cli_ctx *ctx, const struct rs_scan_options *opts, struct rs_inventory **out)
{
	*out = NULL;
	if (ctx->settings.index_from_storage)
		return scan_from_storage(ctx, opts, out);
	return rs_scan(out, ctx->registry, opts);
}

int cli_inventory(struct cli_ctx *ctx, const struct rs_scan_options *opts,
		  struct rs_inventory **out, int64_t *blobs, int64_t *bytes)
{
	char partial[2048] = "";
	int rc;

	*blobs = *bytes = -1;
	rc = cli_scan(ctx, opts, out);
	cli_progress_done(ctx);
	if (rc == RS_EPARTIAL)
		rs_strlcpy(partial, rs_error_message(), sizeof(partial));
	else if (rc < 0)
		return rc;
	rc = cli_storage_view(ctx, *out, opts, blobs, bytes);
	if (rc == RS_EPARTIAL && !partial[0]) {
		rs_strlcpy(partial, rs_error_message(), sizeof(partial));
	} else if (rc < 0 && rc != RS_EPARTIAL) {
		rs_inventory_free(*out);
		*out = NULL;
		return rc;
	}
	if (partial[0])
		return rs_error_set(RS_EPARTIAL, "%s", partial);
	return 0;
}
