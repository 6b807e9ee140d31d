/* test_file.c: whole files written the one safe way (a private temporary
 * next to the target, synced, renamed), a symbolic link never written
 * through, whole files read with a bound, and private directories checked. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_file.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(file, .init = setup, .fini = teardown);

static int entries(void)
{
	char cmd[160], line[64];
	FILE *fp;
	int n;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	cr_assert_not_null(fgets(line, sizeof(line), fp));
	pclose(fp);
	n = atoi(line);
	return n;
}

Test(file, a_write_replaces_the_file_privately_and_leaves_no_temporary)
{
	char path[128], *text = NULL;
	struct stat st;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/report.json", dir);
	cr_assert_eq(rs_file_write(path, "old", 3), 0, "%s", rs_error_message());
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(rs_file_write(path, "new text", 8), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	cr_assert_eq(rs_file_read(&text, &len, path, 100), 0);
	cr_assert_eq(len, 8);
	cr_assert_str_eq(text, "new text");
	free(text);
	cr_assert_eq(entries(), 1, "no temporary file is left beside it");
}

Test(file, a_symbolic_link_is_replaced_never_written_through)
{
	char path[128], target[128], *text = NULL;
	struct stat st;

	snprintf(target, sizeof(target), "%s/precious", dir);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	cr_assert_eq(rs_file_write(target, "keep me", 7), 0);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(rs_file_write(path, "report", 6), 0, "%s", rs_error_message());
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISREG(st.st_mode), "the link became the file");
	cr_assert_eq(rs_file_read(&text, NULL, target, 100), 0);
	cr_assert_str_eq(text, "keep me", "what the link pointed at is untouched");
	free(text);
}

Test(file, writing_into_a_missing_directory_fails_with_the_path)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	cr_assert_eq(rs_file_write(path, "x", 1), RS_ERROR);
	cr_assert(strstr(rs_error_message(), path), "%s", rs_error_message());
}

Test(file, reads_are_bounded_and_a_missing_file_is_not_found)
{
	char path[128], *text = (char *)1;

	snprintf(path, sizeof(path), "%s/big", dir);
	cr_assert_eq(rs_file_write(path, "0123456789", 10), 0);
	cr_assert_eq(rs_file_read(&text, NULL, path, 9), RS_EPROTO);
	cr_assert_null(text);
	cr_assert_eq(rs_file_read(&text, NULL, path, 10), 0);
	free(text);
	snprintf(path, sizeof(path), "%s/absent", dir);
	cr_assert_eq(rs_file_read(&text, NULL, path, 10), RS_ENOTFOUND);
	cr_assert_eq(rs_file_read(&text, NULL, dir, 10), RS_ERROR, "a directory is not a file");
}

Test(file, private_directories_are_checked_before_use)
{
	char path[128], link[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/backup", dir);
	cr_assert_eq(rs_file_private_dir(path), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(rs_file_private_dir(path), 0, "an existing private directory is fine");
	cr_assert_eq(chmod(path, 0777), 0);
	cr_assert_eq(rs_file_private_dir(path), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "writable by others"), "%s", rs_error_message());
	cr_assert_eq(chmod(path, 0700), 0);
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_eq(rs_file_private_dir(link), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "symbolic link"), "%s", rs_error_message());
	snprintf(path, sizeof(path), "%s/file", dir);
	cr_assert_eq(rs_file_write(path, "x", 1), 0);
	cr_assert_eq(rs_file_private_dir(path), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "not a directory"), "%s", rs_error_message());
	if (geteuid() == 0) {
		/* root can own a directory for another user to show the rule */
		snprintf(path, sizeof(path), "%s/theirs", dir);
		cr_assert_eq(mkdir(path, 0700), 0);
		cr_assert_eq(chown(path, 65534, 65534), 0);
		cr_assert_eq(rs_file_private_dir(path), RS_EUSAGE);
		cr_assert(strstr(rs_error_message(), "belongs to another user"), "%s",
			  rs_error_message());
	}
}
