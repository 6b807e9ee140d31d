/* report.h: the before/after report of a run, for people (the seed's data
 * summary with a change column), for scripts (one versioned JSON document)
 * and for monitoring (Prometheus text format for node_exporter's textfile
 * collector).
 *
 * JSON shape, version 1 (documented in the README; keys are a promise):
 *   {"report_version":1, "tool":"regsweep", "tool_version":"x.y.z",
 *    "registry":URL, "dry_run":bool, "started":RFC3339, "finished":RFC3339,
 *    "success":bool, "exit_code":N,
 *    "before":FIGURES, "after":FIGURES|null, "change":FIGURES|null,
 *    "per_repo":[{"name", "before":FIGURES, "after":FIGURES|null}]  (with --per-repo),
 *    "stages":[{"name", "status":"ok"|"failed"|"skipped"|"partial", "seconds", "error"}],
 *    "deletions":[{"repository","digest","media_type","tags","reason","outcome","detail"}],
 *    "skips":[ same shape, the deletions that did not happen ],
 *    "apply":{counts...}|null, "gc":{...}|null, "errors":[message...],
 *    "in_use":{...}|null   (the plan's "in_use": what the in-use lists kept)}
 *   FIGURES = {"repositories","tags","manifests","blobs","bytes"
 *              [,"storage_blobs","storage_bytes"]}
 */
#ifndef RS_REPORT_H
#define RS_REPORT_H

#include "act/apply.h"
#include "base/buf.h"
#include "job/collect.h"
#include "scan/stats.h"

#include <stddef.h>
#include <stdint.h>

#define RS_REPORT_VERSION 1

enum rs_stage_status {
	RS_STAGE_SKIPPED = 0,
	RS_STAGE_OK,
	RS_STAGE_PARTIAL,
	RS_STAGE_FAILED
};

struct rs_report_stage {
	char name[32];
	enum rs_stage_status status;
	double seconds;
	char *error;                   /* owned, NULL if none */
};

struct rs_report_repo {
	char *name;                    /* owned */
	struct rs_stats before;
	struct rs_stats after;
	int have_after;
};

struct rs_report {
	char *registry;
	int dry_run;
	int64_t started, finished;
	struct rs_stats before, after;
	int have_before, have_after;
	struct rs_report_repo *repos;  /* per repository, sorted by name */
	size_t nrepos;
	struct rs_report_stage stages[8];
	size_t nstages;
	struct rs_apply_result *apply; /* owned, or NULL */
	struct rs_collect *gc;         /* owned (rs_collect_release, free), or NULL */
	char *in_use_json;             /* the plan's in-use summary as JSON, or NULL */
	char **errors;                 /* messages, owned */
	size_t nerrors;
	int exit_code;
	uint64_t requests;
};

/* Start an empty report; *out is the caller's. */
int rs_report_new(struct rs_report **out, const char *registry, int dry_run, int64_t started);
void rs_report_free(struct rs_report *report);

/* Record a stage's outcome (error may be NULL; copied). */
int rs_report_stage(struct rs_report *report, const char *name, enum rs_stage_status status,
		    double seconds, const char *error);

/* Record figures before (after = 0) or after (after = 1) the cleanup, with
 * per-repository figures when `repos` is not NULL. */
int rs_report_figures(struct rs_report *report, int after, const struct rs_stats *stats,
		      const struct rs_repo_stats *repos, size_t nrepos);

/* Take ownership of what apply did, and of a collection (heap-allocated:
 * the report releases and frees it). */
void rs_report_set_apply(struct rs_report *report, struct rs_apply_result *result);
void rs_report_set_gc(struct rs_report *report, struct rs_collect *gc);
void rs_report_set_in_use(struct rs_report *report, char *json);

/* Remember an error message (copied). */
int rs_report_error(struct rs_report *report, const char *message);

/* The last message remembered ("" if none); lives as long as the report. */
const char *rs_report_last_error(const struct rs_report *report);

/* The summary table, before | after | change, and per repository when
 * asked and recorded. */
int rs_report_text(struct rs_buf *out, const struct rs_report *report, int per_repo);

/* The JSON document described above; *out is the caller's. */
int rs_report_json(char **out, const struct rs_report *report, int per_repo);

/* Prometheus text format: regsweep_last_run_timestamp_seconds,
 * regsweep_last_run_success, regsweep_last_run_duration_seconds,
 * regsweep_bytes_freed, regsweep_{repositories,tags,manifests,blobs,bytes}
 * {when="before"|"after"}, regsweep_deletions{outcome=...}. */
int rs_report_metrics(struct rs_buf *out, const struct rs_report *report);

#endif
