/* ssh_cli.h: the CLI's glue to the SSH, GC and storage modules: sessions,
 * GC options and figures built from the settings, shared by `gc`, `run`
 * and the storage view (storage_cli.c). */
#ifndef RS_SSH_CLI_H
#define RS_SSH_CLI_H

#include "base/buf.h"
#include "cli.h"
#include "host/gc.h"
#include "host/ssh.h"
#include "storage/storage.h"

/* Connect to --ssh with the SSH settings. *out is the caller's
 * (rs_ssh_free). RS_EUSAGE when --ssh is not set. */
int cli_ssh_connect(struct cli_ctx *ctx, struct rs_ssh **out);

/* The GC options from the settings (strings borrowed from ctx). `-v`
 * streams the remote output to stderr. */
void cli_gc_options(struct cli_ctx *ctx, struct rs_gc_options *out);

/* The storage the settings point at: *fs is SFTP over `ssh` (when not
 * NULL) or the local disk, *root the storage root (the caller's), from
 * --storage-root or read from the registry's config file
 * (--registry-config, with --ssh by default /etc/docker/registry/config.yml).
 * RS_EUSAGE when neither gives a root. */
int cli_storage_locate(struct cli_ctx *ctx, struct rs_ssh *ssh, struct rs_fs *fs, char **root);

/* Count the blob store (blobs and bytes on disk) as the settings locate
 * it; -1 / -1 when no storage is configured. */
int cli_storage_blobs(struct cli_ctx *ctx, struct rs_ssh *ssh, int64_t *blobs, int64_t *bytes);

/* Storage figures measured around a collection (-1: unknown). */
struct cli_gc_storage {
	int64_t blobs_before, bytes_before;
	int64_t blobs_after, bytes_after;
};

/* The result of a collection, as text (the seed's "[ ... ]" style) or one
 * JSON object, appended to `out`. */
int cli_gc_format(struct rs_buf *out, const struct rs_gc_result *r, const char *host, int dry_run,
		  const struct cli_gc_storage *storage, int json);

/* Everything `regsweep gc` does but printing: check the options, refuse
 * --delete-untagged when `inv` (scanned here when NULL and needed) holds a
 * multi-arch index, connect, measure the storage when configured, and
 * run. `result` and `storage` are filled as far as it got; *host (the
 * caller's, may be NULL) names the host once connected. */
int cli_gc_execute(struct cli_ctx *ctx, const struct rs_inventory *inv, struct rs_gc_result *result,
		   struct cli_gc_storage *storage, char **host);

#endif
