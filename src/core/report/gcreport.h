/* gcreport.h: a collection (job/collect.h) told to people (the seed's
 * "[ ... ]" style) and as JSON, the `gc` part of the report and what
 * `regsweep gc --json` prints:
 *   {"host", "registry_version": "v3.0.0"|null, "dry_run", "dry_run_figures": FIG|null, "figures": FIG|null,
 *    "steps": {"before"|"gc-dry-run"|"gc"|"after": {"state", "exit_status"}},
 *    "failed_step": name|null, "exit_status": N|null, "completed",
 *    "empty_storage", "storage_blobs_before", "storage_bytes_before",
 *    "storage_blobs_after", "storage_bytes_after"[, "remote_log"]}
 *   FIG = {"blobs_marked", "blobs_eligible", "manifests_eligible"}
 */
#ifndef RS_GCREPORT_H
#define RS_GCREPORT_H

#include "base/buf.h"
#include "job/collect.h"

/* The text form, appended to `out`. */
int rs_collect_text(struct rs_buf *out, const struct rs_collect *c);

/* The JSON document, with a final newline; *out is the caller's. */
int rs_collect_json(char **out, const struct rs_collect *c);

/* The same as a cJSON tree, for the report (NULL when out of memory). */
struct cJSON;
struct cJSON *rs_collect_cjson(const struct rs_collect *c);

#endif
