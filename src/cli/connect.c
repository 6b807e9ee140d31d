/* connect.c: building the transport, authenticator and registry from settings. */
#include "cli.h"
#include "progress.h"
#include "base/cancel.h"
#include "net/credentials.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"

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
	case RS_ECANCELLED:
		/* stopped by the run's deadline: done in part, as the report says;
		 * by a signal: a failure */
		return rs_deadline_passed() ? CLI_EXIT_PARTIAL : CLI_EXIT_FAILED;
	default:
		return CLI_EXIT_FAILED;
	}
}

/* How setting `name` was given, for -v: "--password-file",
 * "REGSWEEP_PASSWORD", "the config file's password"... (never its value). */
static const char *setting_origin(const struct rs_settings *s, const char *name, char *out,
				  size_t outsize)
{
	int index = rs_settings_lookup(name);
	const struct rs_setting_info *info;

	if (index < 0)
		return name;
	info = &rs_setting_table[index];
	switch (s->sources[index]) {
	case RS_SRC_CLI:
		snprintf(out, outsize, "--%s", info->name);
		for (char *c = out; *c; c++)
			*c = *c == '_' ? '-' : *c;
		break;
	case RS_SRC_FILE:
		snprintf(out, outsize, "the config file's %s", info->name);
		break;
	default:
		snprintf(out, outsize, "%s", info->env ? info->env : info->name);
		break;
	}
	return out;
}

/* A file option must name a readable file: say so before any connection. */
static int check_readable(const char *option, const char *path)
{
	if (path && access(path, R_OK) != 0)
		return rs_error_set(RS_EUSAGE, "cannot read %s '%s': %s", option, path, strerror(errno));
	return 0;
}

static int tls_options(struct rs_http_options *hopts, const struct rs_settings *s)
{
	int rc;

	if (s->key && !s->cert)
		return rs_error_set(RS_EUSAGE, "--key needs --cert (the client certificate for mutual TLS)");
	if ((rc = check_readable("--cacert", s->cacert)) < 0 ||
	    (rc = check_readable("--cert", s->cert)) < 0 || (rc = check_readable("--key", s->key)) < 0)
		return rc;
	hopts->cacert = s->cacert;
	hopts->cert = s->cert;
	hopts->key = s->key;
	hopts->insecure = s->insecure;
	if (s->insecure)
		rs_log(RS_LOG_WARN, "warning: TLS certificate verification is off (--insecure): "
		       "anyone between here and the registry can read and change the traffic");
	return 0;
}

int cli_connect(struct cli_ctx *ctx)
{
	struct rs_settings *s = &ctx->settings;
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;
	struct rs_credentials_options copts = RS_CREDENTIALS_OPTIONS_INIT;
	struct rs_credentials *creds = NULL;
	char password_from[64], token_from[64];
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
	rc = tls_options(&hopts, s);
	if (rc < 0)
		return rc;

	copts.registry = s->registry;
	copts.username = s->username;
	copts.password = s->password;
	copts.password_origin = s->password_stdin ? "--password-stdin"
			      : setting_origin(s, s->password_file ? "password_file" : "password",
					       password_from, sizeof(password_from));
	copts.token = s->token;
	copts.token_origin = setting_origin(s, s->token_file ? "token_file" : "token", token_from,
					    sizeof(token_from));
	rc = rs_credentials_resolve(&creds, &copts);
	if (rc < 0)
		return rc;
	rs_log(RS_LOG_VERBOSE, "credentials: %s", creds->source);

	rc = rs_http_new(&ctx->http, &hopts);
	if (rc < 0)
		goto done;
	aopts.registry = s->registry;
	aopts.username = creds->username;
	aopts.password = creds->password;
	aopts.token = creds->token;
	aopts.identity_token = creds->identity_token;
	aopts.source = creds->source;
	aopts.insecure = s->insecure;
	rc = rs_auth_new(&ctx->auth, &aopts, ctx->http);
	/* commands that delete ask for delete with every repository token, so
	 * one token serves the scan and the deletes, and a token server that
	 * withholds it shows at -v before the first DELETE */
	if (rc == 0 && ctx->command && !s->dry_run &&
	    (strcmp(ctx->command, "apply") == 0 || strcmp(ctx->command, "run") == 0))
		rc = rs_auth_declare_action(ctx->auth, NULL, "delete");
	if (rc == 0)
		rc = rs_registry_new(&ctx->registry, s->registry, ctx->http, ctx->auth);
done:
	rs_credentials_free(creds);
	return rc;
}

int cli_write_output(const char *path, const char *data, size_t len)
{
	if (path && strcmp(path, "-") != 0)
		return rs_file_write(path, data, len);
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return rs_error_set(RS_ERROR, "cannot write to standard output: %s", strerror(errno));
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
	cli_progress_attach(ctx, opts);
	return 0;
}
