/* cmd_stats.c: `regsweep stats`, the data summary of a registry. */
#include "cli.h"
#include "base/error.h"
#include "model/inventory.h"
#include "base/log.h"
#include "scan/scan.h"
#include "scan/stats.h"

#include <stdlib.h>
#include <string.h>

int cmd_stats(struct cli_ctx *ctx)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_inventory *inv = NULL;
	struct rs_repo_stats *per_repo = NULL;
	struct rs_stats stats;
	struct rs_buf out = RS_BUF_INIT;
	int64_t storage_blobs = -1, storage_bytes = -1;
	int rc, scan_rc;

	rc = cli_connect(ctx);
	if (rc == 0)
		rc = cli_scan_options(ctx, &opts);
	if (rc < 0)
		return rc;
	scan_rc = cli_inventory(ctx, &opts, &inv, &storage_blobs, &storage_bytes);
	rs_log(RS_LOG_VERBOSE, "scan: %llu requests",
	       (unsigned long long)rs_http_request_count(ctx->http));
	if (scan_rc < 0 && scan_rc != RS_EPARTIAL)
		return scan_rc;
	if (scan_rc == RS_EPARTIAL) {
		/* figures from a scan with failed reads would be wrong: say so and fail */
		rc = rs_error_set(RS_ERROR, "the scan could not read everything: %s",
				  rs_error_message());
		goto done;
	}
	rc = rs_stats_compute(&stats, inv);
	stats.storage_blobs = storage_blobs;
	stats.storage_bytes = storage_bytes;
	if (rc == 0 && ctx->settings.per_repo)
		rc = rs_stats_per_repo(&per_repo, inv);
	if (rc < 0)
		goto done;
	if (ctx->settings.json)
		rc = rs_stats_format_json(&out, &stats, per_repo, per_repo ? inv->nrepos : 0);
	else
		rc = rs_stats_format_text(&out, &stats);
	for (size_t i = 0; rc == 0 && !ctx->settings.json && per_repo && i < inv->nrepos; i++) {
		rc = rs_buf_printf(&out, "\n[ %s ]\n", per_repo[i].name);
		if (rc == 0) {
			struct rs_buf one = RS_BUF_INIT;

			rc = rs_stats_format_text(&one, &per_repo[i].stats);
			/* skip the heading line of the per-repository block */
			if (rc == 0)
				rc = rs_buf_puts(&out, strchr(rs_buf_cstr(&one), '\n') + 1);
			rs_buf_release(&one);
		}
	}
	if (rc == 0)
		rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
done:
	rs_buf_release(&out);
	free(per_repo);
	rs_inventory_free(inv);
	return rc;
}
