/* apply.h: carrying out a plan: back up, re-check, delete by digest,
 * remove tags alone.
 *
 * rs_apply() works in two phases:
 *   1. Backup: every manifest the plan deletes is read by digest, verified
 *      against it, and written to the backup directory with the tags that
 *      pointed at it (backup.h); so is the manifest of every tag the plan
 *      untags, with that tag. A repository where a read fails gets no
 *      deletions: they are "not attempted", with the read's error as the
 *      reason (an untag whose read fails stays). Nothing is changed before
 *      the backup index is on disk.
 *   2. Per repository, in plan order: the tags are listed and resolved
 *      again (rs_scan_repo). A deletion is skipped, and reported, when a tag
 *      now points at its digest that the plan did not drop with it, when a
 *      tag the plan dropped with it has moved, when something now kept
 *      references it (an index naming it as a child, or its subject for a
 *      referrer or signature), or when a deletion that references it did
 *      not happen. A re-check that cannot read the repository (after the
 *      transport's retries) leaves its deletions not attempted, never
 *      skipped as if the registry had changed. Then DELETE
 *      /v2/NAME/manifests/DIGEST, parents before children, each confirmed
 *      by a HEAD that answers 404. The DELETE is retried like a read (429,
 *      5xx, connection failures); a 404 to a retried DELETE means an
 *      earlier try went through, and counts as deleted once the HEAD
 *      confirms it. A digest already gone (404 on the first try) counts as
 *      done, so running apply again finishes an interrupted job.
 *      Then the repository's untags (untag.h), each tag re-checked against
 *      the same listing and again just before it goes: it must still point
 *      at the digest the plan saw.
 * A refusal (405 deletes disabled, 405 read-only, 401/403 on DELETE) stops
 * every further delete. On SIGINT/SIGTERM, or once the run's deadline has
 * passed (rs_stopping), the deletion in flight finishes and nothing new
 * starts. In a dry run nothing is backed up
 * or deleted; the re-check still runs and reports what would be skipped.
 */
#ifndef RS_APPLY_H
#define RS_APPLY_H

#include "base/digest.h"
#include "policy/plan.h"
#include "net/registry.h"

#include <stddef.h>
#include <stdint.h>

enum rs_apply_outcome {
	RS_APPLY_PENDING = 0,      /* not attempted: stopped before it */
	RS_APPLY_DELETED,          /* deleted, and the registry confirms it is gone */
	RS_APPLY_GONE,             /* already gone (404): counts as done */
	RS_APPLY_SKIPPED,          /* not deleted on purpose; `detail` says why */
	RS_APPLY_FAILED,           /* the delete failed or could not be confirmed */
	RS_APPLY_WOULD_DELETE      /* dry run: would be deleted */
};

/* What an item does. The outcomes are the same for both: an untag that is
 * RS_APPLY_DELETED removed the tag, and the registry confirms the tag is
 * gone and its image is still there. */
enum rs_apply_action {
	RS_APPLY_DELETE_MANIFEST = 0,  /* DELETE the manifest by digest (and its tags) */
	RS_APPLY_UNTAG                 /* remove one tag, keep its digest */
};

struct rs_apply_item {
	enum rs_apply_action action;
	char *repo;
	char digest[RS_DIGEST_MAX];    /* untag: the digest the tag pointed at */
	char *media_type;          /* may be NULL */
	char **tags;               /* tags the plan dropped with it; untag: the tag */
	size_t ntags;
	char *reason;              /* the plan's reason */
	enum rs_apply_outcome outcome;
	char *detail;              /* why skipped or failed, or a note; may be NULL */
};

struct rs_apply_result {
	char *registry;
	char *backup_dir;          /* NULL in a dry run or when nothing was to go */
	int dry_run;
	int64_t started;
	struct rs_apply_item *items;   /* every deletion of the plan, in order */
	size_t nitems;
	struct rs_apply_item *untags;  /* every untag of the plan (one tag each), by repository */
	size_t nuntags;
	/* deleted and would_delete count manifests, untagged and would_untag
	 * tags; the others count both kinds of item */
	size_t deleted, untagged, gone, skipped, failed, pending, would_delete, would_untag;
	int stop_code;             /* the refusal or interrupt that stopped deletes, 0 if none */
	char *stop_reason;
};

struct rs_apply_options {
	const char *backup_dir;    /* NULL: ./regsweep-backup-<time> */
	int dry_run;
	int64_t now;               /* Unix seconds, for the default backup name */
};

#define RS_APPLY_OPTIONS_INIT { NULL, 0, 0 }

/* Carry out `plan` on `reg` (which must be the registry the plan was made
 * for). *out holds the result whenever anything was attempted, also when
 * the return is an error; it is NULL only when apply could not start (a
 * plan for another registry: RS_EUSAGE; the backup directory unusable).
 * Returns 0 when every deletion and untag is done (or already gone);
 * RS_ECONFLICT when some deletions were skipped because the registry
 * changed; RS_EPARTIAL when some failed, were not attempted because a read
 * failed, or a tag could not be untagged (a tag that moved, credentials
 * without 'push'...); the refusal's code (RS_EUNSUPPORTED, RS_EREADONLY,
 * RS_EAUTH, RS_EDENIED) when the registry refused deletes; RS_ECANCELLED
 * when interrupted or past the deadline. The message says what happened. */
int rs_apply(struct rs_apply_result **out, struct rs_registry *reg, const struct rs_plan *plan,
	     const struct rs_apply_options *opts);

void rs_apply_result_free(struct rs_apply_result *result);

/* A word for an outcome ("deleted", "already gone", "skipped", ...). */
const char *rs_apply_outcome_name(enum rs_apply_outcome outcome);

/* The same for people, by action: "untagged" and "would untag" for an
 * untag, else rs_apply_outcome_name(). */
const char *rs_apply_item_outcome(const struct rs_apply_item *item);

/* The result as JSON: {"registry", "dry_run", "backup_dir", "started",
 * "deleted", "untagged", "already_gone", "skipped", "failed",
 * "not_attempted", "would_delete", "would_untag", "stopped": null|"why",
 * "items": [{"action": "delete"|"untag", "repository", "digest",
 * "media_type", "tags", "reason", "outcome", "detail"}]}: the deletions in
 * order, then the untags (their "outcome" is rs_apply_outcome_name's, so
 * "deleted" for a tag removed). *out is the caller's. */
int rs_apply_result_json(char **out, const struct rs_apply_result *result);

/* The same as a cJSON tree (the report's parts): the result without or with
 * its "items", and one item. The caller owns what comes back; NULL when out
 * of memory. */
struct cJSON;
struct cJSON *rs_apply_result_cjson(const struct rs_apply_result *result, int with_items);
struct cJSON *rs_apply_item_cjson(const struct rs_apply_item *item);

/* Did the item go (deleted, already gone, or would be in a dry run)? */
int rs_apply_item_done(const struct rs_apply_item *item);

#endif
