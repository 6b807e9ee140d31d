/* backup.h: the backup apply writes before deleting, and restore reads.
 *
 * A backup is a directory (mode 0700):
 *   index.json                 {"format": "regsweep-backup", "version": 1,
 *                               "registry", "created", "manifests": [
 *                                 {"repository", "digest", "media_type",
 *                                  "tags": [...], "size", "file",
 *                                  "untag": true (only for an untag)}]}
 *   manifests/sha256/HEX       each manifest byte for byte (mode 0600),
 *                              once however many repositories hold it
 *   apply-result.json          what the apply did (rs_apply writes it)
 * Entries are in deletion order (parents first); restore walks them
 * backwards. An entry without "file" was already gone when the backup was
 * made. An entry marked "untag" records tags removed without their
 * manifest, which stayed: restore finds the manifest present and puts the
 * tags back (a reader that does not know the mark does the same). Re-running
 * apply with the same directory adds to the backup.
 *
 * Every body is verified against its digest when written and when read.
 */
#ifndef RS_BACKUP_H
#define RS_BACKUP_H

#include "base/digest.h"
#include "base/map.h"

#include <stddef.h>
#include <stdint.h>

struct rs_backup_entry {
	char *repo;
	char digest[RS_DIGEST_MAX];
	char *media_type;              /* may be NULL */
	char **tags;
	size_t ntags;
	int64_t size;
	char *file;                    /* relative to the directory, NULL if none */
	int untag;                     /* the tags went alone; the manifest stayed */
};

struct rs_backup {
	char *dir;
	char *registry;
	int64_t created;
	struct rs_backup_entry *entries;
	size_t nentries;
	size_t entries_cap;
	struct rs_map index;           /* "repo@digest" -> entry index + 1 */
};

/* Start a backup in `dir` for `registry`: create the directory (0700), or
 * take up an existing backup there (its index.json must name the same
 * registry), or fail if it holds anything else. *out is the caller's. */
int rs_backup_open(struct rs_backup **out, const char *dir, const char *registry, int64_t now);

/* Read an existing backup (restore). RS_EUSAGE when `dir` is no backup. */
int rs_backup_load(struct rs_backup **out, const char *dir);

void rs_backup_free(struct rs_backup *backup);

/* Record a manifest of `repo`: write its body (when not NULL; it must match
 * `digest`) and add an entry, or update the tags of an entry already
 * there. The index is not saved until rs_backup_save(). */
int rs_backup_add(struct rs_backup *backup, const char *repo, const char *digest,
		  const char *media_type, char *const *tags, size_t ntags, const void *body,
		  size_t len);

/* The same for tags removed without their manifest (untag): the entry is
 * marked so, and its body is the manifest the tags pointed at. */
int rs_backup_add_untag(struct rs_backup *backup, const char *repo, const char *digest,
			const char *media_type, char *const *tags, size_t ntags, const void *body,
			size_t len);

/* Write index.json (atomically, 0600). */
int rs_backup_save(const struct rs_backup *backup);

/* The body of an entry, verified against its digest; *body (NUL-terminated)
 * is the caller's. RS_ENOTFOUND when the entry has no file. */
int rs_backup_read(const struct rs_backup *backup, const struct rs_backup_entry *entry,
		   char **body, size_t *len);

/* Write `text` as file `name` inside the backup directory (0600). */
int rs_backup_write_file(const struct rs_backup *backup, const char *name, const char *text);

/* "./regsweep-backup-20240501T100000Z" for `now`, into `out`. */
char *rs_backup_default_dir(char *out, size_t outsize, int64_t now);

#endif
