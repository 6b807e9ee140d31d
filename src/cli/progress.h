/* progress.h: a progress line per stage on stderr, for people watching.
 * Shown when stderr is a terminal (or with --progress), never with -q; it
 * rewrites one line in place on a terminal and prints plain lines
 * otherwise. */
#ifndef RS_PROGRESS_H
#define RS_PROGRESS_H

#include "cli.h"
#include "scan/scan.h"

/* Is progress wanted for this run? */
int cli_progress_wanted(const struct cli_ctx *ctx);

/* Hook the scan's progress callback up to the progress line when wanted. */
void cli_progress_attach(struct cli_ctx *ctx, struct rs_scan_options *opts);

/* End the current progress line (a newline on a terminal). */
void cli_progress_done(struct cli_ctx *ctx);

#endif
