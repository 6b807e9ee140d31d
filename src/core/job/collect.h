/* collect.h: garbage collection as a job: the checks before it, the blob
 * store measured before and after, and the remote script of host/gc.h run
 * in between, so that `regsweep gc` and `regsweep run` do the same thing.
 *
 * --delete-untagged is refused unless the registry is known to be safe for
 * it. The version of the registry program is asked on the host (the GC
 * command's program with --version). On distribution 2.x (or an unknown
 * version), `garbage-collect --delete-untagged` deletes the children of
 * tagged multi-arch indexes, so any index refuses it; 3.x marks those, but
 * deletes untagged OCI referrers whose subject stays, so any such referrer
 * refuses it, and without the storage view (which alone lists untagged
 * manifests) it is refused too. A repository that could not be read
 * completely refuses it on both.
 */
#ifndef RS_JOB_COLLECT_H
#define RS_JOB_COLLECT_H

#include "host/gc.h"
#include "host/ssh.h"
#include "model/inventory.h"
#include "net/registry.h"
#include "scan/scan.h"
#include "storage/storage.h"

#include <stdint.h>

struct rs_collect_options {
	struct rs_gc_options gc;               /* the steps and commands */
	const struct rs_ssh_options *ssh;      /* how to reach the registry host */
	/* the storage, to measure the blob store before and after; its `ssh`
	 * is set to the session opened here. Not measured when it names none
	 * (no root and no registry config). */
	struct rs_storage_location storage;
	/* for the --delete-untagged check: the registry as scanned, or, when
	 * NULL, scanned here through `reg` */
	const struct rs_inventory *inv;
	struct rs_registry *reg;
};

/* What a collection did; filled as far as it got. */
struct rs_collect {
	struct rs_gc_result result;
	char *host;                            /* "user@host:port" once connected, or NULL */
	int dry_run;
	int64_t blobs_before, bytes_before;    /* the blob store, -1 when not measured */
	int64_t blobs_after, bytes_after;
	char *registry_version;                /* "v3.0.0", "2.8.2+ds1", or NULL unknown */
	int registry_major;                    /* 2, 3, or 0 unknown */
};

/* Check, connect, measure, collect, measure again. `out` is filled in every
 * case (release it with rs_collect_release). Returns 0, RS_EUSAGE for bad
 * options or a refused --delete-untagged, or what rs_gc_run returns. */
int rs_collect_run(struct rs_collect *out, const struct rs_collect_options *opts);

void rs_collect_release(struct rs_collect *c);

/* Did the remote script start (is there anything to report)? */
int rs_collect_started(const struct rs_collect *c);

/* Refuse --delete-untagged (RS_EUSAGE, with the reason) for a registry
 * whose version's first number is `major` (0: unknown, judged as 2.x), as
 * described above. */
int rs_collect_check_delete_untagged(const struct rs_inventory *inv, int major);

#endif
