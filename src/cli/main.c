/* main.c: regsweep's entry point: arguments, settings, dispatch, exit codes.
 *
 * Every option is accepted before or after the command name: one option
 * table, built from the settings table, serves all commands, and getopt's
 * argument permutation does the rest.
 */
#include "cli.h"
#include "progress.h"
#include "config/configfile.h"
#include "base/cancel.h"
#include "base/error.h"
#include "net/http.h"
#include "base/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT_HELP 1000
#define OPT_VERSION 1001
#define OPT_SETTING_BASE 2000
#define OPT_NEGATE_BASE 3000    /* --no-NAME of a negatable boolean */

static const char *const stats_opts[] = {
	"json", "per_repo", "shard", "cache_dir", "no_cache", "ssh", "storage_root",
	"registry_config", "s3_endpoint", "s3_region", "s3_credentials", "index_from_storage", NULL
};
static const char *const plan_opts[] = {
	"json", "out", "repos", "tags", "keep_last", "keep_newer_than", "keep_tags", "order",
	"in_use", "untagged", "untagged_grace", "untag", "shard", "ssh", "storage_root",
	"registry_config", "s3_endpoint", "s3_region", "s3_credentials", "cache_dir", "no_cache",
	"html", "notify", "notify_on", NULL
};
static const char *const apply_opts[] = {
	"json", "backup_dir", "dry_run", "repos", "tags", "keep_last", "keep_newer_than",
	"keep_tags", "order", "in_use", "untagged", "untagged_grace", "untag", "shard", "ssh",
	"storage_root", "registry_config", "s3_endpoint", "s3_region", "s3_credentials", "report",
	"html", "notify", "notify_on", NULL
};
static const char *const restore_opts[] = { "dry_run", "json", NULL };
static const char *const gc_opts[] = {
	"ssh", "ssh_known_hosts", "ssh_accept_new", "ssh_key", "ssh_passphrase_file", "ssh_timeout",
	"command_timeout", "before_gc", "after_gc", "gc_command", "delete_untagged", "dry_run",
	"storage_root", "registry_config", "s3_endpoint", "s3_region", "s3_credentials", "json", NULL
};
static const char *const run_opts[] = {
	"dry_run", "json", "report", "metrics", "per_repo", "backup_dir", "repos", "tags",
	"keep_last", "keep_newer_than", "keep_tags", "order", "in_use", "untagged", "untagged_grace",
	"untag", "ssh",
	"ssh_known_hosts", "ssh_accept_new", "ssh_key", "ssh_passphrase_file", "before_gc",
	"after_gc", "gc_command", "delete_untagged", "storage_root", "registry_config",
	"s3_endpoint", "s3_region", "s3_credentials", "html", "notify", "notify_on", NULL
};
static const char *const config_opts[] = { "json", NULL };

const struct cli_command cli_commands[] = {
	{"stats", cmd_stats, "", "print the data summary of a registry", stats_opts},
	{"plan", cmd_plan, "", "decide what to delete and say why; changes nothing", plan_opts},
	{"apply", cmd_apply, "[PLAN]", "delete what a plan (or the policy, now) drops", apply_opts},
	{"restore", cmd_restore, "DIR", "put back what apply deleted, from its backup", restore_opts},
	{"gc", cmd_gc, "", "run garbage collection on the registry host over SSH", gc_opts},
	{"run", cmd_run, "", "the whole job: stats, plan, apply, gc, stats, report", run_opts},
	{"config", cmd_config, "", "print the effective settings, secrets masked", config_opts},
	{NULL, NULL, NULL, NULL, NULL}
};

/* Settings that are global: they apply to every command that talks to a registry. */
static const char *const global_opts[] = {
	"registry", "username", "password_file", "password_stdin", "token_file", "cacert", "cert",
	"key", "insecure", "jobs", "rate", "connect_timeout", "timeout", "retries", "deadline", "page_size", "config",
	"verbose", "quiet", "progress", NULL
};

static const char short_options[] = "r:u:j:c:vqh";

static int short_for(const char *name)
{
	if (strcmp(name, "registry") == 0) return 'r';
	if (strcmp(name, "username") == 0) return 'u';
	if (strcmp(name, "jobs") == 0) return 'j';
	if (strcmp(name, "config") == 0) return 'c';
	if (strcmp(name, "verbose") == 0) return 'v';
	if (strcmp(name, "quiet") == 0) return 'q';
	return 0;
}

static void option_name(char *out, size_t outsize, const char *setting)
{
	size_t i;

	for (i = 0; setting[i] && i + 1 < outsize; i++)
		out[i] = setting[i] == '_' ? '-' : setting[i];
	out[i] = '\0';
}

static void print_option(FILE *fp, const char *setting)
{
	int index = rs_settings_lookup(setting);
	const struct rs_setting_info *info;
	char name[64], left[96];
	int sh;

	if (index < 0)
		return;
	info = &rs_setting_table[index];
	option_name(name, sizeof(name), info->name);
	sh = short_for(info->name);
	if (sh)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", sh, name, info->arg ? " " : "",
			 info->arg ? info->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s%s",
			 info->flags & RS_SETF_NEGATABLE ? "[no-]" : "", name,
			 info->arg ? " " : "", info->arg ? info->arg : "");
	fprintf(fp, "  %-34s %s\n", left, info->help);
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: regsweep [options] COMMAND [options] [ARGS]\n"
		"\n"
		"Keep a Docker registry from eating its disk: delete what no tag, index,\n"
		"signature or referrer needs, safely, then garbage-collect over SSH.\n"
		"\n"
		"commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(fp, "  %-10s %s\n", c->name, c->summary);
	fprintf(fp, "\nglobal options:\n");
	for (const char *const *o = global_opts; *o; o++)
		print_option(fp, *o);
	fprintf(fp,
		"  -h, --help                         show help (regsweep COMMAND --help for a command)\n"
		"      --version                      show the version\n"
		"\n"
		"secrets come from the environment or files, never the command line:\n"
		"REGSWEEP_PASSWORD, REGSWEEP_TOKEN, REGSWEEP_SSH_PASSPHRASE, REGSWEEP_SSH_PASSWORD.\n"
		"Every option is also REGSWEEP_<NAME> and a key of the -c YAML file.\n"
		"\n"
		"exit status: 0 done, 1 failed, 2 usage error, 3 partly done (see the report)\n");
}

static void command_usage(FILE *fp, const struct cli_command *cmd)
{
	fprintf(fp, "usage: regsweep %s [options] %s\n\n%s\n\noptions:\n", cmd->name, cmd->args,
		cmd->summary);
	for (const char *const *o = cmd->options; *o; o++)
		print_option(fp, *o);
	fprintf(fp, "\nglobal options (regsweep --help) apply too.\n");
}

static void log_to_stderr(enum rs_log_level level, const char *line, void *userdata)
{
	cli_progress_done(userdata);
	if (level == RS_LOG_ERROR)
		fprintf(stderr, "regsweep: %s\n", line);
	else
		fprintf(stderr, "%s\n", line);
}

static void on_signal(int sig)
{
	(void)sig;
	rs_interrupt();
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct cli_arg {
	int index;
	const char *value;
};

static int read_password_stdin(struct rs_settings *s)
{
	char line[8192];
	size_t n;

	if (!fgets(line, sizeof(line), stdin))
		return rs_error_set(RS_EUSAGE, "--password-stdin: nothing on standard input");
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (!n)
		return rs_error_set(RS_EUSAGE, "--password-stdin: empty password");
	free(s->password);
	s->password = strdup(line);
	memset(line, 0, sizeof(line));
	return s->password ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx;
	struct option *longopts = NULL;
	struct cli_arg *args = NULL;
	size_t nargs = 0, nlong = 0;
	int want_help = 0, want_version = 0, verbose = 0, quiet = 0, rc = 0, opt;
	const struct cli_command *cmd = NULL;
	char (*names)[64] = NULL, (*negated)[64] = NULL;

	memset(&ctx, 0, sizeof(ctx));
	rs_log_set_handler(log_to_stderr, &ctx);
	ctx.stderr_tty = isatty(STDERR_FILENO);
	if (rs_settings_init(&ctx.settings) < 0) {
		fprintf(stderr, "regsweep: %s\n", rs_error_message());
		return CLI_EXIT_FAILED;
	}

	longopts = calloc(2 * rs_setting_count + 3, sizeof(*longopts));
	names = calloc(rs_setting_count, sizeof(*names));
	negated = calloc(rs_setting_count, sizeof(*negated));
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!longopts || !names || !negated || !args) {
		fprintf(stderr, "regsweep: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	for (size_t i = 0; i < rs_setting_count; i++) {
		const struct rs_setting_info *info = &rs_setting_table[i];

		if (info->flags & RS_SETF_SECRET)
			continue;
		option_name(names[i], sizeof(names[i]), info->name);
		longopts[nlong].name = names[i];
		longopts[nlong].has_arg = info->type == RS_SET_BOOL ? optional_argument
				       : strcmp(info->name, "verbose") == 0 ? no_argument
				       : required_argument;
		longopts[nlong].val = OPT_SETTING_BASE + (int)i;
		nlong++;
		if (info->type == RS_SET_BOOL && (info->flags & RS_SETF_NEGATABLE)) {
			snprintf(negated[i], sizeof(negated[i]), "no-%s", names[i]);
			longopts[nlong].name = negated[i];
			longopts[nlong].has_arg = no_argument;
			longopts[nlong].val = OPT_NEGATE_BASE + (int)i;
			nlong++;
		}
	}
	longopts[nlong++] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[nlong++] = (struct option){"version", no_argument, NULL, OPT_VERSION};

	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_options, longopts, NULL)) != -1) {
		int index = -1;

		switch (opt) {
		case 'h':
		case OPT_HELP:
			want_help = 1;
			continue;
		case OPT_VERSION:
			want_version = 1;
			continue;
		case 'v':
			verbose++;
			continue;
		case 'q':
			quiet = 1;
			continue;
		case 'r': index = rs_settings_lookup("registry"); break;
		case 'u': index = rs_settings_lookup("username"); break;
		case 'j': index = rs_settings_lookup("jobs"); break;
		case 'c': index = rs_settings_lookup("config"); break;
		case '?':
			if (optopt)
				fprintf(stderr, "regsweep: unknown option '-%c' (see regsweep --help)\n", optopt);
			else
				fprintf(stderr, "regsweep: unknown option '%s' (see regsweep --help)\n",
					argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		case ':':
			fprintf(stderr, "regsweep: option '%s' needs a value\n", argv[optind - 1]);
			rc = CLI_EXIT_USAGE;
			goto out;
		default:
			if (opt >= OPT_NEGATE_BASE) {
				args[nargs++] = (struct cli_arg){opt - OPT_NEGATE_BASE, "false"};
				continue;
			}
			index = opt - OPT_SETTING_BASE;
			break;
		}
		if (strcmp(rs_setting_table[index].name, "verbose") == 0) {
			verbose++;
			continue;
		}
		if (rs_setting_table[index].type == RS_SET_BOOL && !optarg)
			args[nargs++] = (struct cli_arg){index, "true"};
		else
			args[nargs++] = (struct cli_arg){index, optarg};
	}

	if (want_version) {
		printf("regsweep %s\n", PACKAGE_VERSION);
		goto out;
	}
	if (optind < argc) {
		for (cmd = cli_commands; cmd->name; cmd++)
			if (strcmp(cmd->name, argv[optind]) == 0)
				break;
		if (!cmd->name) {
			if (strcmp(argv[optind], "help") == 0 && optind + 1 < argc) {
				for (cmd = cli_commands; cmd->name; cmd++)
					if (strcmp(cmd->name, argv[optind + 1]) == 0)
						break;
				if (cmd->name) {
					command_usage(stdout, cmd);
					goto out;
				}
			}
			if (strcmp(argv[optind], "help") == 0) {
				usage(stdout);
				goto out;
			}
			fprintf(stderr, "regsweep: unknown command '%s' (see regsweep --help)\n",
				argv[optind]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		ctx.command = cmd->name;
		ctx.argc = argc - optind - 1;
		ctx.argv = argv + optind + 1;
	}
	if (want_help) {
		if (cmd)
			command_usage(stdout, cmd);
		else
			usage(stdout);
		goto out;
	}
	if (!cmd) {
		usage(stderr);
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	/* settings: defaults < config file < environment < command line */
	{
		const char *config_path = getenv("REGSWEEP_CONFIG");

		for (size_t i = 0; i < nargs; i++)
			if (strcmp(rs_setting_table[args[i].index].name, "config") == 0)
				config_path = args[i].value;
		if (config_path && *config_path) {
			rc = rs_config_load(&ctx.config, config_path);
			if (rc == 0)
				rc = rs_config_apply_settings(ctx.config, &ctx.settings);
			if (rc < 0)
				goto fail;
		}
	}
	rc = rs_settings_load_env(&ctx.settings);
	for (size_t i = 0; rc == 0 && i < nargs; i++) {
		rc = rs_settings_set(&ctx.settings, args[i].index, args[i].value, RS_SRC_CLI);
		if (rc < 0) {
			char name[64];

			option_name(name, sizeof(name), rs_setting_table[args[i].index].name);
			rs_error_prefix("--%s: ", name);
		}
	}
	if (rc < 0)
		goto fail;
	if (verbose)
		ctx.settings.verbose = verbose;
	if (quiet)
		ctx.settings.quiet = 1;
	/* what is happening, stage by stage, is for people watching: on a
	 * terminal or with --progress; unattended runs print warnings and errors */
	rs_log_set_level(ctx.settings.quiet ? RS_LOG_ERROR
			 : ctx.settings.verbose >= 2 ? RS_LOG_DEBUG
			 : ctx.settings.verbose == 1 ? RS_LOG_VERBOSE
			 : cli_progress_wanted(&ctx) ? RS_LOG_INFO : RS_LOG_WARN);
	if (ctx.settings.password_stdin && (rc = read_password_stdin(&ctx.settings)) < 0)
		goto fail;
	rc = rs_settings_resolve_secrets(&ctx.settings);
	if (rc < 0)
		goto fail;

	if (ctx.settings.deadline > 0) {
		int64_t d = ctx.settings.deadline;
		char what[64];

		/* the whole run, from now: past it nothing new starts (base/cancel.h) */
		snprintf(what, sizeof(what), "--deadline %lld%s",
			 (long long)(d % 3600 == 0 ? d / 3600 : d % 60 == 0 ? d / 60 : d),
			 d % 3600 == 0 ? "h" : d % 60 == 0 ? "m" : "s");
		rs_deadline_set(d, what);
	}
	install_signals();
	rc = cmd->run(&ctx);
fail:
	if (rc < 0) {
		char clean[2048];

		fprintf(stderr, "regsweep: %s\n",
			rs_redact(rs_error_message(), clean, sizeof(clean)));
		if (rc == RS_EPARTIAL || rc == RS_ECONFLICT)
			rc = CLI_EXIT_PARTIAL;
		else
			rc = cli_exit_code(rc);
	}
out:
	rs_cache_free(ctx.cache);
	rs_registry_free(ctx.registry);
	rs_auth_free(ctx.auth);
	rs_http_free(ctx.http);
	rs_config_free(ctx.config);
	rs_settings_release(&ctx.settings);
	rs_secret_clear();
	free(longopts);
	free(names);
	free(negated);
	free(args);
	return rc;
}
