/* gcreport.c: a collection as text and as JSON (see gcreport.h). */
#include "report/gcreport.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int figures_text(struct rs_buf *out, const char *label, const struct rs_gc_figures *f,
			const struct rs_gc_step_result *step, const char *not_run)
{
	if (f->marked >= 0)
		return rs_buf_printf(out, "%s: %" PRId64 " blobs marked, %" PRId64 " blobs and %" PRId64
				     " manifests eligible for deletion\n", label, f->marked, f->blobs,
				     f->manifests);
	if (step->state == RS_GC_DONE)
		return rs_buf_printf(out, "%s: no figures (exit status %d)\n", label, step->rc);
	return rs_buf_printf(out, "%s: %s\n", label,
			     step->state == RS_GC_SKIPPED ? "skipped (an earlier step failed)"
			     : step->state == RS_GC_RUNNING ? "started, end not seen" : not_run);
}

static int step_text(struct rs_buf *out, const char *label, const struct rs_gc_step_result *s,
		     const char *not_run)
{
	switch (s->state) {
	case RS_GC_DONE:
		return rs_buf_printf(out, "%s: exit status %d\n", label, s->rc);
	case RS_GC_SKIPPED:
		return rs_buf_printf(out, "%s: skipped\n", label);
	case RS_GC_RUNNING:
		return rs_buf_printf(out, "%s: started, end not seen\n", label);
	default:
		return rs_buf_printf(out, "%s: %s\n", label, not_run);
	}
}

int rs_collect_text(struct rs_buf *out, const struct rs_collect *c)
{
	const struct rs_gc_result *r = &c->result;
	enum rs_gc_step failed = rs_gc_failed_step(r);
	int dry_run = c->dry_run, rc;
	char a[32], b[32];

	rc = rs_buf_printf(out, "[ Garbage collection%s ]\nHost: %s\nRegistry: %s\n",
			   dry_run ? " (dry run)" : "", c->host ? c->host : "?",
			   c->registry_version ? c->registry_version : "version unknown");
	if (rc == 0)
		rc = step_text(out, "Before-GC command", &r->steps[RS_GC_BEFORE],
			       dry_run ? "not run (--dry-run)" : r->has_before ? "not run" : "none");
	if (rc == 0)
		rc = figures_text(out, "Dry run", &r->dry_run, &r->steps[RS_GC_DRY_RUN], "not run");
	if (rc == 0)
		rc = figures_text(out, "Collected", &r->collected, &r->steps[RS_GC_COLLECT],
				  dry_run ? "not run (--dry-run)" : "not run");
	if (rc == 0)
		rc = step_text(out, "After-GC command", &r->steps[RS_GC_AFTER],
			       dry_run ? "not run (--dry-run)"
			       : !r->has_after ? "none"
			       : r->done ? "not run"
			       : "not seen: it runs on the host when the script ends");
	if (rc == 0 && r->empty_storage)
		rc = rs_buf_puts(out, "Note: the storage holds no repositories yet, nothing to collect\n");
	if (rc == 0 && c->bytes_before >= 0)
		rc = rs_buf_printf(out, "Storage before: %" PRId64 " blobs, %s\n", c->blobs_before,
				   rs_size_format(a, sizeof(a), (uint64_t)c->bytes_before));
	if (rc == 0 && c->bytes_after >= 0)
		rc = rs_buf_printf(out, "Storage after: %" PRId64 " blobs, %s\n", c->blobs_after,
				   rs_size_format(b, sizeof(b), (uint64_t)c->bytes_after));
	if (rc == 0) {
		if (r->exit_signal[0])
			rc = rs_buf_printf(out, "Remote exit status: signal %s\n", r->exit_signal);
		else if (r->exit_status >= 0 && (r->done || r->exit_status != 0))
			rc = rs_buf_printf(out, "Remote exit status: %d\n", r->exit_status);
		else
			rc = rs_buf_puts(out, "Remote exit status: unknown (connection lost)\n");
	}
	if (rc == 0 && !r->done && r->remote_dir[0])
		rc = rs_buf_printf(out, "Remote log: %s/log (kept on the host)\n", r->remote_dir);
	if (rc == 0)
		rc = rs_buf_printf(out, "Failed step: %s\n",
				   failed == RS_GC_NSTEPS ? "none" : rs_gc_step_name(failed));
	return rc;
}

static void add_figures(cJSON *root, const char *key, const struct rs_gc_figures *f)
{
	cJSON *o;

	if (f->marked < 0) {
		cJSON_AddNullToObject(root, key);
		return;
	}
	o = cJSON_AddObjectToObject(root, key);
	cJSON_AddNumberToObject(o, "blobs_marked", (double)f->marked);
	cJSON_AddNumberToObject(o, "blobs_eligible", (double)f->blobs);
	cJSON_AddNumberToObject(o, "manifests_eligible", (double)f->manifests);
}

cJSON *rs_collect_cjson(const struct rs_collect *c)
{
	static const char *const states[] = {"not_run", "running", "done", "skipped"};
	const struct rs_gc_result *r = &c->result;
	enum rs_gc_step failed = rs_gc_failed_step(r);
	cJSON *root = cJSON_CreateObject(), *steps;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "host", c->host ? c->host : "");
	if (c->registry_version)
		cJSON_AddStringToObject(root, "registry_version", c->registry_version);
	else
		cJSON_AddNullToObject(root, "registry_version");
	cJSON_AddBoolToObject(root, "dry_run", c->dry_run);
	add_figures(root, "dry_run_figures", &r->dry_run);
	add_figures(root, "figures", &r->collected);
	steps = cJSON_AddObjectToObject(root, "steps");
	for (int i = 0; steps && i < RS_GC_NSTEPS; i++) {
		cJSON *step = cJSON_AddObjectToObject(steps, rs_gc_step_name((enum rs_gc_step)i));

		cJSON_AddStringToObject(step, "state", states[r->steps[i].state]);
		if (r->steps[i].state == RS_GC_DONE)
			cJSON_AddNumberToObject(step, "exit_status", r->steps[i].rc);
	}
	if (failed == RS_GC_NSTEPS)
		cJSON_AddNullToObject(root, "failed_step");
	else
		cJSON_AddStringToObject(root, "failed_step", rs_gc_step_name(failed));
	if (r->exit_status >= 0 && !r->exit_signal[0])
		cJSON_AddNumberToObject(root, "exit_status", r->exit_status);
	else
		cJSON_AddNullToObject(root, "exit_status");
	cJSON_AddBoolToObject(root, "completed", r->done);
	cJSON_AddBoolToObject(root, "empty_storage", r->empty_storage);
	cJSON_AddNumberToObject(root, "storage_blobs_before", (double)c->blobs_before);
	cJSON_AddNumberToObject(root, "storage_bytes_before", (double)c->bytes_before);
	cJSON_AddNumberToObject(root, "storage_blobs_after", (double)c->blobs_after);
	cJSON_AddNumberToObject(root, "storage_bytes_after", (double)c->bytes_after);
	if (!r->done && r->remote_dir[0]) {
		char path[sizeof(r->remote_dir) + 8];

		snprintf(path, sizeof(path), "%s/log", r->remote_dir);
		cJSON_AddStringToObject(root, "remote_log", path);
	}
	return root;
}

int rs_collect_json(char **out, const struct rs_collect *c)
{
	cJSON *root = rs_collect_cjson(c);
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;
	int rc = 0;

	*out = NULL;
	cJSON_Delete(root);
	if (!text || asprintf(out, "%s\n", text) < 0) {
		*out = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
	free(text);
	return rc;
}
