/* connect.c: building the transport, authenticator and registry from settings. */
#include "cli.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_exit_code(int rc)
{
	switch (rc) {
	case RS_OK:
		return CLI_EXIT_OK;
	case RS_EUSAGE:
		return CLI_EXIT_USAGE;
	case RS_EPARTIAL:
	case RS_ECONFLICT:
		return CLI_EXIT_PARTIAL;
	default:
		return CLI_EXIT_FAILED;
	}
}

int cli_connect(struct cli_ctx *ctx)
{
	struct rs_settings *s = &ctx->settings;
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;
	int rc;

	if (ctx->registry)
		return 0;
	if (!s->registry || !*s->registry)
		return rs_error_set(RS_EUSAGE, "no registry given: use -r URL or set REGSWEEP_REGISTRY");
	hopts.jobs = s->jobs > 0 ? s->jobs : 1;
	hopts.rate = s->rate;
	hopts.retries = s->retries;
	hopts.connect_timeout_ms = (long)s->connect_timeout * 1000;
	hopts.stall_timeout_ms = (long)s->timeout * 1000;
	hopts.cacert = s->cacert;
	hopts.cert = s->cert;
	hopts.key = s->key;
	hopts.insecure = s->insecure;
	if (s->insecure)
		rs_log(RS_LOG_WARN, "warning: TLS certificate verification is off (--insecure)");
	rc = rs_http_new(&ctx->http, &hopts);
	if (rc < 0)
		return rc;
	aopts.registry = s->registry;
	aopts.username = s->username;
	aopts.password = s->password;
	aopts.token = s->token;
	aopts.insecure = s->insecure;
	if (s->token)
		aopts.source = s->token_file ? "--token-file" : "REGSWEEP_TOKEN";
	else if (s->username)
		aopts.source = s->password_stdin ? "user name and --password-stdin"
			     : s->password_file ? "user name and --password-file"
			     : "user name and REGSWEEP_PASSWORD";
	rc = rs_auth_new(&ctx->auth, &aopts, ctx->http);
	if (rc < 0)
		return rc;
	rs_log(RS_LOG_VERBOSE, "credentials: %s", rs_auth_source(ctx->auth));
	return rs_registry_new(&ctx->registry, s->registry, ctx->http, ctx->auth);
}

int cli_write_output(const char *path, const char *data, size_t len)
{
	FILE *fp = stdout;
	int fd = -1;

	if (path && strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || !(fp = fdopen(fd, "w"))) {
			if (fd >= 0)
				close(fd);
			return rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
		}
	}
	if (fwrite(data, 1, len, fp) != len || fflush(fp) != 0) {
		if (fp != stdout)
			fclose(fp);
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", path ? path : "stdout",
				    strerror(errno));
	}
	if (fp != stdout && fclose(fp) != 0)
		return rs_error_set(RS_ERROR, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int cli_scan_options(struct cli_ctx *ctx, struct rs_scan_options *opts)
{
	const struct rs_settings *s = &ctx->settings;
	int rc;

	opts->page_size = s->page_size;
	if (s->shard) {
		rc = rs_shard_parse(&opts->shard_index, &opts->shard_count, s->shard);
		if (rc < 0)
			return rs_error_prefix("--shard: ");
	}
	if (!s->no_cache && !ctx->cache) {
		rc = rs_cache_open(&ctx->cache, s->cache_dir);
		if (rc < 0)
			return rs_error_prefix("cache: ");
		rs_log(RS_LOG_VERBOSE, "cache: %s", rs_cache_dir(ctx->cache));
	}
	opts->cache = s->no_cache ? NULL : ctx->cache;
	return 0;
}
