/* restore.h: putting back what apply deleted, from its backup.
 *
 * rs_restore() reads the backup (backup.h) and, children before parents
 * (the reverse of the deletion order), for each manifest:
 *   - leaves it alone when the registry still has it;
 *   - checks that what it needs exists: the config and layer blobs of an
 *     image (HEAD /v2/NAME/blobs/DIGEST), the children of an index;
 *     when something is gone (garbage collection removed the blobs) the
 *     manifest cannot come back, and the result says which blob;
 *   - PUTs it by digest, byte for byte, and checks the digest the registry
 *     answers with.
 * Then it puts back the tags: a tag that is missing is PUT; a tag that now
 * points at something else is left alone and reported (never overwritten).
 * In a dry run it only checks.
 */
#ifndef RS_RESTORE_H
#define RS_RESTORE_H

#include "base/digest.h"
#include "net/registry.h"

#include <stddef.h>

enum rs_restore_outcome {
	RS_RESTORE_PENDING = 0,    /* not attempted (interrupted) */
	RS_RESTORE_DONE,           /* put back */
	RS_RESTORE_PRESENT,        /* the registry still had it */
	RS_RESTORE_IMPOSSIBLE,     /* cannot come back: `detail` says what is gone */
	RS_RESTORE_FAILED,         /* the registry refused or failed */
	RS_RESTORE_POSSIBLE        /* dry run: can be put back */
};

struct rs_restore_item {
	char *repo;
	char digest[RS_DIGEST_MAX];
	char **tags;               /* tags the backup recorded */
	size_t ntags;
	size_t tags_restored;      /* tags PUT (or already pointing at it) */
	enum rs_restore_outcome outcome;
	char *detail;              /* why impossible or failed, notes on tags; may be NULL */
};

struct rs_restore_result {
	char *registry;            /* the registry the backup was made of */
	int dry_run;
	struct rs_restore_item *items;   /* in restore order: children first */
	size_t nitems;
	size_t done, present, impossible, failed, pending, possible;
	size_t tags_restored, tags_conflicting;
};

struct rs_restore_options {
	int dry_run;
};

#define RS_RESTORE_OPTIONS_INIT { 0 }

/* Restore the backup in `dir` to `reg`. *out holds the result whenever the
 * backup could be read (also on error returns); NULL otherwise. Returns 0
 * when everything is back (or still there), RS_EPARTIAL when something
 * cannot come back or a tag was left alone, RS_ECANCELLED when
 * interrupted, or the error that stopped it (RS_EUSAGE: not a backup). */
int rs_restore(struct rs_restore_result **out, struct rs_registry *reg, const char *dir,
	       const struct rs_restore_options *opts);

void rs_restore_result_free(struct rs_restore_result *result);

const char *rs_restore_outcome_name(enum rs_restore_outcome outcome);

/* The result as JSON: {"registry", "dry_run", "restored", "present",
 * "impossible", "failed", "not_attempted", "possible", "tags_restored",
 * "tags_left_alone", "items": [{"repository", "digest", "tags",
 * "outcome", "detail"}]}. *out is the caller's. */
int rs_restore_result_json(char **out, const struct rs_restore_result *result);

#endif
