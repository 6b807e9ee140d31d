/* report.c: the run report as a table, as JSON and as Prometheus metrics. */
#include "report/report.h"
#include "report/gcreport.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rs_report_new(struct rs_report **out, const char *registry, int dry_run, int64_t started)
{
	struct rs_report *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r || !(r->registry = strdup(registry ? registry : ""))) {
		free(r);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	r->dry_run = dry_run;
	r->started = started;
	r->finished = started;
	*out = r;
	return 0;
}

void rs_report_free(struct rs_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nstages; i++)
		free(r->stages[i].error);
	for (size_t i = 0; i < r->nrepos; i++)
		free(r->repos[i].name);
	free(r->repos);
	for (size_t i = 0; i < r->nerrors; i++)
		free(r->errors[i]);
	free(r->errors);
	rs_apply_result_free(r->apply);
	if (r->gc)
		rs_collect_release(r->gc);
	free(r->gc);
	free(r->in_use_json);
	free(r->registry);
	free(r);
}

int rs_report_stage(struct rs_report *r, const char *name, enum rs_stage_status status,
		    double seconds, const char *error)
{
	struct rs_report_stage *st;

	if (r->nstages >= sizeof(r->stages) / sizeof(r->stages[0]))
		return rs_error_set(RS_ERROR, "too many stages");
	st = &r->stages[r->nstages];
	memset(st, 0, sizeof(*st));
	rs_strlcpy(st->name, name, sizeof(st->name));
	st->status = status;
	st->seconds = seconds;
	if (error && !(st->error = strdup(error)))
		return rs_error_set(RS_ERROR, "out of memory");
	r->nstages++;
	return 0;
}

int rs_report_error(struct rs_report *r, const char *message)
{
	char **grown = realloc(r->errors, (r->nerrors + 1) * sizeof(*grown));

	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	r->errors = grown;
	if (!(r->errors[r->nerrors] = strdup(message)))
		return rs_error_set(RS_ERROR, "out of memory");
	r->nerrors++;
	return 0;
}

const char *rs_report_last_error(const struct rs_report *r)
{
	return r->nerrors ? r->errors[r->nerrors - 1] : "";
}

static struct rs_report_repo *find_repo(struct rs_report *r, const char *name)
{
	for (size_t i = 0; i < r->nrepos; i++)
		if (strcmp(r->repos[i].name, name) == 0)
			return &r->repos[i];
	return NULL;
}

static int cmp_repo(const void *a, const void *b)
{
	return strcmp(((const struct rs_report_repo *)a)->name,
		      ((const struct rs_report_repo *)b)->name);
}

int rs_report_figures(struct rs_report *r, int after, const struct rs_stats *stats,
		      const struct rs_repo_stats *repos, size_t nrepos)
{
	static const struct rs_stats zero = {0, 0, 0, 0, 0, -1, -1};

	if (after) {
		r->after = *stats;
		r->have_after = 1;
	} else {
		r->before = *stats;
		r->have_before = 1;
	}
	for (size_t i = 0; repos && i < nrepos; i++) {
		struct rs_report_repo *rr = find_repo(r, repos[i].name);

		if (!rr) {
			struct rs_report_repo *grown = realloc(r->repos, (r->nrepos + 1) * sizeof(*grown));

			if (!grown)
				return rs_error_set(RS_ERROR, "out of memory");
			r->repos = grown;
			rr = &r->repos[r->nrepos];
			memset(rr, 0, sizeof(*rr));
			rr->before = zero;
			rr->after = zero;
			if (!(rr->name = strdup(repos[i].name)))
				return rs_error_set(RS_ERROR, "out of memory");
			r->nrepos++;
		}
		if (after) {
			rr->after = repos[i].stats;
			rr->have_after = 1;
		} else {
			rr->before = repos[i].stats;
		}
	}
	if (after) {
		/* a repository gone after the cleanup has zero figures after */
		for (size_t i = 0; repos && i < r->nrepos; i++)
			r->repos[i].have_after = 1;
	}
	if (r->nrepos > 1)
		qsort(r->repos, r->nrepos, sizeof(*r->repos), cmp_repo);
	return 0;
}

void rs_report_set_apply(struct rs_report *r, struct rs_apply_result *result)
{
	rs_apply_result_free(r->apply);
	r->apply = result;
}

void rs_report_set_in_use(struct rs_report *r, char *json)
{
	free(r->in_use_json);
	r->in_use_json = json;
}

void rs_report_set_gc(struct rs_report *r, struct rs_collect *gc)
{
	if (r->gc)
		rs_collect_release(r->gc);
	free(r->gc);
	r->gc = gc;
}

static char *fmt_count(char *out, size_t n, int64_t v)
{
	snprintf(out, n, "%" PRId64, v);
	return out;
}

static char *fmt_change(char *out, size_t n, int64_t before, int64_t after)
{
	snprintf(out, n, "%" PRId64, after - before);
	return out;
}

static char *fmt_bytes(char *out, size_t n, int64_t v)
{
	if (v < 0) {
		snprintf(out, n, "-");
		return out;
	}
	return rs_size_format(out, n, (uint64_t)v);
}

static char *fmt_bytes_change(char *out, size_t n, int64_t before, int64_t after)
{
	char size[32];
	int64_t d = after - before;

	rs_size_format(size, sizeof(size), (uint64_t)(d < 0 ? -d : d));
	if (d == 0)
		snprintf(out, n, "0");
	else if (before > 0)
		snprintf(out, n, "%s%s (%+.0f%%)", d < 0 ? "-" : "+", size,
			 100.0 * (double)d / (double)before);
	else
		snprintf(out, n, "%s%s", d < 0 ? "-" : "+", size);
	return out;
}

static int table(struct rs_buf *out, const char *title, const struct rs_stats *b,
		 const struct rs_stats *a, int have_after)
{
	static const char *const rows[] = {"Repositories", "Tags", "Manifests", "Blobs"};
	int64_t bv[4], av[4];
	char c1[48], c2[48], c3[64];
	int rc;

	bv[0] = (int64_t)b->repositories; bv[1] = (int64_t)b->tags;
	bv[2] = (int64_t)b->manifests; bv[3] = (int64_t)b->blobs;
	av[0] = (int64_t)a->repositories; av[1] = (int64_t)a->tags;
	av[2] = (int64_t)a->manifests; av[3] = (int64_t)a->blobs;
	rc = rs_buf_printf(out, "%-20s %10s %10s %10s\n", title, "before", "after", "change");
	for (int i = 0; rc == 0 && i < 4; i++)
		rc = rs_buf_printf(out, "%-20s %10s %10s %10s\n", rows[i],
				   fmt_count(c1, sizeof(c1), bv[i]),
				   have_after ? fmt_count(c2, sizeof(c2), av[i]) : "-",
				   have_after ? fmt_change(c3, sizeof(c3), bv[i], av[i]) : "-");
	if (rc == 0)
		rc = rs_buf_printf(out, "%-20s %10s %10s %10s\n", "Size of blobs",
				   fmt_bytes(c1, sizeof(c1), (int64_t)b->bytes),
				   have_after ? fmt_bytes(c2, sizeof(c2), (int64_t)a->bytes) : "-",
				   have_after ? fmt_bytes_change(c3, sizeof(c3), (int64_t)b->bytes,
								 (int64_t)a->bytes) : "-");
	if (rc == 0 && b->storage_bytes >= 0)
		rc = rs_buf_printf(out, "%-20s %10s %10s %10s\n", "On disk",
				   fmt_bytes(c1, sizeof(c1), b->storage_bytes),
				   have_after && a->storage_bytes >= 0
					   ? fmt_bytes(c2, sizeof(c2), a->storage_bytes) : "-",
				   have_after && a->storage_bytes >= 0
					   ? fmt_bytes_change(c3, sizeof(c3), b->storage_bytes,
							      a->storage_bytes) : "-");
	return rc;
}

int rs_report_text(struct rs_buf *out, const struct rs_report *r, int per_repo)
{
	int rc = table(out, "[ Data summary ]", &r->before, &r->after, r->have_after);

	for (size_t i = 0; rc == 0 && per_repo && i < r->nrepos; i++) {
		char title[300];

		snprintf(title, sizeof(title), "[ %s ]", r->repos[i].name);
		rc = rs_buf_puts(out, "\n");
		if (rc == 0)
			rc = table(out, title, &r->repos[i].before, &r->repos[i].after,
				   r->repos[i].have_after);
	}
	return rc;
}

static cJSON *figures_json(const struct rs_stats *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "repositories", (double)s->repositories);
	cJSON_AddNumberToObject(o, "tags", (double)s->tags);
	cJSON_AddNumberToObject(o, "manifests", (double)s->manifests);
	cJSON_AddNumberToObject(o, "blobs", (double)s->blobs);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	if (s->storage_bytes >= 0) {
		cJSON_AddNumberToObject(o, "storage_blobs", (double)s->storage_blobs);
		cJSON_AddNumberToObject(o, "storage_bytes", (double)s->storage_bytes);
	}
	return o;
}

static cJSON *change_json(const struct rs_stats *b, const struct rs_stats *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "repositories", (double)a->repositories - (double)b->repositories);
	cJSON_AddNumberToObject(o, "tags", (double)a->tags - (double)b->tags);
	cJSON_AddNumberToObject(o, "manifests", (double)a->manifests - (double)b->manifests);
	cJSON_AddNumberToObject(o, "blobs", (double)a->blobs - (double)b->blobs);
	cJSON_AddNumberToObject(o, "bytes", (double)a->bytes - (double)b->bytes);
	if (b->storage_bytes >= 0 && a->storage_bytes >= 0) {
		cJSON_AddNumberToObject(o, "storage_blobs",
					(double)a->storage_blobs - (double)b->storage_blobs);
		cJSON_AddNumberToObject(o, "storage_bytes",
					(double)a->storage_bytes - (double)b->storage_bytes);
	}
	return o;
}

static const char *stage_status_name(enum rs_stage_status s)
{
	switch (s) {
	case RS_STAGE_OK: return "ok";
	case RS_STAGE_PARTIAL: return "partial";
	case RS_STAGE_FAILED: return "failed";
	default: return "skipped";
	}
}

/* The apply items, split into deletions and untags that happened, and
 * skips (what did not happen, either way). */
static void add_apply(cJSON *root, const struct rs_apply_result *apply)
{
	cJSON *deletions = cJSON_CreateArray(), *untags = cJSON_CreateArray();
	cJSON *skips = cJSON_CreateArray();
	cJSON *summary = apply ? rs_apply_result_cjson(apply, 0) : NULL;

	for (size_t i = 0; apply && i < apply->nitems + apply->nuntags; i++) {
		const struct rs_apply_item *it = i < apply->nitems ? &apply->items[i]
						 : &apply->untags[i - apply->nitems];

		cJSON_AddItemToArray(!rs_apply_item_done(it) ? skips
				     : it->action == RS_APPLY_UNTAG ? untags : deletions,
				     rs_apply_item_cjson(it));
	}
	cJSON_AddItemToObject(root, "deletions", deletions);
	cJSON_AddItemToObject(root, "untags", untags);
	cJSON_AddItemToObject(root, "skips", skips);
	cJSON_AddItemToObject(root, "apply", summary ? summary : cJSON_CreateNull());
}

int rs_report_json(char **out, const struct rs_report *r, int per_repo)
{
	cJSON *root = cJSON_CreateObject(), *stages, *errors, *gc, *in_use;
	char when[40];

	*out = NULL;
	if (!root)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_AddNumberToObject(root, "report_version", RS_REPORT_VERSION);
	cJSON_AddStringToObject(root, "tool", "regsweep");
	cJSON_AddStringToObject(root, "tool_version", PACKAGE_VERSION);
	cJSON_AddStringToObject(root, "registry", r->registry);
	cJSON_AddBoolToObject(root, "dry_run", r->dry_run);
	cJSON_AddStringToObject(root, "started", rs_time_format(when, sizeof(when), r->started));
	cJSON_AddStringToObject(root, "finished", rs_time_format(when, sizeof(when), r->finished));
	cJSON_AddBoolToObject(root, "success", r->exit_code == 0);
	cJSON_AddNumberToObject(root, "exit_code", r->exit_code);
	cJSON_AddNumberToObject(root, "requests", (double)r->requests);
	cJSON_AddItemToObject(root, "before", r->have_before ? figures_json(&r->before)
							       : cJSON_CreateNull());
	cJSON_AddItemToObject(root, "after", r->have_after ? figures_json(&r->after)
							     : cJSON_CreateNull());
	cJSON_AddItemToObject(root, "change", r->have_before && r->have_after
					      ? change_json(&r->before, &r->after)
					      : cJSON_CreateNull());
	if (per_repo) {
		cJSON *repos = cJSON_AddArrayToObject(root, "per_repo");

		for (size_t i = 0; i < r->nrepos; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", r->repos[i].name);
			cJSON_AddItemToObject(o, "before", figures_json(&r->repos[i].before));
			cJSON_AddItemToObject(o, "after", r->repos[i].have_after
							  ? figures_json(&r->repos[i].after)
							  : cJSON_CreateNull());
			cJSON_AddItemToArray(repos, o);
		}
	}
	stages = cJSON_AddArrayToObject(root, "stages");
	for (size_t i = 0; i < r->nstages; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", r->stages[i].name);
		cJSON_AddStringToObject(o, "status", stage_status_name(r->stages[i].status));
		cJSON_AddNumberToObject(o, "seconds", (double)(int64_t)(r->stages[i].seconds * 1000) / 1000);
		if (r->stages[i].error)
			cJSON_AddStringToObject(o, "error", r->stages[i].error);
		else
			cJSON_AddNullToObject(o, "error");
		cJSON_AddItemToArray(stages, o);
	}
	add_apply(root, r->apply);
	gc = r->gc ? rs_collect_cjson(r->gc) : NULL;
	cJSON_AddItemToObject(root, "gc", gc ? gc : cJSON_CreateNull());
	errors = cJSON_AddArrayToObject(root, "errors");
	for (size_t i = 0; i < r->nerrors; i++)
		cJSON_AddItemToArray(errors, cJSON_CreateString(r->errors[i]));
	in_use = r->in_use_json ? cJSON_Parse(r->in_use_json) : NULL;
	cJSON_AddItemToObject(root, "in_use", in_use ? in_use : cJSON_CreateNull());
	*out = cJSON_Print(root);
	cJSON_Delete(root);
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	return 0;
}

static int gauge(struct rs_buf *out, const char *name, const char *help, const char *labels,
		 double value)
{
	return rs_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s%s %.17g\n", name, help, name,
			     name, labels, value);
}

static int figures_metrics(struct rs_buf *out, const struct rs_report *r)
{
	static const struct {
		const char *name, *help;
	} names[] = {
		{"regsweep_repositories", "Repositories in the registry."},
		{"regsweep_tags", "Tags in the registry."},
		{"regsweep_manifests", "Manifests in the registry, once per repository."},
		{"regsweep_blobs", "Distinct blobs (configs and layers) the manifests reference."},
		{"regsweep_bytes", "Bytes of those blobs, as the manifests declare them."},
	};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < 5; i++) {
		const struct rs_stats *side[2] = {&r->before, &r->after};
		const char *when[2] = {"before", "after"};
		int have[2] = {r->have_before, r->have_after};

		rc = rs_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[i].name, names[i].help,
				   names[i].name);
		for (int s = 0; rc == 0 && s < 2; s++) {
			uint64_t v[5];

			if (!have[s])
				continue;
			v[0] = side[s]->repositories; v[1] = side[s]->tags; v[2] = side[s]->manifests;
			v[3] = side[s]->blobs; v[4] = side[s]->bytes;
			rc = rs_buf_printf(out, "%s{when=\"%s\"} %" PRIu64 "\n", names[i].name, when[s], v[i]);
		}
	}
	return rc;
}

int rs_report_metrics(struct rs_buf *out, const struct rs_report *r)
{
	double freed = 0;
	int rc;

	if (r->have_before && r->have_after) {
		if (r->before.storage_bytes >= 0 && r->after.storage_bytes >= 0)
			freed = (double)(r->before.storage_bytes - r->after.storage_bytes);
		else
			freed = (double)r->before.bytes - (double)r->after.bytes;
	}
	rc = gauge(out, "regsweep_last_run_timestamp_seconds", "When the last run finished.", "",
		   (double)r->finished);
	if (rc == 0)
		rc = gauge(out, "regsweep_last_run_success", "1 if the last run succeeded.", "",
			   r->exit_code == 0 ? 1 : 0);
	if (rc == 0)
		rc = gauge(out, "regsweep_last_run_exit_code", "Exit status of the last run.", "",
			   r->exit_code);
	if (rc == 0)
		rc = gauge(out, "regsweep_last_run_duration_seconds", "How long the last run took.", "",
			   (double)(r->finished - r->started));
	if (rc == 0)
		rc = gauge(out, "regsweep_last_run_dry_run", "1 if the last run changed nothing on purpose.",
			   "", r->dry_run);
	if (rc == 0)
		rc = gauge(out, "regsweep_bytes_freed", "Bytes the last run freed (on disk when known).",
			   "", freed);
	if (rc == 0)
		rc = figures_metrics(out, r);
	if (rc == 0 && r->apply) {
		const struct rs_apply_result *a = r->apply;
		const struct {
			const char *key;
			size_t n;
		} counts[] = {
			{"deleted", a->deleted}, {"untagged", a->untagged}, {"already_gone", a->gone},
			{"skipped", a->skipped},
			{"failed", a->failed}, {"not_attempted", a->pending},
			{"would_delete", a->would_delete}, {"would_untag", a->would_untag},
		};

		rc = rs_buf_puts(out, "# HELP regsweep_deletions Deletions of the last run, by outcome.\n"
				 "# TYPE regsweep_deletions gauge\n");
		for (size_t i = 0; rc == 0 && i < sizeof(counts) / sizeof(counts[0]); i++)
			rc = rs_buf_printf(out, "regsweep_deletions{outcome=\"%s\"} %zu\n", counts[i].key,
					   counts[i].n);
	}
	if (rc == 0 && r->have_before && r->before.storage_bytes >= 0) {
		rc = rs_buf_printf(out, "# HELP regsweep_storage_bytes Bytes of the blob store on disk.\n"
				   "# TYPE regsweep_storage_bytes gauge\n"
				   "regsweep_storage_bytes{when=\"before\"} %" PRId64 "\n",
				   r->before.storage_bytes);
		if (rc == 0 && r->have_after && r->after.storage_bytes >= 0)
			rc = rs_buf_printf(out, "regsweep_storage_bytes{when=\"after\"} %" PRId64 "\n",
					   r->after.storage_bytes);
	}
	return rc;
}
