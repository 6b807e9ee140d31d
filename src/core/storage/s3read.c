/* s3read.c: reading a bucket laid out by the registry's s3 driver: the
 * listings and GETs of s3.h, in a bounded window of requests on a client
 * of the backend's own, every key reported to the sink as the filesystem
 * backends report files, so that the view's rules judge it alike. */
#include "storage/s3_internal.h"
#include "storage/s3list.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "base/util.h"
#include "model/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests handed to the client beyond what it has in flight, so that it
 * never waits for the next one. */
#define WINDOW_EXTRA 4
/* A page of 1,000 keys is about 300 KiB of XML. */
#define LIST_MAX_BODY (16u * 1024 * 1024)
/* An error document answering a GET is small; a link, smaller still. */
#define GET_MAX_BODY (64u * 1024)

static const char repositories_dir[] = "repositories/";
static const char manifests_dir[] = "/_manifests/";
static const char revisions_dir[] = "revisions/sha256/";
static const char tags_dir[] = "tags/";
static const char blobs_dir[] = "blobs/sha256/";
static const char hex_digits[] = "0123456789abcdef";

enum kind {
	DISCOVER,      /* repositories/ with "/_": every directory holding _manifests */
	MANIFESTS,     /* one repository's _manifests/ */
	BLOBS,         /* blobs/sha256/ */
	PROBE,         /* is there anything at all under a prefix? */
	TAG_LINK       /* GET a tag's current link */
};

struct reader;

/* A tag link waiting for its repository's revisions (see repo_links). */
struct pending_link {
	char *key;               /* the link's key */
	size_t key_len, repo_off, repo_len, tag_off, tag_len;
	char etag[33];
};

/* With tag links asked for, a repository's links are mostly read from its
 * listing: a link's ETag is the MD5 of its bytes, and a registry writes
 * exactly "sha256:HEX" there, the bytes of one of the repository's revision
 * links. Once every listing of the repository is in, each link whose ETag
 * is the MD5 of a revision's "sha256:HEX" holds that; any other (a link
 * of another size, an ETag that is no MD5, a digest no revision has) is
 * read with a GET, as it would be without this. */
struct repo_links {
	int listings;                /* its listings not done yet */
	struct rs_map by_md5;        /* MD5 hex of "sha256:HEX" -> that string (owned) */
	struct pending_link *links;
	size_t nlinks, cap;
	struct repo_links *next;     /* the reader's, for the cleanup */
};

struct job {
	enum kind kind;
	char *prefix;            /* the key prefix listed; TAG_LINK: the key itself */
	const char *delimiter;   /* NULL: none */
	const char *max_keys;    /* NULL: the store's default, 1,000 */
	char *start_after;       /* list keys after this one; NULL: from the start */
	char *end;               /* the last key this job lists; NULL: to the prefix's end */
	char *token;             /* continuation token of the next page */
	size_t repo_off, repo_len;   /* MANIFESTS, TAG_LINK: the name within `prefix` */
	size_t base_len;         /* MANIFESTS: length of ".../NAME/_manifests/" */
	size_t tag_off, tag_len; /* TAG_LINK */
	int may_split;           /* past its first page, list the rest in parallel */
	int repo_told;           /* MANIFESTS: rs_sink_repo said */
	struct repo_links *links;    /* MANIFESTS, with tag links asked for */
	struct reader *r;
	struct job *next;
};

struct reader {
	const struct rs_s3_store *s3;
	struct rs_http *http;
	struct rs_storage_sink *sink;
	unsigned what;
	struct job *head, *tail;     /* waiting to be sent */
	int active;                  /* sent, not done */
	int window;
	int rc;                      /* the first failure, which stops the read */
	char *message;               /* its message (the transport's cancel overwrites it) */
	uint64_t seen;               /* keys and prefixes under the layout */
	uint64_t probe_seen;
	int no_delimiters;           /* the store refused one: list without them */
	struct rs_map repos;         /* names already queued */
	struct rs_map odd;           /* odd names already told */
	struct repo_links *links;    /* every repository's, while listed */
};

/* ---------------------------------------------------------------- jobs */

static void job_free(struct job *job)
{
	if (!job)
		return;
	free(job->prefix);
	free(job->start_after);
	free(job->end);
	free(job->token);
	free(job);
}

static struct job *job_new(struct reader *r, enum kind kind, const char *prefix, size_t len)
{
	struct job *job = calloc(1, sizeof(*job));

	if (!job || !(job->prefix = strndup(prefix, len))) {
		free(job);
		rs_error_set(RS_ERROR, "out of memory");
		return NULL;
	}
	job->kind = kind;
	job->r = r;
	return job;
}

static void push_back(struct reader *r, struct job *job)
{
	job->next = NULL;
	if (r->tail)
		r->tail->next = job;
	else
		r->head = job;
	r->tail = job;
}

static void push_front(struct reader *r, struct job *job)
{
	job->next = r->head;
	r->head = job;
	if (!r->tail)
		r->tail = job;
}

static void links_free(struct repo_links *l)
{
	size_t pos = 0;
	const char *key;
	void *value;

	while (rs_map_next(&l->by_md5, &pos, &key, &value))
		free(value);
	rs_map_release(&l->by_md5);
	for (size_t i = 0; i < l->nlinks; i++)
		free(l->links[i].key);
	free(l->links);
	free(l);
}

static struct repo_links *links_new(struct reader *r)
{
	struct repo_links *l = calloc(1, sizeof(*l));

	if (!l) {
		rs_error_set(RS_ERROR, "out of memory");
		return NULL;
	}
	l->by_md5 = (struct rs_map)RS_MAP_INIT;
	l->listings = 1;
	l->next = r->links;
	r->links = l;
	return l;
}

static void fail(struct reader *r, int rc)
{
	if (r->rc)
		return;
	r->rc = rc;
	r->message = strdup(rs_error_message());
	rs_http_cancel(r->http);
}

static void on_done(struct rs_http_req *req, struct rs_http_response *resp, int rc,
		    void *userdata);

static int submit(struct reader *r, struct job *job)
{
	struct rs_http_param params[7];
	struct rs_http_req *req = NULL;
	size_t n = 0;
	int rc;

	if (job->kind == TAG_LINK) {
		rc = rs_s3_request(&req, r->s3, job->prefix, NULL, 0);
	} else {
		params[n++] = (struct rs_http_param){"list-type", "2"};
		params[n++] = (struct rs_http_param){"prefix", job->prefix};
		/* keys may hold bytes XML cannot carry */
		params[n++] = (struct rs_http_param){"encoding-type", "url"};
		if (job->delimiter && !r->no_delimiters)
			params[n++] = (struct rs_http_param){"delimiter", job->delimiter};
		if (job->token)
			params[n++] = (struct rs_http_param){"continuation-token", job->token};
		if (job->start_after)
			params[n++] = (struct rs_http_param){"start-after", job->start_after};
		if (job->max_keys || r->s3->max_keys[0])
			params[n++] = (struct rs_http_param){"max-keys", job->max_keys ? job->max_keys
							     : r->s3->max_keys};
		rc = rs_s3_request(&req, r->s3, NULL, params, n);
	}
	if (rc < 0)
		return rc;
	rs_http_req_max_body(req, job->kind == TAG_LINK ? GET_MAX_BODY : LIST_MAX_BODY);
	r->active++;
	return rs_http_submit(r->http, req, on_done, job);
}

/* Send what waits while the window has room. */
static void pump(struct reader *r)
{
	while (!r->rc && r->active < r->window && r->head) {
		struct job *job = r->head;
		int rc;

		r->head = job->next;
		if (!r->head)
			r->tail = NULL;
		rc = submit(r, job);
		if (rc < 0) {
			fail(r, rc);
			job_free(job);
		}
	}
}

/* ---------------------------------------------------------------- keys */

/* Byte order, as S3 lists keys. */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static int is_exactly(const char *s, size_t len, const char *text)
{
	return len == strlen(text) && memcmp(s, text, len) == 0;
}

/* Tell the sink, once, that the directory `parent` (relative to
 * repositories/) holds the odd name `name`: a name with characters no
 * registry name has, or an empty one (S3 allows "a//b"). */
static int odd_once(struct reader *r, const char *parent, size_t parent_len, const char *name,
		    size_t len)
{
	struct rs_buf key = RS_BUF_INIT;
	int rc = rs_buf_put(&key, parent, parent_len);

	if (rc == 0)
		rc = rs_buf_puts(&key, "/");
	if (rc == 0)
		rc = rs_buf_put(&key, name, len);
	if (rc < 0)
		return rc;
	/* the map's keys are C strings: a NUL inside only merges two odd names */
	for (size_t i = 0; i < key.len; i++)
		if (key.ptr[i] == '\0')
			key.ptr[i] = '\1';
	if (!rs_map_get(&r->odd, key.ptr)) {
		rc = rs_map_put(&r->odd, key.ptr, (void *)1);
		if (rc == 0)
			rc = rs_sink_odd_name(r->sink, parent, parent_len);
	}
	rs_buf_release(&key);
	return rc;
}

static int name_is_odd(const char *name, size_t len)
{
	return len == 0 || rs_storage_name_is_odd(name, len);
}

/* A directory NAME (relative to repositories/) that holds something whose
 * name starts with '_': list its _manifests/, once, unless a component of
 * NAME is one the walk would not enter. */
static int candidate(struct reader *r, const char *name, size_t len)
{
	const struct rs_s3_store *s3 = r->s3;
	struct rs_buf prefix = RS_BUF_INIT;
	struct job *job;
	size_t start = 0;
	int rc;

	for (size_t i = 0; i <= len; i++) {
		const char *c = name + start;
		size_t clen = i - start;

		if (i < len && name[i] != '/')
			continue;
		/* _manifests, _layers, _uploads: a repository's own data; no name
		 * component starts with '_' or '.' */
		if (clen && (c[0] == '_' || c[0] == '.'))
			return 0;
		if (name_is_odd(c, clen))
			return odd_once(r, name, start ? start - 1 : 0, c, clen);
		start = i + 1;
	}
	rc = rs_buf_put(&prefix, name, len);
	if (rc == 0 && rs_map_get(&r->repos, prefix.ptr)) {
		rs_buf_release(&prefix);
		return 0;
	}
	if (rc == 0)
		rc = rs_map_put(&r->repos, prefix.ptr, (void *)1);
	rs_buf_reset(&prefix);
	if (rc == 0)
		rc = rs_buf_printf(&prefix, "%s%s%.*s%s", s3->layout, repositories_dir, (int)len,
				   name, manifests_dir);
	job = rc == 0 ? job_new(r, MANIFESTS, prefix.ptr, prefix.len) : NULL;
	if (!job) {
		rs_buf_release(&prefix);
		return RS_ERROR;
	}
	job->repo_off = strlen(s3->layout) + strlen(repositories_dir);
	job->repo_len = len;
	job->base_len = prefix.len;
	rs_buf_release(&prefix);
	if ((r->what & RS_STORAGE_TAG_LINKS) && !(job->links = links_new(r))) {
		job_free(job);
		return RS_ERROR;
	}
	if (!(r->what & RS_STORAGE_TAGS)) {
		/* revisions only: the tags are not even listed */
		char *narrower = NULL;

		if (asprintf(&narrower, "%srevisions/", job->prefix) < 0) {
			job_free(job);
			return rs_error_set(RS_ERROR, "out of memory");
		}
		free(job->prefix);
		job->prefix = narrower;
		job->may_split = 1;
	} else if (!(r->what & RS_STORAGE_MANIFESTS) && !job->links) {
		char *narrower = NULL;

		if (asprintf(&narrower, "%s%s", job->prefix, tags_dir) < 0) {
			job_free(job);
			return rs_error_set(RS_ERROR, "out of memory");
		}
		free(job->prefix);
		job->prefix = narrower;
		job->delimiter = "/index/";
	} else {
		/* a tag's history rolls up into one prefix */
		job->delimiter = "/index/";
		job->may_split = 1;
	}
	push_back(r, job);
	return 0;
}

/* A key or prefix of a repositories/ listing: the name before its first
 * "/_" is a directory that holds something of a repository's. */
static int discovered(struct reader *r, const char *rest, size_t len)
{
	const char *m = memmem(rest, len, "/_", 2);

	return m ? candidate(r, rest, (size_t)(m - rest)) : 0;
}

/* Does the view want the content of the link of `tag` in `repo`? Not for
 * a name it refuses (nor would a name with a dot segment reach the store
 * as it is). */
static int link_wanted(const char *repo, size_t repo_len, const char *tag, size_t tag_len)
{
	char name[512];

	if (repo_len >= sizeof(name) || tag_len >= sizeof(name))
		return 0;
	memcpy(name, repo, repo_len);
	name[repo_len] = '\0';
	if (!rs_valid_repo_name(name))
		return 0;
	memcpy(name, tag, tag_len);
	name[tag_len] = '\0';
	return rs_valid_tag(name);
}

/* A GET of the tag link at `key`. */
static int queue_get(struct reader *r, const char *key, size_t key_len, size_t repo_off,
		     size_t repo_len, size_t tag_off, size_t tag_len)
{
	struct job *job = job_new(r, TAG_LINK, key, key_len);

	if (!job)
		return RS_ERROR;
	job->repo_off = repo_off;
	job->repo_len = repo_len;
	job->tag_off = tag_off;
	job->tag_len = tag_len;
	push_back(r, job);
	return 0;
}

/* The tag link at `key`, listed with `size` and `etag`: known from its
 * ETag once the repository's revisions are in when it may be (see
 * repo_links), else read with a GET of its own. */
static int queue_tag_link(struct reader *r, const struct job *from, const char *key,
			  size_t key_len, const char *tag, size_t tag_len, int64_t size,
			  const char *etag)
{
	struct repo_links *l = from->links;
	struct pending_link *p;

	if (!link_wanted(key + from->repo_off, from->repo_len, tag, tag_len))
		return 0;
	if (!l || !etag[0] || size != 7 + 64)
		return queue_get(r, key, key_len, from->repo_off, from->repo_len,
				 (size_t)(tag - key), tag_len);
	if (l->nlinks == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct pending_link *grown = realloc(l->links, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		l->links = grown;
		l->cap = cap;
	}
	p = &l->links[l->nlinks];
	p->key = strndup(key, key_len);
	if (!p->key)
		return rs_error_set(RS_ERROR, "out of memory");
	p->key_len = key_len;
	p->repo_off = from->repo_off;
	p->repo_len = from->repo_len;
	p->tag_off = (size_t)(tag - key);
	p->tag_len = tag_len;
	memcpy(p->etag, etag, sizeof(p->etag));
	l->nlinks++;
	return 0;
}

/* A revision "sha256:HEX" of a repository whose links are matched by ETag. */
static int remember_revision(struct repo_links *l, const char *hex, size_t hex_len)
{
	char content[RS_DIGEST_MAX], md5[33], *copy;
	int rc;

	if (hex_len != 64)
		return 0;   /* the view refuses it; no link can hold it either */
	snprintf(content, sizeof(content), "sha256:%.64s", hex);
	rc = rs_digest_md5_hex(md5, content, 71);
	if (rc < 0 || rs_map_get(&l->by_md5, md5))
		return rc;
	copy = strdup(content);
	if (!copy)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_map_put(&l->by_md5, md5, copy);
	if (rc < 0)
		free(copy);
	return rc;
}

/* Every listing of a repository is in: its links, from their ETags or by
 * GET. */
static int resolve_links(struct reader *r, struct repo_links *l)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < l->nlinks; i++) {
		const struct pending_link *p = &l->links[i];
		const char *content = rs_map_get(&l->by_md5, p->etag);

		if (content)
			rc = rs_sink_tag_content(r->sink, p->key + p->repo_off, p->repo_len,
						 p->key + p->tag_off, p->tag_len, content,
						 strlen(content));
		else
			rc = queue_get(r, p->key, p->key_len, p->repo_off, p->repo_len, p->tag_off,
				       p->tag_len);
	}
	/* done with: what is left is freed now, not at the end of the read */
	{
		size_t pos = 0;
		const char *key;
		void *value;

		while (rs_map_next(&l->by_md5, &pos, &key, &value))
			free(value);
		rs_map_release(&l->by_md5);
	}
	for (size_t i = 0; i < l->nlinks; i++)
		free(l->links[i].key);
	free(l->links);
	l->links = NULL;
	l->nlinks = l->cap = 0;
	return rc;
}

/* A key (or, with `is_prefix`, a common prefix) of one repository's
 * _manifests/ listing. */
static int manifests_entry(struct reader *r, struct job *job, const char *key, size_t len,
			   int64_t size, int64_t mtime, const char *etag, int is_prefix)
{
	const char *repo = key + job->repo_off, *rest = key + job->base_len, *s, *slash;
	size_t rest_len = len - job->base_len, repo_len = job->repo_len, s_len;
	int rc = 0;

	if (!job->repo_told) {
		job->repo_told = 1;
		rc = rs_sink_repo(r->sink, repo, repo_len);
		if (rc < 0)
			return rc;
	}
	if (starts_with(rest, rest_len, revisions_dir)) {
		s = rest + strlen(revisions_dir);
		s_len = rest_len - strlen(revisions_dir);
		slash = memchr(s, '/', s_len);
		if (!slash)
			return 0;   /* a file, not a revision's directory */
		if (name_is_odd(s, (size_t)(slash - s)))
			return odd_once(r, repo, (size_t)(s - 1 - repo), s, (size_t)(slash - s));
		if (is_prefix || !is_exactly(slash + 1, (size_t)(s + s_len - slash - 1), "link"))
			return 0;
		if (job->links)
			rc = remember_revision(job->links, s, (size_t)(slash - s));
		if (rc == 0)
			rc = rs_sink_revision(r->sink, repo, repo_len, s, (size_t)(slash - s), size,
					      mtime, NULL, 0);
		return rc;
	}
	if (!starts_with(rest, rest_len, tags_dir))
		return 0;
	s = rest + strlen(tags_dir);
	s_len = rest_len - strlen(tags_dir);
	slash = memchr(s, '/', s_len);
	if (!slash)
		return 0;   /* a file, not a tag's directory */
	if (name_is_odd(s, (size_t)(slash - s)))
		return odd_once(r, repo, (size_t)(s - 1 - repo), s, (size_t)(slash - s));
	if (is_prefix || !is_exactly(slash + 1, (size_t)(s + s_len - slash - 1), "current/link"))
		/* the tag's history, or anything else: the tag is there */
		return rs_sink_tag(r->sink, repo, repo_len, s, (size_t)(slash - s), 0, -1,
				   RS_TIME_UNKNOWN);
	rc = rs_sink_tag(r->sink, repo, repo_len, s, (size_t)(slash - s), 1, size, mtime);
	if (rc < 0 || !(r->what & RS_STORAGE_TAG_LINKS) || size == 0)
		return rc;   /* an empty link is told by its size, as the walk tells it */
	if (size > RS_STORAGE_LINK_MAX)
		return rs_sink_odd(r->sink, repo, repo_len, "a tag link too large to be one");
	return queue_tag_link(r, job, key, len, s, (size_t)(slash - s), size, etag);
}

/* blobs/sha256/XX/HEX/data */
static int blob_entry(struct reader *r, const char *rest, size_t len, int64_t size)
{
	const char *slash = memchr(rest, '/', len), *hex, *end;

	if (!slash)
		return 0;
	hex = slash + 1;
	end = memchr(hex, '/', (size_t)(rest + len - hex));
	if (!end || !is_exactly(end + 1, (size_t)(rest + len - end - 1), "data"))
		return 0;
	return rs_sink_blob(r->sink, rest, (size_t)(slash - rest), hex, (size_t)(end - hex), size);
}

static int entry(struct reader *r, struct job *job, const char *key, size_t len, int64_t size,
		 int64_t mtime, const char *etag, int is_prefix)
{
	size_t plen = strlen(job->prefix);
	int rc = rs_sink_entry(r->sink);

	if (rc < 0)
		return rc;
	if (job->kind == PROBE) {
		r->probe_seen++;
		return 0;
	}
	r->seen++;
	if (len < plen || memcmp(key, job->prefix, plen) != 0)
		return rs_sink_garbage(r->sink, "the S3 store listed a key outside the prefix asked "
				       "for");
	switch (job->kind) {
	case DISCOVER:
		return discovered(r, key + plen, len - plen);
	case MANIFESTS:
		return manifests_entry(r, job, key, len, size, mtime, etag, is_prefix);
	case BLOBS:
		return is_prefix ? 0 : blob_entry(r, key + strlen(r->s3->layout) + strlen(blobs_dir),
						  len - strlen(r->s3->layout) - strlen(blobs_dir), size);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------- splitting */

/* The rest of `job`'s listing, after `last`, as parallel ranges ending at
 * each boundary (sorted), the last range at the prefix's end. Returns 1
 * when it split, 0 when `last` is past every boundary. */
static int split(struct reader *r, struct job *job, const char *last, size_t last_len,
		 char **bounds, size_t nbounds)
{
	const char *from = last;
	size_t from_len = last_len, first = 0;

	while (first < nbounds && key_cmp(bounds[first], strlen(bounds[first]), last, last_len) <= 0)
		first++;
	if (first == nbounds)
		return 0;
	for (size_t i = first; i <= nbounds; i++) {
		struct job *range = job_new(r, job->kind, job->prefix, strlen(job->prefix));

		if (!range || !(range->start_after = strndup(from, from_len)) ||
		    (i < nbounds && !(range->end = strdup(bounds[i])))) {
			job_free(range);
			return rs_error_set(RS_ERROR, "out of memory");
		}
		range->delimiter = job->delimiter;
		range->repo_off = job->repo_off;
		range->repo_len = job->repo_len;
		range->base_len = job->base_len;
		range->repo_told = 1;
		range->links = job->links;
		if (range->links)
			range->links->listings++;
		push_back(r, range);
		if (i < nbounds) {
			from = bounds[i];
			from_len = strlen(bounds[i]);
		}
	}
	return 1;
}

/* Split a truncated first page: revisions and blobs by their digest's
 * first hex digit (their keys' next character), and the tags apart. */
static int split_rest(struct reader *r, struct job *job, const char *last, size_t last_len)
{
	struct rs_buf base = RS_BUF_INIT;
	char *bounds[17];
	size_t n = 0;
	int rc;

	if (job->kind == BLOBS)
		rc = rs_buf_puts(&base, job->prefix);
	else
		rc = rs_buf_printf(&base, "%.*s%s", (int)job->base_len, job->prefix, revisions_dir);
	for (size_t d = 1; rc == 0 && d < 16; d++) {
		if (asprintf(&bounds[n], "%s%c", base.ptr, hex_digits[d]) < 0)
			rc = rs_error_set(RS_ERROR, "out of memory");
		else
			n++;
	}
	/* a listing of revisions and tags: the tags are the last range */
	if (rc == 0 && job->kind == MANIFESTS && job->delimiter) {
		if (asprintf(&bounds[n], "%.*s%s", (int)job->base_len, job->prefix, tags_dir) < 0)
			rc = rs_error_set(RS_ERROR, "out of memory");
		else
			n++;
	}
	if (rc == 0)
		rc = split(r, job, last, last_len, bounds, n);
	for (size_t i = 0; i < n; i++)
		free(bounds[i]);
	rs_buf_release(&base);
	return rc;
}

/* --------------------------------------------------------------- pages */

static int page(struct reader *r, struct job *job, struct rs_s3_listing *l, int *more)
{
	const char *last = NULL;
	size_t last_len = 0;
	int past_end = 0, rc = 0;

	for (size_t i = 0; rc == 0 && i < l->nobjects; i++) {
		const struct rs_s3_object *o = &l->objects[i];

		if (job->end && key_cmp(o->key, o->key_len, job->end, strlen(job->end)) > 0) {
			past_end = 1;
			continue;
		}
		rc = entry(r, job, o->key, o->key_len, o->size, o->mtime, o->etag, 0);
		if (!last || key_cmp(o->key, o->key_len, last, last_len) > 0) {
			last = o->key;
			last_len = o->key_len;
		}
	}
	for (size_t i = 0; rc == 0 && i < l->nprefixes; i++) {
		const struct rs_s3_prefix *p = &l->prefixes[i];

		if (job->end && key_cmp(p->prefix, p->len, job->end, strlen(job->end)) > 0) {
			past_end = 1;
			continue;
		}
		rc = entry(r, job, p->prefix, p->len, -1, RS_TIME_UNKNOWN, "", 1);
		if (!last || key_cmp(p->prefix, p->len, last, last_len) > 0) {
			last = p->prefix;
			last_len = p->len;
		}
	}
	*more = rc == 0 && l->truncated && !past_end && job->kind != PROBE;
	if (*more && job->may_split && last) {
		rc = split_rest(r, job, last, last_len);
		if (rc == 1)
			*more = 0;
		rc = rc < 0 ? rc : 0;
	}
	job->may_split = 0;
	return rc;
}

/* Why the store refused, as a message. */
static int refused(struct reader *r, const struct job *job, const struct rs_http_response *resp)
{
	struct rs_s3_error e;
	char what[1200];

	rs_s3_error_parse(&e, resp->body.ptr, resp->body.len);
	if (resp->status == 404 && strcmp(e.code, "NoSuchBucket") == 0)
		return rs_sink_root_missing(r->sink, 0);
	if (job->kind == TAG_LINK)
		snprintf(what, sizeof(what), "a read of 's3://%s/%s'", r->s3->bucket, job->prefix);
	else
		snprintf(what, sizeof(what), "a listing of 's3://%s/%s'", r->s3->bucket, job->prefix);
	if (resp->status == 403)
		return rs_error_set(RS_ERROR, "the S3 store refuses %s (403%s%s%s%s): check the "
				    "credentials, and that they may list the bucket and read its "
				    "objects (s3:ListBucket, s3:GetObject)", what, e.code[0] ? " " : "",
				    e.code, e.message[0] ? ": " : "", e.message);
	if (resp->status == 301 || resp->status == 307 || resp->status == 400)
		return rs_error_set(RS_ERROR, "the S3 store answered %ld to %s%s%s%s%s: are the "
				    "region and the endpoint right (--s3-region, --s3-endpoint)?",
				    resp->status, what, e.code[0] ? ": " : "", e.code,
				    e.message[0] ? ": " : "", e.message);
	return rs_error_set(RS_ERROR, "the S3 store answered %ld to %s%s%s%s%s", resp->status, what,
			    e.code[0] ? ": " : "", e.code, e.message[0] ? ": " : "", e.message);
}

static int tag_link_done(struct reader *r, struct job *job, const struct rs_http_response *resp)
{
	const char *repo = job->prefix + job->repo_off, *tag = job->prefix + job->tag_off;

	if (resp->status == 404)
		return 0;   /* gone since it was listed: the view says it could not be read */
	if (resp->status != 200)
		return refused(r, job, resp);
	if (resp->body.len > RS_STORAGE_LINK_MAX)
		return rs_sink_odd(r->sink, repo, job->repo_len, "a tag link too large to be one");
	if (resp->body.len == 0)
		return 0;
	return rs_sink_tag_content(r->sink, repo, job->repo_len, tag, job->tag_len,
				   resp->body.ptr, resp->body.len);
}

static void on_done(struct rs_http_req *req, struct rs_http_response *resp, int rc,
		    void *userdata)
{
	struct job *job = userdata;
	struct reader *r = job->r;
	struct rs_s3_listing l;
	int more = 0;

	(void)req;
	r->active--;
	for (int i = 0; i < resp->attempts; i++)
		rs_sink_request(r->sink);
	if (r->rc)
		goto done;
	if (rc == 0 && (resp->status == 400 || resp->status == 501) && job->delimiter &&
	    !r->no_delimiters && !job->token) {
		/* a store that takes only "/" as a delimiter: every key is
		 * listed instead, which reads the same, in more pages */
		rs_log(RS_LOG_VERBOSE, "storage: the S3 store refuses the delimiter '%s' (%ld): "
		       "listing without delimiters", job->delimiter, resp->status);
		r->no_delimiters = 1;
		push_front(r, job);
		job = NULL;
		goto done;
	}
	if (rc == 0 && resp->status != 200 && job->kind != TAG_LINK)
		rc = refused(r, job, resp);
	else if (rc == 0 && job->kind == TAG_LINK)
		rc = tag_link_done(r, job, resp);
	else if (rc == 0) {
		rc = rs_s3_listing_parse(&l, resp->body.ptr, resp->body.len);
		if (rc < 0)
			rs_error_prefix("the listing of 's3://%s/%s': ", r->s3->bucket, job->prefix);
		if (rc == 0)
			rc = page(r, job, &l, &more);
		if (rc == 0 && more) {
			free(job->token);
			job->token = l.next_token;
			l.next_token = NULL;
			push_front(r, job);
			job = NULL;
		} else if (rc == 0 && job->links && --job->links->listings == 0) {
			rc = resolve_links(r, job->links);
		}
		rs_s3_listing_release(&l);
	}
	if (rc < 0)
		fail(r, rc);
done:
	job_free(job);
	pump(r);
}

/* ---------------------------------------------------------------- read */

static int run(struct reader *r)
{
	int rc;

	pump(r);
	rc = rs_http_run(r->http);
	if (r->rc)
		return rs_error_set(r->rc, "%s", r->message ? r->message : "out of memory");
	return rc;
}

static int probe(struct reader *r, const char *prefix, uint64_t *seen)
{
	struct job *job = job_new(r, PROBE, prefix, strlen(prefix));
	int rc;

	if (!job)
		return RS_ERROR;
	job->max_keys = "1";
	r->probe_seen = 0;
	push_back(r, job);
	rc = run(r);
	*seen = r->probe_seen;
	return rc;
}

/* Nothing was listed: is it a registry that never had a push (an empty
 * root), or a root that holds something else? */
static int check_root(struct reader *r)
{
	uint64_t seen = 0;
	int rc = probe(r, r->s3->layout, &seen);

	if (rc < 0 || seen)
		return rc;
	rc = probe(r, r->s3->root, &seen);
	if (rc < 0)
		return rc;
	if (seen)
		return rs_sink_root_missing(r->sink, 1);
	rs_log(RS_LOG_VERBOSE, "storage: 's3://%s/%s' holds nothing: a registry that never had a "
	       "push", r->s3->bucket, r->s3->root);
	return 0;
}

int rs_s3_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	const struct rs_s3_store *s3 = impl;
	struct reader r;
	struct rs_buf prefix = RS_BUF_INIT;
	struct job *job;
	int rc;

	memset(&r, 0, sizeof(r));
	r.s3 = s3;
	r.sink = sink;
	r.what = what;
	r.repos = (struct rs_map)RS_MAP_INIT;
	r.odd = (struct rs_map)RS_MAP_INIT;
	r.window = (s3->http.jobs > 0 ? s3->http.jobs : 1) + WINDOW_EXTRA;
	rc = rs_http_new(&r.http, &s3->http);
	if (rc < 0)
		return rc;
	if (what & (RS_STORAGE_MANIFESTS | RS_STORAGE_TAGS)) {
		rc = rs_buf_printf(&prefix, "%s%s", s3->layout, repositories_dir);
		job = rc == 0 ? job_new(&r, DISCOVER, prefix.ptr, prefix.len) : NULL;
		if (!job)
			rc = RS_ERROR;
		else {
			job->delimiter = "/_";
			push_back(&r, job);
		}
		rs_buf_reset(&prefix);
	}
	if (rc == 0 && (what & RS_STORAGE_BLOBS)) {
		rc = rs_buf_printf(&prefix, "%s%s", s3->layout, blobs_dir);
		job = rc == 0 ? job_new(&r, BLOBS, prefix.ptr, prefix.len) : NULL;
		if (!job)
			rc = RS_ERROR;
		else {
			job->may_split = 1;
			push_back(&r, job);
		}
	}
	if (rc == 0)
		rc = run(&r);
	if (rc == 0 && r.seen == 0)
		rc = check_root(&r);
	while ((job = r.head)) {
		r.head = job->next;
		job_free(job);
	}
	rs_buf_release(&prefix);
	while (r.links) {
		struct repo_links *next = r.links->next;

		links_free(r.links);
		r.links = next;
	}
	rs_map_release(&r.repos);
	rs_map_release(&r.odd);
	free(r.message);
	rs_http_free(r.http);
	return rc;
}
