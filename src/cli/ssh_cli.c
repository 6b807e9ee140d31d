/* ssh_cli.c: SSH, storage and GC options from the settings, the inventory
 * as the settings ask for it, and a collection (see ssh_cli.h, cli.h). */
#include "ssh_cli.h"
#include "base/error.h"
#include "base/log.h"
#include "job/inventory.h"
#include "progress.h"

#include <stdlib.h>
#include <string.h>

void cli_ssh_options(struct cli_ctx *ctx, struct rs_ssh_options *out)
{
	const struct rs_settings *s = &ctx->settings;

	*out = (struct rs_ssh_options)RS_SSH_OPTIONS_INIT;
	out->target = s->ssh;
	out->known_hosts = s->ssh_known_hosts;
	out->accept_new = s->ssh_accept_new;
	out->key_file = s->ssh_key;
	out->passphrase = s->ssh_passphrase;
	out->password = s->ssh_password;
	out->connect_timeout_ms = s->ssh_timeout > 0 ? (long)s->ssh_timeout * 1000 : 10000;
}

int cli_ssh_connect(struct cli_ctx *ctx, struct rs_ssh **out)
{
	struct rs_ssh_options opts;

	*out = NULL;
	if (!ctx->settings.ssh || !*ctx->settings.ssh)
		return rs_error_set(RS_EUSAGE, "no SSH host given: use --ssh [USER@]HOST[:PORT]");
	cli_ssh_options(ctx, &opts);
	return rs_ssh_connect(out, &opts);
}

static int is_set(const char *s)
{
	return s && *s;
}

int cli_storage_wanted(const struct cli_ctx *ctx)
{
	const struct rs_settings *s = &ctx->settings;

	return is_set(s->ssh) || is_set(s->storage_root) || is_set(s->registry_config);
}

void cli_storage_location(struct cli_ctx *ctx, struct rs_ssh *ssh, struct rs_storage_location *out)
{
	const struct rs_settings *s = &ctx->settings;

	*out = (struct rs_storage_location)RS_STORAGE_LOCATION_INIT;
	out->root = s->storage_root;
	out->registry_config = s->registry_config;
	out->ssh = ssh;
	out->timeout_ms = s->command_timeout > 0 ? (long)s->command_timeout * 1000 : 0;
	/* the store gets the registry's window, retries and timeouts on a
	 * client of its own; its TLS settings are the store's (storage/s3.c) */
	ctx->store_http = (struct rs_http_options)RS_HTTP_OPTIONS_INIT;
	ctx->store_http.jobs = s->jobs > 0 ? s->jobs : 1;
	ctx->store_http.retries = s->retries;
	ctx->store_http.connect_timeout_ms = (long)s->connect_timeout * 1000;
	ctx->store_http.stall_timeout_ms = (long)s->timeout * 1000;
	out->http = &ctx->store_http;
	out->s3_endpoint = s->s3_endpoint;
	out->s3_region = s->s3_region;
	out->s3_credentials = s->s3_credentials;
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

int cli_inventory(struct cli_ctx *ctx, const struct rs_scan_options *opts,
		  struct rs_inventory **out, int64_t *blobs, int64_t *bytes)
{
	struct rs_job_read read = {ctx->registry, opts, NULL, ctx->settings.index_from_storage,
				   opts->need_tag_times};
	struct rs_job_storage_figures figures = {-1, -1};
	struct rs_storage_location loc;
	struct rs_ssh *ssh = NULL;
	int rc = 0;

	*out = NULL;
	*blobs = *bytes = -1;
	if (!ctx->registry)
		return rs_error_set(RS_ERROR, "the inventory needs the registry connection first");
	if (cli_storage_wanted(ctx)) {
		if (is_set(ctx->settings.ssh))
			rc = cli_ssh_connect(ctx, &ssh);
		cli_storage_location(ctx, ssh, &loc);
		if (rc == 0)
			rc = rs_storage_open(&read.storage, &loc);
	} else if (ctx->settings.index_from_storage) {
		rc = rs_error_set(RS_EUSAGE, "--index-from-storage needs the storage: give "
				  "--storage-root DIR or --registry-config FILE, or --ssh HOST");
	}
	if (rc == 0)
		rc = rs_job_inventory(out, &figures, &read);
	cli_progress_done(ctx);
	*blobs = figures.blobs;
	*bytes = figures.bytes;
	rs_storage_free(read.storage);
	rs_ssh_free(ssh);
	return rc;
}

int cli_collect(struct cli_ctx *ctx, const struct rs_inventory *inv, struct rs_collect *out)
{
	struct rs_collect_options opts;
	struct rs_ssh_options ssh;
	int rc = 0;

	memset(&opts, 0, sizeof(opts));
	cli_gc_options(ctx, &opts.gc);
	cli_ssh_options(ctx, &ssh);
	opts.ssh = &ssh;
	cli_storage_location(ctx, NULL, &opts.storage);
	opts.inv = inv;
	if (!inv && opts.gc.delete_untagged && is_set(ctx->settings.registry))
		rc = cli_connect(ctx);
	opts.reg = ctx->registry;
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return rs_collect_run(out, &opts);
}
