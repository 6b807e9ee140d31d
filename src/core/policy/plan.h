/* plan.h: the planner: inventory + policy + now -> a decision, with its
 * reason, for every tag and every manifest. A pure function: no I/O, no
 * clock, no log.
 *
 * How a repository is decided:
 *   1. A repository whose scan failed (`failed`), or holding a manifest
 *      whose read failed (RS_MF_FETCH_FAILED), keeps everything: a failed
 *      lookup never justifies a delete.
 *   2. Each tag is decided by the policy: the first rule that claims it,
 *      keep_tags, keep_last, keep_newer_than; unclaimed tags stay; then a
 *      tag the in-use lists name is kept ("in use") whatever the rules said
 *      (it still takes its place in the ranking, so the list never changes
 *      what the rules decide for other tags). keep_last N keeps the tags of the N newest images the rule
 *      claims in the repository, in the rule's order (created date, push
 *      time or version: policy/rank.h; tags sharing a digest count once;
 *      ties with the Nth are kept, and say so); an image the order cannot
 *      place (unknown date or push time, no version in its names) counts
 *      as newest: it is kept and takes no place from the others. When a
 *      rule's dates cannot tell its images apart, the repository's note
 *      says so. Tags kept by keep_tags are not ranked. Cosign tags
 *      (sha256-HEX.sig/.att/.sbom) are not ranked either: they follow the
 *      manifest they sign. A cosign tag whose subject the repository does
 *      not hold is an orphan, decided like untagged history below ("subject
 *      gone"), unless every tag of the repository is a cosign tag: that may
 *      be a signature store (cosign's COSIGN_REPOSITORY), whose subjects
 *      live elsewhere, so it stays.
 *   3. Kept roots: the digests of kept tags; manifests the in-use lists
 *      name by digest; untagged history (no tag, not a child, not a
 *      referrer of a manifest here), and orphaned signatures and referrers,
 *      that `untagged: keep`, the grace period, an unknown storage time, or
 *      not being listed by the storage keeps; any manifest with no tag
 *      stored less than the grace period ago.
 *   4. The kept set is closed: children of a kept index (recursively), OCI
 *      referrers whose subject is kept, and the digests of cosign tags whose
 *      subject is kept.
 *   5. Everything else is deleted: digests whose tags were all dropped, old
 *      untagged history, old orphans, children no kept index needs,
 *      referrers and signatures of deleted manifests.
 *   6. A tag the policy drops whose digest stays (a kept tag shares it, a
 *      kept index names it...) cannot go with its digest, since one DELETE
 *      of a digest removes every tag on it: with `untag` (the default) it
 *      is RS_VERDICT_UNTAG, removed alone (act/untag.h); without, it stays
 *      and says why.
 * Deletions are ordered so that whatever references a manifest (an index,
 * a referrer, a signature) is deleted before it: parents before children.
 *
 * The plan owns copies of everything it holds; it does not point into the
 * inventory. Free it with rs_plan_free().
 */
#ifndef RS_PLAN_H
#define RS_PLAN_H

#include "base/digest.h"
#include "model/inventory.h"
#include "policy/inuse.h"
#include "policy/policy.h"

#include <stddef.h>
#include <stdint.h>

enum rs_verdict {
	RS_VERDICT_KEEP = 0,
	RS_VERDICT_DELETE = 1,
	RS_VERDICT_UNTAG = 2           /* tags only: the tag goes, its digest stays */
};

struct rs_plan_tag {
	char *name;
	char digest[RS_DIGEST_MAX];    /* "" when the tag could not be resolved */
	int64_t created;               /* image date, RS_TIME_UNKNOWN if unknown */
	int64_t pushed_at;             /* last push of the tag, RS_TIME_UNKNOWN if unknown */
	enum rs_verdict verdict;
	char *reason;
	/* RS_VERDICT_UNTAG that cannot be carried out on this registry with
	 * these credentials (set by rs_untag_check_plan, never by the
	 * planner): why the tag stays, or NULL */
	char *blocked;
};

struct rs_plan_manifest {
	char digest[RS_DIGEST_MAX];
	char *media_type;              /* may be NULL */
	int64_t created;
	int64_t stored_at;
	int64_t size;
	char **tags;                   /* tags pointing at it when planned */
	size_t ntags;
	enum rs_verdict verdict;
	char *reason;
	/* what it references, so that apply can order and re-check */
	char **children;               /* index entries */
	size_t nchildren;
	char subject[RS_DIGEST_MAX];   /* OCI subject or cosign subject, "" if none */
};

struct rs_plan_repo {
	char *name;
	int complete;                  /* 0: read incompletely, nothing deleted */
	char *note;                    /* for people: why nothing is deleted here, or why a
					* rule's dates cannot tell its images apart; or NULL */
	char *failure;                 /* what could not be read (the scan's first
					* failure in it), or NULL */
	struct rs_plan_tag *tags;      /* every tag, by name */
	size_t ntags;
	struct rs_plan_manifest *deletions;  /* deletion order: parents first */
	size_t ndeletions;
	struct rs_plan_manifest *kept;       /* kept manifests, by digest */
	size_t nkept;
};

struct rs_plan_totals {
	uint64_t repositories;
	uint64_t incomplete;           /* repositories where nothing is deleted */
	uint64_t tags;
	uint64_t tags_deleted;
	uint64_t tags_untagged;        /* RS_VERDICT_UNTAG, blocked ones included */
	uint64_t untags_blocked;       /* of those, the ones that cannot be done */
	uint64_t manifests;
	uint64_t manifests_deleted;
	uint64_t untagged_deleted;     /* deleted manifests no tag pointed at */
	int64_t reclaimable_bytes;     /* blob bytes only deleted manifests use; -1 unknown */
};

/* One reference of the in-use lists, as the plan found it. */
struct rs_plan_in_use_ref {
	char *repository;
	char *reference;               /* the tag, or the digest, as the list names it */
	char digest[RS_DIGEST_MAX];    /* what it points at; "" when not found */
	char *source;                  /* "pods.txt:3" */
};

/* What the in-use lists did (informational: not read back from plan files). */
struct rs_plan_in_use {
	uint64_t references;           /* distinct references read */
	uint64_t this_registry;        /* of them, naming this registry */
	uint64_t other_registries;     /* naming another registry: ignored */
	uint64_t image_ids;            /* image IDs, which name no repository: ignored */
	char *other_hosts;             /* a few of those registries, "docker.io, ghcr.io" */
	struct rs_plan_in_use_ref *kept;     /* found here: kept, with what they name */
	size_t nkept;
	struct rs_plan_in_use_ref *missing;  /* naming this registry, but not found */
	size_t nmissing;
};

struct rs_plan {
	char *registry;
	int64_t created;               /* the `now` it was decided at */
	char *policy;                  /* one-line summary of the policy */
	struct rs_plan_repo *repos;
	size_t nrepos;
	struct rs_plan_totals totals;
	struct rs_plan_in_use *in_use; /* NULL without in-use lists */
	int by_push_time;              /* a rule ranked by push time: worth showing */
};

/* Decide every tag and manifest of `inv` under `policy` at time `now`
 * (Unix seconds). *out is the caller's. Fails with RS_EUSAGE when a rule
 * orders by push time and the inventory has none (inv->tag_times unset),
 * else only when out of memory. */
int rs_plan_build(struct rs_plan **out, const struct rs_inventory *inv,
		  const struct rs_policy *policy, int64_t now);

/* The same, clearing each repository of `inv` (rs_repo_clear) once it is
 * planned, so that the inventory and the plan are never both whole in
 * memory; the caller still frees `inv`. */
int rs_plan_build_consuming(struct rs_plan **out, struct rs_inventory *inv,
			    const struct rs_policy *policy, int64_t now);

void rs_plan_free(struct rs_plan *plan);

/* An empty plan for `registry` (the plan file reader fills it). */
int rs_plan_new(struct rs_plan **out, const char *registry);

/* Recount plan->totals from the repositories (reclaimable bytes are kept
 * as they are). */
void rs_plan_count(struct rs_plan *plan);

/* Release the contents of one entry (the readers build them piecemeal). */
void rs_plan_manifest_release(struct rs_plan_manifest *m);
void rs_plan_tag_release(struct rs_plan_tag *t);
void rs_plan_repo_release(struct rs_plan_repo *r);
void rs_plan_in_use_free(struct rs_plan_in_use *in_use);

/* The planner's bookkeeping of the in-use lists (plan_data.c): start the
 * summary from the references `m` sorted out, add a reference found in
 * `repo` (pointing at `digest`), and list those naming this registry that
 * nothing found. */
int rs_plan_in_use_start(struct rs_plan_in_use **out, const struct rs_inuse_match *m);
int rs_plan_in_use_found(struct rs_plan_in_use *u, const struct rs_image_ref *ref,
			 const char *digest);
int rs_plan_in_use_finish(struct rs_plan_in_use *u, const struct rs_inuse_match *m);

/* "sha256:0123456789ab" (19 characters), for people; `out` has room for
 * RS_DIGEST_MAX. */
char *rs_digest_short(char *out, const char *digest);

#endif
