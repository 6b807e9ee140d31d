/* test_backup.c: the backup directory apply writes and restore reads:
 * modes, verification, re-use by a second run, refusals. */
#include "act/backup.h"
#include "base/digest.h"
#include "base/error.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REGISTRY "http://127.0.0.1:5000"
#define BODY "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}"

static char dir[64];

static void make_tmp(void)
{
	snprintf(dir, sizeof(dir), "backup-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* start from a directory that does not exist yet */
	rmdir(dir);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(backup, .init = make_tmp, .fini = remove_tree);

Test(backup, write_and_read_back)
{
	struct rs_backup *b = NULL, *loaded = NULL;
	char digest[RS_DIGEST_MAX], path[256], *body = NULL;
	char *tags[] = {"v1", "v1.0"};
	struct stat st;
	size_t len = 0;

	rs_digest_sha256(digest, BODY, strlen(BODY));
	cr_assert_eq(rs_backup_open(&b, dir, "http://user:pw@127.0.0.1:5000", 1700000000), 0, "%s",
		     rs_error_message());
	cr_assert_eq(rs_backup_add(b, "app", digest, "application/vnd.oci.image.manifest.v1+json",
				   tags, 2, BODY, strlen(BODY)), 0, "%s", rs_error_message());
	cr_assert_eq(rs_backup_save(b), 0);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/manifests/sha256/%s", dir, digest + 7);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/index.json", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	cr_assert_eq(rs_backup_load(&loaded, dir), 0, "%s", rs_error_message());
	cr_assert_str_eq(loaded->registry, REGISTRY, "no credentials in the backup");
	cr_assert_eq(loaded->nentries, 1);
	cr_assert_str_eq(loaded->entries[0].repo, "app");
	cr_assert_eq(loaded->entries[0].ntags, 2);
	cr_assert_eq(rs_backup_read(loaded, &loaded->entries[0], &body, &len), 0);
	cr_assert_eq(len, strlen(BODY));
	cr_assert_eq(memcmp(body, BODY, len), 0);
	free(body);
	rs_backup_free(loaded);
	rs_backup_free(b);
}

Test(backup, a_second_run_adds_to_the_same_backup)
{
	struct rs_backup *b = NULL;
	char digest[RS_DIGEST_MAX];
	char *first[] = {"v1"}, *second[] = {"v1", "old"};

	rs_digest_sha256(digest, BODY, strlen(BODY));
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000000), 0);
	cr_assert_eq(rs_backup_add(b, "app", digest, NULL, first, 1, BODY, strlen(BODY)), 0);
	cr_assert_eq(rs_backup_save(b), 0);
	rs_backup_free(b);
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000100), 0, "%s", rs_error_message());
	cr_assert_eq(b->nentries, 1);
	/* already deleted: no body, but the tags are still recorded */
	cr_assert_eq(rs_backup_add(b, "app", digest, NULL, second, 2, NULL, 0), 0);
	cr_assert_eq(b->nentries, 1);
	cr_assert_eq(b->entries[0].ntags, 2);
	cr_assert_not_null(b->entries[0].file);
	rs_backup_free(b);
}

Test(backup, refusals)
{
	struct rs_backup *b = NULL;
	char digest[RS_DIGEST_MAX], path[256];
	FILE *fp;

	rs_digest_sha256(digest, "other", 5);
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000000), 0);
	cr_assert_eq(rs_backup_add(b, "app", digest, NULL, NULL, 0, BODY, strlen(BODY)), RS_EPROTO);
	cr_assert_eq(rs_backup_save(b), 0);
	rs_backup_free(b);
	b = (struct rs_backup *)1;
	cr_assert_eq(rs_backup_open(&b, dir, "http://127.0.0.1:6000", 1700000000), RS_EUSAGE);
	cr_assert_null(b);
	cr_assert(strstr(rs_error_message(), "holds a backup of 'http://127.0.0.1:5000'"));

	snprintf(path, sizeof(path), "%s/index.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stray", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fclose(fp);
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000000), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "is not empty and holds no regsweep backup"));
	cr_assert_eq(rs_backup_load(&b, dir), RS_EUSAGE);
}

Test(backup, damaged_copies_and_odd_file_names_are_refused)
{
	struct rs_backup *b = NULL;
	char digest[RS_DIGEST_MAX], path[256], *body = NULL;
	size_t len;
	FILE *fp;

	rs_digest_sha256(digest, BODY, strlen(BODY));
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000000), 0);
	cr_assert_eq(rs_backup_add(b, "app", digest, NULL, NULL, 0, BODY, strlen(BODY)), 0);
	cr_assert_eq(rs_backup_save(b), 0);
	snprintf(path, sizeof(path), "%s/manifests/sha256/%s", dir, digest + 7);
	fp = fopen(path, "a");
	fputs(" ", fp);
	fclose(fp);
	cr_assert_eq(rs_backup_read(b, &b->entries[0], &body, &len), RS_EPROTO);
	cr_assert_null(body);
	rs_backup_free(b);

	snprintf(path, sizeof(path), "%s/index.json", dir);
	fp = fopen(path, "w");
	fprintf(fp, "{\"format\":\"regsweep-backup\",\"version\":1,\"registry\":\"%s\","
		"\"manifests\":[{\"repository\":\"app\",\"digest\":\"%s\",\"file\":\"../../etc/x\"}]}",
		REGISTRY, digest);
	fclose(fp);
	cr_assert_eq(rs_backup_load(&b, dir), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "unexpected file"));
}

Test(backup, default_name)
{
	char out[128];

	cr_assert_str_eq(rs_backup_default_dir(out, sizeof(out), 1700000000),
			 "./regsweep-backup-20231114T221320Z");
}

/* Tags removed without their manifest are recorded with it, marked, and
 * read back; an entry without the mark (every older backup) is not one. */
Test(backup, untagged_tags_are_marked_and_read_back)
{
	struct rs_backup *b = NULL, *loaded = NULL;
	char digest[RS_DIGEST_MAX], other[RS_DIGEST_MAX], *body = NULL;
	char *tags[] = {"pr-17"}, *gone[] = {"pr-18"};
	size_t len = 0;

	rs_digest_sha256(digest, BODY, strlen(BODY));
	rs_digest_sha256(other, "other", 5);
	cr_assert_eq(rs_backup_open(&b, dir, REGISTRY, 1700000000), 0, "%s", rs_error_message());
	cr_assert_eq(rs_backup_add(b, "app", other, NULL, gone, 1, NULL, 0), 0);
	cr_assert_eq(rs_backup_add_untag(b, "app", digest, "application/vnd.oci.image.manifest.v1+json",
					 tags, 1, BODY, strlen(BODY)), 0, "%s", rs_error_message());
	cr_assert_eq(rs_backup_save(b), 0);
	cr_assert_eq(rs_backup_load(&loaded, dir), 0, "%s", rs_error_message());
	cr_assert_eq(loaded->nentries, 2);
	cr_assert_eq(loaded->entries[0].untag, 0);
	cr_assert_eq(loaded->entries[1].untag, 1);
	cr_assert_str_eq(loaded->entries[1].tags[0], "pr-17");
	cr_assert_eq(rs_backup_read(loaded, &loaded->entries[1], &body, &len), 0);
	cr_assert_eq(len, strlen(BODY));
	free(body);
	rs_backup_free(loaded);
	rs_backup_free(b);
}
