/* fuzz_backup.c: the index of a backup directory, read by `regsweep
 * restore DIR` (rs_backup_load). A tampered index must never make restore
 * read outside the backup: every file read is checked. */
#include "fuzz.h"

#include "act/backup.h"
#include "base/digest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[4096];
static char index_path[4096 + 16];

static void remove_dir(void)
{
	unlink(index_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/regsweep-fuzz-backup-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(index_path, sizeof(index_path), "%s/index.json", dir);
	atexit(remove_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_backup *backup = (struct rs_backup *)1;
	int fd = open(index_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (rs_backup_load(&backup, dir) == 0) {
		FUZZ_ASSERT(backup != NULL);
		for (size_t i = 0; i < backup->nentries; i++) {
			const struct rs_backup_entry *e = &backup->entries[i];
			char *body = NULL;
			size_t len = 0;

			FUZZ_ASSERT(rs_digest_valid(e->digest));
			FUZZ_ASSERT(!e->file || (strncmp(e->file, "manifests/", 10) == 0 &&
						 !strstr(e->file, "..")));
			if (rs_backup_read(backup, e, &body, &len) == 0)
				FUZZ_ASSERT(rs_digest_matches(e->digest, body, len));
			free(body);
		}
		rs_backup_free(backup);
	} else {
		FUZZ_ASSERT(backup == NULL);
	}
	return 0;
}
