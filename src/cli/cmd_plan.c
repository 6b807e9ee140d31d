/* cmd_plan.c: `regsweep plan` (being built: refuses to run until it is). */
#include "cli.h"
#include "error.h"

int cmd_plan(struct cli_ctx *ctx)
{
	(void)ctx;
	return rs_error_set(RS_EUSAGE, "'plan' is not available in this build yet");
}
