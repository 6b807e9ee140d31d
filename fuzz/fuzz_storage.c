/* fuzz_storage.c: the storage view's walk of a registry's filesystem
 * (walk.c, and the rules of view.c), over an in-memory tree built from the
 * input, as SFTP would show a host that holds anything at all. Input lines:
 * "D path" for a directory, "F path content" for a file; parents are made
 * as needed. What comes back must be well-formed: valid digests, known
 * repositories. */
#include "fuzz_view.h"

#include "base/digest.h"
#include "base/error.h"
#include "base/log.h"
#include "storage/backend.h"
#include "storage/storage.h"

#define MAX_NODES 400

struct node {
	char *path;          /* "/r/..." */
	enum rs_fs_type type;
	char *content;
	size_t len;
};

struct tree {
	struct node nodes[MAX_NODES];
	size_t n;
};

static struct node *find(struct tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].path, path) == 0)
			return &t->nodes[i];
	return NULL;
}

static struct node *add(struct tree *t, const char *path, enum rs_fs_type type)
{
	struct node *n = find(t, path);
	char *parent, *slash;

	if (n)
		return n;
	if (t->n == MAX_NODES)
		return NULL;
	parent = strdup(path);
	slash = parent ? strrchr(parent, '/') : NULL;
	if (slash && slash != parent) {
		*slash = '\0';
		if (!add(t, parent, RS_FS_DIR)) {
			free(parent);
			return NULL;
		}
	}
	free(parent);
	if (t->n == MAX_NODES)
		return NULL;
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof(*n));
	n->path = strdup(path);
	n->type = type;
	return n;
}

static int fs_list(void *impl, const char *path, rs_fs_list_fn fn, void *userdata)
{
	struct tree *t = impl;
	struct node *dir = find(t, path);
	size_t plen = strlen(path);

	if (!dir || dir->type != RS_FS_DIR)
		return RS_ENOTFOUND;
	for (size_t i = 0; i < t->n; i++) {
		const char *p = t->nodes[i].path;
		struct rs_fs_entry e;
		int rc;

		if (strncmp(p, path, plen) != 0 || p[plen] != '/' || strchr(p + plen + 1, '/'))
			continue;
		e.name = p + plen + 1;
		e.type = t->nodes[i].type;
		e.size = t->nodes[i].len;
		e.mtime = 1700000000;
		if ((rc = fn(&e, userdata)) < 0)
			return rc;
	}
	return 0;
}

static int fs_stat(void *impl, const char *path, struct rs_fs_entry *out)
{
	struct node *n = find(impl, path);

	if (!n)
		return RS_ENOTFOUND;
	out->name = strrchr(n->path, '/') + 1;
	out->type = n->type;
	out->size = n->len;
	out->mtime = 1700000000;
	return 0;
}

static int fs_read(void *impl, const char *path, size_t max, struct rs_buf *out, int64_t *mtime)
{
	struct node *n = find(impl, path);

	if (!n || n->type != RS_FS_FILE)
		return RS_ENOTFOUND;
	if (n->len > max)
		return rs_error_set(RS_EPROTO, "'%s' is larger than %zu bytes", path, max);
	if (mtime)
		*mtime = 1700000000;
	return rs_buf_put(out, n->content ? n->content : "", n->len);
}

static const struct rs_fs_ops ops = { "fuzz", fs_list, fs_stat, fs_read };

static int walk_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	return rs_storage_walk(impl, "/r", what, sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tree t;
	struct rs_fs fs = { &ops, &t };
	struct rs_storage_view *view = (struct rs_storage_view *)1;
	char *text = fuzz_cstr(data, size), *line, *next;

	memset(&t, 0, sizeof(t));
	add(&t, "/r", RS_FS_DIR);
	for (line = text; line && *line; line = next) {
		char path[1024];
		const char *rest;
		struct node *n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if ((line[0] != 'D' && line[0] != 'F') || line[1] != ' ')
			continue;
		rest = line + 2;
		snprintf(path, sizeof(path), "/r/%.*s", (int)strcspn(rest, " "), rest);
		n = add(&t, path, line[0] == 'D' ? RS_FS_DIR : RS_FS_FILE);
		if (n && line[0] == 'F' && !n->content && strchr(rest, ' ')) {
			n->content = strdup(strchr(rest, ' ') + 1);
			n->len = n->content ? strlen(n->content) : 0;
		}
	}
	if (rs_storage_view_build(&view, "'fuzz'", RS_STORAGE_MANIFESTS | RS_STORAGE_TAG_LINKS |
				  RS_STORAGE_BLOBS, 5000, walk_read, &fs) == 0) {
		FUZZ_ASSERT(view != NULL);
		fuzz_check_view(view);
		rs_storage_view_free(view);
	} else {
		FUZZ_ASSERT(view == NULL);
	}
	for (size_t i = 0; i < t.n; i++) {
		free(t.nodes[i].path);
		free(t.nodes[i].content);
	}
	rs_secret_clear();
	free(text);
	return 0;
}
