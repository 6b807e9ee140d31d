/* cmd_gc.c: `regsweep gc`, garbage collection on the registry host over SSH:
 * prints the figures, each step's exit status and which step failed. */
#include "cli.h"
#include "base/error.h"
#include "report/gcreport.h"
#include "ssh_cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_gc(struct cli_ctx *ctx)
{
	struct rs_collect c;
	struct rs_buf out = RS_BUF_INIT;
	char *json = NULL;
	int rc, print_rc;

	if (ctx->argc > 0)
		return rs_error_set(RS_EUSAGE, "'gc' takes no arguments, got '%s'", ctx->argv[0]);
	if (!ctx->settings.ssh || !*ctx->settings.ssh)
		return rs_error_set(RS_EUSAGE, "'gc' runs on the registry host: give --ssh "
				    "[USER@]HOST[:PORT]");
	rc = cli_collect(ctx, NULL, &c);
	if (!rs_collect_started(&c))
		goto done;      /* the script never started: nothing to report */
	if (ctx->settings.json) {
		print_rc = rs_collect_json(&json, &c);
		if (print_rc == 0)
			print_rc = cli_write_output(NULL, json, strlen(json));
	} else {
		print_rc = rs_collect_text(&out, &c);
		if (print_rc == 0)
			print_rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	}
	if (rc == 0)
		rc = print_rc;
done:
	free(json);
	rs_buf_release(&out);
	rs_collect_release(&c);
	return rc;
}
