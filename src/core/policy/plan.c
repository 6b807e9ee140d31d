/* plan.c: the pure planner: tag decisions by policy, the keep closure over
 * the reference graph, and the deletion order. */
#include "policy/plan.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/util.h"
#include "policy/rank.h"
#include "policy/version.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INCOMPLETE_REASON "repository could not be read completely"

/* What the policy said about one tag, before the reference graph. */
struct tag_state {
	const struct rs_tag *tag;
	int rule;                   /* claiming rule, -1 if none */
	int keep;                   /* the policy keeps it */
	int ranked;                 /* waits for keep_last / keep_newer_than */
	int cosign;                 /* sha256-HEX.sig/.att/.sbom */
	int orphan;                 /* cosign tag whose subject is not here: like untagged */
	int in_use;                 /* the in-use lists name it */
	const char *cosign_kind;
	char subject[RS_DIGEST_MAX];
	int64_t created;
	size_t node;                /* index of its manifest, (size_t)-1 if absent */
	char *reason;
};

/* One manifest of the repository in the graph. */
struct node {
	const struct rs_manifest *m;
	int kept;
	int deleted;
	int in_use;                 /* the in-use lists name its digest */
	char *reason;
	int kept_by_tag;            /* index of the kept tag that made it a root, or -1 */
	size_t *parents;            /* indexes naming it as a child */
	size_t nparents;
	size_t *dependents;         /* referrers and cosign digests of it */
	size_t ndependents;
	size_t subject;             /* node of its subject, (size_t)-1 if none */
	size_t *tags;               /* tag_state indexes pointing at it */
	size_t ntags;
	size_t *refs;               /* what it references: children, subjects */
	size_t nrefs;
	size_t pending;             /* ordering: deleted nodes that reference it, not yet placed */
};

struct repo_graph {
	const struct rs_repo *repo;
	const struct rs_policy *policy;
	int64_t now;
	struct tag_state *tags;
	struct node *nodes;
	size_t nnodes;
	struct rs_map index;        /* digest -> node index + 1 */
	char *note;                 /* for the repository's note, or NULL */
};

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A string of exactly its length: there is one per tag and per manifest. */
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

/* A rough age for people: "3d", "5h", "12m". */
static char *format_age(char *out, size_t outsize, int64_t seconds)
{
	if (seconds >= 86400)
		snprintf(out, outsize, "%lldd", (long long)(seconds / 86400));
	else if (seconds >= 3600)
		snprintf(out, outsize, "%lldh", (long long)(seconds / 3600));
	else
		snprintf(out, outsize, "%lldm", (long long)(seconds / 60));
	return out;
}

static size_t node_of(const struct repo_graph *g, const char *digest)
{
	uintptr_t slot;

	if (!digest || !*digest)
		return (size_t)-1;
	slot = (uintptr_t)rs_map_get(&g->index, digest);
	return slot ? (size_t)slot - 1 : (size_t)-1;
}

static int push_index(size_t **list, size_t *count, size_t value)
{
	size_t *grown;

	for (size_t i = 0; i < *count; i++)
		if ((*list)[i] == value)
			return 0;
	grown = realloc(*list, (*count + 1) * sizeof(*grown));
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	*list = grown;
	(*list)[(*count)++] = value;
	return 0;
}

static void graph_release(struct repo_graph *g)
{
	for (size_t i = 0; g->tags && i < g->repo->ntags; i++)
		free(g->tags[i].reason);
	for (size_t i = 0; g->nodes && i < g->nnodes; i++) {
		free(g->nodes[i].reason);
		free(g->nodes[i].parents);
		free(g->nodes[i].dependents);
		free(g->nodes[i].tags);
		free(g->nodes[i].refs);
	}
	free(g->tags);
	free(g->nodes);
	free(g->note);
	rs_map_release(&g->index);
}

/* ------------------------------------------------------------ the graph */

/* Index the manifests by node (node i is repo->manifests[i]), and link
 * children, subjects and cosign signatures to what they reference. */
static int graph_build(struct repo_graph *g)
{
	const struct rs_repo *repo = g->repo;
	int rc = 0;

	g->nnodes = repo->nmanifests;
	g->nodes = calloc(g->nnodes ? g->nnodes : 1, sizeof(*g->nodes));
	g->tags = calloc(repo->ntags ? repo->ntags : 1, sizeof(*g->tags));
	if (!g->nodes || !g->tags)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; rc == 0 && i < g->nnodes; i++) {
		g->nodes[i].m = repo->manifests[i];
		g->nodes[i].kept_by_tag = -1;
		g->nodes[i].subject = (size_t)-1;
		rc = rs_map_put(&g->index, repo->manifests[i]->digest, (void *)(uintptr_t)(i + 1));
	}
	for (size_t i = 0; rc == 0 && i < g->nnodes; i++) {
		const struct rs_manifest *m = g->nodes[i].m;

		for (size_t c = 0; rc == 0 && c < m->nchildren; c++) {
			size_t child = node_of(g, m->children[c].digest);

			if (child != (size_t)-1 && child != i)
				rc = push_index(&g->nodes[child].parents, &g->nodes[child].nparents, i);
			if (rc == 0 && child != (size_t)-1 && child != i)
				rc = push_index(&g->nodes[i].refs, &g->nodes[i].nrefs, child);
		}
		if (rc == 0 && m->subject[0]) {
			size_t subject = node_of(g, m->subject);

			if (subject != (size_t)-1 && subject != i) {
				g->nodes[i].subject = subject;
				rc = push_index(&g->nodes[subject].dependents,
						&g->nodes[subject].ndependents, i);
				if (rc == 0)
					rc = push_index(&g->nodes[i].refs, &g->nodes[i].nrefs, subject);
			}
		}
	}
	for (size_t t = 0; rc == 0 && t < repo->ntags; t++) {
		struct tag_state *ts = &g->tags[t];

		ts->tag = &repo->tags[t];
		ts->rule = -1;
		ts->node = node_of(g, ts->tag->digest);
		ts->created = ts->node != (size_t)-1 ? g->nodes[ts->node].m->created : RS_TIME_UNKNOWN;
		ts->cosign = rs_cosign_tag(ts->tag->name, ts->subject, sizeof(ts->subject),
					   &ts->cosign_kind);
		if (ts->node == (size_t)-1)
			continue;
		rc = push_index(&g->nodes[ts->node].tags, &g->nodes[ts->node].ntags, t);
		if (rc == 0 && ts->cosign) {
			size_t subject = node_of(g, ts->subject);

			if (subject != (size_t)-1 && subject != ts->node)
				rc = push_index(&g->nodes[subject].dependents,
						&g->nodes[subject].ndependents, ts->node);
			if (rc == 0 && subject != (size_t)-1 && subject != ts->node)
				rc = push_index(&g->nodes[ts->node].refs, &g->nodes[ts->node].nrefs,
						subject);
		}
	}
	return rc;
}

/* Could everything in the repository be read? */
static int graph_complete(const struct repo_graph *g)
{
	if (g->repo->failed)
		return 0;
	for (size_t i = 0; i < g->nnodes; i++)
		if (g->nodes[i].m->flags & RS_MF_FETCH_FAILED)
			return 0;
	for (size_t t = 0; t < g->repo->ntags; t++)
		if (g->tags[t].node == (size_t)-1)
			return 0;
	return 1;
}

/* --------------------------------------------------------- tag decisions */

/* Is `name` a better version label for an image than `current`? Names
 * with a digit first, then the higher version. */
static int better_version(const char *name, const char *current)
{
	int has = rs_version_has_number(name), had = rs_version_has_number(current);

	return has != had ? has : rs_version_compare(name, current) > 0;
}

static int append_note(struct repo_graph *g, char *note)
{
	char *joined;

	if (!note)
		return 0;
	if (!g->note) {
		g->note = note;
		return 0;
	}
	joined = format("%s; %s", g->note, note);
	free(note);
	if (!joined)
		return rs_error_set(RS_ERROR, "out of memory");
	free(g->note);
	g->note = joined;
	return 0;
}

/* keep_last / keep_newer_than for the tags `rule` claims (policy/rank.h).
 * keep_last counts images, not tags: tags sharing a digest count once. */
static int rank_rule(struct repo_graph *g, size_t rule_index)
{
	const struct rs_rule *rule = &g->policy->rules[rule_index];
	struct rs_rank_image *images;
	size_t *image_of, nimages = 0;   /* per node: its image + 1 */
	char *note = NULL;
	int rc;

	images = calloc(g->repo->ntags ? g->repo->ntags : 1, sizeof(*images));
	image_of = calloc(g->nnodes ? g->nnodes : 1, sizeof(*image_of));
	if (!images || !image_of) {
		free(images);
		free(image_of);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t t = 0; t < g->repo->ntags; t++) {
		const struct tag_state *ts = &g->tags[t];
		struct rs_rank_image *img;

		if (!ts->ranked || ts->rule != (int)rule_index)
			continue;
		if (!image_of[ts->node]) {
			images[nimages] = (struct rs_rank_image){ts->node, ts->created,
								 ts->tag->pushed_at, ts->tag->name,
								 0, NULL};
			image_of[ts->node] = ++nimages;
			continue;
		}
		img = &images[image_of[ts->node] - 1];
		if (ts->tag->pushed_at != RS_TIME_UNKNOWN &&
		    (img->pushed == RS_TIME_UNKNOWN || ts->tag->pushed_at > img->pushed))
			img->pushed = ts->tag->pushed_at;
		if (better_version(ts->tag->name, img->version))
			img->version = ts->tag->name;
	}
	rc = rs_rank(images, nimages, rule, g->now, &note);
	for (size_t i = 0; i < nimages; i++)
		image_of[images[i].id] = i + 1;   /* rs_rank reordered them */
	for (size_t t = 0; rc == 0 && t < g->repo->ntags; t++) {
		struct tag_state *ts = &g->tags[t];
		const struct rs_rank_image *img;

		if (!ts->ranked || ts->rule != (int)rule_index)
			continue;
		img = &images[image_of[ts->node] - 1];
		ts->keep = img->keep;
		if (!(ts->reason = strdup(img->reason)))
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0)
		rc = append_note(g, note);
	else
		free(note);
	for (size_t i = 0; i < nimages; i++)
		free(images[i].reason);
	free(images);
	free(image_of);
	return rc;
}

/* Does the repository hold images of its own: a tag that is not a cosign
 * tag? (Untagged manifests do not count: old signatures a re-signing left
 * behind would make a signature store look like it held images.) */
static int holds_images(const struct repo_graph *g)
{
	for (size_t t = 0; t < g->repo->ntags; t++)
		if (!g->tags[t].cosign)
			return 1;
	return 0;
}

static int decide_tags(struct repo_graph *g)
{
	const struct rs_policy *p = g->policy;
	int rc = 0, images = holds_images(g);

	for (size_t t = 0; rc == 0 && t < g->repo->ntags; t++) {
		struct tag_state *ts = &g->tags[t];
		const char *pattern;
		char shortd[RS_DIGEST_MAX];

		if (ts->cosign && node_of(g, ts->subject) != (size_t)-1) {
			continue;   /* follows its subject, decided by the closure */
		} else if (ts->cosign && images) {
			ts->orphan = 1;   /* subject gone: decided like untagged history */
			continue;
		} else if (ts->cosign) {
			ts->keep = 1;
			ts->reason = format("%s of %s, which this repository does not list: a repository "
					    "whose tags are all signatures may be a signature store "
					    "(COSIGN_REPOSITORY) whose images live elsewhere",
					    ts->cosign_kind, rs_digest_short(shortd, ts->subject));
		} else if ((ts->rule = rs_policy_claim(p, g->repo->name, ts->tag->name)) < 0) {
			ts->keep = 1;
			ts->reason = format("no rule claims it");
		} else if (rs_policy_always_keeps(p, ts->rule, ts->tag->name, &pattern)) {
			ts->keep = 1;
			ts->reason = format("always kept (keep_tags '%s')", pattern);
		} else if (p->rules[ts->rule].keep == RS_RULE_KEEP_ALL) {
			ts->keep = 1;
			ts->reason = format("rule '%s': keep all", p->rules[ts->rule].name);
		} else if (p->rules[ts->rule].keep == RS_RULE_KEEP_NONE) {
			ts->reason = format("rule '%s': keep none", p->rules[ts->rule].name);
		} else {
			ts->ranked = 1;
			continue;
		}
		if (!ts->reason)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t r = 0; rc == 0 && r < p->nrules; r++)
		if (p->rules[r].keep == RS_RULE_KEEP_SOME)
			rc = rank_rule(g, r);
	/* in use: kept whatever the rules say; ranked all the same, so that the
	 * rules decide the other tags as they would without the list */
	for (size_t t = 0; rc == 0 && t < g->repo->ntags; t++) {
		struct tag_state *ts = &g->tags[t];

		if (!ts->in_use)
			continue;
		free(ts->reason);
		ts->keep = 1;
		ts->orphan = 0;
		if (!(ts->reason = format("in use")))
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	return rc;
}

/* ------------------------------------------------------------ the closure */

/* How an index is named in a child's reason: its first tag, else its digest. */
static char *index_label(char *out, size_t outsize, const struct repo_graph *g, size_t i)
{
	char shortd[RS_DIGEST_MAX];

	if (g->nodes[i].ntags)
		snprintf(out, outsize, "'%s'", g->tags[g->nodes[i].tags[0]].tag->name);
	else
		snprintf(out, outsize, "%s", rs_digest_short(shortd, g->nodes[i].m->digest));
	return out;
}

static int is_cosign_of(const struct repo_graph *g, size_t node, size_t subject,
			const char **kind)
{
	for (size_t k = 0; k < g->nodes[node].ntags; k++) {
		const struct tag_state *ts = &g->tags[g->nodes[node].tags[k]];

		if (ts->cosign && strcmp(ts->subject, g->nodes[subject].m->digest) == 0) {
			*kind = ts->cosign_kind;
			return 1;
		}
	}
	return 0;
}

/* The reason `dep` depends on `subject` ("signature of", "referrer of"). */
static const char *dependent_kind(const struct repo_graph *g, size_t dep, size_t subject)
{
	const char *kind = "referrer";

	if (g->nodes[dep].subject != subject)
		is_cosign_of(g, dep, subject, &kind);
	return kind;
}

static int mark_kept(struct repo_graph *g, size_t i, char *reason, size_t *queue, size_t *qlen)
{
	if (!reason)
		return rs_error_set(RS_ERROR, "out of memory");
	if (g->nodes[i].kept) {
		free(reason);
		return 0;
	}
	g->nodes[i].kept = 1;
	g->nodes[i].reason = reason;
	queue[(*qlen)++] = i;
	return 0;
}

/* Is node `i` an orphan: tagged only by cosign tags whose subject is not
 * here, or an untagged referrer whose subject is not here? */
static int is_orphan(const struct repo_graph *g, size_t i)
{
	const struct node *n = &g->nodes[i];

	for (size_t k = 0; k < n->ntags; k++)
		if (!g->tags[n->tags[k]].orphan)
			return 0;
	return n->ntags || (n->m->subject[0] && n->subject == (size_t)-1);
}

/* The root reason for a manifest no tag decides (untagged history, or an
 * orphan), or NULL when it may go (*follows: decided by the closure). */
static char *untagged_root(const struct repo_graph *g, size_t i, int *follows)
{
	const struct node *n = &g->nodes[i];
	const struct rs_manifest *m = n->m;
	int64_t grace = g->policy->untagged_grace;
	const char *what = is_orphan(g, i) ? "subject gone" : "untagged";
	char gr[64];
	int young = m->stored_at != RS_TIME_UNKNOWN && g->now - m->stored_at < grace;

	*follows = 0;
	rs_policy_duration(gr, sizeof(gr), grace);
	if (young)
		return format("%s, younger than grace %s", what, gr);
	if (n->nparents || n->subject != (size_t)-1) {
		*follows = 1;
		return NULL;
	}
	if (!(m->flags & RS_MF_FROM_STORAGE))
		return format("%s, not listed by the storage", what);
	if (!g->policy->untagged_delete)
		return format("%s (untagged: keep)", what);
	if (m->stored_at == RS_TIME_UNKNOWN)
		return format("%s, storage time unknown", what);
	*follows = 1;
	return NULL;
}

static int close_kept(struct repo_graph *g)
{
	size_t *queue = calloc(g->nnodes ? g->nnodes : 1, sizeof(*queue));
	size_t qlen = 0, head = 0;
	int rc = 0;

	if (!queue)
		return rs_error_set(RS_ERROR, "out of memory");
	/* roots: kept tags first, so that a digest is "kept tag 'x'" when it is */
	for (size_t t = 0; rc == 0 && t < g->repo->ntags; t++) {
		struct tag_state *ts = &g->tags[t];

		if (!ts->keep || ts->node == (size_t)-1 || g->nodes[ts->node].kept)
			continue;
		g->nodes[ts->node].kept_by_tag = (int)t;
		rc = mark_kept(g, ts->node, format("kept tag '%s'", ts->tag->name), queue, &qlen);
	}
	for (size_t i = 0; rc == 0 && i < g->nnodes; i++)
		if (g->nodes[i].in_use && !g->nodes[i].kept)
			rc = mark_kept(g, i, format("in use"), queue, &qlen);
	for (size_t i = 0; rc == 0 && i < g->nnodes; i++) {
		int follows;
		char *why;

		if (g->nodes[i].kept || (g->nodes[i].ntags && !is_orphan(g, i)))
			continue;
		why = untagged_root(g, i, &follows);
		if (why)
			rc = mark_kept(g, i, why, queue, &qlen);
		else if (!follows)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	while (rc == 0 && head < qlen) {
		size_t i = queue[head++];
		const struct rs_manifest *m = g->nodes[i].m;
		char label[600], shortd[RS_DIGEST_MAX];

		for (size_t c = 0; rc == 0 && c < m->nchildren; c++) {
			size_t child = node_of(g, m->children[c].digest);

			if (child == (size_t)-1 || g->nodes[child].kept)
				continue;
			index_label(label, sizeof(label), g, i);
			rc = mark_kept(g, child, format("child of kept index %s", label), queue, &qlen);
		}
		for (size_t d = 0; rc == 0 && d < g->nodes[i].ndependents; d++) {
			size_t dep = g->nodes[i].dependents[d];

			if (g->nodes[dep].kept)
				continue;
			rc = mark_kept(g, dep, format("%s of kept %s", dependent_kind(g, dep, i),
						      rs_digest_short(shortd, m->digest)),
				       queue, &qlen);
		}
	}
	free(queue);
	return rc;
}

/* Why a manifest outside the kept set goes. */
static char *delete_reason(const struct repo_graph *g, size_t i)
{
	const struct node *n = &g->nodes[i];
	char label[600], shortd[RS_DIGEST_MAX], gr[64], age[64];

	for (size_t k = 0; k < n->ntags; k++) {
		const struct tag_state *ts = &g->tags[n->tags[k]];

		if (!ts->cosign)
			return format("%s", ts->reason ? ts->reason : "dropped by the policy");
	}
	for (size_t k = 0; k < n->ntags; k++) {
		/* cosign tags: of a subject that goes */
		const struct tag_state *ts = &g->tags[n->tags[k]];

		if (!ts->orphan)
			return format("%s of deleted %s", ts->cosign_kind,
				      rs_digest_short(shortd, ts->subject));
	}
	if (n->subject != (size_t)-1)
		return format("referrer of deleted %s",
			      rs_digest_short(shortd, g->nodes[n->subject].m->digest));
	if (n->nparents)
		return format("child of deleted index %s",
			      index_label(label, sizeof(label), g, n->parents[0]));
	rs_policy_duration(gr, sizeof(gr), g->policy->untagged_grace);
	format_age(age, sizeof(age), g->now - n->m->stored_at);
	if (n->ntags)   /* orphaned cosign tags only */
		return format("subject gone (%s of missing %s), stored %s ago (grace %s)",
			      g->tags[n->tags[0]].cosign_kind,
			      rs_digest_short(shortd, g->tags[n->tags[0]].subject), age, gr);
	if (n->m->subject[0])
		return format("subject gone (referrer of missing %s), stored %s ago (grace %s)",
			      rs_digest_short(shortd, n->m->subject), age, gr);
	return format("untagged, stored %s ago (grace %s)", age, gr);
}

/* ------------------------------------------------------------ the output */

static int copy_strv(char ***out, size_t *count, const char *const *items, size_t n)
{
	*out = NULL;
	*count = 0;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!((*out)[i] = strdup(items[i])))
			return rs_error_set(RS_ERROR, "out of memory");
		(*count)++;
	}
	return 0;
}

static int fill_manifest(struct rs_plan_manifest *pm, const struct repo_graph *g, size_t i)
{
	const struct node *n = &g->nodes[i];
	const struct rs_manifest *m = n->m;
	const char **names = NULL, **kids = NULL;
	int rc = 0;

	memset(pm, 0, sizeof(*pm));
	rs_strlcpy(pm->digest, m->digest, sizeof(pm->digest));
	pm->created = m->created;
	pm->stored_at = m->stored_at;
	pm->size = m->size;
	pm->verdict = n->kept ? RS_VERDICT_KEEP : RS_VERDICT_DELETE;
	pm->media_type = rs_media_type_dup(m->media_type ? m->media_type
							 : rs_media_type_name(m->type));
	pm->reason = rs_strdup(n->reason);
	if (!pm->media_type || !pm->reason)
		return rs_error_set(RS_ERROR, "out of memory");
	if (m->subject[0])
		rs_strlcpy(pm->subject, m->subject, sizeof(pm->subject));
	for (size_t k = 0; !pm->subject[0] && k < n->ntags; k++)
		if (g->tags[n->tags[k]].cosign)
			rs_strlcpy(pm->subject, g->tags[n->tags[k]].subject, sizeof(pm->subject));
	names = calloc(n->ntags + 1, sizeof(*names));
	kids = calloc(m->nchildren + 1, sizeof(*kids));
	if (!names || !kids)
		rc = rs_error_set(RS_ERROR, "out of memory");
	for (size_t k = 0; rc == 0 && k < n->ntags; k++)
		names[k] = g->tags[n->tags[k]].tag->name;
	for (size_t c = 0; rc == 0 && c < m->nchildren; c++)
		kids[c] = m->children[c].digest;
	if (rc == 0)
		rc = copy_strv(&pm->tags, &pm->ntags, names, n->ntags);
	if (rc == 0)
		rc = copy_strv(&pm->children, &pm->nchildren, kids, m->nchildren);
	free(names);
	free(kids);
	return rc;
}

/* Parents first: a deleted manifest is placed once every deleted manifest
 * that references it (index, referrer, signature) is placed. */
static int order_deletions(struct repo_graph *g, size_t **out, size_t *count)
{
	size_t *order = calloc(g->nnodes ? g->nnodes : 1, sizeof(*order));
	size_t n = 0, placed_before;

	*out = order;
	*count = 0;
	if (!order)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t a = 0; a < g->nnodes; a++)
		for (size_t r = 0; g->nodes[a].deleted && r < g->nodes[a].nrefs; r++)
			g->nodes[g->nodes[a].refs[r]].pending++;
	do {
		placed_before = n;
		for (size_t i = 0; i < g->nnodes; i++) {
			struct node *nd = &g->nodes[i];

			if (nd->deleted != 1 || nd->pending)
				continue;
			nd->deleted = 2;   /* placed */
			order[n++] = i;
			for (size_t r = 0; r < nd->nrefs; r++)
				if (g->nodes[nd->refs[r]].pending)
					g->nodes[nd->refs[r]].pending--;
		}
	} while (n != placed_before);
	/* a reference cycle cannot come from content addressing; place the rest anyway */
	for (size_t i = 0; i < g->nnodes; i++)
		if (g->nodes[i].deleted == 1) {
			g->nodes[i].deleted = 2;
			order[n++] = i;
		}
	*count = n;
	return 0;
}

/* Every use of a blob by a planned manifest, for the reclaimable-bytes
 * estimate: a flat list (24 bytes a use: 120 bits of the digest identify a
 * blob well enough for an estimate) sorted once at the end, rather than a
 * map of digest strings (a registry of 100,000 images has hundreds of
 * thousands of blob uses). */
#define BLOB_ID_LEN 15
struct blob_use {
	unsigned char id[BLOB_ID_LEN];
	unsigned char kept;
	int64_t size;
};

struct blob_uses {
	struct blob_use *v;
	size_t n, cap;
};

static int note_blob(struct blob_uses *uses, const struct rs_descriptor *d, int kept)
{
	unsigned char id[RS_DIGEST_ID_LEN];
	struct blob_use *use;

	if (!d->digest[0])
		return 0;
	if (uses->n == uses->cap) {
		size_t cap = uses->cap ? uses->cap + uses->cap / 2 : 1024;
		struct blob_use *grown = realloc(uses->v, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		uses->v = grown;
		uses->cap = cap;
	}
	use = &uses->v[uses->n++];
	rs_digest_id(id, d->digest);
	memcpy(use->id, id, BLOB_ID_LEN);
	use->size = d->size;
	use->kept = kept != 0;
	return 0;
}

static int note_blobs(struct blob_uses *uses, const struct repo_graph *g)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < g->nnodes; i++) {
		const struct rs_manifest *m = g->nodes[i].m;

		rc = note_blob(uses, &m->config, g->nodes[i].kept);
		for (size_t l = 0; rc == 0 && l < m->nlayers; l++)
			rc = note_blob(uses, &m->layers[l], g->nodes[i].kept);
	}
	return rc;
}

static int cmp_blob_use(const void *a, const void *b)
{
	return memcmp(((const struct blob_use *)a)->id, ((const struct blob_use *)b)->id,
		      BLOB_ID_LEN);
}

/* The bytes of the blobs that only deleted manifests use. */
static int64_t reclaimable(struct blob_uses *uses)
{
	int64_t total = 0;

	if (uses->n > 1)
		qsort(uses->v, uses->n, sizeof(*uses->v), cmp_blob_use);
	for (size_t i = 0, j; i < uses->n; i = j) {
		int kept = 0;

		for (j = i; j < uses->n && memcmp(uses->v[j].id, uses->v[i].id,
						  BLOB_ID_LEN) == 0; j++)
			kept |= uses->v[j].kept;
		if (!kept)
			total = rs_add_i64(total, uses->v[i].size);
	}
	return total;
}

static int cmp_plan_tag(const void *a, const void *b)
{
	return strcmp(((const struct rs_plan_tag *)a)->name, ((const struct rs_plan_tag *)b)->name);
}

/* The reason shown for a tag, once its digest's fate is known. */
static char *tag_reason(const struct repo_graph *g, const struct tag_state *ts)
{
	const struct node *n = &g->nodes[ts->node];

	if (!n->kept)
		return format("%s", ts->reason ? ts->reason : n->reason);
	if (ts->keep && ts->reason)
		return format("%s", ts->reason);
	if (n->kept_by_tag >= 0 && g->tags[n->kept_by_tag].tag != ts->tag)
		return format("shares digest with kept tag '%s'", g->tags[n->kept_by_tag].tag->name);
	return format("%s", n->reason);
}

/* A tag the policy drops (not one that follows its subject) whose digest
 * stays for another reason: one DELETE of the digest would take what is
 * kept, so with `untag` the tag goes alone. */
static int untag_wanted(const struct repo_graph *g, const struct tag_state *ts)
{
	const struct node *n = &g->nodes[ts->node];

	if (!g->policy->untag || !n->kept || ts->keep)
		return 0;
	/* a signature's tag follows what it signs, and a digest in use keeps
	 * the tags on it: the in-use lists may name either */
	return !ts->cosign && !n->in_use;
}

/* "rule 'ci': keep none; the image stays (kept tag 'latest'): the tag goes alone" */
static char *untag_reason(const struct repo_graph *g, const struct tag_state *ts)
{
	const struct node *n = &g->nodes[ts->node];

	return format("%s; its image stays (%s): the tag goes alone",
		      ts->reason ? ts->reason : "dropped by the policy", n->reason);
}

static int fill_tags(struct rs_plan_repo *pr, const struct repo_graph *g, int complete)
{
	const struct rs_repo *repo = g->repo;

	pr->tags = calloc(repo->ntags ? repo->ntags : 1, sizeof(*pr->tags));
	if (!pr->tags)
		return rs_error_set(RS_ERROR, "out of memory");
	for (size_t t = 0; t < repo->ntags; t++) {
		const struct tag_state *ts = &g->tags[t];
		struct rs_plan_tag *pt = &pr->tags[pr->ntags++];

		pt->name = strdup(repo->tags[t].name);
		rs_strlcpy(pt->digest, repo->tags[t].digest, sizeof(pt->digest));
		pt->created = ts->created;
		pt->pushed_at = repo->tags[t].pushed_at;
		pt->verdict = complete && !g->nodes[ts->node].kept ? RS_VERDICT_DELETE
								   : RS_VERDICT_KEEP;
		if (complete && untag_wanted(g, ts)) {
			pt->verdict = RS_VERDICT_UNTAG;
			pt->reason = untag_reason(g, ts);
		} else {
			pt->reason = complete ? tag_reason(g, ts) : strdup(INCOMPLETE_REASON);
		}
		if (!pt->name || !pt->reason)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	if (pr->ntags > 1)
		qsort(pr->tags, pr->ntags, sizeof(*pr->tags), cmp_plan_tag);
	return 0;
}

static int fill_manifests(struct rs_plan_repo *pr, struct repo_graph *g)
{
	size_t *order = NULL, norder = 0;
	int rc = order_deletions(g, &order, &norder);

	if (rc == 0) {
		pr->deletions = calloc(norder ? norder : 1, sizeof(*pr->deletions));
		pr->kept = calloc(g->nnodes - norder ? g->nnodes - norder : 1, sizeof(*pr->kept));
		if (!pr->deletions || !pr->kept)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t k = 0; rc == 0 && k < norder; k++)
		rc = fill_manifest(&pr->deletions[pr->ndeletions++], g, order[k]);
	for (size_t i = 0; rc == 0 && i < g->nnodes; i++)
		if (g->nodes[i].kept)
			rc = fill_manifest(&pr->kept[pr->nkept++], g, i);
	free(order);
	return rc;
}

/* The in-use references of a plan, and what the plan found of them. */
struct in_use {
	struct rs_inuse_match match;
	struct rs_plan_in_use *summary;
};

/* Mark the tags and manifests of the repository the in-use lists name. */
static int mark_in_use(struct repo_graph *g, struct in_use *iu)
{
	struct rs_map tags = RS_MAP_INIT_BORROWED;   /* name -> tag index + 1 */
	size_t i = iu ? rs_inuse_match_first(&iu->match, g->repo->name) : (size_t)-1;
	int rc = 0;

	for (size_t t = 0; rc == 0 && i != (size_t)-1 && t < g->repo->ntags; t++)
		rc = rs_map_put(&tags, g->repo->tags[t].name, (void *)(uintptr_t)(t + 1));
	for (; rc == 0 && i != (size_t)-1; i = rs_inuse_match_next(&iu->match, i)) {
		const struct rs_image_ref *ref = &iu->match.set->refs[i];
		const char *digest = NULL;

		if (ref->tag) {
			uintptr_t t = (uintptr_t)rs_map_get(&tags, ref->tag);

			if (t) {
				g->tags[t - 1].in_use = 1;
				digest = g->repo->tags[t - 1].digest;
			}
		} else if (node_of(g, ref->digest) != (size_t)-1) {
			g->nodes[node_of(g, ref->digest)].in_use = 1;
			digest = ref->digest;
		}
		if (digest) {
			iu->match.found[i] = 1;
			rc = rs_plan_in_use_found(iu->summary, ref, digest);
		}
	}
	rs_map_release(&tags);
	return rc;
}

static int plan_repo(struct rs_plan_repo *pr, const struct rs_repo *repo,
		     const struct rs_policy *policy, int64_t now, struct blob_uses *blobs,
		     struct in_use *in_use)
{
	struct repo_graph g;
	int rc, complete;

	memset(&g, 0, sizeof(g));
	g.repo = repo;
	g.policy = policy;
	g.now = now;
	pr->name = strdup(repo->name);
	if (!pr->name)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = graph_build(&g);
	if (rc == 0)
		rc = mark_in_use(&g, in_use);
	if (rc < 0)
		goto done;
	complete = graph_complete(&g);
	pr->complete = complete;
	if (complete) {
		rc = decide_tags(&g);
		if (rc == 0)
			rc = close_kept(&g);
		for (size_t i = 0; rc == 0 && i < g.nnodes; i++) {
			if (g.nodes[i].kept)
				continue;
			g.nodes[i].deleted = 1;
			if (!(g.nodes[i].reason = delete_reason(&g, i)))
				rc = rs_error_set(RS_ERROR, "out of memory");
		}
		pr->note = g.note;
		g.note = NULL;
	} else {
		pr->note = strdup(INCOMPLETE_REASON ": nothing is deleted there");
		pr->failure = rs_strdup(repo->failure);
		if (!pr->note || (repo->failure && !pr->failure))
			rc = rs_error_set(RS_ERROR, "out of memory");
		for (size_t i = 0; rc == 0 && i < g.nnodes; i++) {
			g.nodes[i].kept = 1;
			if (!(g.nodes[i].reason = strdup(INCOMPLETE_REASON)))
				rc = rs_error_set(RS_ERROR, "out of memory");
		}
		/* a tag whose manifest is missing has no node: give it one to point at */
	}
	if (rc == 0)
		rc = fill_tags(pr, &g, complete);
	if (rc == 0)
		rc = fill_manifests(pr, &g);
	if (rc == 0)
		rc = note_blobs(blobs, &g);
done:
	graph_release(&g);
	return rc;
}

static int plan_build(struct rs_plan **out, struct rs_inventory *inv,
		      const struct rs_policy *policy, int64_t now, int consume)
{
	struct blob_uses blobs = {NULL, 0, 0};
	struct rs_buf summary = RS_BUF_INIT;
	struct rs_plan *plan = NULL;
	struct in_use in_use, *iu = NULL;
	int push_rule = rs_policy_needs_push_times(policy);
	size_t freed = 0;
	int rc;

	*out = NULL;
	if (push_rule >= 0 && !inv->tag_times)
		return rs_error_set(RS_EUSAGE, "rule '%s' orders by push time (order: pushed), but the "
				    "tags' push times were not read from the registry's storage: add "
				    "--storage-root DIR, or --ssh HOST with --storage-root DIR or "
				    "--registry-config FILE", policy->rules[push_rule].name);
	rc = rs_plan_new(&plan, inv->registry);
	if (rc < 0)
		return rc;
	plan->created = now;
	plan->by_push_time = push_rule >= 0;
	if (policy->in_use) {
		iu = &in_use;
		rc = rs_inuse_match_init(&iu->match, policy->in_use, inv->registry);
		if (rc < 0) {
			rs_plan_free(plan);
			return rc;
		}
		rc = rs_plan_in_use_start(&plan->in_use, &iu->match);
		iu->summary = plan->in_use;
	}
	rc = rs_policy_describe(&summary, policy);
	if (rc == 0 && !(plan->policy = rs_buf_detach(&summary)))
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc == 0 && inv->nrepos &&
	    !(plan->repos = calloc(inv->nrepos, sizeof(*plan->repos))))
		rc = rs_error_set(RS_ERROR, "out of memory");
	for (size_t r = 0; rc == 0 && r < inv->nrepos; r++) {
		plan->nrepos++;
		rc = plan_repo(&plan->repos[r], inv->repos[r], policy, now, &blobs, iu);
		if (consume) {
			freed += inv->repos[r]->ntags + inv->repos[r]->nmanifests;
			rs_repo_clear(inv->repos[r]);
			if (freed >= 4096) {
				rs_memory_trim();
				freed = 0;
			}
		}
	}
	if (rc == 0 && iu)
		rc = rs_plan_in_use_finish(plan->in_use, &iu->match);
	if (rc == 0) {
		plan->totals.reclaimable_bytes = reclaimable(&blobs);
		rs_plan_count(plan);
	}
	if (iu)
		rs_inuse_match_release(&iu->match);
	free(blobs.v);
	rs_buf_release(&summary);
	if (rc < 0) {
		rs_plan_free(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

int rs_plan_build(struct rs_plan **out, const struct rs_inventory *inv,
		  const struct rs_policy *policy, int64_t now)
{
	return plan_build(out, (struct rs_inventory *)inv, policy, now, 0);
}

int rs_plan_build_consuming(struct rs_plan **out, struct rs_inventory *inv,
			    const struct rs_policy *policy, int64_t now)
{
	return plan_build(out, inv, policy, now, 1);
}
