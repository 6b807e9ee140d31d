/* ssh_cli.c: SSH sessions, GC options and GC figures from the settings (see
 * ssh_cli.h). */
#include "ssh_cli.h"
#include "storage/storage_remote.h"
#include "base/error.h"
#include "model/inventory.h"
#include "base/log.h"
#include "storage/regconfig.h"
#include "scan/scan.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_REGISTRY_CONFIG "/etc/docker/registry/config.yml"
#define REGISTRY_CONFIG_MAX (1024 * 1024)

int cli_ssh_connect(struct cli_ctx *ctx, struct rs_ssh **out)
{
	const struct rs_settings *s = &ctx->settings;
	struct rs_ssh_options opts = RS_SSH_OPTIONS_INIT;

	*out = NULL;
	if (!s->ssh || !*s->ssh)
		return rs_error_set(RS_EUSAGE, "no SSH host given: use --ssh [USER@]HOST[:PORT]");
	opts.target = s->ssh;
	opts.known_hosts = s->ssh_known_hosts;
	opts.accept_new = s->ssh_accept_new;
	opts.key_file = s->ssh_key;
	opts.passphrase = s->ssh_passphrase;
	opts.password = s->ssh_password;
	opts.connect_timeout_ms = s->ssh_timeout > 0 ? (long)s->ssh_timeout * 1000 : 10000;
	return rs_ssh_connect(out, &opts);
}

static void stream_output(const char *step, const char *line, void *userdata)
{
	(void)userdata;
	rs_log(RS_LOG_VERBOSE, "  %s| %s", *step ? step : "gc", line);
}

void cli_gc_options(struct cli_ctx *ctx, struct rs_gc_options *out)
{
	const struct rs_settings *s = &ctx->settings;

	*out = (struct rs_gc_options)RS_GC_OPTIONS_INIT;
	out->before = s->before_gc;
	out->gc_command = s->gc_command;
	out->after = s->after_gc;
	out->dry_run = s->dry_run;
	out->delete_untagged = s->delete_untagged;
	out->timeout_ms = s->command_timeout > 0 ? (long)s->command_timeout * 1000 : 0;
	out->on_output = stream_output;
}

/* --------------------------------------------------------------- storage */

static int root_from_config(char **root, struct cli_ctx *ctx, const struct rs_fs *fs,
			    const char *path, const char *where)
{
	struct rs_buf text = RS_BUF_INIT;
	struct rs_regconfig cfg;
	int rc;

	rc = fs->ops->read(fs->impl, path, REGISTRY_CONFIG_MAX, &text, NULL);
	if (rc == RS_ENOTFOUND)
		rc = rs_error_set(RS_EUSAGE, "the registry config '%s' does not exist on %s: give "
				  "--registry-config FILE or --storage-root DIR", path, where);
	if (rc < 0)
		goto done;
	rc = rs_regconfig_parse(&cfg, rs_buf_cstr(&text), text.len, path);
	if (rc < 0)
		goto done;
	if (!cfg.root) {
		rc = rs_error_set(RS_EUSAGE, "the registry config '%s' uses the '%s' storage driver: "
				  "the storage view reads only the filesystem driver", path, cfg.driver);
	} else {
		if (!cfg.delete_enabled)
			rs_log(RS_LOG_WARN, "warning: '%s' does not enable storage.delete: the registry "
			       "refuses every delete (405) until it does", path);
		rs_log(RS_LOG_VERBOSE, "storage: root '%s' from '%s'", cfg.root, path);
		*root = strdup(cfg.root);
		if (!*root)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	rs_regconfig_release(&cfg);
done:
	(void)ctx;
	rs_buf_release(&text);
	return rc;
}

int cli_storage_locate(struct cli_ctx *ctx, struct rs_ssh *ssh, struct rs_fs *fs, char **root)
{
	const struct rs_settings *s = &ctx->settings;
	const char *config = s->registry_config;

	*root = NULL;
	if (ssh)
		rs_ssh_fs(fs, ssh);
	else
		rs_fs_local(fs);
	if (s->storage_root && *s->storage_root) {
		*root = strdup(s->storage_root);
		return *root ? 0 : rs_error_set(RS_ERROR, "out of memory");
	}
	if ((!config || !*config) && ssh)
		config = DEFAULT_REGISTRY_CONFIG;
	if (!config || !*config)
		return rs_error_set(RS_EUSAGE, "the storage view needs --storage-root DIR or "
				    "--registry-config FILE");
	return root_from_config(root, ctx, fs, config, ssh ? rs_ssh_describe(ssh) : "this machine");
}

int cli_storage_blobs(struct cli_ctx *ctx, struct rs_ssh *ssh, int64_t *blobs, int64_t *bytes)
{
	const struct rs_settings *s = &ctx->settings;
	struct rs_storage_options opts = RS_STORAGE_OPTIONS_INIT;
	struct rs_storage_view *view = NULL;
	struct rs_fs fs;
	char *root = NULL;
	int rc;

	*blobs = *bytes = -1;
	if (!s->storage_root && !s->registry_config)
		return 0;
	rc = cli_storage_locate(ctx, ssh, &fs, &root);
	opts.list_manifests = 0;
	if (rc == 0 && ssh)
		rc = rs_storage_read_remote(&view, ssh, root, (long)s->command_timeout * 1000);
	else if (rc == 0)
		rc = rs_storage_read(&view, &fs, root, &opts);
	if (rc == 0) {
		*blobs = view->blobs;
		*bytes = view->bytes;
	}
	rs_storage_view_free(view);
	free(root);
	return rc;
}

/* -------------------------------------------------------------- format */

static int json_string(struct rs_buf *out, const char *s)
{
	int rc = rs_buf_puts(out, "\"");

	for (; rc == 0 && s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = rs_buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			rc = rs_buf_printf(out, "\\u%04x", c);
		else
			rc = rs_buf_put(out, s, 1);
	}
	if (rc == 0)
		rc = rs_buf_puts(out, "\"");
	return rc;
}

static int format_figures_text(struct rs_buf *out, const char *label, const struct rs_gc_figures *f,
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

static int format_step_text(struct rs_buf *out, const char *label, const struct rs_gc_step_result *s,
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

static int format_text(struct rs_buf *out, const struct rs_gc_result *r, const char *host,
		       int dry_run, const struct cli_gc_storage *st)
{
	enum rs_gc_step failed = rs_gc_failed_step(r);
	char a[32], b[32];
	int rc;

	rc = rs_buf_printf(out, "[ Garbage collection%s ]\nHost: %s\n", dry_run ? " (dry run)" : "",
			   host ? host : "?");
	if (rc == 0)
		rc = format_step_text(out, "Before-GC command", &r->steps[RS_GC_BEFORE],
				      dry_run ? "not run (--dry-run)" : r->has_before ? "not run" : "none");
	if (rc == 0)
		rc = format_figures_text(out, "Dry run", &r->dry_run, &r->steps[RS_GC_DRY_RUN],
					 "not run");
	if (rc == 0)
		rc = format_figures_text(out, "Collected", &r->collected, &r->steps[RS_GC_COLLECT],
					 dry_run ? "not run (--dry-run)" : "not run");
	if (rc == 0)
		rc = format_step_text(out, "After-GC command", &r->steps[RS_GC_AFTER],
				      dry_run ? "not run (--dry-run)"
				      : !r->has_after ? "none"
				      : r->done ? "not run"
				      : "not seen: it runs on the host when the script ends");
	if (rc == 0 && r->empty_storage)
		rc = rs_buf_puts(out, "Note: the storage holds no repositories yet, nothing to collect\n");
	if (rc == 0 && st && st->bytes_before >= 0)
		rc = rs_buf_printf(out, "Storage before: %" PRId64 " blobs, %s\n", st->blobs_before,
				   rs_size_format(a, sizeof(a), (uint64_t)st->bytes_before));
	if (rc == 0 && st && st->bytes_after >= 0)
		rc = rs_buf_printf(out, "Storage after: %" PRId64 " blobs, %s\n", st->blobs_after,
				   rs_size_format(b, sizeof(b), (uint64_t)st->bytes_after));
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

static int json_figures(struct rs_buf *out, const char *key, const struct rs_gc_figures *f)
{
	if (f->marked < 0)
		return rs_buf_printf(out, ",\"%s\":null", key);
	return rs_buf_printf(out, ",\"%s\":{\"blobs_marked\":%" PRId64 ",\"blobs_eligible\":%" PRId64
			     ",\"manifests_eligible\":%" PRId64 "}", key, f->marked, f->blobs,
			     f->manifests);
}

static int format_json(struct rs_buf *out, const struct rs_gc_result *r, const char *host,
		       int dry_run, const struct cli_gc_storage *st)
{
	static const char *const states[] = {"not_run", "running", "done", "skipped"};
	enum rs_gc_step failed = rs_gc_failed_step(r);
	int rc;

	rc = rs_buf_puts(out, "{\"host\":");
	if (rc == 0)
		rc = json_string(out, host ? host : "");
	if (rc == 0)
		rc = rs_buf_printf(out, ",\"dry_run\":%s", dry_run ? "true" : "false");
	if (rc == 0)
		rc = json_figures(out, "dry_run_figures", &r->dry_run);
	if (rc == 0)
		rc = json_figures(out, "figures", &r->collected);
	if (rc == 0)
		rc = rs_buf_puts(out, ",\"steps\":{");
	for (int i = 0; rc == 0 && i < RS_GC_NSTEPS; i++) {
		rc = rs_buf_printf(out, "%s\"%s\":{\"state\":\"%s\"", i ? "," : "",
				   rs_gc_step_name((enum rs_gc_step)i), states[r->steps[i].state]);
		if (rc == 0 && r->steps[i].state == RS_GC_DONE)
			rc = rs_buf_printf(out, ",\"exit_status\":%d", r->steps[i].rc);
		if (rc == 0)
			rc = rs_buf_puts(out, "}");
	}
	if (rc == 0)
		rc = rs_buf_puts(out, "},\"failed_step\":");
	if (rc == 0)
		rc = failed == RS_GC_NSTEPS ? rs_buf_puts(out, "null")
		     : json_string(out, rs_gc_step_name(failed));
	if (rc == 0 && (r->exit_status >= 0 && !r->exit_signal[0]))
		rc = rs_buf_printf(out, ",\"exit_status\":%d", r->exit_status);
	else if (rc == 0)
		rc = rs_buf_puts(out, ",\"exit_status\":null");
	if (rc == 0)
		rc = rs_buf_printf(out, ",\"completed\":%s,\"empty_storage\":%s",
				   r->done ? "true" : "false", r->empty_storage ? "true" : "false");
	if (rc == 0 && st)
		rc = rs_buf_printf(out, ",\"storage_blobs_before\":%" PRId64 ",\"storage_bytes_before\":%"
				   PRId64 ",\"storage_blobs_after\":%" PRId64 ",\"storage_bytes_after\":%"
				   PRId64, st->blobs_before, st->bytes_before, st->blobs_after,
				   st->bytes_after);
	if (rc == 0 && !r->done && r->remote_dir[0]) {
		char path[sizeof(r->remote_dir) + 8];

		snprintf(path, sizeof(path), "%s/log", r->remote_dir);
		rc = rs_buf_puts(out, ",\"remote_log\":");
		if (rc == 0)
			rc = json_string(out, path);
	}
	if (rc == 0)
		rc = rs_buf_puts(out, "}\n");
	return rc;
}

int cli_gc_format(struct rs_buf *out, const struct rs_gc_result *r, const char *host, int dry_run,
		  const struct cli_gc_storage *storage, int json)
{
	if (json)
		return format_json(out, r, host, dry_run, storage);
	return format_text(out, r, host, dry_run, storage);
}

/* ------------------------------------------------------------- execute */

static int check_delete_untagged(struct cli_ctx *ctx, const struct rs_inventory *inv)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_inventory *scanned = NULL;
	int rc;

	if (inv)
		return rs_gc_check_delete_untagged(inv);
	if (!ctx->settings.registry || !*ctx->settings.registry)
		return rs_error_set(RS_EUSAGE, "--delete-untagged needs -r URL: regsweep first checks "
				    "that the registry holds no multi-arch index, whose children "
				    "garbage-collect --delete-untagged would delete on 2.x");
	rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	rs_log(RS_LOG_INFO, "gc: scanning the registry for multi-arch indexes (--delete-untagged)");
	rc = rs_scan(&scanned, ctx->registry, &opts);
	if (rc == RS_EPARTIAL)
		rc = rs_error_set(RS_EUSAGE, "refusing --delete-untagged: the scan could not read "
				  "everything (%s)", rs_error_message());
	if (rc == 0)
		rc = rs_gc_check_delete_untagged(scanned);
	rs_inventory_free(scanned);
	return rc;
}

int cli_gc_execute(struct cli_ctx *ctx, const struct rs_inventory *inv, struct rs_gc_result *result,
		   struct cli_gc_storage *storage, char **host)
{
	struct rs_gc_options opts;
	struct rs_ssh *ssh = NULL;
	int rc, measure;

	rs_gc_result_init(result, "");
	*storage = (struct cli_gc_storage){-1, -1, -1, -1};
	if (host)
		*host = NULL;
	cli_gc_options(ctx, &opts);
	rc = rs_gc_validate(&opts);
	if (rc == 0 && opts.delete_untagged)
		rc = check_delete_untagged(ctx, inv);
	if (rc < 0)
		return rc;
	if (!opts.dry_run && !(opts.before && *opts.before))
		rs_log(RS_LOG_WARN, "warning: no --before-gc command: garbage-collect runs while the "
		       "registry accepts pushes, and a push during GC can lose blobs; make it "
		       "read-only or stop it with --before-gc, and restore it with --after-gc");
	rc = cli_ssh_connect(ctx, &ssh);
	if (rc < 0)
		return rc;
	if (host)
		*host = strdup(rs_ssh_describe(ssh));
	measure = ctx->settings.storage_root || ctx->settings.registry_config;
	if (measure) {
		rc = cli_storage_blobs(ctx, ssh, &storage->blobs_before, &storage->bytes_before);
		if (rc < 0)
			goto done;
	}
	rc = rs_gc_run(result, ssh, &opts);
	if (rc == 0 && measure && !opts.dry_run) {
		rc = cli_storage_blobs(ctx, ssh, &storage->blobs_after, &storage->bytes_after);
		if (rc < 0)
			rs_error_prefix("garbage collection done, but measuring the storage failed: ");
	}
done:
	rs_ssh_free(ssh);
	return rc;
}
