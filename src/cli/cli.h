/* cli.h: what the command-line front end shares between its commands.
 *
 * The CLI parses arguments, merges settings (defaults < config file <
 * environment < command line), calls the core and maps the core's error
 * codes to exit statuses in one place (cli_exit_code). Commands live one per
 * file (cmd_*.c) and return an RS_E* code; they print results to stdout and
 * nothing else, diagnostics go through the core's log to stderr.
 */
#ifndef RS_CLI_H
#define RS_CLI_H

#include "net/auth.h"
#include "scan/cache.h"
#include "model/inventory.h"
#include "scan/scan.h"
#include "net/http.h"
#include "net/registry.h"
#include "config/settings.h"

#include <stdint.h>
#include <stdio.h>

/* Exit statuses: the promise to scripts and CI jobs. */
enum cli_exit {
	CLI_EXIT_OK = 0,        /* done */
	CLI_EXIT_FAILED = 1,    /* failed; nothing or not everything was done */
	CLI_EXIT_USAGE = 2,     /* bad command line or configuration */
	CLI_EXIT_PARTIAL = 3    /* done in part: some deletes skipped or failed */
};

struct cli_ctx {
	struct rs_settings settings;
	struct rs_config *config;      /* the YAML config file, or NULL */
	const char *command;
	int argc;                      /* positional arguments after the command */
	char **argv;
	int stderr_tty;
	/* set up on demand by cli_connect() */
	struct rs_http *http;
	struct rs_auth *auth;
	struct rs_registry *registry;
	struct rs_cache *cache;        /* by cli_scan_options, unless --no-cache */
	/* the S3 store's own client (window, retries, timeouts), for the
	 * storage location */
	struct rs_http_options store_http;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli_ctx *ctx);
	const char *args;              /* positional arguments for usage */
	const char *summary;
	const char *const *options;    /* setting names the command uses, NULL-terminated */
};

extern const struct cli_command cli_commands[];

/* Map an RS_E* code to an exit status. */
int cli_exit_code(int rc);

/* Create the transport, authenticator and registry from the settings. */
int cli_connect(struct cli_ctx *ctx);

/* Fill scan options from the settings: page size, shard, and the cache
 * (opened into ctx->cache unless --no-cache). */
int cli_scan_options(struct cli_ctx *ctx, struct rs_scan_options *opts);

/* The inventory plans and figures are made from (job/inventory.h), as the
 * settings ask: through the API or --index-from-storage, with the storage
 * view when one is named (--storage-root, --registry-config, --ssh). *blobs / *bytes are the
 * blob store's on disk, -1 without a storage view. Returns 0, RS_EPARTIAL
 * with *out set and a message saying what could not be read, or an error
 * with *out NULL. */
int cli_inventory(struct cli_ctx *ctx, const struct rs_scan_options *opts,
		  struct rs_inventory **out, int64_t *blobs, int64_t *bytes);

/* Write `len` bytes to stdout, or to `path` (mode 0600) when not NULL. */
int cli_write_output(const char *path, const char *data, size_t len);


/* The commands. */
int cmd_stats(struct cli_ctx *ctx);
int cmd_plan(struct cli_ctx *ctx);
int cmd_apply(struct cli_ctx *ctx);
int cmd_restore(struct cli_ctx *ctx);
int cmd_gc(struct cli_ctx *ctx);
int cmd_run(struct cli_ctx *ctx);
int cmd_config(struct cli_ctx *ctx);

#endif
