/* cmd_run.c: `regsweep run`, the whole job: stats before, plan, apply, GC
 * over SSH, stats after, and the report.
 *
 * Each stage's failure is reported with the stage's name. A stage that
 * fails after deletes were made does not hide them: the report still says
 * what was deleted, and GC (whose after-GC command the remote script runs
 * on every way out) still runs unless the user interrupted the run.
 *
 * --deadline: once it has passed, no stage starts and the one running
 * starts nothing new (base/cancel.h); what is in flight finishes (a GC
 * under way runs to its end, after-GC command included), the stage that
 * was cut short and those not started are reported, and the run ends done
 * in part (exit 3) with its report.
 */
#include "act/apply.h"
#include "cli.h"
#include "base/cancel.h"
#include "base/error.h"
#include "base/log.h"
#include "policy/plan.h"
#include "plan_cli.h"
#include "policy/planfile.h"
#include "policy/policy.h"
#include "progress.h"
#include "scan/referrers.h"
#include "report/report.h"
#include "report_cli.h"
#include "ssh_cli.h"
#include "scan/stats.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run {
	struct cli_ctx *ctx;
	struct rs_report *report;
	struct rs_policy *policy;
	struct rs_inventory *before;
	struct rs_plan *plan;
	struct rs_apply_result *applied;   /* owned by the report */
	int partial;                /* something was skipped or could not be read */
	int failed;                 /* a stage failed */
	int first_rc;               /* the first failure: the run's error */
	char first_failure[2048];
	double stage_started;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stage_begin(struct run *run, const char *what)
{
	run->stage_started = now_s();
	rs_log(RS_LOG_INFO, "%s", what);
}

/* Record how a stage ended; a failure is also logged with the stage's name. */
static void stage_end(struct run *run, const char *name, int rc)
{
	enum rs_stage_status status = RS_STAGE_OK;
	const char *error = NULL;

	if (rc == RS_EPARTIAL || rc == RS_ECONFLICT ||
	    (rc == RS_ECANCELLED && rs_deadline_passed())) {
		status = RS_STAGE_PARTIAL;
		error = rs_error_message();
		run->partial = 1;
	} else if (rc < 0) {
		status = RS_STAGE_FAILED;
		error = rs_error_message();
		run->failed = 1;
	}
	if (error) {
		rs_report_error(run->report, error);
		rs_report_stage(run->report, name, status, now_s() - run->stage_started, error);
		/* the first failure becomes the run's error, printed once at the end;
		 * later ones and partial results are told as they happen */
		if (status == RS_STAGE_FAILED && !run->first_rc) {
			run->first_rc = rc;
			snprintf(run->first_failure, sizeof(run->first_failure), "%s: %s", name,
				 rs_report_last_error(run->report));
		} else {
			rs_log(status == RS_STAGE_FAILED ? RS_LOG_ERROR : RS_LOG_WARN, "%s: %s", name,
			       rs_report_last_error(run->report));
		}
		return;
	}
	rs_report_stage(run->report, name, status, now_s() - run->stage_started, NULL);
}

/* Past the deadline no stage starts: record `name` as skipped and say so.
 * Returns 1 when it was skipped. */
static int skipped_past_deadline(struct run *run, const char *name)
{
	if (!rs_deadline_passed())
		return 0;
	rs_report_stage(run->report, name, RS_STAGE_SKIPPED, 0, rs_stop_reason());
	run->partial = 1;
	rs_log(RS_LOG_WARN, "%s: not started: %s", name, rs_stop_reason());
	return 1;
}

/* Scan the registry (and its storage, when configured) into *inv and
 * record its figures. */
static int measure(struct run *run, int after, struct rs_inventory **inv)
{
	struct cli_ctx *ctx = run->ctx;
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_repo_stats *per_repo = NULL;
	struct rs_stats stats;
	int64_t blobs = -1, bytes = -1;
	struct rs_error_state partial = {0, ""};
	int rc;

	*inv = NULL;
	rc = cli_scan_options(ctx, &opts);
	if (rc < 0)
		return rc;
	opts.need_dates = !after && rs_policy_needs_dates(run->policy);
	opts.need_tag_times = !after && rs_policy_needs_push_times(run->policy) >= 0;
	rc = cli_inventory(ctx, &opts, inv, &blobs, &bytes);
	if (rc == RS_EPARTIAL)
		rs_error_save(&partial);
	else if (rc < 0)
		return rc;
	/* the figures are those `regsweep stats` gives: taken before the
	 * referrers lookup, which only the plan needs */
	rc = rs_stats_compute(&stats, *inv);
	if (rc == 0)
		rc = rs_stats_per_repo(&per_repo, *inv);
	if (rc < 0)
		return rc;
	stats.storage_blobs = blobs;
	stats.storage_bytes = bytes;
	rc = rs_report_figures(run->report, after, &stats, per_repo, (*inv)->nrepos);
	free(per_repo);
	if (rc == 0 && !after) {
		/* referrers pushed by digest, from the registry's referrers API when it has one */
		int rrc = rs_referrers_discover(*inv, ctx->registry, &opts, NULL);

		if (rrc == RS_EPARTIAL && !partial.code)
			rs_error_save(&partial);
		else if (rrc < 0 && rrc != RS_EPARTIAL)
			rc = rrc;
	}
	if (rc == 0 && partial.code) {
		rs_error_restore(&partial);
		rc = rs_error_set(RS_EPARTIAL, "some repositories could not be read completely, so "
				  "nothing is deleted in them (%s)", rs_error_message());
	}
	return rc;
}

static int stage_plan(struct run *run)
{
	struct rs_buf line = RS_BUF_INIT;
	int rc;

	if (skipped_past_deadline(run, "plan"))
		return RS_ECANCELLED;
	stage_begin(run, "planning");
	rc = rs_plan_build(&run->plan, run->before, run->policy, (int64_t)time(NULL));
	if (rc == 0 && cli_plan_format_totals(&line, run->plan) == 0)
		rs_log(RS_LOG_INFO, "%s", rs_buf_cstr(&line));
	if (rc == 0 && run->plan->in_use) {
		char *json = NULL;

		cli_plan_log_in_use(run->plan, rs_registry_url(run->ctx->registry));
		if (rs_planfile_in_use_format(&json, run->plan) == 0)
			rs_report_set_in_use(run->report, json);
	}
	rs_buf_release(&line);
	stage_end(run, "plan", rc);
	return rc;
}

static int stage_apply(struct run *run)
{
	struct cli_ctx *ctx = run->ctx;
	struct rs_apply_options opts = RS_APPLY_OPTIONS_INIT;
	int rc;

	if (skipped_past_deadline(run, "apply"))
		return RS_ECANCELLED;
	stage_begin(run, ctx->settings.dry_run ? "checking what apply would delete"
					       : "deleting unreferenced manifests");
	opts.backup_dir = ctx->settings.backup_dir;
	opts.dry_run = ctx->settings.dry_run;
	opts.now = (int64_t)time(NULL);
	rc = rs_apply(&run->applied, ctx->registry, run->plan, &opts);
	if (run->applied)
		rs_report_set_apply(run->report, run->applied);   /* the report owns it */
	stage_end(run, "apply", rc);
	return rc;
}

static int stage_gc(struct run *run)
{
	struct cli_ctx *ctx = run->ctx;
	struct rs_collect *c;
	int rc;

	if (!ctx->settings.ssh || !*ctx->settings.ssh) {
		rs_log(RS_LOG_WARN, "note: no --ssh given, so no garbage collection: the deleted "
		       "manifests' blobs stay on disk until `registry garbage-collect` runs on the "
		       "registry host (regsweep gc --ssh HOST does it safely)");
		rs_report_stage(run->report, "gc", RS_STAGE_SKIPPED, 0, NULL);
		return 0;
	}
	if (rs_interrupted()) {
		rs_report_stage(run->report, "gc", RS_STAGE_SKIPPED, 0, "interrupted");
		return 0;
	}
	if (skipped_past_deadline(run, "gc"))
		return 0;
	stage_begin(run, ctx->settings.dry_run ? "garbage collection, dry run"
					       : "garbage collection on the registry host");
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = rs_error_set(RS_ERROR, "out of memory");
	} else {
		rc = cli_collect(ctx, run->before, c);
		if (rs_collect_started(c)) {
			rs_report_set_gc(run->report, c);
		} else {
			rs_collect_release(c);
			free(c);
		}
	}
	stage_end(run, "gc", rc);
	return rc;
}

static int stage_after(struct run *run)
{
	struct rs_inventory *after = NULL;
	int rc;

	stage_begin(run, "scanning again for the figures after");
	rc = measure(run, 1, &after);
	stage_end(run, "stats-after", rc);
	rs_inventory_free(after);
	return rc;
}

static int write_outputs(struct run *run)
{
	struct cli_ctx *ctx = run->ctx;
	struct rs_buf out = RS_BUF_INIT;
	char *json = NULL;
	int rc;

	rc = rs_report_json(&json, run->report, ctx->settings.per_repo);
	if (rc == 0 && ctx->settings.report)
		rc = cli_write_output(ctx->settings.report, json, strlen(json));
	if (rc == 0 && ctx->settings.metrics) {
		rc = rs_report_metrics(&out, run->report);
		if (rc == 0)
			rc = cli_write_output(ctx->settings.metrics, rs_buf_cstr(&out), out.len);
		rs_buf_reset(&out);
	}
	if (rc == 0)
		rc = cli_publish_report(ctx, run->report);   /* --html, --notify */
	if (rc == 0 && ctx->settings.json) {
		rc = rs_buf_printf(&out, "%s\n", json);
	} else if (rc == 0) {
		rc = rs_report_text(&out, run->report, ctx->settings.per_repo);
		if (rc == 0 && run->plan && run->plan->in_use)
			rc = rs_buf_printf(&out, "\nkept because in use: %zu (%llu references naming "
					   "this registry, %zu not found)\n", run->plan->in_use->nkept,
					   (unsigned long long)run->plan->in_use->this_registry,
					   run->plan->in_use->nmissing);
		if (rc == 0 && run->applied && run->applied->dry_run)
			rc = rs_buf_printf(&out, "\ndry run: %zu manifests would be deleted, %zu "
					   "tags untagged, %zu skipped; nothing was changed\n",
					   run->applied->would_delete, run->applied->would_untag,
					   run->applied->skipped);
		else if (rc == 0 && run->applied)
			rc = rs_buf_printf(&out, "\n%zu deleted, %zu untagged, %zu already gone, "
					   "%zu skipped, %zu failed%s%s\n",
					   run->applied->deleted, run->applied->untagged, run->applied->gone,
					   run->applied->skipped, run->applied->failed,
					   run->applied->backup_dir ? "; backup in " : "",
					   run->applied->backup_dir ? run->applied->backup_dir : "");
	}
	if (rc == 0)
		rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	rs_buf_release(&out);
	free(json);
	return rc;
}

int cmd_run(struct cli_ctx *ctx)
{
	struct run run;
	int rc;

	memset(&run, 0, sizeof(run));
	run.ctx = ctx;
	if (ctx->argc > 0)
		return rs_error_set(RS_EUSAGE, "'run' takes no arguments, got '%s'", ctx->argv[0]);
	rc = rs_policy_build(&run.policy, ctx->config, &ctx->settings);
	if (rc == 0)
		rc = cli_connect(ctx);
	if (rc < 0)
		goto done;
	rc = rs_report_new(&run.report, rs_registry_url(ctx->registry), ctx->settings.dry_run,
			   (int64_t)time(NULL));
	if (rc < 0)
		goto done;

	stage_begin(&run, "scanning the registry");
	rc = measure(&run, 0, &run.before);
	stage_end(&run, "stats-before", rc);
	if (rc < 0 && rc != RS_EPARTIAL)
		goto finish;   /* nothing is decided on a registry we could not read */
	if (stage_plan(&run) < 0)
		goto finish;
	stage_apply(&run);
	stage_gc(&run);
	if (!ctx->settings.dry_run && !rs_interrupted() && !skipped_past_deadline(&run, "stats-after"))
		stage_after(&run);
finish:
	run.report->finished = (int64_t)time(NULL);
	run.report->requests = rs_http_request_count(ctx->http);
	run.report->exit_code = run.failed ? CLI_EXIT_FAILED
			      : run.partial ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	rc = write_outputs(&run);
	if (rc == 0 && run.failed)
		rc = rs_error_set(run.first_rc, "%s", run.first_failure);
	else if (rc == 0 && run.partial && rs_deadline_passed())
		rc = rs_error_set(RS_EPARTIAL, "done in part: %s, so the run stopped where it was "
				  "(see the report)", rs_stop_reason());
	else if (rc == 0 && run.partial)
		rc = rs_error_set(RS_EPARTIAL, "done in part: some deletions were skipped or some "
				  "repositories could not be read (see the report)");
done:
	rs_plan_free(run.plan);
	rs_inventory_free(run.before);
	rs_policy_free(run.policy);
	rs_report_free(run.report);
	return rc;
}
