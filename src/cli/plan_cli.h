/* plan_cli.h: making a plan now and showing it, shared by the commands that
 * plan (plan, apply without a plan file, run). Implemented in cmd_plan.c. */
#ifndef RS_PLAN_CLI_H
#define RS_PLAN_CLI_H

#include "base/buf.h"
#include "cli.h"
#include "policy/plan.h"
#include "report/report.h"

/* Build the policy (config file rules or the command-line rule), connect,
 * scan the registry (reading image dates when the policy needs them), add
 * what the storage view lists when one is configured, and plan at the
 * current time. *out is the caller's. Returns 0; RS_EPARTIAL with a plan
 * when some repositories could not be read completely (nothing is deleted
 * in them, and the message says so); or an error with *out NULL.
 * When `report` is not NULL, the registry's figures (and each
 * repository's) are recorded in it as "before", as `regsweep stats` gives
 * them, before the plan consumes the scan. */
int cli_plan_now(struct cli_ctx *ctx, struct rs_plan **out, struct rs_report *report);

/* The plan for people, written to stdout as it is formatted: per repository
 * each tag and untagged manifest with its short digest, date (and push time
 * when a rule ranks by it), decision and reason, then what the in-use lists
 * kept, then the totals. */
int cli_plan_write_text(const struct rs_plan *plan);

/* Log what the in-use lists did: a summary (info), a warning when none of
 * their references names `registry`, and one for each reference to it
 * that the registry does not hold. */
void cli_plan_log_in_use(const struct rs_plan *plan, const char *registry);

/* The totals line alone ("totals: ..."), without a newline. */
int cli_plan_format_totals(struct rs_buf *out, const struct rs_plan *plan);

#endif
