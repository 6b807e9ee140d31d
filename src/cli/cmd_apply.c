/* cmd_apply.c: `regsweep apply` (being built: refuses to run until it is). */
#include "cli.h"
#include "error.h"

int cmd_apply(struct cli_ctx *ctx)
{
	(void)ctx;
	return rs_error_set(RS_EUSAGE, "'apply' is not available in this build yet");
}
