/* planfile.h: the plan as JSON (`regsweep plan --out FILE`, `--json`, and
 * what `regsweep apply PLAN` reads back).
 *
 * The document:
 *   {
 *     "format": "regsweep-plan", "version": 1,
 *     "registry": "https://r.example",          (never with user:password@)
 *     "created": "2024-05-01T10:00:00Z",
 *     "policy": "rule 'ci' (...): keep_last 10; untagged: delete after 24h",
 *     "totals": {"repositories": N, "incomplete": N, "tags": N,
 *                "tags_deleted": N, "tags_untagged": N, "untags_blocked": N,
 *                "manifests": N, "manifests_deleted": N,
 *                "untagged_deleted": N, "reclaimable_bytes": N},
 *     "repositories": [
 *       {"name": "app", "complete": true, "note": "..." (only when set),
 *        "failure": "..." (what could not be read, only when known),
 *        "tags": {"latest": "sha256:...", ...},      the map decided on
 *        "decisions": [{"tag", "digest", "created", "pushed", "decision", "reason",
 *                       "untag_blocked" (an untag that cannot be done)}],
 *        "kept": [{"digest", "media_type", "tags", "reason", "created",
 *                  "stored_at", "size"}]}
 *     ],
 *     "deletions": [                                  parents before children
 *       {"repository", "digest", "tags": [...], "reason", "media_type",
 *        "created", "stored_at", "size", "children": [...], "subject"}
 *     ],
 *     "in_use": {"references", "this_registry", "other_registries",   (only with
 *                "image_ids", "kept": [REF], "missing": [REF]}         in-use lists)
 *   }
 *   REF = {"repository", "reference" (tag or digest), "digest" (or null), "source"}
 * Dates are RFC 3339 strings or null when unknown; "decision" is "keep",
 * "delete" or "untag" (the tag goes alone, its digest stays: plans written
 * before untag existed have no such decision and read as they always did).
 * "in_use" informs people and is not read back.
 *
 * The reader trusts nothing: it checks every name, tag and digest, that
 * each deletion's tags map to its digest in that repository's tag map,
 * that no deletion falls in an incomplete repository, and that no untagged
 * tag's digest is deleted; it fails with
 * RS_EUSAGE and a message naming the file otherwise.
 */
#ifndef RS_PLANFILE_H
#define RS_PLANFILE_H

#include "policy/plan.h"

#include <stddef.h>

/* The plan as JSON text (pretty-printed, ending in a newline); *out is the
 * caller's. Refuses (RS_ERROR) to produce text holding a registered secret. */
int rs_planfile_format(char **out, const struct rs_plan *plan);

/* The plan's "in_use" object as JSON text ("null" without in-use lists),
 * for the run report; *out is the caller's. */
int rs_planfile_in_use_format(char **out, const struct rs_plan *plan);

/* Parse plan JSON; `name` names the source in messages. *out is the caller's. */
int rs_planfile_parse(struct rs_plan **out, const char *text, size_t len, const char *name);

/* Read and parse the plan file at `path`. */
int rs_planfile_read(struct rs_plan **out, const char *path);

#endif
