/* cmd_gc.c: `regsweep gc`, garbage collection on the registry host over SSH:
 * prints the figures, each step's exit status and which step failed. */
#include "cli.h"
#include "base/error.h"
#include "ssh_cli.h"

#include <stdlib.h>

int cmd_gc(struct cli_ctx *ctx)
{
	struct rs_gc_result result;
	struct cli_gc_storage storage;
	struct rs_buf out = RS_BUF_INIT;
	char *host = NULL;
	int rc, print_rc;

	if (ctx->argc > 0)
		return rs_error_set(RS_EUSAGE, "'gc' takes no arguments, got '%s'", ctx->argv[0]);
	if (!ctx->settings.ssh || !*ctx->settings.ssh)
		return rs_error_set(RS_EUSAGE, "'gc' runs on the registry host: give --ssh "
				    "[USER@]HOST[:PORT]");
	rc = cli_gc_execute(ctx, NULL, &result, &storage, &host);
	if (!host || !result.id[0])
		goto done;      /* the script never started: nothing to report */
	print_rc = cli_gc_format(&out, &result, host, ctx->settings.dry_run, &storage,
				 ctx->settings.json);
	if (print_rc == 0)
		print_rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	if (rc == 0)
		rc = print_rc;
done:
	rs_buf_release(&out);
	free(host);
	return rc;
}
