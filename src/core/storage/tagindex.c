/* tagindex.c: reading tag links from the storage, repository by repository. */
#include "storage/tagindex.h"
#include "host/gc.h"
#include "base/map.h"
#include "host/ssh.h"
#include "storage/storage_remote.h"
#include "base/error.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32
#define MAX_ENTRIES 10000000ULL

struct walk {
	const struct rs_fs *fs;
	struct rs_tag_index *index;
	struct rs_buf path;            /* current directory, absolute */
	size_t base_len;               /* length of ".../repositories" */
	char **names;                  /* entries of the directory being listed */
	size_t nnames, cap;
	uint64_t entries;
};

struct listing {
	char **names;
	size_t n, cap;
	int has_manifests;
	uint64_t *entries;
};

static int collect(const struct rs_fs_entry *e, void *ud)
{
	struct listing *l = ud;

	if (++*l->entries > MAX_ENTRIES)
		return rs_error_set(RS_ERROR, "the storage holds more than %llu entries",
				    (unsigned long long)MAX_ENTRIES);
	if (e->type != RS_FS_DIR)
		return 0;
	if (strcmp(e->name, "_manifests") == 0) {
		l->has_manifests = 1;
		return 0;
	}
	if (e->name[0] == '_')
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->names, cap * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		l->names = grown;
		l->cap = cap;
	}
	if (!(l->names[l->n] = strdup(e->name)))
		return rs_error_set(RS_ERROR, "out of memory");
	l->n++;
	return 0;
}

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
}

static int add_tag(struct rs_tag_index *index, size_t repo, const char *tag, const char *digest)
{
	struct rs_stored_tag *t;

	if (index->ntags % 256 == 0) {
		struct rs_stored_tag *grown = realloc(index->tags, (index->ntags + 256) * sizeof(*grown));

		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		index->tags = grown;
	}
	t = &index->tags[index->ntags];
	t->repo = repo;
	rs_strlcpy(t->digest, digest, sizeof(t->digest));
	if (!(t->tag = strdup(tag)))
		return rs_error_set(RS_ERROR, "out of memory");
	index->ntags++;
	return 0;
}

/* The tags of the repository whose directory is w->path. */
static int read_tags(struct walk *w, size_t repo)
{
	struct listing tags = {NULL, 0, 0, 0, &w->entries};
	size_t len = w->path.len;
	int rc;

	rc = rs_buf_puts(&w->path, "/_manifests/tags");
	if (rc == 0)
		rc = w->fs->ops->list(w->fs->impl, w->path.ptr, collect, &tags);
	if (rc == RS_ENOTFOUND)
		rc = 0;   /* a repository without tags */
	for (size_t i = 0; rc == 0 && i < tags.n; i++) {
		struct rs_buf link = RS_BUF_INIT, file = RS_BUF_INIT;

		rc = rs_buf_printf(&file, "%s/%s/current/link", w->path.ptr, tags.names[i]);
		if (rc == 0)
			rc = w->fs->ops->read(w->fs->impl, file.ptr, 128, &link, NULL);
		w->index->files_read++;
		if (rc == RS_ENOTFOUND) {
			rc = 0;   /* a tag being deleted: no current link */
		} else if (rc == 0 && (!rs_valid_tag(tags.names[i]) ||
				       !rs_digest_valid(rs_buf_cstr(&link)))) {
			rs_log(RS_LOG_VERBOSE, "storage: tag '%s' of '%s' has an unreadable link",
			       tags.names[i], w->index->repos[repo]);
			w->index->failed[repo] = 1;
		} else if (rc == 0) {
			rc = add_tag(w->index, repo, tags.names[i], rs_buf_cstr(&link));
		}
		rs_buf_release(&link);
		rs_buf_release(&file);
	}
	listing_release(&tags);
	w->path.len = len;
	w->path.ptr[len] = '\0';
	return rc;
}

static int add_repo(struct rs_tag_index *index, const char *name, size_t *out)
{
	char **grown = realloc(index->repos, (index->nrepos + 1) * sizeof(*grown));
	unsigned char *failed;

	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	index->repos = grown;
	failed = realloc(index->failed, index->nrepos + 1);
	if (!failed)
		return rs_error_set(RS_ERROR, "out of memory");
	index->failed = failed;
	index->failed[index->nrepos] = 0;
	if (!(index->repos[index->nrepos] = strdup(name)))
		return rs_error_set(RS_ERROR, "out of memory");
	*out = index->nrepos++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, unsigned depth)
{
	struct listing l = {NULL, 0, 0, 0, &w->entries};
	size_t len = w->path.len;
	int rc;

	if (depth > MAX_DEPTH)
		return rs_error_set(RS_ERROR, "repository names deeper than %d components", MAX_DEPTH);
	rc = w->fs->ops->list(w->fs->impl, w->path.ptr, collect, &l);
	if (rc == 0 && l.has_manifests && len > w->base_len) {
		const char *name = w->path.ptr + w->base_len + 1;
		size_t repo = 0;

		if (!rs_valid_repo_name(name)) {
			rs_log(RS_LOG_VERBOSE, "storage: skipping '%s': not a repository name", name);
		} else {
			rc = add_repo(w->index, name, &repo);
			if (rc == 0)
				rc = read_tags(w, repo);
		}
	}
	if (l.n > 1)
		qsort(l.names, l.n, sizeof(*l.names), cmp_name);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rc = rs_buf_printf(&w->path, "/%s", l.names[i]);
		if (rc == 0)
			rc = walk_dir(w, depth + 1);
		w->path.len = len;
		w->path.ptr[len] = '\0';
	}
	listing_release(&l);
	return rc;
}

int rs_tag_index_read(struct rs_tag_index **out, const struct rs_fs *fs, const char *root)
{
	struct walk w;
	int rc;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.fs = fs;
	w.index = calloc(1, sizeof(*w.index));
	if (!w.index)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_buf_printf(&w.path, "%s/docker/registry/v2/repositories", root);
	w.base_len = w.path.len;
	if (rc == 0)
		rc = walk_dir(&w, 0);
	if (rc == RS_ENOTFOUND)
		rc = 0;   /* a registry that never had a push has no repositories directory */
	rs_buf_release(&w.path);
	if (rc < 0) {
		rs_tag_index_free(w.index);
		return rc;
	}
	*out = w.index;
	return 0;
}

void rs_tag_index_free(struct rs_tag_index *index)
{
	if (!index)
		return;
	for (size_t i = 0; i < index->nrepos; i++)
		free(index->repos[i]);
	free(index->repos);
	free(index->failed);
	for (size_t i = 0; i < index->ntags; i++)
		free(index->tags[i].tag);
	free(index->tags);
	free(index);
}

struct remote {
	struct rs_tag_index *index;
	struct rs_map repos;          /* name -> index + 1 */
	int rc;
};

static int remote_repo(struct remote *r, const char *name, size_t len, size_t *out)
{
	char buf[512];
	void *known;
	int rc;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (!rs_valid_repo_name(buf))
		return -1;
	known = rs_map_get(&r->repos, buf);
	if (known) {
		*out = (size_t)(uintptr_t)known - 1;
		return 0;
	}
	rc = add_repo(r->index, buf, out);
	if (rc == 0)
		rc = rs_map_put(&r->repos, buf, (void *)(uintptr_t)(*out + 1));
	return rc < 0 ? rc : 0;
}

/* "./NAME/_manifests" or "./NAME/_manifests/tags/TAG/current/link:DIGEST" */
static int on_remote_line(enum rs_ssh_stream stream, const char *line, size_t len, void *ud)
{
	static const char manifests[] = "/_manifests", tags[] = "/_manifests/tags/",
			  link[] = "/current/link:";
	struct remote *r = ud;
	const char *end = line + len, *m, *t, *l;
	char tag[256], digest[RS_DIGEST_MAX + 8];
	size_t repo;
	int rc;

	if (stream != RS_SSH_STDOUT || len < 3 || strncmp(line, "./", 2) != 0)
		return 0;
	line += 2;
	len -= 2;
	if (len > sizeof(manifests) - 1 &&
	    memcmp(end - (sizeof(manifests) - 1), manifests, sizeof(manifests) - 1) == 0) {
		rc = remote_repo(r, line, len - (sizeof(manifests) - 1), &repo);
		return rc < -1 ? rc : 0;
	}
	m = memmem(line, len, tags, sizeof(tags) - 1);
	if (!m)
		return 0;
	t = m + sizeof(tags) - 1;
	l = memmem(t, (size_t)(end - t), link, sizeof(link) - 1);
	if (!l || (size_t)(l - t) >= sizeof(tag) ||
	    (size_t)(end - (l + sizeof(link) - 1)) >= sizeof(digest))
		return 0;
	memcpy(tag, t, (size_t)(l - t));
	tag[l - t] = '\0';
	memcpy(digest, l + sizeof(link) - 1, (size_t)(end - (l + sizeof(link) - 1)));
	digest[end - (l + sizeof(link) - 1)] = '\0';
	rc = remote_repo(r, line, (size_t)(m - line), &repo);
	if (rc < -1)
		return rc;
	if (rc < 0)
		return 0;   /* not a repository name: skipped, as the walk does */
	r->index->files_read++;
	if (!rs_valid_tag(tag) || !rs_digest_valid(digest)) {
		r->index->failed[repo] = 1;
		return 0;
	}
	return add_tag(r->index, repo, tag, digest);
}

int rs_tag_index_read_remote(struct rs_tag_index **out, struct rs_ssh *ssh, const char *root,
			     long timeout_ms)
{
	struct rs_ssh_exit exit;
	struct remote r;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.index = calloc(1, sizeof(*r.index));
	if (!r.index)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_storage_remote_exec(ssh, root, "/docker/registry/v2/repositories 2>/dev/null || "
				    "exit 0; LC_ALL=C find . -name _manifests -type d -print -o "
				    "-path '*/_manifests/tags/*/current/link' -type f "
				    "-exec grep -H '' {} +", on_remote_line, &r, timeout_ms, &exit);
	if (rc == 0 && exit.status != 0)
		rc = rs_error_set(RS_ERROR, "listing the tags under '%s' on the host failed (exit "
				  "status %d)", root, exit.status);
	rs_map_release(&r.repos);
	if (rc < 0) {
		rs_tag_index_free(r.index);
		return rc;
	}
	*out = r.index;
	return 0;
}
