/* locate.c: opening the storage the user's settings name: a root given
 * directly, or the registry's own config file (read on the SSH host or
 * locally), whose storage section names the driver and its settings. */
#include "storage/backend.h"
#include "storage/regconfig.h"
#include "storage/s3.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "host/ssh.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_REGISTRY_CONFIG "/etc/docker/registry/config.yml"
#define REGISTRY_CONFIG_MAX (1024 * 1024)

static int open_filesystem(struct rs_storage **out, const struct rs_storage_location *loc,
			   const char *root)
{
	if (loc->ssh)
		return rs_storage_open_ssh(out, loc->ssh, root, 0, loc->timeout_ms);
	return rs_storage_open_local(out, root);
}

static int read_config(struct rs_regconfig *cfg, const struct rs_storage_location *loc,
		       const char *path)
{
	struct rs_buf text = RS_BUF_INIT;
	struct rs_fs fs;
	const char *where = loc->ssh ? rs_ssh_describe(loc->ssh) : "this machine";
	int rc;

	if (loc->ssh)
		rs_ssh_fs(&fs, loc->ssh);
	else
		rs_fs_local(&fs);
	rc = fs.ops->read(fs.impl, path, REGISTRY_CONFIG_MAX, &text, NULL);
	if (rc == RS_ENOTFOUND)
		rc = rs_error_set(RS_EUSAGE, "the registry config '%s' does not exist on %s: give "
				  "--registry-config FILE or --storage-root DIR", path, where);
	if (rc == 0)
		rc = rs_regconfig_parse(cfg, text.ptr ? text.ptr : "", text.len, path);
	/* it may hold the store's secret key */
	if (text.ptr)
		explicit_bzero(text.ptr, text.len);
	rs_buf_release(&text);
	return rc;
}

int rs_storage_open(struct rs_storage **out, const struct rs_storage_location *loc)
{
	struct rs_regconfig cfg;
	const char *path = loc->registry_config;
	int rc;

	*out = NULL;
	if (loc->root && *loc->root)
		return open_filesystem(out, loc, loc->root);
	if ((!path || !*path) && loc->ssh)
		path = DEFAULT_REGISTRY_CONFIG;
	if (!path || !*path)
		return rs_error_set(RS_EUSAGE, "the storage view needs --storage-root DIR or "
				    "--registry-config FILE");
	rc = read_config(&cfg, loc, path);
	if (rc < 0)
		return rc;
	if (!cfg.delete_enabled)
		rs_log(RS_LOG_WARN, "warning: '%s' does not enable storage.delete: the registry "
		       "refuses every delete (405) until it does", path);
	if (strcmp(cfg.driver, "filesystem") == 0) {
		rs_log(RS_LOG_VERBOSE, "storage: root '%s' from '%s'", cfg.root, path);
		rc = open_filesystem(out, loc, cfg.root);
	} else if (strcmp(cfg.driver, "s3") == 0) {
		rc = rs_storage_open_s3_config(out, &cfg, loc, path);
	} else {
		rc = rs_error_set(RS_EUSAGE, "the registry config '%s' uses the '%s' storage driver: "
				  "the storage view reads the filesystem and s3 drivers", path,
				  cfg.driver);
	}
	rs_regconfig_release(&cfg);
	return rc;
}
