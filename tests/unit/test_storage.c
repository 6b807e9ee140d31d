/* test_storage.c: the storage walk on a temporary tree laid out like a
 * registry's filesystem storage: nested repository names, deleted and bad
 * revision links, link times, blob counts and bytes, and the walk's bounds. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "model/inventory.h"
#include "storage/storage.h"
#include "base/util.h"

#define HEX(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static char root[64];

static void make_root(void)
{
	snprintf(root, sizeof(root), "/tmp/test_storage.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void remove_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

/* Create ROOT/rel (and its directories) holding `text`, mtime `when`
 * (0: leave it). */
static void put(const char *rel, const char *text, time_t when)
{
	char path[1024], cmd[1200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	cr_assert_eq(system(cmd), 0);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	if (when) {
		struct timespec times[2] = {{when, 0}, {when, 0}};

		cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
	}
}

static void mkdirs(const char *rel)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	cr_assert_eq(system(cmd), 0);
}

#define V2 "docker/registry/v2/"

static void revision(const char *repo, const char *hex, const char *content, time_t when)
{
	char rel[600];

	snprintf(rel, sizeof(rel), V2 "repositories/%s/_manifests/revisions/sha256/%s/link", repo,
		 hex);
	put(rel, content, when);
}

static void blob(const char *hex, const char *data)
{
	char rel[600];

	snprintf(rel, sizeof(rel), V2 "blobs/sha256/%.2s/%s/data", hex, hex);
	put(rel, data, 0);
}

static const struct rs_stored_manifest *find(const struct rs_storage_view *v, const char *repo,
					      const char *hex)
{
	char digest[RS_DIGEST_MAX];

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	for (size_t i = 0; i < v->nmanifests; i++)
		if (strcmp(v->manifests[i].repo, repo) == 0 &&
		    strcmp(v->manifests[i].digest, digest) == 0)
			return &v->manifests[i];
	return NULL;
}

TestSuite(storage, .init = make_root, .fini = remove_root);

Test(storage, walks_nested_repositories_and_blobs)
{
	struct rs_storage_view *v = NULL;
	struct rs_fs fs;
	const struct rs_stored_manifest *m;

	revision("app", HEX("a"), "sha256:" HEX("a"), 1700000000);
	revision("app", HEX("b"), "sha256:" HEX("b") "\n", 1700000100);
	/* a deleted manifest leaves its directory without a link */
	mkdirs(V2 "repositories/app/_manifests/revisions/sha256/" HEX("c"));
	/* a link that names another digest is not trusted */
	revision("app", HEX("d"), "sha256:" HEX("e"), 0);
	mkdirs(V2 "repositories/app/_layers/sha256/" HEX("1"));
	mkdirs(V2 "repositories/app/_uploads");
	/* app/sub is a repository nested in a repository; team has none of its own */
	revision("app/sub", HEX("a"), "sha256:" HEX("a"), 0);
	revision("team/x/y", HEX("f"), "sha256:" HEX("f"), 0);
	mkdirs(V2 "repositories/team/x/y/_manifests/tags/latest/current");
	mkdirs(V2 "repositories/empty/_manifests/revisions/sha256");
	blob(HEX("1"), "12345");
	blob(HEX("2"), "1234567890");
	mkdirs(V2 "blobs/sha256/33/" HEX("3"));   /* removed by GC: no data */

	rs_fs_local(&fs);
	cr_assert_eq(rs_storage_read(&v, &fs, root, NULL), 0, "%s", rs_error_message());
	cr_assert_eq(v->nrepos, 4);
	cr_assert_str_eq(v->repos[0], "app");
	cr_assert_str_eq(v->repos[1], "app/sub");
	cr_assert_str_eq(v->repos[2], "empty");
	cr_assert_str_eq(v->repos[3], "team/x/y");
	cr_assert_eq(v->nmanifests, 4);
	m = find(v, "app", HEX("a"));
	cr_assert_not_null(m);
	cr_assert_eq(m->stored_at, 1700000000);
	m = find(v, "app", HEX("b"));
	cr_assert_not_null(m, "a trailing newline in a link is fine");
	cr_assert_eq(m->stored_at, 1700000100);
	cr_assert_null(find(v, "app", HEX("c")));
	cr_assert_null(find(v, "app", HEX("d")));
	cr_assert_eq(v->bad_links, 1);
	cr_assert_not_null(find(v, "app/sub", HEX("a")));
	cr_assert_not_null(find(v, "team/x/y", HEX("f")));
	cr_assert_eq(v->blobs, 2);
	cr_assert_eq(v->bytes, 15);
	rs_storage_view_free(v);
}

Test(storage, blobs_only)
{
	struct rs_storage_options opts = RS_STORAGE_OPTIONS_INIT;
	struct rs_storage_view *v = NULL;
	struct rs_fs fs;

	revision("app", HEX("a"), "sha256:" HEX("a"), 0);
	blob(HEX("1"), "12345");
	opts.list_manifests = 0;
	rs_fs_local(&fs);
	cr_assert_eq(rs_storage_read(&v, &fs, root, &opts), 0);
	cr_assert_eq(v->nmanifests, 0);
	cr_assert_eq(v->blobs, 1);
	cr_assert_eq(v->bytes, 5);
	rs_storage_view_free(v);
}

Test(storage, never_pushed_storage_is_empty)
{
	struct rs_storage_view *v = NULL;
	struct rs_fs fs;

	mkdirs("docker/registry/v2");
	rs_fs_local(&fs);
	cr_assert_eq(rs_storage_read(&v, &fs, root, NULL), 0);
	cr_assert_eq(v->nrepos, 0);
	cr_assert_eq(v->nmanifests, 0);
	cr_assert_eq(v->blobs, 0);
	cr_assert_eq(v->bytes, 0);
	rs_storage_view_free(v);
}

Test(storage, not_a_storage_root)
{
	struct rs_storage_view *v = (struct rs_storage_view *)1;
	struct rs_fs fs;

	char missing[128];

	rs_fs_local(&fs);
	/* an empty root is a registry that never had a push */
	cr_assert_eq(rs_storage_read(&v, &fs, root, NULL), 0);
	cr_assert_eq(v->nrepos, 0);
	cr_assert_eq(v->blobs, 0);
	rs_storage_view_free(v);
	v = (struct rs_storage_view *)1;

	put("something-else.txt", "x", 0);
	cr_assert_eq(rs_storage_read(&v, &fs, root, NULL), RS_ENOTFOUND);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "is not a registry's storage root"));
	snprintf(missing, sizeof(missing), "%s/absent", root);
	cr_assert_eq(rs_storage_read(&v, &fs, missing, NULL), RS_ENOTFOUND);
	cr_assert(strstr(rs_error_message(), "does not exist"), "%s", rs_error_message());
	cr_assert_eq(rs_storage_read(&v, &fs, "", NULL), RS_EUSAGE);
}

Test(storage, bounded_depth_and_entries)
{
	struct rs_storage_options opts = RS_STORAGE_OPTIONS_INIT;
	struct rs_storage_view *v = NULL;
	struct rs_fs fs;

	revision("a/b/c/d", HEX("a"), "sha256:" HEX("a"), 0);
	rs_fs_local(&fs);
	opts.max_depth = 3;
	cr_assert_eq(rs_storage_read(&v, &fs, root, &opts), RS_ERROR);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "deeper than 3 name components"), "%s",
		  rs_error_message());
	opts.max_depth = 4;
	cr_assert_eq(rs_storage_read(&v, &fs, root, &opts), 0);
	rs_storage_view_free(v);

	opts.max_entries = 3;
	cr_assert_eq(rs_storage_read(&v, &fs, root, &opts), RS_ERROR);
	cr_assert(strstr(rs_error_message(), "stopped after 3 entries"), "%s", rs_error_message());
}

Test(storage, unseen_counts_what_tags_do_not_reach)
{
	struct rs_storage_view *v = NULL;
	struct rs_inventory *inv = NULL;
	struct rs_repo *repo;
	struct rs_manifest *m = NULL;
	struct rs_fs fs;

	revision("app", HEX("a"), "sha256:" HEX("a"), 0);
	revision("app", HEX("b"), "sha256:" HEX("b"), 0);
	revision("other", HEX("c"), "sha256:" HEX("c"), 0);
	rs_fs_local(&fs);
	cr_assert_eq(rs_storage_read(&v, &fs, root, NULL), 0);
	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	cr_assert_eq(rs_inventory_add_repo(&repo, inv, "app"), 0);
	cr_assert_eq(rs_manifest_new(&m, "sha256:" HEX("a")), 0);
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
	cr_assert_eq(rs_storage_count_unseen(v, inv), 2);
	rs_inventory_free(inv);
	rs_storage_view_free(v);
}
