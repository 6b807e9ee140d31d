/* cmd_plan.c: `regsweep plan`: decide what would go and why; changes
 * nothing. Also the planning and plan printing other commands share. */
#include "cli.h"
#include "config/configfile.h"
#include "base/error.h"
#include "net/url.h"
#include "base/file.h"
#include "model/inventory.h"
#include "base/log.h"
#include "policy/plan.h"
#include "plan_cli.h"
#include "policy/planfile.h"
#include "policy/policy.h"
#include "progress.h"
#include "report/planreport.h"
#include "report_cli.h"
#include "act/untag.h"
#include "scan/referrers.h"
#include "scan/scan.h"
#include "scan/stats.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The figures of `inv` as `regsweep stats` gives them, into `report`. */
static int record_figures(struct rs_report *report, const struct rs_inventory *inv,
			  int64_t blobs, int64_t bytes)
{
	struct rs_repo_stats *per_repo = NULL;
	struct rs_stats stats;
	int rc;

	rc = rs_stats_compute(&stats, inv);
	if (rc == 0)
		rc = rs_stats_per_repo(&per_repo, inv);
	if (rc < 0)
		return rc;
	stats.storage_blobs = blobs;
	stats.storage_bytes = bytes;
	rc = rs_report_figures(report, 0, &stats, per_repo, inv->nrepos);
	free(per_repo);
	return rc;
}

int cli_plan_now(struct cli_ctx *ctx, struct rs_plan **out, struct rs_report *report)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_policy *policy = NULL;
	struct rs_inventory *inv = NULL;
	struct rs_error_state partial = {0, ""};
	int64_t blobs, bytes;
	int rc;

	*out = NULL;
	rc = rs_policy_build(&policy, ctx->config, &ctx->settings);
	if (rc == 0)
		rc = cli_connect(ctx);
	if (rc == 0)
		rc = cli_scan_options(ctx, &opts);
	if (rc < 0)
		goto done;
	opts.need_dates = rs_policy_needs_dates(policy);
	opts.need_tag_times = rs_policy_needs_push_times(policy) >= 0;
	rs_log(RS_LOG_INFO, "scanning %s%s", rs_registry_url(ctx->registry),
	       opts.need_dates ? " (with image dates)" : "");
	rc = cli_inventory(ctx, &opts, &inv, &blobs, &bytes);
	if (rc == RS_EPARTIAL)
		rs_error_save(&partial);
	else if (rc < 0)
		goto done;
	/* the figures are taken before the referrers lookup, as run takes them */
	if (report && (rc = record_figures(report, inv, blobs, bytes)) < 0)
		goto done;
	/* referrers pushed by digest, from the registry's referrers API when it has one */
	rc = rs_referrers_discover(inv, ctx->registry, &opts, NULL);
	if (rc == RS_EPARTIAL && !partial.code)
		rs_error_save(&partial);
	else if (rc < 0 && rc != RS_EPARTIAL)
		goto done;
	rc = rs_plan_build_consuming(out, inv, policy, (int64_t)time(NULL));
	if (rc == 0)
		cli_plan_log_in_use(*out, rs_registry_url(ctx->registry));
	/* whether the registry and the credentials allow removing a tag alone:
	 * the plan says so for each tag it untags */
	if (rc == 0 && (*out)->totals.tags_untagged)
		rc = rs_untag_check_plan(*out, ctx->registry, (int64_t)time(NULL));
	if (rc < 0) {
		rs_plan_free(*out);
		*out = NULL;
	}
	if (rc == 0 && partial.code) {
		rs_error_restore(&partial);
		rc = rs_error_set(RS_EPARTIAL, "some repositories could not be read completely, so "
				  "nothing is deleted in them (%s)", rs_error_message());
	}
done:
	rs_inventory_free(inv);
	rs_policy_free(policy);
	return rc;
}

static const char *ref_separator(const struct rs_plan_in_use_ref *ref)
{
	return strncmp(ref->reference, "sha256:", 7) == 0 ? "@" : ":";
}

void cli_plan_log_in_use(const struct rs_plan *plan, const char *registry)
{
	const struct rs_plan_in_use *u = plan->in_use;
	char url[2048];

	if (!u)
		return;
	rs_url_strip_userinfo(url, sizeof(url), registry);
	rs_log(RS_LOG_INFO, "in use: %llu reference%s read, %llu naming this registry, %llu "
	       "naming others%s%s%s and %llu image ID%s (ignored)", (unsigned long long)u->references,
	       u->references == 1 ? "" : "s", (unsigned long long)u->this_registry,
	       (unsigned long long)u->other_registries, u->other_hosts ? " (" : "",
	       u->other_hosts ? u->other_hosts : "", u->other_hosts ? ")" : "",
	       (unsigned long long)u->image_ids, u->image_ids == 1 ? "" : "s");
	if (u->references && !u->this_registry)
		rs_log(RS_LOG_WARN, "warning: none of the %llu references of the in-use lists names "
		       "%s (they name %s): nothing is kept for them; a reference must name the "
		       "registry by the host and port regsweep uses", (unsigned long long)u->references,
		       url, u->other_hosts ? u->other_hosts : "other registries");
	for (size_t i = 0; i < u->nmissing; i++) {
		const struct rs_plan_in_use_ref *m = &u->missing[i];

		rs_log(RS_LOG_WARN, "warning: %s: %s%s%s is in use but not in the registry%s", m->source,
		       m->repository, ref_separator(m), m->reference,
		       ref_separator(m)[0] == '@' ? " (or untagged: only the storage view lists "
		       "untagged manifests)" : "");
	}
}

/* An untag that cannot be done shows what will happen: the tag stays. */
static int print_row(struct rs_buf *out, int width, const char *tag, const char *digest,
		     int64_t created, const int64_t *pushed, enum rs_verdict verdict,
		     const char *reason, const char *blocked)
{
	char shortd[RS_DIGEST_MAX], date[64], when[64];
	const char *decide = verdict == RS_VERDICT_DELETE ? "delete"
			     : verdict == RS_VERDICT_UNTAG && !blocked ? "untag" : "keep";

	if (pushed)
		rs_time_format(when, sizeof(when), *pushed);
	return rs_buf_printf(out, "  %-*s  %-19s  %-20s  %s%s%-6s  %s%s%s\n", width, tag,
			     digest[0] ? rs_digest_short(shortd, digest) : "(unresolved)",
			     rs_time_format(date, sizeof(date), created), pushed ? when : "",
			     pushed ? "  " : "", decide, reason ? reason : "",
			     blocked ? "; but it stays: " : "", blocked ? blocked : "");
}

/* Untagged manifests of a repository, by digest, kept and deleted. */
static int cmp_manifest_ptr(const void *a, const void *b)
{
	const struct rs_plan_manifest *x = *(const struct rs_plan_manifest *const *)a;
	const struct rs_plan_manifest *y = *(const struct rs_plan_manifest *const *)b;

	return strcmp(x->digest, y->digest);
}

static int format_repo(struct rs_buf *out, const struct rs_plan_repo *r, int show_pushed)
{
	static const int64_t unknown = RS_TIME_UNKNOWN;
	const struct rs_plan_manifest **untagged;
	size_t nuntagged = 0, tags_deleted = 0, tags_untagged = 0;
	int width = 3, rc;

	untagged = calloc(r->ndeletions + r->nkept + 1, sizeof(*untagged));
	if (!untagged)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < r->ndeletions; i++)
		if (!r->deletions[i].ntags)
			untagged[nuntagged++] = &r->deletions[i];
	for (size_t i = 0; i < r->nkept; i++)
		if (!r->kept[i].ntags)
			untagged[nuntagged++] = &r->kept[i];
	qsort(untagged, nuntagged, sizeof(*untagged), cmp_manifest_ptr);
	for (size_t i = 0; i < r->ntags; i++) {
		tags_deleted += r->tags[i].verdict == RS_VERDICT_DELETE;
		tags_untagged += r->tags[i].verdict == RS_VERDICT_UNTAG && !r->tags[i].blocked;
		if ((int)strlen(r->tags[i].name) > width)
			width = (int)strlen(r->tags[i].name);
	}
	if (nuntagged && width < 10)
		width = 10;
	if (width > 24)
		width = 24;   /* longer names (cosign tags) overflow their column */
	rc = rs_buf_printf(out, "\n%s: %zu tag%s (%zu to delete", r->name, r->ntags,
			   r->ntags == 1 ? "" : "s", tags_deleted);
	if (rc == 0 && tags_untagged)
		rc = rs_buf_printf(out, ", %zu to untag", tags_untagged);
	if (rc == 0)
		rc = rs_buf_printf(out, "), %zu manifest%s (%zu to delete)\n", r->ndeletions + r->nkept,
				   r->ndeletions + r->nkept == 1 ? "" : "s", r->ndeletions);
	if (rc == 0 && r->note)
		rc = rs_buf_printf(out, "  note: %s\n", r->note);
	if (rc == 0 && r->failure)
		rc = rs_buf_printf(out, "  failure: %s\n", r->failure);
	if (rc == 0 && (r->ntags || nuntagged))
		rc = rs_buf_printf(out, "  %-*s  %-19s  %-20s  %s%-6s  %s\n", width, "TAG", "DIGEST",
				   "CREATED", show_pushed ? "PUSHED                " : "", "DECIDE",
				   "REASON");
	for (size_t i = 0; rc == 0 && i < r->ntags; i++)
		rc = print_row(out, width, r->tags[i].name, r->tags[i].digest, r->tags[i].created,
			       show_pushed ? &r->tags[i].pushed_at : NULL, r->tags[i].verdict,
			       r->tags[i].reason,
			       r->tags[i].verdict == RS_VERDICT_UNTAG ? r->tags[i].blocked : NULL);
	for (size_t i = 0; rc == 0 && i < nuntagged; i++)
		rc = print_row(out, width, "(untagged)", untagged[i]->digest, untagged[i]->created,
			       show_pushed ? &unknown : NULL, untagged[i]->verdict,
			       untagged[i]->reason, NULL);
	free(untagged);
	return rc;
}

int cli_plan_format_totals(struct rs_buf *out, const struct rs_plan *plan)
{
	const struct rs_plan_totals *t = &plan->totals;
	char size[64];
	int rc;

	rc = rs_buf_printf(out, "totals: %llu repositor%s", (unsigned long long)t->repositories,
			   t->repositories == 1 ? "y" : "ies");
	if (rc == 0 && t->incomplete)
		rc = rs_buf_printf(out, " (%llu read incompletely: nothing deleted there)",
				   (unsigned long long)t->incomplete);
	if (rc == 0)
		rc = rs_buf_printf(out, ", %llu tags (%llu to delete", (unsigned long long)t->tags,
				   (unsigned long long)t->tags_deleted);
	if (rc == 0 && t->tags_untagged > t->untags_blocked)
		rc = rs_buf_printf(out, ", %llu to untag",
				   (unsigned long long)(t->tags_untagged - t->untags_blocked));
	if (rc == 0 && t->untags_blocked)
		rc = rs_buf_printf(out, ", %llu that cannot be untagged here",
				   (unsigned long long)t->untags_blocked);
	if (rc == 0)
		rc = rs_buf_printf(out, "), %llu manifests (%llu to "
				   "delete, %llu of them untagged)",
				   (unsigned long long)t->manifests,
				   (unsigned long long)t->manifests_deleted,
				   (unsigned long long)t->untagged_deleted);
	if (rc == 0 && t->reclaimable_bytes > 0)
		rc = rs_buf_printf(out, "; up to %s of blobs freed by garbage collection",
				   rs_size_format(size, sizeof(size), (uint64_t)t->reclaimable_bytes));
	return rc;
}

/* What the in-use lists kept, and what they name that is not there. */
static int format_in_use(struct rs_buf *out, const struct rs_plan_in_use *u)
{
	char shortd[RS_DIGEST_MAX];
	int rc;

	rc = rs_buf_printf(out, "\nin use: %llu reference%s, %llu naming this registry (%zu found, "
			   "kept), %llu naming others and %llu image ID%s (ignored)\n",
			   (unsigned long long)u->references, u->references == 1 ? "" : "s",
			   (unsigned long long)u->this_registry, u->nkept,
			   (unsigned long long)u->other_registries, (unsigned long long)u->image_ids,
			   u->image_ids == 1 ? "" : "s");
	for (size_t i = 0; rc == 0 && i < u->nkept; i++)
		rc = rs_buf_printf(out, "  kept       %s%s%s -> %s  (%s)\n", u->kept[i].repository,
				   ref_separator(&u->kept[i]), u->kept[i].reference,
				   rs_digest_short(shortd, u->kept[i].digest), u->kept[i].source);
	for (size_t i = 0; rc == 0 && i < u->nmissing; i++)
		rc = rs_buf_printf(out, "  not found  %s%s%s  (%s)\n", u->missing[i].repository,
				   ref_separator(&u->missing[i]), u->missing[i].reference,
				   u->missing[i].source);
	return rc;
}

int cli_plan_write_text(const struct rs_plan *plan)
{
	struct rs_buf out = RS_BUF_INIT;
	char when[64];
	int rc;

	rc = rs_buf_printf(&out, "plan for %s at %s\npolicy: %s\n", plan->registry,
			   rs_time_format(when, sizeof(when), plan->created),
			   plan->policy ? plan->policy : "");
	for (size_t r = 0; rc == 0 && r < plan->nrepos; r++) {
		rc = format_repo(&out, &plan->repos[r], plan->by_push_time);
		/* written as it goes: a plan of 100,000 tags is megabytes of text */
		if (rc == 0 && out.len >= 64 * 1024) {
			rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
			rs_buf_reset(&out);
		}
	}
	if (rc == 0 && plan->in_use)
		rc = format_in_use(&out, plan->in_use);
	if (rc == 0)
		rc = rs_buf_puts(&out, "\n");
	if (rc == 0)
		rc = cli_plan_format_totals(&out, plan);
	if (rc == 0)
		rc = rs_buf_puts(&out, "\n");
	if (rc == 0)
		rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	rs_buf_release(&out);
	return rc;
}

/* The page and notifications of `plan`: the plan's document, or the
 * report's alone when no plan was made. */
static int publish_plan(struct cli_ctx *ctx, struct rs_report *report, const struct rs_plan *plan,
			int rc)
{
	char *document = NULL;
	int prc;

	if (!report)
		return 0;
	cli_report_end(ctx, report, rc);
	if (!plan)
		return cli_publish_report(ctx, report);
	prc = rs_plan_report_json(&document, report, plan);
	if (prc == 0)
		prc = cli_publish(ctx, document);
	free(document);
	return prc;
}

int cmd_plan(struct cli_ctx *ctx)
{
	struct rs_plan *plan = NULL;
	struct rs_report *report = NULL;
	char *json = NULL;
	struct rs_error_state kept = {0, ""};
	int json_to_stdout = ctx->settings.out && strcmp(ctx->settings.out, "-") == 0;
	struct timespec t0, t1;
	int rc, plan_rc, prc;

	if (ctx->argc > 0)
		return rs_error_set(RS_EUSAGE, "'plan' takes no arguments (got '%s')", ctx->argv[0]);
	report = cli_report_begin(ctx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	plan_rc = cli_plan_now(ctx, &plan, report);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (report)
		rs_report_stage(report, "plan", plan_rc == 0 ? RS_STAGE_OK
				: plan_rc == RS_EPARTIAL ? RS_STAGE_PARTIAL : RS_STAGE_FAILED,
				(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
				plan_rc < 0 ? rs_error_message() : NULL);
	if (plan_rc < 0 && plan_rc != RS_EPARTIAL) {
		rc = plan_rc;
		goto out;
	}
	if (plan_rc == RS_EPARTIAL)
		rs_error_save(&kept);
	rc = 0;
	if (ctx->settings.json || ctx->settings.out)
		rc = rs_planfile_format(&json, plan);
	if (rc == 0 && ctx->settings.out && !json_to_stdout) {
		rc = rs_file_write(ctx->settings.out, json, strlen(json));
		if (rc == 0)
			rs_log(RS_LOG_INFO, "plan written to '%s'", ctx->settings.out);
	}
	if (rc == 0 && (ctx->settings.json || json_to_stdout))
		rc = cli_write_output(NULL, json, strlen(json));
	else if (rc == 0)
		rc = cli_plan_write_text(plan);
	if (rc == 0 && plan_rc == RS_EPARTIAL) {
		rs_error_restore(&kept);
		rc = RS_EPARTIAL;
	}
out:
	if (rc < 0)
		rs_error_save(&kept);
	prc = publish_plan(ctx, report, plan, rc);
	if (prc < 0 && (rc == 0 || rc == RS_EPARTIAL))
		rc = prc;   /* the page could not be written: its message is set */
	else if (rc < 0)
		rs_error_restore(&kept);
	free(json);
	rs_plan_free(plan);
	rs_report_free(report);
	return rc;
}
