/* rank.c: ranking the images a rule claims, newest first, by created date,
 * push time or version, and deciding keep_last / keep_newer_than. */
#include "policy/rank.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/util.h"
#include "policy/version.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *rs_ordinal(char *out, size_t outsize, unsigned long n)
{
	const char *suffix = "th";

	if (n % 100 < 11 || n % 100 > 13) {
		if (n % 10 == 1)
			suffix = "st";
		else if (n % 10 == 2)
			suffix = "nd";
		else if (n % 10 == 3)
			suffix = "rd";
	}
	snprintf(out, outsize, "%lu%s", n, suffix);
	return out;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = rs_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	s = rc < 0 ? NULL : strdup(rs_buf_cstr(&buf));
	rs_buf_release(&buf);
	return s;
}

/* Can `order` place the image? */
static int placed(const struct rs_rank_image *img, enum rs_order order)
{
	switch (order) {
	case RS_ORDER_PUSHED: return img->pushed != RS_TIME_UNKNOWN;
	case RS_ORDER_VERSION: return img->version && rs_version_has_number(img->version);
	default: return img->created != RS_TIME_UNKNOWN;
	}
}

static int cmp_time_desc(int64_t x, int64_t y)
{
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Newest first; equal keys tie (version names never do: only equal names tie). */
static int compare_key(const struct rs_rank_image *a, const struct rs_rank_image *b,
		       enum rs_order order)
{
	switch (order) {
	case RS_ORDER_PUSHED: return cmp_time_desc(a->pushed, b->pushed);
	case RS_ORDER_VERSION: return -rs_version_compare(a->version, b->version);
	default: return cmp_time_desc(a->created, b->created);
	}
}

/* qsort has no context: one comparator per order, ties by id so that the
 * result does not depend on the input's order. */
#define RANK_CMP(name, order) \
	static int name(const void *a, const void *b) \
	{ \
		const struct rs_rank_image *x = a, *y = b; \
		int c = compare_key(x, y, order); \
		return c ? c : x->id < y->id ? -1 : x->id > y->id; \
	}
RANK_CMP(cmp_created, RS_ORDER_CREATED)
RANK_CMP(cmp_pushed, RS_ORDER_PUSHED)
RANK_CMP(cmp_version, RS_ORDER_VERSION)

/* How the reasons name the order and an age. */
struct wording {
	const char *by;            /* "", " by push time", " by version" */
	const char *unplaced;      /* why an image the order cannot place is kept */
	const char *same;          /* "date", "push time" */
};

static void wording_for(struct wording *w, enum rs_order order)
{
	switch (order) {
	case RS_ORDER_PUSHED:
		*w = (struct wording){" by push time", "push time unknown, counted as newest",
				      "push time"};
		break;
	case RS_ORDER_VERSION:
		*w = (struct wording){" by version", "no version in the tag name, kept", "version"};
		break;
	default:
		*w = (struct wording){"", "date unknown, counted as newest", "date"};
		break;
	}
}

/* The reason for one image of the tie group [first, last] (0-based
 * positions among the placed images). */
static char *decide(struct rs_rank_image *img, size_t first, size_t last,
		    const struct rs_rule *rule, int64_t now)
{
	struct wording w;
	char age[64], nth[32];
	int64_t when = rule->order == RS_ORDER_PUSHED ? img->pushed : img->created;
	int by_last = rule->keep_last > 0 && first < (size_t)rule->keep_last;
	int tied = by_last && last >= (size_t)rule->keep_last;
	int ages = rule->keep_newer_than >= 0;
	int by_age = ages && when != RS_TIME_UNKNOWN && now - when < rule->keep_newer_than;

	wording_for(&w, rule->order);
	rs_policy_duration(age, sizeof(age), ages ? rule->keep_newer_than : 0);
	img->keep = by_last || by_age || (ages && when == RS_TIME_UNKNOWN);
	if (tied)
		return format("rule '%s': tied with the %s newest%s (%zu images have the same %s)",
			      rule->name, rs_ordinal(nth, sizeof(nth), (unsigned long)rule->keep_last),
			      w.by, last - first + 1, w.same);
	if (by_last)
		return format("rule '%s': among newest %d%s", rule->name, rule->keep_last, w.by);
	if (by_age)
		return rule->order == RS_ORDER_PUSHED
		       ? format("rule '%s': pushed less than %s ago", rule->name, age)
		       : format("rule '%s': newer than %s", rule->name, age);
	if (ages && when == RS_TIME_UNKNOWN)
		return format("rule '%s': date unknown, counted as newer than %s", rule->name, age);
	if (rule->keep_last >= 0 && ages)
		return format("rule '%s': beyond newest %d%s and %s %s%s", rule->name,
			      rule->keep_last, w.by, rule->order == RS_ORDER_PUSHED ? "pushed more than"
			      : "older than", age, rule->order == RS_ORDER_PUSHED ? " ago" : "");
	if (rule->keep_last >= 0)
		return format("rule '%s': beyond newest %d%s", rule->name, rule->keep_last, w.by);
	return rule->order == RS_ORDER_PUSHED
	       ? format("rule '%s': pushed more than %s ago", rule->name, age)
	       : format("rule '%s': older than %s", rule->name, age);
}

/* With order: created, can the dates tell the images apart at all? If not,
 * and it matters, *note says so. */
static int indistinct_note(char **note, const struct rs_rank_image *images, size_t n,
			   size_t nplaced, const struct rs_rule *rule)
{
	char date[64];

	if (rule->order != RS_ORDER_CREATED || n < 2)
		return 0;
	if (!(rule->keep_newer_than >= 0 || (rule->keep_last > 0 && n > (size_t)rule->keep_last)))
		return 0;
	for (size_t i = 1; i < nplaced; i++)
		if (images[i].created != images[0].created)
			return 0;
	if (!nplaced)
		*note = format("rule '%s': none of the %zu images it ranks has a creation date "
			       "(reproducible builds write 1970), so all are kept: rank them by "
			       "push time (--order pushed, with the storage view) or by tag name "
			       "(--order version)", rule->name, n);
	else
		*note = format("rule '%s': the %zu images it ranks all have the creation date %s%s "
			       "(reproducible builds write a constant), so their dates cannot tell "
			       "them apart: rank them by push time (--order pushed, with the storage "
			       "view) or by tag name (--order version)", rule->name, n,
			       rs_time_format(date, sizeof(date), images[0].created),
			       nplaced < n ? " or none" : "");
	return *note ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

int rs_rank(struct rs_rank_image *images, size_t n, const struct rs_rule *rule, int64_t now,
	    char **note)
{
	int (*cmp)(const void *, const void *) = rule->order == RS_ORDER_PUSHED ? cmp_pushed
						 : rule->order == RS_ORDER_VERSION ? cmp_version
						 : cmp_created;
	size_t nplaced = 0;
	struct wording w;

	*note = NULL;
	wording_for(&w, rule->order);
	/* the placed images first, newest first */
	for (size_t i = 0; i < n; i++)
		if (placed(&images[i], rule->order)) {
			struct rs_rank_image tmp = images[nplaced];

			images[nplaced++] = images[i];
			images[i] = tmp;
		}
	if (nplaced > 1)
		qsort(images, nplaced, sizeof(*images), cmp);
	for (size_t first = 0, last; first < nplaced; first = last + 1) {
		for (last = first; last + 1 < nplaced &&
		     compare_key(&images[last + 1], &images[first], rule->order) == 0; last++)
			;
		for (size_t i = first; i <= last; i++)
			if (!(images[i].reason = decide(&images[i], first, last, rule, now)))
				return rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t i = nplaced; i < n; i++) {
		images[i].keep = 1;
		if (!(images[i].reason = format("rule '%s': %s", rule->name, w.unplaced)))
			return rs_error_set(RS_ERROR, "out of memory");
	}
	return indistinct_note(note, images, n, nplaced, rule);
}
