/* test_cache.c: the content-addressed cache: packs, verification, merging,
 * eviction by last use, several processes sharing one directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "scan/cache.h"
#include "base/digest.h"
#include "base/error.h"

static char root[256];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/rs-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(cache, .init = setup, .fini = teardown);

static struct rs_cache *open_cache(uint32_t day)
{
	struct rs_cache *c;

	cr_assert_eq(rs_cache_open(&c, root), 0, "%s", rs_error_message());
	if (day)
		rs_cache_set_today(c, day);
	return c;
}

/* `len` bytes of content number `n`, and their digest. */
static char *content(unsigned n, size_t len, char digest[RS_DIGEST_MAX])
{
	char *data = malloc(len);

	cr_assert_not_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + (n * 7 + i * 13 + i / 97) % 26);
	snprintf(data, len, "{\"n\":%u}", n);
	rs_digest_sha256(digest, data, len);
	return data;
}

static void put(struct rs_cache *c, unsigned n, size_t len, char digest[RS_DIGEST_MAX])
{
	char *data = content(n, len, digest);

	cr_assert_eq(rs_cache_put(c, digest, data, len), 0, "%s", rs_error_message());
	free(data);
}

static int hit(struct rs_cache *c, const char *digest, size_t want_len)
{
	char *body;
	size_t len;
	int rc = rs_cache_get(c, digest, &body, &len);

	cr_assert_geq(rc, 0);
	if (rc == 1) {
		cr_assert_eq(len, want_len);
		cr_assert(rs_digest_matches(digest, body, len));
		cr_assert_eq(body[len], '\0', "bodies are NUL-terminated");
	}
	free(body);
	return rc;
}

/* How many files in packs/ end with `suffix`; the path of the last one
 * into `last` when it is not NULL. */
static int match_files(const char *suffix, char *last, size_t size)
{
	char dir[300];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/packs", root);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);

		if (len < sl || strcmp(de->d_name + len - sl, suffix) != 0)
			continue;
		n++;
		if (last)
			snprintf(last, size, "%s/%s", dir, de->d_name);
	}
	closedir(d);
	return n;
}

static int count_files(const char *suffix)
{
	return match_files(suffix, NULL, 0);
}

/* The path of the one file in packs/ ending with `suffix`. */
static void only_file(char *out, size_t size, const char *suffix)
{
	cr_assert_eq(match_files(suffix, out, size), 1);
}

Test(cache, an_entry_put_is_read_back_in_the_same_run_and_the_next)
{
	char d1[RS_DIGEST_MAX], d2[RS_DIGEST_MAX];
	struct rs_cache *c = open_cache(0);
	struct rs_cache_stats st;

	put(c, 1, 700, d1);
	cr_assert_eq(hit(c, d1, 700), 1, "read back before the pack is published");
	cr_assert_eq(count_files(".idx"), 0, "nothing published during the run");
	rs_cache_free(c);
	cr_assert_eq(count_files(".pack"), 1, "one pack per run, not one file per entry");
	cr_assert_eq(count_files(".idx"), 1);
	cr_assert_eq(count_files(".tmp") + count_files("-merge.pack"), 0);

	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 700), 1);
	free(content(2, 300, d2));
	cr_assert_eq(hit(c, d2, 300), 0, "an entry never put is a miss");
	rs_cache_stats(c, &st);
	cr_assert_eq(st.hits, 1);
	cr_assert_eq(st.misses, 1);
	rs_cache_free(c);
	cr_assert_eq(count_files(".pack"), 1, "a run that wrote nothing adds no pack");
}

Test(cache, bytes_that_do_not_match_their_digest_are_refused)
{
	char d1[RS_DIGEST_MAX];
	struct rs_cache *c = open_cache(0);
	char *data = content(1, 100, d1);

	data[50] ^= 1;
	cr_assert_eq(rs_cache_put(c, d1, data, 100), RS_EPROTO);
	cr_assert_eq(hit(c, d1, 100), 0);
	free(data);
	rs_cache_free(c);
}

Test(cache, a_digest_it_cannot_verify_is_never_stored_nor_found)
{
	struct rs_cache *c = open_cache(0);
	const char *d = "sha512:"
			"00000000000000000000000000000000000000000000000000000000000000000000"
			"000000000000000000000000000000000000000000000000000000000000";
	char *body;
	size_t len;

	cr_assert_neq(rs_cache_put(c, d, "x", 1), 0, "bytes it cannot check are refused");
	cr_assert_eq(rs_cache_get(c, d, &body, &len), 0);
	cr_assert_eq(rs_cache_get(c, "garbage", &body, &len), 0);
	cr_assert_null(body);
	rs_cache_free(c);
}

/* Overwrite `len` bytes at `off` of the one pack with 'x'. */
static void corrupt_pack(off_t off, size_t len)
{
	char path[600], junk[4096];
	int fd;

	only_file(path, sizeof(path), ".pack");
	memset(junk, 'x', sizeof(junk));
	fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, junk, len, off), (ssize_t)len);
	close(fd);
}

Test(cache, a_corrupt_entry_is_a_miss_refetched_and_cleaned_out)
{
	char d1[RS_DIGEST_MAX], d2[RS_DIGEST_MAX];
	struct rs_cache *c = open_cache(0);
	struct rs_cache_stats st;

	put(c, 1, 500, d1);
	put(c, 2, 500, d2);
	rs_cache_free(c);
	corrupt_pack(8 + 10, 20);   /* inside the first entry written */

	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 500), 0, "a corrupt entry is never trusted");
	cr_assert_eq(hit(c, d2, 500), 1, "its neighbour still reads");
	rs_cache_stats(c, &st);
	cr_assert_eq(st.corrupt, 1);
	put(c, 1, 500, d1);   /* refetched */
	cr_assert_eq(hit(c, d1, 500), 1);
	rs_cache_free(c);
	cr_assert_eq(count_files(".pack"), 1, "the corrupt copy was merged away");

	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 500), 1);
	cr_assert_eq(hit(c, d2, 500), 1);
	rs_cache_stats(c, &st);
	cr_assert_eq(st.corrupt, 0);
	rs_cache_free(c);
}

Test(cache, a_truncated_pack_or_a_garbage_index_only_misses)
{
	char d1[RS_DIGEST_MAX], path[600];
	struct rs_cache *c = open_cache(0);

	put(c, 1, 900, d1);
	rs_cache_free(c);
	only_file(path, sizeof(path), ".pack");
	cr_assert_eq(truncate(path, 100), 0);
	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 900), 0, "truncated");
	rs_cache_free(c);

	teardown();
	setup();
	c = open_cache(0);
	put(c, 1, 900, d1);
	rs_cache_free(c);
	only_file(path, sizeof(path), ".idx");
	{
		FILE *fp = fopen(path, "w");

		cr_assert_not_null(fp);
		fputs("not an index at all, and of a length no index has", fp);
		fclose(fp);
	}
	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 900), 0, "garbage index");
	put(c, 1, 900, d1);
	rs_cache_free(c);
	c = open_cache(0);
	cr_assert_eq(hit(c, d1, 900), 1, "stored again next to the garbage");
	rs_cache_free(c);
}

Test(cache, packs_are_merged_before_they_pile_up)
{
	char d[RS_CACHE_MAX_PACKS + 4][RS_DIGEST_MAX];
	struct rs_cache *c;

	for (unsigned run = 0; run < RS_CACHE_MAX_PACKS + 4; run++) {
		c = open_cache(0);
		put(c, run, 400, d[run]);
		rs_cache_free(c);
		cr_assert_leq(count_files(".idx"), RS_CACHE_MAX_PACKS);
		cr_assert_eq(count_files(".idx"), count_files(".pack"));
	}
	c = open_cache(0);
	for (unsigned run = 0; run < RS_CACHE_MAX_PACKS + 4; run++)
		cr_assert_eq(hit(c, d[run], 400), 1, "entry of run %u survives merging", run);
	rs_cache_free(c);
}

Test(cache, entries_unused_for_the_keep_period_are_dropped_the_rest_kept)
{
	enum { N = 200, SIZE = 8192 };   /* 1.6 MB that goes unused */
	static char d[N][RS_DIGEST_MAX];
	char small[RS_DIGEST_MAX], used[RS_DIGEST_MAX];
	const uint32_t day = 20000;
	struct rs_cache *c = open_cache(day);
	struct rs_cache_stats st;

	for (unsigned i = 0; i < N; i++)
		put(c, 100 + i, SIZE, d[i]);
	put(c, 1, 300, small);
	put(c, 2, 300, used);
	rs_cache_free(c);

	/* ten days on, one entry is read: its day is stamped */
	c = open_cache(day + 10);
	cr_assert_eq(hit(c, used, 300), 1);
	rs_cache_free(c);
	cr_assert_eq(count_files(".pack"), 1, "nothing expired yet: no merge");

	/* twenty days on, a run reads only `small` */
	c = open_cache(day + RS_CACHE_KEEP_DAYS + 6);
	cr_assert_eq(hit(c, small, 300), 1);
	rs_cache_free(c);
	cr_assert_eq(count_files(".pack"), 1);

	c = open_cache(day + RS_CACHE_KEEP_DAYS + 6);
	cr_assert_eq(hit(c, small, 300), 1, "used by the last run: kept");
	cr_assert_eq(hit(c, used, 300), 1, "used within the keep period: kept");
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(hit(c, d[i], SIZE), 0, "unused for too long: dropped");
	rs_cache_stats(c, &st);
	cr_assert_eq(st.hits, 2);
	rs_cache_free(c);
	{
		char path[600];
		struct stat sb;

		only_file(path, sizeof(path), ".pack");
		cr_assert_eq(stat(path, &sb), 0);
		cr_assert_lt(sb.st_size, 4096, "the bytes are gone from disk (%lld left)",
			     (long long)sb.st_size);
	}
}

Test(cache, two_processes_sharing_the_directory_both_publish)
{
	char d1[RS_DIGEST_MAX], d2[RS_DIGEST_MAX];
	struct rs_cache *a = open_cache(0), *b = open_cache(0);

	put(a, 1, 600, d1);
	put(b, 2, 600, d2);
	cr_assert_eq(hit(a, d2, 600), 0, "unpublished entries are private to their run");
	rs_cache_free(a);
	rs_cache_free(b);
	a = open_cache(0);
	cr_assert_eq(hit(a, d1, 600), 1);
	cr_assert_eq(hit(a, d2, 600), 1);
	rs_cache_free(a);
}

Test(cache, a_merge_keeps_packs_another_process_published_meanwhile)
{
	char d[RS_CACHE_MAX_PACKS + 2][RS_DIGEST_MAX], late[RS_DIGEST_MAX];
	struct rs_cache *c, *other;
	struct rs_cache_stats st;

	for (unsigned run = 0; run < RS_CACHE_MAX_PACKS; run++) {
		c = open_cache(0);
		put(c, run, 400, d[run]);
		rs_cache_free(c);
	}
	c = open_cache(0);          /* sees MAX_PACKS packs */
	other = open_cache(0);
	put(other, 99, 400, late);
	rs_cache_free(other);       /* publishes pack MAX+1 and merges */
	put(c, 98, 400, d[RS_CACHE_MAX_PACKS]);
	cr_assert_eq(rs_cache_flush(c), 0);
	cr_assert_eq(rs_cache_maintain(c), 0);
	rs_cache_stats(c, &st);
	cr_assert_eq(st.packs, 1, "its packs were merged away meanwhile: published, no second merge");
	rs_cache_free(c);
	c = open_cache(0);
	cr_assert_eq(hit(c, late, 400), 1);
	cr_assert_eq(hit(c, d[RS_CACHE_MAX_PACKS], 400), 1);
	for (unsigned run = 0; run < RS_CACHE_MAX_PACKS; run++)
		cr_assert_eq(hit(c, d[run], 400), 1);
	rs_cache_free(c);
}

Test(cache, files_are_private_and_abandoned_temporaries_are_removed)
{
	char d[RS_CACHE_MAX_PACKS + 2][RS_DIGEST_MAX], stale[600], fresh[600];
	struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
	struct rs_cache *c;
	struct stat sb;
	char dir[512];
	FILE *fp;

	snprintf(stale, sizeof(stale), "%s/packs/tmp-1-1-0.pack", root);
	snprintf(fresh, sizeof(fresh), "%s/packs/tmp-2-2-0.pack", root);
	c = open_cache(0);
	fp = fopen(stale, "w");
	fclose(fp);
	cr_assert_eq(utimes(stale, old), 0);
	fp = fopen(fresh, "w");   /* another process, still writing */
	fclose(fp);
	rs_cache_free(c);
	for (unsigned run = 0; run < RS_CACHE_MAX_PACKS + 1; run++) {
		c = open_cache(0);
		put(c, run, 400, d[run]);
		rs_cache_free(c);
	}
	cr_assert_neq(stat(stale, &sb), 0, "a day-old temporary pack is removed by a merge");
	cr_assert_eq(stat(fresh, &sb), 0, "a recent one is left to its writer");
	unlink(fresh);
	snprintf(dir, sizeof(dir), "%s/packs", root);
	cr_assert_eq(stat(dir, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700);
	{
		DIR *dp = opendir(dir);
		struct dirent *de;

		while ((de = readdir(dp))) {
			char path[800];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			cr_assert_eq(stat(path, &sb), 0);
			cr_assert_eq(sb.st_mode & 0777, 0600, "%s is private", de->d_name);
		}
		closedir(dp);
	}
}

Test(cache, the_old_one_file_per_entry_layout_is_removed)
{
	char path[600];
	struct rs_cache *c;
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/blobs", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256/ab", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256/ab/abcdef", root);
	fp = fopen(path, "w");
	fputs("old", fp);
	fclose(fp);
	c = open_cache(0);
	rs_cache_free(c);
	snprintf(path, sizeof(path), "%s/blobs", root);
	cr_assert_neq(stat(path, &sb), 0);
}

Test(cache, a_long_run_publishes_as_it_goes)
{
	enum { N = RS_CACHE_FRESH_MAX + 10 };
	static char d[N][RS_DIGEST_MAX];
	struct rs_cache *c = open_cache(0);

	for (unsigned i = 0; i < N; i++)
		put(c, i, 64, d[i]);
	cr_assert_eq(count_files(".idx"), 1, "published after %d entries", RS_CACHE_FRESH_MAX);
	cr_assert_eq(hit(c, d[0], 64), 1, "from the published pack");
	cr_assert_eq(hit(c, d[N - 1], 64), 1, "from the one being written");
	rs_cache_free(c);
	cr_assert_eq(count_files(".idx"), 2);
	c = open_cache(0);
	for (unsigned i = 0; i < N; i += 997)
		cr_assert_eq(hit(c, d[i], 64), 1);
	cr_assert_eq(hit(c, d[N - 1], 64), 1);
	rs_cache_free(c);
}

Test(cache, what_a_crash_left_half_published_is_cleaned_up_on_open)
{
	char d[RS_DIGEST_MAX], orphan[600], gone_tmp[600], live_tmp[600];
	struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
	struct rs_cache *c;
	struct stat sb;
	FILE *fp;

	c = open_cache(0);
	put(c, 1, 400, d);
	rs_cache_free(c);
	/* a pack renamed into place whose index never followed */
	snprintf(orphan, sizeof(orphan), "%s/packs/pack-1000000000-1-0.pack", root);
	fp = fopen(orphan, "w");
	cr_assert_not_null(fp);
	fputs("RSPACK1", fp);
	fclose(fp);
	cr_assert_eq(utimes(orphan, old), 0);
	/* temporaries of a process that is gone, and of this live one */
	snprintf(gone_tmp, sizeof(gone_tmp), "%s/packs/.tmp-%d.pack.abcdef", root, 0x3fffffff);
	fp = fopen(gone_tmp, "w");
	fclose(fp);
	snprintf(live_tmp, sizeof(live_tmp), "%s/packs/.tmp-%ld.pack.ghijkl", root, (long)getppid());
	fp = fopen(live_tmp, "w");
	fclose(fp);
	c = open_cache(0);
	cr_assert_neq(stat(orphan, &sb), 0, "a pack without its index is removed");
	cr_assert_neq(stat(gone_tmp, &sb), 0, "a dead process's temporary is removed");
	cr_assert_eq(stat(live_tmp, &sb), 0, "a live process's temporary is left to it");
	cr_assert_eq(hit(c, d, 400), 1, "published packs are untouched");
	rs_cache_free(c);
	unlink(live_tmp);
}
