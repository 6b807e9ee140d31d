/* regconfig.h: the few facts regsweep needs from a registry's own config
 * file (distribution's config.yml), parsed with libyaml: which storage
 * driver it uses and where that storage lives (the filesystem driver's
 * root, or the s3 driver's bucket, endpoint, root and keys), and whether
 * deletes are enabled.
 *
 * Only the file is read: environment overrides the registry process may
 * run with (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY...) are not visible
 * from here; give --storage-root when they are in use.
 */
#ifndef RS_REGCONFIG_H
#define RS_REGCONFIG_H

#include <stddef.h>

/* What distribution uses when the filesystem driver has no rootdirectory. */
#define RS_REGCONFIG_DEFAULT_ROOT "/var/lib/registry"

/* storage.s3, as distribution 2.8 and 3.x read it: every string owned,
 * NULL when absent; a scalar of any YAML type is taken as its text, and a
 * boolean may be a YAML boolean or a string Go's strconv.ParseBool reads. */
struct rs_regconfig_s3 {
	char *bucket;
	char *region;
	char *regionendpoint;   /* an S3-compatible store's URL (MinIO, Ceph, Swift...) */
	char *rootdirectory;
	char *accesskey;
	char *secretkey;        /* a secret: registered with the log redactor as read,
				 * wiped on release */
	char *sessiontoken;     /* 2.8's optional session token; a secret too */
	int secure;             /* https to the default endpoint (default 1) */
	int v4auth;             /* default 1 */
	int forcepathstyle;     /* -1 when not given (2.8 has no such key) */
	int skipverify;         /* do not verify the store's certificate (default 0) */
};

struct rs_regconfig {
	char *driver;           /* storage driver ("filesystem", "s3"...); owned */
	char *root;             /* storage.filesystem.rootdirectory (or the default); owned,
				 * NULL unless the driver is filesystem */
	struct rs_regconfig_s3 s3;   /* when the driver is s3 */
	int delete_enabled;     /* storage.delete.enabled */
	int readonly;           /* storage.maintenance.readonly.enabled */
};

/* Parse the YAML `text` (`len` bytes) of the file called `name` (for
 * messages) into `out`, which the caller releases. Errors, RS_EUSAGE with
 * the file name (and line for syntax errors): not YAML, no `storage`
 * section, no driver, more than one driver, an s3 setting that is not a
 * single value or a boolean that is not one. No message ever holds a
 * value read from the file. A driver other than filesystem and s3 is not
 * an error here: `root` is then NULL. */
int rs_regconfig_parse(struct rs_regconfig *out, const char *text, size_t len, const char *name);

void rs_regconfig_release(struct rs_regconfig *cfg);

#endif
