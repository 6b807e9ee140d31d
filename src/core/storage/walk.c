/* walk.c: the storage walk over a filesystem interface (base/fs.h), shared
 * by the local and the SFTP backends: every directory is listed, every link
 * read, every blob's data stat'ed, and all of it reported to the sink. */
#include "storage/backend.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

struct walk {
	const struct rs_fs *fs;
	unsigned what;
	struct rs_storage_sink *sink;
	struct rs_buf path;            /* the directory being looked at */
	size_t repos_len;              /* length of ".../repositories" in path */
};

/* The entries of one directory, copied (a listing's names live only during
 * its callback). */
struct item {
	char *name;
	int dir;                       /* a directory (links followed) */
};

struct listing {
	struct item *items;
	size_t n, cap;
	struct rs_storage_sink *sink;
};

static int collect(const struct rs_fs_entry *e, void *userdata)
{
	struct listing *l = userdata;
	int rc = rs_sink_entry(l->sink);

	if (rc < 0)
		return rc;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct item *items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return rs_error_set(RS_ERROR, "out of memory");
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].name = strdup(e->name);
	if (!l->items[l->n].name)
		return rs_error_set(RS_ERROR, "out of memory");
	l->items[l->n++].dir = e->type == RS_FS_DIR;
	return 0;
}

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* List w->path; RS_ENOTFOUND passes through without a message. */
static int list_path(struct walk *w, struct listing *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->sink = w->sink;
	rs_sink_request(w->sink);
	rc = w->fs->ops->list(w->fs->impl, w->path.ptr, collect, out);
	if (rc < 0)
		listing_release(out);
	return rc;
}

/* Append "/name" to w->path; restore with path_cut. */
static int path_push(struct walk *w, const char *name)
{
	return rs_buf_printf(&w->path, "/%s", name);
}

static void path_cut(struct walk *w, size_t len)
{
	w->path.len = len;
	w->path.ptr[len] = '\0';
}

/* w->path relative to repositories/ ("" at the top). */
static const char *repo_name(const struct walk *w, size_t len)
{
	(void)len;
	return w->path.len > w->repos_len ? w->path.ptr + w->repos_len + 1 : "";
}

/* Report `name`, listed in w->path, when it has characters no registry
 * name has; 1 when it did (the caller skips it). */
static int odd_name(struct walk *w, const char *name, int *rc)
{
	const char *parent = repo_name(w, 0);

	if (!rs_storage_name_is_odd(name, strlen(name)))
		return 0;
	*rc = rs_sink_odd_name(w->sink, parent, strlen(parent));
	return 1;
}

/* w->path is NAME/_manifests/revisions/sha256. */
static int read_revisions(struct walk *w, const char *repo, size_t repo_len)
{
	struct listing hexes;
	struct rs_buf link = RS_BUF_INIT;
	size_t len = w->path.len;
	int rc = list_path(w, &hexes);

	if (rc == RS_ENOTFOUND)
		return 0;
	for (size_t i = 0; rc == 0 && i < hexes.n; i++) {
		int64_t mtime = RS_TIME_UNKNOWN;

		if (!hexes.items[i].dir || odd_name(w, hexes.items[i].name, &rc))
			continue;
		rs_buf_reset(&link);
		rc = rs_buf_printf(&w->path, "/%s/link", hexes.items[i].name);
		if (rc == 0) {
			rs_sink_request(w->sink);
			rc = w->fs->ops->read(w->fs->impl, w->path.ptr, RS_STORAGE_LINK_MAX, &link, &mtime);
		}
		path_cut(w, len);
		if (rc == RS_ENOTFOUND) {
			rc = 0;   /* no link: a deleted manifest */
			continue;
		}
		if (rc == RS_EPROTO) {
			rc = rs_sink_odd(w->sink, repo, repo_len, "a revision link too large to be one");
			continue;
		}
		if (rc == 0)
			rc = rs_sink_revision(w->sink, repo, repo_len, hexes.items[i].name,
					      strlen(hexes.items[i].name), (int64_t)link.len, mtime,
					      link.ptr ? link.ptr : "", link.len);
	}
	rs_buf_release(&link);
	listing_release(&hexes);
	return rc;
}

/* w->path is NAME/_manifests/tags. */
static int read_tags(struct walk *w, const char *repo, size_t repo_len)
{
	struct listing tags;
	struct rs_buf link = RS_BUF_INIT;
	size_t len = w->path.len;
	int rc = list_path(w, &tags);

	if (rc == RS_ENOTFOUND)
		return 0;   /* a repository without tags */
	for (size_t i = 0; rc == 0 && i < tags.n; i++) {
		const char *tag = tags.items[i].name;
		struct rs_fs_entry e;
		int64_t mtime = RS_TIME_UNKNOWN;

		if (!tags.items[i].dir || odd_name(w, tag, &rc))
			continue;
		rc = rs_buf_printf(&w->path, "/%s/current/link", tag);
		rs_sink_request(w->sink);
		if (rc == 0 && (w->what & RS_STORAGE_TAG_LINKS)) {
			rs_buf_reset(&link);
			rc = w->fs->ops->read(w->fs->impl, w->path.ptr, RS_STORAGE_LINK_MAX, &link, &mtime);
			if (rc == 0)
				rc = rs_sink_tag(w->sink, repo, repo_len, tag, strlen(tag), 1,
						 (int64_t)link.len, mtime);
			if (rc == 0 && link.len)
				rc = rs_sink_tag_content(w->sink, repo, repo_len, tag, strlen(tag),
							 link.ptr, link.len);
		} else if (rc == 0) {
			rc = w->fs->ops->stat(w->fs->impl, w->path.ptr, &e);
			if (rc == 0)
				rc = rs_sink_tag(w->sink, repo, repo_len, tag, strlen(tag), 1,
						 e.size > (uint64_t)INT64_MAX ? -1 : (int64_t)e.size,
						 e.mtime);
		}
		path_cut(w, len);
		if (rc == RS_ENOTFOUND)
			rc = rs_sink_tag(w->sink, repo, repo_len, tag, strlen(tag), 0, -1, RS_TIME_UNKNOWN);
		else if (rc == RS_EPROTO)
			rc = rs_sink_odd(w->sink, repo, repo_len, "a tag link too large to be one");
	}
	rs_buf_release(&link);
	listing_release(&tags);
	return rc;
}

/* The repository whose directory is w->path (holding _manifests). */
static int read_repo(struct walk *w)
{
	const char *name = repo_name(w, 0);
	size_t len = w->path.len, name_len = strlen(name);
	char *repo = strdup(name);
	int rc;

	if (!repo)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_sink_repo(w->sink, repo, name_len);
	if (rc == 0 && (w->what & RS_STORAGE_MANIFESTS)) {
		rc = rs_buf_puts(&w->path, "/_manifests/revisions/sha256");
		if (rc == 0)
			rc = read_revisions(w, repo, name_len);
		path_cut(w, len);
	}
	if (rc == 0 && (w->what & RS_STORAGE_TAGS)) {
		rc = rs_buf_puts(&w->path, "/_manifests/tags");
		if (rc == 0)
			rc = read_tags(w, repo, name_len);
		path_cut(w, len);
	}
	free(repo);
	return rc;
}

static int walk_repos(struct walk *w, unsigned depth)
{
	struct listing l;
	size_t len = w->path.len;
	int is_repo = 0, rc;

	rc = list_path(w, &l);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), cmp_item);
	for (size_t i = 0; i < l.n; i++)
		if (l.items[i].dir && strcmp(l.items[i].name, "_manifests") == 0)
			is_repo = 1;
	if (is_repo && len > w->repos_len)
		rc = read_repo(w);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const char *c = l.items[i].name;

		/* _manifests, _layers, _uploads are a repository's own data; no name
		 * component starts with '_' or '.' */
		if (!l.items[i].dir || c[0] == '_' || c[0] == '.' || odd_name(w, c, &rc))
			continue;
		rc = path_push(w, c);
		if (rc == 0 && depth + 1 > RS_STORAGE_MAX_DEPTH) {
			rc = rs_error_set(RS_ERROR, "the storage walk stopped at '%s': deeper than %d "
					  "name components", repo_name(w, 0), RS_STORAGE_MAX_DEPTH);
		} else if (rc == 0) {
			rc = walk_repos(w, depth + 1);
		}
		path_cut(w, len);
	}
	listing_release(&l);
	return rc;
}

/* w->path is .../blobs/sha256. */
static int walk_blobs(struct walk *w)
{
	struct listing prefixes;
	size_t len = w->path.len;
	int rc = list_path(w, &prefixes);

	if (rc == RS_ENOTFOUND)
		return 0;
	for (size_t i = 0; rc == 0 && i < prefixes.n; i++) {
		struct listing hexes;
		size_t plen;

		if (!prefixes.items[i].dir || strlen(prefixes.items[i].name) != 2)
			continue;
		rc = path_push(w, prefixes.items[i].name);
		plen = w->path.len;
		if (rc == 0)
			rc = list_path(w, &hexes);
		if (rc == RS_ENOTFOUND) {
			rc = 0;
			path_cut(w, len);
			continue;
		}
		for (size_t j = 0; rc == 0 && j < hexes.n; j++) {
			struct rs_fs_entry e;

			if (!hexes.items[j].dir || strlen(hexes.items[j].name) != 64)
				continue;
			rc = rs_buf_printf(&w->path, "/%s/data", hexes.items[j].name);
			rs_sink_request(w->sink);
			if (rc == 0)
				rc = w->fs->ops->stat(w->fs->impl, w->path.ptr, &e);
			if (rc == 0 && e.type == RS_FS_FILE)
				rc = rs_sink_blob(w->sink, prefixes.items[i].name, 2, hexes.items[j].name, 64,
						  e.size > (uint64_t)INT64_MAX ? -1 : (int64_t)e.size);
			else if (rc == RS_ENOTFOUND)
				rc = 0;   /* a blob being written or removed */
			path_cut(w, plen);
		}
		if (rc != RS_ENOTFOUND)
			listing_release(&hexes);
		path_cut(w, len);
	}
	listing_release(&prefixes);
	return rc;
}

static int count_any(const struct rs_fs_entry *e, void *userdata)
{
	(void)e;
	(*(size_t *)userdata)++;
	return 0;
}

int rs_storage_walk(const struct rs_fs *fs, const char *root, unsigned what,
		    struct rs_storage_sink *sink)
{
	struct walk w;
	struct rs_fs_entry e;
	size_t root_len;
	int rc;

	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.what = what;
	w.sink = sink;
	rc = rs_buf_puts(&w.path, root);
	while (rc == 0 && w.path.len > 1 && w.path.ptr[w.path.len - 1] == '/')
		path_cut(&w, w.path.len - 1);
	root_len = w.path.len;
	if (rc == 0)
		rc = rs_buf_puts(&w.path, "/" RS_STORAGE_V2);
	if (rc == 0) {
		rs_sink_request(sink);
		rc = fs->ops->stat(fs->impl, w.path.ptr, &e);
	}
	if (rc == RS_ENOTFOUND || (rc == 0 && e.type != RS_FS_DIR)) {
		/* fine only while the root is empty: a registry that never had a push */
		size_t entries = 0;

		path_cut(&w, root_len);
		rc = fs->ops->list(fs->impl, w.path.ptr, count_any, &entries);
		if (rc == RS_ENOTFOUND)
			rc = rs_sink_root_missing(sink, 0);
		else if (rc == 0 && entries)
			rc = rs_sink_root_missing(sink, 1);
		goto done;
	}
	if (rc == 0 && (what & (RS_STORAGE_MANIFESTS | RS_STORAGE_TAGS))) {
		size_t len = w.path.len;

		rc = rs_buf_puts(&w.path, "/repositories");
		w.repos_len = w.path.len;
		if (rc == 0)
			rc = walk_repos(&w, 0);
		path_cut(&w, len);
	}
	if (rc == 0 && (what & RS_STORAGE_BLOBS)) {
		rc = rs_buf_puts(&w.path, "/blobs/sha256");
		if (rc == 0)
			rc = walk_blobs(&w);
	}
done:
	rs_buf_release(&w.path);
	return rc;
}
