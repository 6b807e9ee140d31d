/* report_cli.h: how a command that reports ends (run, apply, plan): the
 * report as an HTML page (--html) and the notifications (--notify,
 * --notify-on), both made from the report's JSON document. */
#ifndef RS_REPORT_CLI_H
#define RS_REPORT_CLI_H

#include "cli.h"
#include "report/report.h"

/* Does the command have anything to publish (--html or --notify)? */
int cli_publish_wanted(const struct cli_ctx *ctx);

/* Write the page for `document` (a report document, report.h or
 * planreport.h) to --html, and send it to each --notify URL when
 * --notify-on says so. A notification that fails is a warning and changes
 * nothing else; the return is the page's: 0, or the error writing it, with
 * its message. On 0, the error message the caller had set is left as it
 * was, so that the run's own error is the one printed. */
int cli_publish(struct cli_ctx *ctx, const char *document);

/* The same for `report`, whose document is made with every repository's
 * figures (per_repo) for the page's chart. */
int cli_publish_report(struct cli_ctx *ctx, const struct rs_report *report);

/* A report for a command that has none of its own (apply, plan): the
 * registry as configured (without user:password@), the dry-run setting,
 * started now. NULL when nothing is to be published. */
struct rs_report *cli_report_begin(struct cli_ctx *ctx);

/* Close `report` with the command's outcome `rc` (exit code, requests,
 * finish time, the error message when rc < 0). */
void cli_report_end(struct cli_ctx *ctx, struct rs_report *report, int rc);

#endif
