/* untag.h: removing a tag without its image (RS_VERDICT_UNTAG).
 *
 * One DELETE of a digest removes every tag on it, so a tag the policy drops
 * while its digest stays cannot go that way. Two registries, two ways:
 *   - distribution 3.x deletes a tag alone: DELETE /v2/NAME/manifests/TAG
 *     answers 202 and leaves the manifest, untagged, readable by digest;
 *   - distribution 2.x has no tag delete (the same request is 400
 *     DIGEST_INVALID). There, as regclient does, a small placeholder of
 *     regsweep's own is pushed over the tag (an OCI image manifest with no
 *     layers, a config blob unique to the run, and an annotation saying what
 *     it is), the tag is confirmed to resolve to it, and the placeholder is
 *     deleted by digest, which takes the tag with it. Only the placeholder
 *     goes; garbage collection later removes its config blob. This needs
 *     'push' as well as 'delete'.
 * Which way a registry takes is found once per run by a probe that cannot
 * touch a real tag: DELETE of a tag name no one uses (404 MANIFEST_UNKNOWN
 * on 3.x, 400 DIGEST_INVALID on 2.x).
 *
 * Every tag is checked just before it goes: it must still point at the
 * digest the plan decided on (or at a placeholder an interrupted run left
 * there), and afterwards it must be gone while its image is still there.
 */
#ifndef RS_UNTAG_H
#define RS_UNTAG_H

#include "act/apply.h"
#include "model/inventory.h"
#include "net/registry.h"
#include "policy/plan.h"

#include <stddef.h>
#include <stdint.h>

/* The media type of the placeholder's config blob: a manifest whose config
 * has it is one of regsweep's placeholders. */
#define RS_UNTAG_PLACEHOLDER_TYPE "application/vnd.regsweep.untag-placeholder.v1+json"

enum rs_untag_method {
	RS_UNTAG_UNKNOWN = 0,      /* not probed yet, or the probe could not tell */
	RS_UNTAG_TAG_DELETE,       /* DELETE /v2/NAME/manifests/TAG (distribution 3.x) */
	RS_UNTAG_PLACEHOLDER       /* push a placeholder over the tag, delete it (2.x) */
};

/* One run's untagging: the probe's answer and the placeholder. */
struct rs_untagger;

/* `reg` is borrowed and must outlive the untagger; `now` (Unix seconds)
 * dates the placeholder. *out is the caller's. */
int rs_untagger_new(struct rs_untagger **out, struct rs_registry *reg, int64_t now);
void rs_untagger_free(struct rs_untagger *u);

/* How this registry untags: probes on `repo` the first time (later calls
 * answer from memory). RS_UNTAG_UNKNOWN when the probe could not tell;
 * then rs_untag_blocked() says why. */
enum rs_untag_method rs_untag_method(struct rs_untagger *u, const char *repo);

/* Why tags of `repo` cannot be untagged (a registry that deletes nothing,
 * read-only, credentials without 'delete', or, on 2.x, a token without
 * 'push' as its claims say), or NULL when they can as far as is known. The
 * string lives as long as the untagger. */
const char *rs_untag_blocked(struct rs_untagger *u, const char *repo);

/* For each repository of `plan` with RS_VERDICT_UNTAG tags, ask
 * rs_untag_blocked() and record the answer in each tag's `blocked`, then
 * recount the totals. Sends only the probe (no write). Returns 0, or an
 * error only when out of memory or interrupted. */
int rs_untag_check_plan(struct rs_plan *plan, struct rs_registry *reg, int64_t now);

/* Carry out the untag items of one repository (`items`, each with one tag
 * and the digest the plan saw it on; outcome RS_APPLY_PENDING or already
 * decided), against `now`, the repository as it was just listed again:
 * a tag that is gone counts as done (RS_APPLY_GONE); one that points
 * elsewhere is skipped; a blocked repository skips every item with the
 * reason. In a dry run nothing is sent but the probe, and what would go is
 * RS_APPLY_WOULD_DELETE. Returns 0, RS_ECANCELLED, or a refusal
 * (RS_EUNSUPPORTED, RS_EREADONLY) that must stop every further change;
 * each item says how it went. */
int rs_untag_repo(struct rs_untagger *u, const struct rs_repo *now, struct rs_apply_item *items,
		  size_t nitems, int dry_run);

#endif
