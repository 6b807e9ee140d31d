/* cmd_gc.c: `regsweep gc` (being built: refuses to run until it is). */
#include "cli.h"
#include "error.h"

int cmd_gc(struct cli_ctx *ctx)
{
	(void)ctx;
	return rs_error_set(RS_EUSAGE, "'gc' is not available in this build yet");
}
