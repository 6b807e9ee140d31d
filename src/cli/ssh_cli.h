/* ssh_cli.h: the CLI's glue to the host, storage and job modules: SSH
 * options, the storage location and the GC options, built from the
 * settings, shared by `stats`, `plan`, `apply`, `gc` and `run`. */
#ifndef RS_SSH_CLI_H
#define RS_SSH_CLI_H

#include "cli.h"
#include "host/gc.h"
#include "host/ssh.h"
#include "job/collect.h"
#include "storage/storage.h"

/* The SSH options from the settings (strings borrowed from ctx). */
void cli_ssh_options(struct cli_ctx *ctx, struct rs_ssh_options *out);

/* Connect to --ssh. *out is the caller's (rs_ssh_free). RS_EUSAGE when
 * --ssh is not set. */
int cli_ssh_connect(struct cli_ctx *ctx, struct rs_ssh **out);

/* Does the user name a storage (--storage-root, --registry-config, or
 * --ssh, which reads the host's registry config)? */
int cli_storage_wanted(const struct cli_ctx *ctx);

/* The storage location from the settings, over `ssh` when not NULL. */
void cli_storage_location(struct cli_ctx *ctx, struct rs_ssh *ssh,
			  struct rs_storage_location *out);

/* The GC options from the settings (strings borrowed from ctx). `-v`
 * streams the remote output to stderr. */
void cli_gc_options(struct cli_ctx *ctx, struct rs_gc_options *out);

/* Run a collection as the settings say (rs_collect_run), with `inv` for
 * the --delete-untagged check (scanned when NULL). `out` is filled in every
 * case (rs_collect_release). */
int cli_collect(struct cli_ctx *ctx, const struct rs_inventory *inv, struct rs_collect *out);

#endif
