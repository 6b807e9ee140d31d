/* cmd_apply.c: `regsweep apply [PLAN]`: carry out a plan file, or plan and
 * apply now; --dry-run says what it would do. */
#include "act/apply.h"
#include "cli.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "policy/plan.h"
#include "plan_cli.h"
#include "policy/planfile.h"
#include "report_cli.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The policy settings a plan file makes meaningless. */
static void warn_ignored_policy(const struct rs_settings *s)
{
	static const char *const names[] = {
		"repos", "tags", "keep_last", "keep_newer_than", "keep_tags", "untagged",
		"untagged_grace", "order", "in_use", "untag"
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char option[32];
		size_t n;

		if (s->sources[rs_settings_lookup(names[i])] != RS_SRC_CLI)
			continue;
		for (n = 0; names[i][n] && n + 1 < sizeof(option); n++)
			option[n] = names[i][n] == '_' ? '-' : names[i][n];
		option[n] = '\0';
		rs_log(RS_LOG_WARN, "warning: --%s is ignored: the plan file decides", option);
	}
}

static int format_tags(struct rs_buf *out, char *const *tags, size_t ntags)
{
	int rc = 0;

	if (!ntags)
		return rs_buf_puts(out, "(untagged)");
	for (size_t t = 0; rc == 0 && t < ntags; t++)
		rc = rs_buf_printf(out, "%s%s", t ? "," : "", tags[t]);
	return rc;
}

/* A deletion: "deleted  app@sha256:... tag1,tag2  reason"; an untag:
 * "untagged  app:tag (sha256:...)  reason". */
static int format_item(struct rs_buf *out, const struct rs_apply_item *it)
{
	char shortd[RS_DIGEST_MAX];
	int rc;

	if (it->action == RS_APPLY_UNTAG)
		rc = rs_buf_printf(out, "%-13s %s:%s (%s)", rs_apply_item_outcome(it), it->repo,
				   it->ntags ? it->tags[0] : "", rs_digest_short(shortd, it->digest));
	else
		rc = rs_buf_printf(out, "%-13s %s@%s ", rs_apply_item_outcome(it), it->repo,
				   rs_digest_short(shortd, it->digest));
	if (rc == 0 && it->action != RS_APPLY_UNTAG)
		rc = format_tags(out, it->tags, it->ntags);
	if (rc == 0)
		rc = rs_buf_printf(out, "  %s\n", it->detail ? it->detail
					       : it->reason ? it->reason : "");
	return rc;
}

static int format_result(struct rs_buf *out, const struct rs_apply_result *r)
{
	char untags[64] = "";
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < r->nitems; i++)
		rc = format_item(out, &r->items[i]);
	for (size_t i = 0; rc == 0 && i < r->nuntags; i++)
		rc = format_item(out, &r->untags[i]);
	if (r->nuntags)
		snprintf(untags, sizeof(untags), r->dry_run ? ", %zu would be untagged"
			 : ", %zu untagged", r->dry_run ? r->would_untag : r->untagged);
	if (rc == 0 && r->dry_run)
		rc = rs_buf_printf(out, "dry run: %zu would be deleted%s, %zu skipped, %zu not "
				   "attempted; nothing was changed\n", r->would_delete, untags,
				   r->skipped, r->pending);
	else if (rc == 0)
		rc = rs_buf_printf(out, "apply: %zu deleted%s, %zu already gone, %zu skipped, %zu "
				   "failed, %zu not attempted%s%s%s\n", r->deleted, untags, r->gone,
				   r->skipped, r->failed, r->pending, r->backup_dir ? "; backup in '" : "",
				   r->backup_dir ? r->backup_dir : "", r->backup_dir ? "'" : "");
	if (rc == 0 && !r->dry_run && r->deleted)
		rc = rs_buf_puts(out, "the space comes back after garbage collection "
				 "(regsweep gc, or registry garbage-collect)\n");
	return rc;
}

static int write_outputs(struct cli_ctx *ctx, const struct rs_apply_result *res)
{
	struct rs_buf text = RS_BUF_INIT;
	char *json = NULL;
	int rc = 0;

	if (ctx->settings.json || ctx->settings.report)
		rc = rs_apply_result_json(&json, res);
	if (rc == 0 && ctx->settings.report)
		rc = rs_file_write(ctx->settings.report, json, strlen(json));
	if (rc == 0 && ctx->settings.json)
		rc = cli_write_output(NULL, json, strlen(json));
	else if (rc == 0) {
		rc = format_result(&text, res);
		if (rc == 0)
			rc = cli_write_output(NULL, rs_buf_cstr(&text), text.len);
	}
	free(json);
	rs_buf_release(&text);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A stage of apply's report (when one is kept): ok, partial or failed by rc. */
static void report_stage(struct rs_report *report, const char *name, int rc,
			 const struct timespec *t0)
{
	if (!report)
		return;
	rs_report_stage(report, name, rc == 0 ? RS_STAGE_OK
			: rc == RS_EPARTIAL || rc == RS_ECONFLICT ? RS_STAGE_PARTIAL : RS_STAGE_FAILED,
			seconds_since(t0), rc < 0 ? rs_error_message() : NULL);
}

/* The page and notifications of apply, from a report of its own. */
static int publish(struct cli_ctx *ctx, struct rs_report *report, int rc)
{
	struct rs_error_state kept;
	int prc;

	if (!report)
		return rc;
	rs_error_save(&kept);
	cli_report_end(ctx, report, rc);
	prc = cli_publish_report(ctx, report);
	if (prc < 0 && (rc == 0 || rc == RS_EPARTIAL || rc == RS_ECONFLICT))
		return prc;   /* the page could not be written: its message is set */
	rs_error_restore(&kept);
	return rc;
}

int cmd_apply(struct cli_ctx *ctx)
{
	struct rs_apply_options opts = RS_APPLY_OPTIONS_INIT;
	struct rs_apply_result *res = NULL;
	struct rs_plan *plan = NULL;
	struct rs_buf totals = RS_BUF_INIT;
	struct rs_report *report = cli_report_begin(ctx);
	struct timespec t0;
	struct rs_error_state kept;
	int rc, plan_rc = 0, out_rc;

	if (ctx->argc > 1)
		return rs_error_set(RS_EUSAGE, "'apply' takes at most one plan file (got '%s' too)",
				    ctx->argv[1]);
	if (ctx->argc == 1) {
		warn_ignored_policy(&ctx->settings);
		rc = rs_planfile_read(&plan, ctx->argv[0]);
		if (rc == 0)
			rc = cli_connect(ctx);
		if (rc < 0)
			goto out;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		plan_rc = cli_plan_now(ctx, &plan, report);
		report_stage(report, "plan", plan_rc, &t0);
		if (plan_rc < 0 && plan_rc != RS_EPARTIAL) {
			rc = plan_rc;
			goto out;
		}
		if (plan_rc == RS_EPARTIAL)
			rs_log(RS_LOG_WARN, "warning: %s", rs_error_message());
		if (cli_plan_format_totals(&totals, plan) == 0)
			rs_log(RS_LOG_INFO, "plan: %s", rs_buf_cstr(&totals));
	}
	opts.backup_dir = ctx->settings.backup_dir;
	opts.dry_run = ctx->settings.dry_run;
	opts.now = (int64_t)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = rs_apply(&res, ctx->registry, plan, &opts);
	report_stage(report, "apply", rc, &t0);
	if (!res)
		goto out;
	rs_error_save(&kept);
	out_rc = write_outputs(ctx, res);
	if (rc == 0 && out_rc < 0)
		rc = out_rc;
	else if (rc < 0)
		rs_error_restore(&kept);
	if (report) {
		rs_report_set_apply(report, res);   /* the report owns it now */
		res = NULL;
	}
	if (rc == 0 && (plan_rc == RS_EPARTIAL || plan->totals.incomplete))
		rc = rs_error_set(RS_EPARTIAL, "done, but %s could not be read completely when "
				  "planned: nothing was deleted there", plan->totals.incomplete == 1
				  ? "one repository" : "some repositories");
out:
	rc = publish(ctx, report, rc);
	rs_report_free(report);
	rs_buf_release(&totals);
	rs_apply_result_free(res);
	rs_plan_free(plan);
	return rc;
}
