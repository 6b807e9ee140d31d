/* regconfig.h: the few facts regsweep needs from a registry's own config
 * file (distribution's config.yml), parsed with libyaml: where the
 * filesystem storage lives and whether deletes are enabled.
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

struct rs_regconfig {
	char *driver;           /* storage driver ("filesystem", "s3"...); owned */
	char *root;             /* storage.filesystem.rootdirectory (or the default); owned,
				 * NULL unless the driver is filesystem */
	int delete_enabled;     /* storage.delete.enabled */
	int readonly;           /* storage.maintenance.readonly.enabled */
};

/* Parse the YAML `text` (`len` bytes) of the file called `name` (for
 * messages) into `out`, which the caller releases. Errors, RS_EUSAGE with
 * the file name (and line for syntax errors): not YAML, no `storage`
 * section, no driver, more than one driver. A driver other than filesystem
 * is not an error here: `root` is then NULL. */
int rs_regconfig_parse(struct rs_regconfig *out, const char *text, size_t len, const char *name);

void rs_regconfig_release(struct rs_regconfig *cfg);

#endif
