/* rank.h: keep_last and keep_newer_than over the images one rule ranks in
 * one repository: the planner's helper, pure like it.
 *
 * The images are ranked newest first in the rule's order (policy.h): by
 * created date, by push time, or by version. keep_last N keeps the N
 * newest, and every image tied with the Nth (the reason then says "tied
 * with the Nth newest", since a tie, not the rank, kept it);
 * keep_newer_than keeps those younger than it, by push time for `pushed`
 * and by created date otherwise. An image the order cannot place (no
 * date, no push time, no digit in any of its tag names) is kept and takes
 * no place from the others: a missing fact never justifies a delete. The
 * same goes for an unknown date when keep_newer_than needs one.
 *
 * With `order: created`, when the dates cannot tell the images apart (all
 * have the same date, or none), a note for the repository says so and
 * names the orders that can.
 */
#ifndef RS_RANK_H
#define RS_RANK_H

#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

/* One image (tags sharing a digest are one image). */
struct rs_rank_image {
	size_t id;                 /* the caller's */
	int64_t created;           /* image date, RS_TIME_UNKNOWN if unknown */
	int64_t pushed;            /* latest push of its ranked tags, RS_TIME_UNKNOWN if unknown */
	const char *version;       /* the highest version among its ranked tags */
	int keep;                  /* set by rs_rank */
	char *reason;              /* set by rs_rank; the caller's to free */
};

/* Decide every image of `images` (reordered: newest first, then those the
 * order cannot place) under `rule` at `now`. *note is set to a note for
 * the repository (the caller's) or NULL. Fails only when out of memory,
 * leaving the reasons set so far for the caller to free. */
int rs_rank(struct rs_rank_image *images, size_t n, const struct rs_rule *rule, int64_t now,
	    char **note);

/* "1st", "2nd", "3rd", "4th", "11th", "21st", ... into `out`. */
char *rs_ordinal(char *out, size_t outsize, unsigned long n);

#endif
