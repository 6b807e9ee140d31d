/* test_storage.c: the storage view on a temporary tree laid out like a
 * registry's filesystem storage, read by the walk (the local and SFTP
 * backends) and by the find backend's own script run here with sh: nested
 * repository names, deleted and bad links, link times, tags and their
 * links, blob counts and bytes, the walk's bounds, and broken storages that
 * every backend must judge alike (the same repositories incomplete, the
 * same message). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "model/inventory.h"
#include "storage/backend.h"
#include "storage/storage.h"
#include "job/inventory.h"
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

static void tag(const char *repo, const char *name, const char *content, time_t when)
{
	char rel[600];

	snprintf(rel, sizeof(rel), V2 "repositories/%s/_manifests/tags/%s/current/link", repo, name);
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


/* ---- reading the tree with each backend ---- */

enum backend { WALK, FIND };

static int walk_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	struct rs_fs fs;

	(void)impl;
	rs_fs_local(&fs);
	return rs_storage_walk(&fs, root, what, sink);
}

/* The find backend's script, run here by sh on the tree, its output parsed
 * as the SSH backend parses it. */
static int find_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	struct rs_buf script = RS_BUF_INIT;
	enum rs_storage_find_state state = RS_STORAGE_FIND_RUNNING;
	char path[128], cmd[300], line[4096];
	FILE *fp;
	int rc = 0, status;

	(void)impl;
	cr_assert_eq(rs_storage_find_script(&script, what), 0);
	snprintf(path, sizeof(path), "%s.sh", root);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(script.ptr, fp);
	fclose(fp);
	rs_buf_release(&script);
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", path, root);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		rc = rs_storage_find_line(sink, line, len, &state);
	}
	status = pclose(fp);
	unlink(path);
	if (rc < 0)
		return rc;
	if (state == RS_STORAGE_FIND_NO_ROOT)
		return rs_sink_root_missing(sink, 0);
	if (state == RS_STORAGE_FIND_NOT_REGISTRY)
		return rs_sink_root_missing(sink, 1);
	cr_assert_eq(state, RS_STORAGE_FIND_DONE, "the script did not finish (status %d)", status);
	cr_assert_eq(status, 0);
	return 0;
}

static int view_by(struct rs_storage_view **v, enum backend b, unsigned what)
{
	return rs_storage_view_build(v, "'test'", what, 0, b == WALK ? walk_read : find_read, NULL);
}

#define ALL (RS_STORAGE_MANIFESTS | RS_STORAGE_TAG_LINKS | RS_STORAGE_BLOBS)

static const struct rs_stored_tag *find_tag(const struct rs_storage_view *v, const char *repo,
					    const char *name)
{
	for (size_t i = 0; i < v->ntags; i++)
		if (strcmp(v->tags[i].repo, repo) == 0 && strcmp(v->tags[i].tag, name) == 0)
			return &v->tags[i];
	return NULL;
}

static int incomplete(const struct rs_storage_view *v, const char *repo)
{
	const struct rs_stored_repo *r = rs_storage_view_repo(v, repo);

	cr_assert_not_null(r, "no repository '%s'", repo);
	return r->incomplete != 0;
}

TestSuite(storage, .init = make_root, .fini = remove_root);

static void nested_tree(void)
{
	revision("app", HEX("a"), "sha256:" HEX("a"), 1700000000);
	revision("app", HEX("b"), "sha256:" HEX("b") "\n", 1700000100);
	/* a deleted manifest leaves its directory without a link */
	mkdirs(V2 "repositories/app/_manifests/revisions/sha256/" HEX("c"));
	mkdirs(V2 "repositories/app/_layers/sha256/" HEX("1"));
	mkdirs(V2 "repositories/app/_uploads");
	/* app/sub is a repository nested in a repository; team has none of its own */
	revision("app/sub", HEX("a"), "sha256:" HEX("a"), 0);
	revision("team/x/y", HEX("f"), "sha256:" HEX("f"), 0);
	tag("team/x/y", "latest", "sha256:" HEX("f"), 1700000200);
	mkdirs(V2 "repositories/team/x/y/_manifests/tags/latest/index/sha256/" HEX("f"));
	tag("app", "v1", "sha256:" HEX("a"), 1700000300);
	tag("app", "_v2", "sha256:" HEX("b") "\n", 1700000400);
	mkdirs(V2 "repositories/empty/_manifests/revisions/sha256");
	blob(HEX("1"), "12345");
	blob(HEX("2"), "1234567890");
	mkdirs(V2 "blobs/sha256/33/" HEX("3"));   /* removed by GC: no data */
}

static void check_nested(enum backend b)
{
	struct rs_storage_view *v = NULL;
	const struct rs_stored_manifest *m;
	const struct rs_stored_tag *t;

	nested_tree();
	cr_assert_eq(view_by(&v, b, ALL), 0, "%s", rs_error_message());
	cr_assert_null(v->problem, "%s", v->problem);
	cr_assert_eq(v->nrepos, 4);
	cr_assert_str_eq(v->repos[0].name, "app");
	cr_assert_str_eq(v->repos[1].name, "app/sub");
	cr_assert_str_eq(v->repos[2].name, "empty");
	cr_assert_str_eq(v->repos[3].name, "team/x/y");
	cr_assert_eq(v->nmanifests, 4);
	m = find(v, "app", HEX("a"));
	cr_assert_not_null(m);
	cr_assert_eq(m->stored_at, 1700000000);
	m = find(v, "app", HEX("b"));
	cr_assert_not_null(m, "a trailing newline in a link is fine");
	cr_assert_eq(m->stored_at, 1700000100);
	cr_assert_null(find(v, "app", HEX("c")));
	cr_assert_not_null(find(v, "app/sub", HEX("a")));
	cr_assert_not_null(find(v, "team/x/y", HEX("f")));
	cr_assert_eq(v->ntags, 3);
	t = find_tag(v, "app", "v1");
	cr_assert_not_null(t);
	cr_assert_str_eq(t->digest, "sha256:" HEX("a"));
	cr_assert_eq(t->pushed_at, 1700000300);
	t = find_tag(v, "app", "_v2");
	cr_assert_not_null(t);
	cr_assert_str_eq(t->digest, "sha256:" HEX("b"));
	cr_assert_eq(t->pushed_at, 1700000400);
	t = find_tag(v, "team/x/y", "latest");
	cr_assert_not_null(t);
	cr_assert_eq(t->pushed_at, 1700000200);
	for (size_t i = 0; i < v->nrepos; i++)
		cr_assert_eq(v->repos[i].incomplete, 0);
	cr_assert_eq(v->blobs, 2);
	cr_assert_eq(v->bytes, 15);
	rs_storage_view_free(v);
}

Test(storage, walks_nested_repositories_tags_and_blobs)
{
	check_nested(WALK);
}

Test(storage, find_reads_nested_repositories_tags_and_blobs)
{
	check_nested(FIND);
}

Test(storage, a_link_naming_another_digest_is_not_trusted)
{
	for (int b = WALK; b <= FIND; b++) {
		struct rs_storage_view *v = NULL;

		revision("app", HEX("a"), "sha256:" HEX("a"), 0);
		revision("app", HEX("d"), b == WALK ? "sha256:" HEX("e") : "", 0);
		revision("other", HEX("a"), "sha256:" HEX("a"), 0);
		cr_assert_eq(view_by(&v, (enum backend)b, RS_STORAGE_MANIFESTS), 0);
		cr_assert_null(find(v, "app", HEX("d")));
		cr_assert(incomplete(v, "app"));
		cr_assert(!incomplete(v, "other"));
		cr_assert_not_null(v->problem);
		cr_assert(strstr(v->problem, "revision link of sha256:" HEX("d") " in 'app'"), "%s",
			  v->problem);
		rs_storage_view_free(v);
		remove_root();
		make_root();
	}
}

Test(storage, blobs_only)
{
	for (int b = WALK; b <= FIND; b++) {
		struct rs_storage_view *v = NULL;

		revision("app", HEX("a"), "sha256:" HEX("a"), 0);
		tag("app", "v1", "sha256:" HEX("a"), 0);
		blob(HEX("1"), "12345");
		put(V2 "blobs/sha256/12/not-a-blob/data", "123", 0);
		cr_assert_eq(view_by(&v, (enum backend)b, RS_STORAGE_BLOBS), 0);
		cr_assert_eq(v->nmanifests, 0);
		cr_assert_eq(v->ntags, 0);
		cr_assert_eq(v->blobs, 1);
		cr_assert_eq(v->bytes, 5);
		rs_storage_view_free(v);
	}
}

Test(storage, never_pushed_storage_is_empty)
{
	for (int b = WALK; b <= FIND; b++) {
		struct rs_storage_view *v = NULL;

		mkdirs("docker/registry/v2");
		cr_assert_eq(view_by(&v, (enum backend)b, ALL), 0, "%s", rs_error_message());
		cr_assert_eq(v->nrepos, 0);
		cr_assert_eq(v->nmanifests, 0);
		cr_assert_eq(v->blobs, 0);
		cr_assert_eq(v->bytes, 0);
		rs_storage_view_free(v);
	}
}

Test(storage, not_a_storage_root)
{
	for (int b = WALK; b <= FIND; b++) {
		struct rs_storage_view *v = (struct rs_storage_view *)1;
		char saved[64];

		/* an empty root is a registry that never had a push */
		cr_assert_eq(view_by(&v, (enum backend)b, ALL), 0);
		cr_assert_eq(v->nrepos, 0);
		cr_assert_eq(v->blobs, 0);
		rs_storage_view_free(v);
		v = (struct rs_storage_view *)1;

		put("something-else.txt", "x", 0);
		cr_assert_eq(view_by(&v, (enum backend)b, ALL), RS_ENOTFOUND);
		cr_assert_null(v);
		cr_assert(strstr(rs_error_message(), "is not a registry's storage root"));
		memcpy(saved, root, sizeof(saved));
		strcat(root, "/absent");
		cr_assert_eq(view_by(&v, (enum backend)b, ALL), RS_ENOTFOUND);
		cr_assert(strstr(rs_error_message(), "does not exist"), "%s", rs_error_message());
		memcpy(root, saved, sizeof(saved));
		remove_root();
		make_root();
	}
}

Test(storage, opening_without_a_root_is_a_usage_error)
{
	struct rs_storage *st = (struct rs_storage *)1;

	cr_assert_eq(rs_storage_open_local(&st, ""), RS_EUSAGE);
	cr_assert_null(st);
	cr_assert_eq(rs_storage_open_local(&st, root), 0);
	cr_assert_str_eq(rs_storage_driver(st), "filesystem");
	cr_assert(strstr(rs_storage_describe(st), root));
	rs_storage_free(st);
}

Test(storage, bounded_depth_and_entries)
{
	struct rs_storage_view *v = NULL;
	char name[256] = "a";

	/* RS_STORAGE_MAX_DEPTH components are fine, one more is not */
	for (int i = 1; i < RS_STORAGE_MAX_DEPTH; i++)
		strcat(name, "/a");
	revision(name, HEX("a"), "sha256:" HEX("a"), 0);
	cr_assert_eq(view_by(&v, WALK, ALL), 0, "%s", rs_error_message());
	cr_assert_eq(v->nrepos, 1);
	rs_storage_view_free(v);
	strcat(name, "/a");
	revision(name, HEX("a"), "sha256:" HEX("a"), 0);
	cr_assert_eq(view_by(&v, WALK, ALL), RS_ERROR);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "deeper than 32 name components"), "%s",
		  rs_error_message());

	cr_assert_eq(rs_storage_view_build(&v, "'test'", ALL, 3, walk_read, NULL), RS_ERROR);
	cr_assert_null(v);
	cr_assert(strstr(rs_error_message(), "holds more than 3 entries"), "%s", rs_error_message());
	cr_assert_eq(rs_storage_view_build(&v, "'test'", ALL, 3, find_read, NULL), RS_ERROR);
	cr_assert(strstr(rs_error_message(), "holds more than 3 entries"), "%s", rs_error_message());
}

Test(storage, unseen_counts_what_tags_do_not_reach)
{
	struct rs_storage_view *v = NULL;
	struct rs_inventory *inv = NULL;
	struct rs_repo *repo;
	struct rs_manifest *m = NULL;

	revision("app", HEX("a"), "sha256:" HEX("a"), 0);
	revision("app", HEX("b"), "sha256:" HEX("b"), 0);
	revision("other", HEX("c"), "sha256:" HEX("c"), 0);
	cr_assert_eq(view_by(&v, WALK, RS_STORAGE_MANIFESTS), 0);
	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	cr_assert_eq(rs_inventory_add_repo(&repo, inv, "app"), 0);
	cr_assert_eq(rs_manifest_new(&m, "sha256:" HEX("a")), 0);
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
	cr_assert_eq(rs_job_count_unseen(v, inv), 2);
	rs_inventory_free(inv);
	rs_storage_view_free(v);
}

/* ---- broken storages: every backend judges them alike ---- */

/* Build a storage with one broken thing in 'bad' beside a sound 'good',
 * read it with both backends, and check that 'bad' (only) is incomplete
 * and that both give the same problem, containing `want`. */
static void judged_alike(void (*breakit)(void), const char *want, int only_partial)
{
	struct rs_storage_view *v[2] = {NULL, NULL};

	revision("good", HEX("a"), "sha256:" HEX("a"), 0);
	tag("good", "v1", "sha256:" HEX("a"), 0);
	revision("bad", HEX("a"), "sha256:" HEX("a"), 0);
	tag("bad", "v1", "sha256:" HEX("a"), 0);
	breakit();
	for (int b = WALK; b <= FIND; b++) {
		cr_assert_eq(view_by(&v[b], (enum backend)b, ALL), 0, "%s", rs_error_message());
		cr_assert_not_null(v[b]->problem, "backend %d saw nothing wrong", b);
		cr_assert(strstr(v[b]->problem, want), "backend %d: '%s'", b, v[b]->problem);
		cr_assert(!incomplete(v[b], "good"));
		if (!only_partial)
			cr_assert(incomplete(v[b], "bad"), "backend %d", b);
	}
	cr_assert_str_eq(v[WALK]->problem, v[FIND]->problem);
	rs_storage_view_free(v[WALK]);
	rs_storage_view_free(v[FIND]);
}

static void empty_tag_link(void)
{
	tag("bad", "v2", "", 0);
}

static void malformed_tag_link(void)
{
	tag("bad", "v2", "sha256:nothex", 0);
}

static void two_line_tag_link(void)
{
	tag("bad", "v2", "sha256:" HEX("a") "\nsha256:" HEX("b") "\n", 0);
}

static void tag_without_link(void)
{
	mkdirs(V2 "repositories/bad/_manifests/tags/v2/index/sha256/" HEX("a"));
}

static void invalid_tag_name(void)
{
	tag("bad", "-v2", "sha256:" HEX("a"), 0);
}

static void odd_tag_name(void)
{
	tag("bad", "v 2\nx", "sha256:" HEX("a"), 0);
}

static void empty_revision_link(void)
{
	revision("bad", HEX("b"), "", 0);
}

static void revision_not_a_digest(void)
{
	revision("bad", "ABC", "sha256:ABC", 0);
}

static void invalid_repository_name(void)
{
	revision("Bad", HEX("a"), "sha256:" HEX("a"), 0);
}

static void odd_repository_name(void)
{
	revision("we ird\n/x", HEX("a"), "sha256:" HEX("a"), 0);
}

Test(storage, an_empty_tag_link_makes_its_repository_incomplete)
{
	judged_alike(empty_tag_link, "the tag 'v2' of 'bad' has an empty link", 0);
}

Test(storage, a_malformed_tag_link_makes_its_repository_incomplete)
{
	judged_alike(malformed_tag_link, "the tag 'v2' of 'bad' has a link that does not hold a digest", 0);
	remove_root();
	make_root();
	judged_alike(two_line_tag_link, "the tag 'v2' of 'bad' has a link that does not hold a digest", 0);
}

Test(storage, a_tag_without_its_link_makes_its_repository_incomplete)
{
	judged_alike(tag_without_link, "the tag 'v2' of 'bad' has no current link", 0);
}

Test(storage, a_tag_name_outside_the_grammar_makes_its_repository_incomplete)
{
	judged_alike(invalid_tag_name, "'bad' holds a tag '-v2' that is not a valid tag name", 0);
	remove_root();
	make_root();
	judged_alike(odd_tag_name, "'bad' holds a tag or revision whose name has characters no "
		     "registry name has", 0);
}

Test(storage, a_bad_revision_makes_its_repository_incomplete)
{
	judged_alike(empty_revision_link, "the revision link of sha256:" HEX("b") " in 'bad' is empty", 0);
	remove_root();
	make_root();
	judged_alike(revision_not_a_digest, "'bad' holds a revision 'ABC' that is not a sha256 digest", 0);
}

Test(storage, a_repository_name_outside_the_grammar_makes_the_view_partial)
{
	judged_alike(invalid_repository_name, "'Bad' under repositories/ is not a valid repository name", 1);
	remove_root();
	make_root();
	judged_alike(odd_repository_name, "a name under repositories/ has characters no registry "
		     "name has", 1);
}

/* Lines a broken or hostile host might print, fed to the find parser. */
static const char *const *fed_lines;

static int lines_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	enum rs_storage_find_state state = RS_STORAGE_FIND_RUNNING;
	int rc = 0;

	(void)impl;
	(void)what;
	for (size_t i = 0; rc == 0 && fed_lines[i]; i++)
		rc = rs_storage_find_line(sink, fed_lines[i], strlen(fed_lines[i]), &state);
	return rc;
}

Test(storage, a_line_that_is_not_one_makes_every_repository_incomplete)
{
	static const char *const lines[] = {
		"R repositories/app",
		"M 1700000000.5 71 repositories/app/_manifests/revisions/sha256/" HEX("a") "/link",
		"R repositories/other",
		"T 1700000000 71 repositories/other/_manifests/tags/v1/current/link",
		"Z what is this",
		"B 12 " "bb/" HEX("a") "/data",
		"@@done",
		NULL
	};
	struct rs_storage_view *v = NULL;

	fed_lines = lines;
	cr_assert_eq(rs_storage_view_build(&v, "'test'", RS_STORAGE_MANIFESTS | RS_STORAGE_TAGS |
					   RS_STORAGE_BLOBS, 0, lines_read, NULL), 0);
	cr_assert(incomplete(v, "app"));
	cr_assert(incomplete(v, "other"));
	cr_assert(strstr(v->problem, "held a line that is not one"), "%s", v->problem);
	cr_assert_eq(v->nmanifests, 1);
	cr_assert_eq(v->manifests[0].stored_at, 1700000000);
	cr_assert_eq(v->blobs, 0, "a blob whose prefix is not its digest's is not counted");
	rs_storage_view_free(v);
}

Test(storage, sizes_past_int64_are_pinned_not_wrapped)
{
	static char big1[200], big2[200];
	static const char *fed[3] = {big1, big2, NULL};
	struct rs_storage_view *v = NULL;

	snprintf(big1, sizeof(big1), "B 9223372036854775807 aa/aa%.62s/data", HEX("1"));
	snprintf(big2, sizeof(big2), "B 9223372036854775807 bb/bb%.62s/data", HEX("2"));
	fed_lines = fed;
	cr_assert_eq(rs_storage_view_build(&v, "'test'", RS_STORAGE_BLOBS, 0, lines_read, NULL), 0);
	cr_assert_eq(v->blobs, 2);
	cr_assert_eq(v->bytes, INT64_MAX);
	rs_storage_view_free(v);
}
