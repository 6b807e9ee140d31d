/* storage.c: walking a registry's filesystem storage (see storage.h), and
 * the local-disk implementation of the filesystem interface. */
#include "storage/storage.h"
#include "base/error.h"
#include "model/inventory.h"
#include "base/log.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define V2_PATH "docker/registry/v2"
#define LINK_MAX_BYTES 256

/* ----------------------------------------------------------------- walk */

struct walk {
	const struct rs_fs *fs;
	const struct rs_storage_options *opts;
	struct rs_storage_view *view;
	size_t repos_cap;
	size_t manifests_cap;
};

/* Names collected from one directory listing (copied: the listing's names
 * live only during the callback). */
struct name_list {
	char **names;
	size_t len;
	size_t cap;
	struct walk *walk;
	int dirs_only;
};

static void name_list_release(struct name_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		free(list->names[i]);
	free(list->names);
	list->names = NULL;
	list->len = list->cap = 0;
}

static int count_entry(struct walk *w)
{
	w->view->entries++;
	if (w->view->entries > w->opts->max_entries)
		return rs_error_set(RS_ERROR, "the storage walk of '%s' stopped after %llu entries "
				    "(the limit): is this really a registry's storage?",
				    w->view->root, (unsigned long long)w->opts->max_entries);
	return 0;
}

static int collect_name(const struct rs_fs_entry *e, void *userdata)
{
	struct name_list *list = userdata;
	int rc = count_entry(list->walk);

	if (rc < 0)
		return rc;
	if (list->dirs_only && e->type != RS_FS_DIR)
		return 0;
	if (list->len == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		char **names = realloc(list->names, cap * sizeof(*names));

		if (!names)
			return rs_error_set(RS_ERROR, "out of memory");
		list->names = names;
		list->cap = cap;
	}
	list->names[list->len] = strdup(e->name);
	if (!list->names[list->len])
		return rs_error_set(RS_ERROR, "out of memory");
	list->len++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the subdirectories of `path`, sorted. RS_ENOTFOUND passes through. */
static int list_dirs(struct name_list *out, struct walk *w, const char *path)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->walk = w;
	out->dirs_only = 1;
	rc = w->fs->ops->list(w->fs->impl, path, collect_name, out);
	if (rc < 0) {
		name_list_release(out);
		return rc;
	}
	if (out->len > 1)
		qsort(out->names, out->len, sizeof(*out->names), compare_names);
	return 0;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static int join_path(struct rs_buf *out, const char *a, const char *b)
{
	rs_buf_reset(out);
	return rs_buf_printf(out, "%s%s%s", a, a[0] && a[strlen(a) - 1] == '/' ? "" : "/", b);
}

static int add_repo(const char **out, struct walk *w, const char *name)
{
	struct rs_storage_view *v = w->view;

	if (v->nrepos == w->repos_cap) {
		size_t cap = w->repos_cap ? w->repos_cap * 2 : 16;
		char **repos = realloc(v->repos, cap * sizeof(*repos));

		if (!repos)
			return rs_error_set(RS_ERROR, "out of memory");
		v->repos = repos;
		w->repos_cap = cap;
	}
	v->repos[v->nrepos] = strdup(name);
	if (!v->repos[v->nrepos])
		return rs_error_set(RS_ERROR, "out of memory");
	*out = v->repos[v->nrepos++];
	return 0;
}

static int add_manifest(struct walk *w, const char *repo, const char *hex, int64_t stored_at)
{
	struct rs_storage_view *v = w->view;
	struct rs_stored_manifest *m;

	if (v->nmanifests == w->manifests_cap) {
		size_t cap = w->manifests_cap ? w->manifests_cap * 2 : 64;
		struct rs_stored_manifest *list = realloc(v->manifests, cap * sizeof(*list));

		if (!list)
			return rs_error_set(RS_ERROR, "out of memory");
		v->manifests = list;
		w->manifests_cap = cap;
	}
	m = &v->manifests[v->nmanifests++];
	m->repo = repo;
	snprintf(m->digest, sizeof(m->digest), "sha256:%s", hex);
	m->stored_at = stored_at;
	return 0;
}

/* Read one revision link; a missing link (a deleted manifest) is skipped. */
static int read_revision(struct walk *w, const char *repo, const char *revisions, const char *hex)
{
	struct rs_buf path = RS_BUF_INIT, body = RS_BUF_INIT;
	int64_t mtime = RS_TIME_UNKNOWN;
	char want[RS_DIGEST_MAX];
	size_t len;
	int rc;

	rc = count_entry(w);
	if (rc == 0)
		rc = rs_buf_printf(&path, "%s/%s/link", revisions, hex);
	if (rc == 0)
		rc = w->fs->ops->read(w->fs->impl, rs_buf_cstr(&path), LINK_MAX_BYTES, &body, &mtime);
	if (rc == RS_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	snprintf(want, sizeof(want), "sha256:%s", hex);
	len = body.len;
	while (len && (body.ptr[len - 1] == '\n' || body.ptr[len - 1] == '\r'))
		len--;
	if (len != strlen(want) || memcmp(body.ptr, want, len) != 0) {
		w->view->bad_links++;
		rs_log(RS_LOG_WARN, "warning: storage: '%s' does not hold '%s': skipped",
		       rs_buf_cstr(&path), want);
		goto done;
	}
	rc = add_manifest(w, repo, hex, mtime);
done:
	rs_buf_release(&path);
	rs_buf_release(&body);
	return rc;
}

static int read_revisions(struct walk *w, const char *repo, const char *repo_path)
{
	struct rs_buf revisions = RS_BUF_INIT;
	struct name_list hexes;
	int rc;

	rc = rs_buf_printf(&revisions, "%s/_manifests/revisions/sha256", repo_path);
	if (rc < 0)
		return rc;
	rc = list_dirs(&hexes, w, rs_buf_cstr(&revisions));
	if (rc == RS_ENOTFOUND) {
		rs_buf_release(&revisions);
		return 0;
	}
	for (size_t i = 0; rc == 0 && i < hexes.len; i++)
		if (is_hex64(hexes.names[i]))
			rc = read_revision(w, repo, rs_buf_cstr(&revisions), hexes.names[i]);
	name_list_release(&hexes);
	rs_buf_release(&revisions);
	return rc;
}

/* Walk `path` (repository name `name`, "" at the top) at `depth`. */
static int walk_repos(struct walk *w, const char *path, const char *name, unsigned depth)
{
	struct name_list children;
	struct rs_buf child_path = RS_BUF_INIT, child_name = RS_BUF_INIT;
	int is_repo = 0, rc;

	rc = list_dirs(&children, w, path);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < children.len; i++)
		if (strcmp(children.names[i], "_manifests") == 0)
			is_repo = 1;
	if (is_repo && *name) {
		const char *repo = NULL;

		rc = add_repo(&repo, w, name);
		if (rc == 0)
			rc = read_revisions(w, repo, path);
	}
	for (size_t i = 0; rc == 0 && i < children.len; i++) {
		const char *c = children.names[i];

		/* _manifests, _layers, _uploads are the repository's own data;
		 * no name component starts with '_' or '.' */
		if (c[0] == '_' || c[0] == '.')
			continue;
		if (depth + 1 > w->opts->max_depth) {
			rc = rs_error_set(RS_ERROR, "the storage walk of '%s' stopped at '%s%s%s': "
					  "deeper than %u name components", w->view->root, name,
					  *name ? "/" : "", c, w->opts->max_depth);
			break;
		}
		rc = join_path(&child_path, path, c);
		if (rc == 0) {
			rs_buf_reset(&child_name);
			rc = rs_buf_printf(&child_name, "%s%s%s", name, *name ? "/" : "", c);
		}
		if (rc == 0)
			rc = walk_repos(w, rs_buf_cstr(&child_path), rs_buf_cstr(&child_name), depth + 1);
	}
	rs_buf_release(&child_path);
	rs_buf_release(&child_name);
	name_list_release(&children);
	return rc;
}

static int count_blob(struct walk *w, const char *prefix_path, const char *hex)
{
	struct rs_buf path = RS_BUF_INIT;
	struct rs_fs_entry e;
	int rc = count_entry(w);

	if (rc == 0)
		rc = rs_buf_printf(&path, "%s/%s/data", prefix_path, hex);
	if (rc == 0)
		rc = w->fs->ops->stat(w->fs->impl, rs_buf_cstr(&path), &e);
	if (rc == RS_ENOTFOUND)
		rc = 0;
	else if (rc == 0 && e.type == RS_FS_FILE) {
		w->view->blobs++;
		w->view->bytes += (int64_t)e.size;
	}
	rs_buf_release(&path);
	return rc;
}

static int walk_blobs(struct walk *w, const char *blobs_path)
{
	struct name_list prefixes;
	struct rs_buf prefix_path = RS_BUF_INIT;
	int rc;

	w->view->blobs = 0;
	w->view->bytes = 0;
	rc = list_dirs(&prefixes, w, blobs_path);
	if (rc == RS_ENOTFOUND)
		return 0;
	for (size_t i = 0; rc == 0 && i < prefixes.len; i++) {
		struct name_list hexes;

		if (strlen(prefixes.names[i]) != 2)
			continue;
		rc = join_path(&prefix_path, blobs_path, prefixes.names[i]);
		if (rc == 0)
			rc = list_dirs(&hexes, w, rs_buf_cstr(&prefix_path));
		if (rc == RS_ENOTFOUND) {
			rc = 0;
			continue;
		}
		for (size_t j = 0; rc == 0 && j < hexes.len; j++)
			if (is_hex64(hexes.names[j]) &&
			    strncmp(hexes.names[j], prefixes.names[i], 2) == 0)
				rc = count_blob(w, rs_buf_cstr(&prefix_path), hexes.names[j]);
		name_list_release(&hexes);
	}
	name_list_release(&prefixes);
	rs_buf_release(&prefix_path);
	return rc;
}

static int count_any(const struct rs_fs_entry *e, void *userdata)
{
	(void)e;
	(*(size_t *)userdata)++;
	return 0;
}

/* A root without docker/registry/v2 is fine only while it is empty (a
 * registry that never had a push); anything else is the wrong directory. */
static int check_fresh_root(const struct rs_fs *fs, const char *root)
{
	size_t entries = 0;
	int rc = fs->ops->list(fs->impl, root, count_any, &entries);

	if (rc == 0 && entries == 0)
		return 0;
	if (rc == RS_ENOTFOUND)
		return rs_error_set(RS_ENOTFOUND, "storage root '%s' does not exist (%s)", root,
				    fs->ops->name);
	if (rc < 0)
		return rc;
	return rs_error_set(RS_ENOTFOUND, "'%s' is not a registry's storage root: it has no "
			    "'%s' directory (%s)", root, V2_PATH, fs->ops->name);
}

int rs_storage_read(struct rs_storage_view **out, const struct rs_fs *fs, const char *root,
		    const struct rs_storage_options *opts)
{
	static const struct rs_storage_options defaults = RS_STORAGE_OPTIONS_INIT;
	struct rs_storage_view *view;
	struct rs_buf path = RS_BUF_INIT;
	struct rs_fs_entry e;
	struct walk w;
	int rc;

	*out = NULL;
	if (!root || !*root)
		return rs_error_set(RS_EUSAGE, "no storage root directory given");
	view = calloc(1, sizeof(*view));
	if (!view)
		return rs_error_set(RS_ERROR, "out of memory");
	view->blobs = view->bytes = -1;
	view->root = strdup(root);
	if (!view->root) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.opts = opts ? opts : &defaults;
	w.view = view;

	rc = join_path(&path, root, V2_PATH);
	if (rc == 0)
		rc = fs->ops->stat(fs->impl, rs_buf_cstr(&path), &e);
	if (rc == RS_ENOTFOUND || (rc == 0 && e.type != RS_FS_DIR)) {
		rc = check_fresh_root(fs, root);
		if (rc == 0) {
			/* a registry that never had a push: nothing stored yet */
			view->blobs = view->bytes = 0;
			goto out;
		}
		goto fail;
	}
	if (rc == 0 && w.opts->list_manifests) {
		rc = join_path(&path, root, V2_PATH "/repositories");
		if (rc == 0)
			rc = walk_repos(&w, rs_buf_cstr(&path), "", 0);
	}
	if (rc == 0 && w.opts->count_blobs) {
		rc = join_path(&path, root, V2_PATH "/blobs/sha256");
		if (rc == 0)
			rc = walk_blobs(&w, rs_buf_cstr(&path));
	}
	if (rc < 0)
		goto fail;
out:
	rs_buf_release(&path);
	*out = view;
	return 0;
fail:
	rs_buf_release(&path);
	rs_storage_view_free(view);
	return rc;
}

void rs_storage_view_free(struct rs_storage_view *view)
{
	if (!view)
		return;
	for (size_t i = 0; i < view->nrepos; i++)
		free(view->repos[i]);
	free(view->repos);
	free(view->manifests);
	free(view->root);
	free(view);
}

size_t rs_storage_count_unseen(const struct rs_storage_view *view,
			       const struct rs_inventory *inv)
{
	size_t n = 0;

	for (size_t i = 0; i < view->nmanifests; i++) {
		const struct rs_repo *repo = rs_inventory_find_repo(inv, view->manifests[i].repo);

		if (!repo || !rs_repo_find_manifest(repo, view->manifests[i].digest))
			n++;
	}
	return n;
}
