/* view.c: the sink every storage backend reports to, the one set of rules
 * that decides what it reported (storage.h), and the view it builds. */
#include "storage/backend.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "base/util.h"
#include "model/manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per tag, while the view is built. */
enum tag_state {
	TAG_META = 1 << 0,         /* rs_sink_tag reported it */
	TAG_HAS_LINK = 1 << 1,     /* ...with a current/link */
	TAG_CONTENT = 1 << 2,      /* one content line arrived */
	TAG_CONTENT_BAD = 1 << 3   /* more than one, or not a digest */
};

/* Problems told as warnings; the rest are counted (the first is kept). */
#define PROBLEMS_LOGGED 10

struct rs_storage_sink {
	struct rs_storage_view *view;
	unsigned what;
	struct rs_map repos;              /* name -> index + 1 */
	size_t repos_cap, manifests_cap, tags_cap;
	struct rs_map tags;               /* "REPO:TAG" -> index + 1 */
	unsigned char *tag_state;         /* parallel to view->tags */
	int64_t *tag_size;                /* parallel to view->tags */
	int all_incomplete;               /* a problem no repository could be named for */
	uint64_t max_entries;
};

/* ------------------------------------------------------------ problems */

/* `text` of `len` bytes, single-quoted, with anything not printable shown
 * as \xNN: names read from a storage may hold anything. */
static void quote_name(char *out, size_t outsize, const char *text, size_t len)
{
	size_t o = 0;

	if (outsize < 8)
		return;
	out[o++] = '\'';
	for (size_t i = 0; i < len && o + 6 < outsize; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (o + 2 < outsize)
		out[o++] = '\'';
	out[o] = '\0';
}

/* The repository argument of problem() beside an index. */
#define REPO_NONE (-1L)   /* the view is partial, no repository is concerned */
#define REPO_ALL (-2L)    /* no repository can be named: every one is incomplete */

/* Record a problem: repository `repo` is incomplete (see REPO_NONE and
 * REPO_ALL). */
static int problem(struct rs_storage_sink *s, long repo, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int problem(struct rs_storage_sink *s, long repo, const char *fmt, ...)
{
	struct rs_storage_view *v = s->view;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (repo >= 0)
		v->repos[repo].incomplete = 1;
	else if (repo == REPO_ALL)
		s->all_incomplete = 1;
	if (v->nproblems++ < PROBLEMS_LOGGED)
		rs_log(RS_LOG_WARN, "warning: storage %s: %s", v->where, msg);
	if (!v->problem) {
		v->problem = strdup(msg);
		if (!v->problem)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

/* --------------------------------------------------------------- names */

static int is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The index of repository `name`, added when new; -1 (and a problem
 * recorded) when it is not a valid repository name. */
static int repo_index(struct rs_storage_sink *s, const char *name, size_t len, long *out)
{
	struct rs_storage_view *v = s->view;
	char buf[512], shown[600];
	void *known;

	*out = -1;
	if (len == 0 || len >= sizeof(buf) || memchr(name, '\0', len)) {
		quote_name(shown, sizeof(shown), name, len < 256 ? len : 256);
		return problem(s, REPO_NONE, "%s under repositories/ is not a repository name: it "
			       "is left alone", shown);
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	known = rs_map_get(&s->repos, buf);
	if (known) {
		*out = (long)((uintptr_t)known - 1);
		return 0;
	}
	if (!rs_valid_repo_name(buf)) {
		quote_name(shown, sizeof(shown), name, len);
		/* remembered as "not a name" so that it is told once */
		if (rs_map_put(&s->repos, buf, (void *)(uintptr_t)SIZE_MAX) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
		return problem(s, REPO_NONE, "%s under repositories/ is not a valid repository "
			       "name: it is left alone", shown);
	}
	if (v->nrepos == s->repos_cap) {
		size_t cap = s->repos_cap ? s->repos_cap * 2 : 16;
		struct rs_stored_repo *grown = realloc(v->repos, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		v->repos = grown;
		s->repos_cap = cap;
	}
	v->repos[v->nrepos].name = strdup(buf);
	v->repos[v->nrepos].incomplete = 0;
	if (!v->repos[v->nrepos].name)
		return rs_error_set(RS_ERROR, "out of memory");
	if (rs_map_put(&s->repos, buf, (void *)(uintptr_t)(v->nrepos + 1)) < 0) {
		free(v->repos[v->nrepos].name);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	*out = (long)v->nrepos++;
	return 0;
}

/* A repository index for a record inside `repo`; a name already refused
 * (SIZE_MAX in the map) gives -1 without a second problem. */
static int record_repo(struct rs_storage_sink *s, const char *repo, size_t len, long *out)
{
	char buf[512];
	void *known;

	if (len > 0 && len < sizeof(buf) && !memchr(repo, '\0', len)) {
		memcpy(buf, repo, len);
		buf[len] = '\0';
		known = rs_map_get(&s->repos, buf);
		if (known == (void *)(uintptr_t)SIZE_MAX) {
			*out = -1;
			return 0;
		}
	}
	return repo_index(s, repo, len, out);
}

/* ---------------------------------------------------------------- sink */

int rs_sink_entry(struct rs_storage_sink *s)
{
	if (++s->view->entries > s->max_entries)
		return rs_error_set(RS_ERROR, "the storage %s holds more than %llu entries: is it "
				    "really a registry's storage?", s->view->where,
				    (unsigned long long)s->max_entries);
	return 0;
}

void rs_sink_request(struct rs_storage_sink *s)
{
	s->view->requests++;
}

int rs_sink_root_missing(struct rs_storage_sink *s, int not_registry)
{
	if (not_registry)
		return rs_error_set(RS_ENOTFOUND, "%s is not a registry's storage root: it holds no "
				    "'" RS_STORAGE_V2 "'", s->view->where);
	return rs_error_set(RS_ENOTFOUND, "the storage root %s does not exist", s->view->where);
}

int rs_sink_repo(struct rs_storage_sink *s, const char *name, size_t len)
{
	long repo;

	return record_repo(s, name, len, &repo);
}

int rs_sink_revision(struct rs_storage_sink *s, const char *repo_name, size_t repo_len,
		     const char *hex, size_t hex_len, int64_t size, int64_t mtime,
		     const char *content, size_t content_len)
{
	struct rs_storage_view *v = s->view;
	struct rs_stored_manifest *m;
	char shown[160];
	long repo;
	int rc;

	if (!(s->what & RS_STORAGE_MANIFESTS))
		return 0;
	rc = record_repo(s, repo_name, repo_len, &repo);
	if (rc < 0 || repo < 0)
		return rc;
	if (hex_len != 64 || !is_hex(hex, hex_len)) {
		quote_name(shown, sizeof(shown), hex, hex_len < 128 ? hex_len : 128);
		return problem(s, repo, "'%s' holds a revision %s that is not a sha256 digest",
			       v->repos[repo].name, shown);
	}
	if (size == 0)
		return problem(s, repo, "the revision link of sha256:%.64s in '%s' is empty",
			       hex, v->repos[repo].name);
	if (content) {
		while (content_len && (content[content_len - 1] == '\n' ||
				       content[content_len - 1] == '\r'))
			content_len--;
		if (content_len != 71 || memcmp(content, "sha256:", 7) != 0 ||
		    memcmp(content + 7, hex, 64) != 0)
			return problem(s, repo, "the revision link of sha256:%.64s in '%s' does not "
				       "hold its digest", hex, v->repos[repo].name);
	}
	if (v->nmanifests == s->manifests_cap) {
		size_t cap = s->manifests_cap ? s->manifests_cap * 2 : 64;
		struct rs_stored_manifest *grown = realloc(v->manifests, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		v->manifests = grown;
		s->manifests_cap = cap;
	}
	m = &v->manifests[v->nmanifests++];
	m->repo = v->repos[repo].name;
	memcpy(m->digest, "sha256:", 7);
	memcpy(m->digest + 7, hex, 64);
	m->digest[71] = '\0';
	m->stored_at = mtime;
	return 0;
}

/* The tag `tag` of repository index `repo`, added when new; *out -1 when
 * the tag name is refused (a problem is recorded). */
static int tag_index(struct rs_storage_sink *s, long repo, const char *tag, size_t tag_len,
		     long *out)
{
	struct rs_storage_view *v = s->view;
	char key[700], name[300], shown[600];
	struct rs_stored_tag *t;
	void *known;

	*out = -1;
	if (tag_len == 0 || tag_len >= 256 || memchr(tag, '\0', tag_len)) {
		quote_name(shown, sizeof(shown), tag, tag_len < 256 ? tag_len : 256);
		return problem(s, repo, "'%s' holds a tag %s that is not a tag name",
			       v->repos[repo].name, shown);
	}
	memcpy(name, tag, tag_len);
	name[tag_len] = '\0';
	snprintf(key, sizeof(key), "%s:%s", v->repos[repo].name, name);
	known = rs_map_get(&s->tags, key);
	if (known == (void *)(uintptr_t)SIZE_MAX)
		return 0;   /* refused already, and told */
	if (known) {
		*out = (long)((uintptr_t)known - 1);
		return 0;
	}
	if (!rs_valid_tag(name)) {
		quote_name(shown, sizeof(shown), tag, tag_len);
		if (rs_map_put(&s->tags, key, (void *)(uintptr_t)SIZE_MAX) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
		return problem(s, repo, "'%s' holds a tag %s that is not a valid tag name",
			       v->repos[repo].name, shown);
	}
	if (v->ntags == s->tags_cap) {
		size_t cap = s->tags_cap ? s->tags_cap * 2 : 64;
		struct rs_stored_tag *grown = realloc(v->tags, cap * sizeof(*grown));
		unsigned char *state = realloc(s->tag_state, cap);
		int64_t *sizes;

		if (grown)
			v->tags = grown;
		if (state)
			s->tag_state = state;
		sizes = realloc(s->tag_size, cap * sizeof(*sizes));
		if (sizes)
			s->tag_size = sizes;
		if (!grown || !state || !sizes)
			return rs_error_set(RS_ERROR, "out of memory");
		s->tags_cap = cap;
	}
	t = &v->tags[v->ntags];
	t->repo = v->repos[repo].name;
	t->digest[0] = '\0';
	t->pushed_at = RS_TIME_UNKNOWN;
	t->tag = strdup(name);
	if (!t->tag)
		return rs_error_set(RS_ERROR, "out of memory");
	s->tag_state[v->ntags] = 0;
	s->tag_size[v->ntags] = -1;
	if (rs_map_put(&s->tags, key, (void *)(uintptr_t)(v->ntags + 1)) < 0) {
		free(t->tag);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	*out = (long)v->ntags++;
	return 0;
}

int rs_sink_tag(struct rs_storage_sink *s, const char *repo_name, size_t repo_len,
		const char *tag, size_t tag_len, int has_link, int64_t size, int64_t mtime)
{
	long repo, t;
	int rc;

	if (!(s->what & RS_STORAGE_TAGS))
		return 0;
	rc = record_repo(s, repo_name, repo_len, &repo);
	if (rc < 0 || repo < 0)
		return rc;
	rc = tag_index(s, repo, tag, tag_len, &t);
	if (rc < 0 || t < 0)
		return rc;
	s->tag_state[t] |= TAG_META | (has_link ? TAG_HAS_LINK : 0);
	if (has_link) {
		s->tag_size[t] = size;
		s->view->tags[t].pushed_at = mtime;
	}
	return 0;
}

int rs_sink_tag_content(struct rs_storage_sink *s, const char *repo_name, size_t repo_len,
			const char *tag, size_t tag_len, const char *content, size_t content_len)
{
	struct rs_stored_tag *st;
	long repo, t;
	int rc;

	if (!(s->what & RS_STORAGE_TAG_LINKS))
		return 0;
	rc = record_repo(s, repo_name, repo_len, &repo);
	if (rc < 0 || repo < 0)
		return rc;
	rc = tag_index(s, repo, tag, tag_len, &t);
	if (rc < 0 || t < 0)
		return rc;
	st = &s->view->tags[t];
	while (content_len && (content[content_len - 1] == '\n' || content[content_len - 1] == '\r'))
		content_len--;
	if (s->tag_state[t] & TAG_CONTENT) {
		s->tag_state[t] |= TAG_CONTENT_BAD;
		return 0;
	}
	s->tag_state[t] |= TAG_CONTENT | TAG_HAS_LINK;
	if (content_len >= sizeof(st->digest)) {
		s->tag_state[t] |= TAG_CONTENT_BAD;
		return 0;
	}
	memcpy(st->digest, content, content_len);
	st->digest[content_len] = '\0';
	if (!rs_digest_valid(st->digest)) {
		st->digest[0] = '\0';
		s->tag_state[t] |= TAG_CONTENT_BAD;
	}
	return 0;
}

int rs_sink_blob(struct rs_storage_sink *s, const char *prefix, size_t prefix_len,
		 const char *hex, size_t hex_len, int64_t size)
{
	struct rs_storage_view *v = s->view;

	if (!(s->what & RS_STORAGE_BLOBS))
		return 0;
	/* anything else under blobs/ (an upload's leftovers) is not a blob */
	if (prefix_len != 2 || hex_len != 64 || !is_hex(hex, 64) || memcmp(prefix, hex, 2) != 0)
		return 0;
	if (size < 0)
		return problem(s, REPO_NONE, "the size of blob sha256:%.64s cannot be read", hex);
	v->blobs++;
	v->bytes = rs_add_i64(v->bytes, size);
	return 0;
}

int rs_sink_odd(struct rs_storage_sink *s, const char *repo_name, size_t len, const char *what)
{
	long repo;
	int rc = record_repo(s, repo_name, len, &repo);

	if (rc < 0 || repo < 0)
		return rc;   /* a refused name was told already */
	return problem(s, repo, "'%s' holds %s", s->view->repos[repo].name, what);
}

int rs_storage_name_is_odd(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 1;
	}
	return 0;
}

int rs_sink_odd_name(struct rs_storage_sink *s, const char *parent, size_t len)
{
	static const char manifests[] = "/_manifests";
	const char *m = len >= sizeof(manifests) - 1 ? memmem(parent, len, manifests,
							      sizeof(manifests) - 1) : NULL;
	char shown[600];

	if (m && (size_t)(m - parent) + sizeof(manifests) - 1 <= len &&
	    (m[sizeof(manifests) - 1] == '/' || (size_t)(m - parent) + sizeof(manifests) - 1 == len))
		return rs_sink_odd(s, parent, (size_t)(m - parent),
				   "a tag or revision whose name has characters no registry name has");
	quote_name(shown, sizeof(shown), parent, len < 256 ? len : 256);
	return problem(s, REPO_NONE, "a name under repositories/%s has characters no registry "
		       "name has: it is left alone", len ? shown : "");
}

int rs_sink_garbage(struct rs_storage_sink *s, const char *what)
{
	return problem(s, REPO_ALL, "%s: nothing is deleted", what);
}

/* ------------------------------------------------------------- finish */

/* The rules that need everything reported first: tags without a link, or
 * with an empty, missing or malformed one. */
static int check_tags(struct rs_storage_sink *s)
{
	struct rs_storage_view *v = s->view;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < v->ntags; i++) {
		unsigned state = s->tag_state[i];
		const struct rs_stored_tag *t = &v->tags[i];
		long repo = (long)((uintptr_t)rs_map_get(&s->repos, t->repo) - 1);

		if ((state & TAG_META) && !(state & TAG_HAS_LINK))
			rc = problem(s, repo, "the tag '%s' of '%s' has no current link", t->tag, t->repo);
		else if (s->tag_size[i] == 0)
			rc = problem(s, repo, "the tag '%s' of '%s' has an empty link", t->tag, t->repo);
		else if (state & TAG_CONTENT_BAD)
			rc = problem(s, repo, "the tag '%s' of '%s' has a link that does not hold a "
				     "digest", t->tag, t->repo);
		else if ((s->what & RS_STORAGE_TAG_LINKS) && !(state & TAG_CONTENT))
			rc = problem(s, repo, "the link of the tag '%s' of '%s' could not be read",
				     t->tag, t->repo);
	}
	return rc;
}

static int cmp_repo(const void *a, const void *b)
{
	return strcmp(((const struct rs_stored_repo *)a)->name, ((const struct rs_stored_repo *)b)->name);
}

static int cmp_manifest(const void *a, const void *b)
{
	const struct rs_stored_manifest *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);

	return c ? c : strcmp(x->digest, y->digest);
}

static int cmp_tag(const void *a, const void *b)
{
	const struct rs_stored_tag *x = a, *y = b;
	int c = strcmp(x->repo, y->repo);

	return c ? c : strcmp(x->tag, y->tag);
}

static void finish(struct rs_storage_sink *s)
{
	struct rs_storage_view *v = s->view;

	if (s->all_incomplete)
		for (size_t i = 0; i < v->nrepos; i++)
			v->repos[i].incomplete = 1;
	if (v->nrepos > 1)
		qsort(v->repos, v->nrepos, sizeof(*v->repos), cmp_repo);
	if (v->nmanifests > 1)
		qsort(v->manifests, v->nmanifests, sizeof(*v->manifests), cmp_manifest);
	if (v->ntags > 1)
		qsort(v->tags, v->ntags, sizeof(*v->tags), cmp_tag);
}

int rs_storage_read(struct rs_storage_view **out, struct rs_storage *st, unsigned what)
{
	return rs_storage_view_build(out, st->where, what, 0, st->ops->read, st->impl);
}

int rs_storage_view_build(struct rs_storage_view **out, const char *where, unsigned what,
			  uint64_t max_entries,
			  int (*read)(void *impl, unsigned what, struct rs_storage_sink *sink),
			  void *impl)
{
	struct rs_storage_sink s;
	struct rs_storage_view *v;
	int rc;

	*out = NULL;
	if (what & RS_STORAGE_TAG_LINKS)
		what |= RS_STORAGE_TAGS;
	v = calloc(1, sizeof(*v));
	if (!v || !(v->where = strdup(where))) {
		free(v);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	v->what = what;
	v->blobs = v->bytes = what & RS_STORAGE_BLOBS ? 0 : -1;
	memset(&s, 0, sizeof(s));
	s.view = v;
	s.what = what;
	s.repos = (struct rs_map)RS_MAP_INIT;
	s.tags = (struct rs_map)RS_MAP_INIT;
	s.max_entries = max_entries ? max_entries : RS_STORAGE_MAX_ENTRIES;
	rc = read(impl, what, &s);
	if (rc == 0)
		rc = check_tags(&s);
	if (rc == 0)
		finish(&s);
	rs_map_release(&s.repos);
	rs_map_release(&s.tags);
	free(s.tag_state);
	free(s.tag_size);
	if (rc < 0) {
		rs_storage_view_free(v);
		return rc;
	}
	rs_log(RS_LOG_VERBOSE, "storage %s: %zu repositories, %zu revisions, %zu tags, %llu entries "
	       "in %llu requests%s", v->where, v->nrepos, v->nmanifests, v->ntags,
	       (unsigned long long)v->entries, (unsigned long long)v->requests,
	       v->problem ? " (partial)" : "");
	*out = v;
	return 0;
}

void rs_storage_view_free(struct rs_storage_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nrepos; i++)
		free(v->repos[i].name);
	for (size_t i = 0; i < v->ntags; i++)
		free(v->tags[i].tag);
	free(v->repos);
	free(v->manifests);
	free(v->tags);
	free(v->problem);
	free(v->where);
	free(v);
}

const struct rs_stored_repo *rs_storage_view_repo(const struct rs_storage_view *v, const char *name)
{
	size_t lo = 0, hi = v->nrepos;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, v->repos[mid].name);

		if (c == 0)
			return &v->repos[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ------------------------------------------------------------ backends */

int rs_storage_new(struct rs_storage **out, const struct rs_storage_ops *ops, void *impl,
		   char *where)
{
	struct rs_storage *st;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st || !where) {
		free(st);
		free(where);
		ops->free(impl);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	st->ops = ops;
	st->impl = impl;
	st->where = where;
	*out = st;
	return 0;
}

void rs_storage_free(struct rs_storage *st)
{
	if (!st)
		return;
	st->ops->free(st->impl);
	free(st->where);
	free(st);
}

const char *rs_storage_describe(const struct rs_storage *st)
{
	return st->where;
}

const char *rs_storage_driver(const struct rs_storage *st)
{
	return st->ops->driver;
}
