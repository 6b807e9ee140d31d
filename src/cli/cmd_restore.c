/* cmd_restore.c: `regsweep restore` (being built: refuses to run until it is). */
#include "cli.h"
#include "error.h"

int cmd_restore(struct cli_ctx *ctx)
{
	(void)ctx;
	return rs_error_set(RS_EUSAGE, "'restore' is not available in this build yet");
}
