/* storage_cli.c: reading the registry's storage for plan, stats and run
 * (placeholder until the SSH storage view lands: refuses storage settings). */
#include "cli.h"
#include "error.h"

int cli_storage_view(struct cli_ctx *ctx, struct rs_inventory *inv,
		     const struct rs_scan_options *opts, int64_t *blobs, int64_t *bytes)
{
	(void)inv;
	(void)opts;
	*blobs = -1;
	*bytes = -1;
	if (ctx->settings.ssh || ctx->settings.storage_root || ctx->settings.registry_config)
		return rs_error_set(RS_EUSAGE, "reading the registry's storage is not available in "
				    "this build yet");
	return 0;
}
