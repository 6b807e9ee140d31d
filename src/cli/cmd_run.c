/* cmd_run.c: `regsweep run` (being built: refuses to run until it is). */
#include "cli.h"
#include "error.h"

int cmd_run(struct cli_ctx *ctx)
{
	(void)ctx;
	return rs_error_set(RS_EUSAGE, "'run' is not available in this build yet");
}
