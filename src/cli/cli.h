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

/* Scan the registry as the settings say: the catalog and one request per
 * tag, or with --index-from-storage every tag's digest read from the
 * storage in one pass (then only the manifests are read, by digest).
 * Returns like rs_scan(). */
int cli_scan(struct cli_ctx *ctx, const struct rs_scan_options *opts, struct rs_inventory **out);

/* Scan (cli_scan) and add what the storage view lists (cli_storage_view):
 * the inventory plans and figures are made from. *blobs / *bytes are the
 * blob store's on disk, -1 without a storage view. Returns 0, RS_EPARTIAL
 * with *out set and a message saying what could not be read, or an error
 * with *out NULL. */
int cli_inventory(struct cli_ctx *ctx, const struct rs_scan_options *opts,
		  struct rs_inventory **out, int64_t *blobs, int64_t *bytes);

/* Write `len` bytes to stdout, or to `path` (mode 0600) when not NULL. */
int cli_write_output(const char *path, const char *data, size_t len);


/* When SSH or a storage root is configured, read the registry's storage:
 * merge every stored manifest (tagged or not, with its stored time) into
 * `inv` through rs_scan_add_stored(), and set *blobs / *bytes to what the
 * blob store holds on disk. Without such settings it does nothing and sets
 * both to -1. Returns 0, RS_EPARTIAL (some reads failed), or an error. */
int cli_storage_view(struct cli_ctx *ctx, struct rs_inventory *inv,
		     const struct rs_scan_options *opts, int64_t *blobs, int64_t *bytes);

/* The commands. */
int cmd_stats(struct cli_ctx *ctx);
int cmd_plan(struct cli_ctx *ctx);
int cmd_apply(struct cli_ctx *ctx);
int cmd_restore(struct cli_ctx *ctx);
int cmd_gc(struct cli_ctx *ctx);
int cmd_run(struct cli_ctx *ctx);
int cmd_config(struct cli_ctx *ctx);

#endif
