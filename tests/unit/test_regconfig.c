/* test_regconfig.c: reading where a registry keeps its storage, and whether
 * it allows deletes, from distribution's config.yml. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/error.h"
#include "storage/regconfig.h"

static int parse(struct rs_regconfig *cfg, const char *text)
{
	return rs_regconfig_parse(cfg, text, strlen(text), "config.yml");
}

Test(regconfig, debian_style_config)
{
	struct rs_regconfig cfg;
	const char *text =
		"version: 0.1\n"
		"log:\n  fields:\n    service: registry\n"
		"storage:\n"
		"  cache:\n    blobdescriptor: inmemory\n"
		"  filesystem:\n    rootdirectory: /var/lib/docker-registry\n"
		"  delete:\n    enabled: true\n"
		"  maintenance:\n    uploadpurging: {enabled: false}\n    readonly: {enabled: false}\n"
		"http:\n  addr: :5000\n";

	cr_assert_eq(parse(&cfg, text), 0, "%s", rs_error_message());
	cr_assert_str_eq(cfg.driver, "filesystem");
	cr_assert_str_eq(cfg.root, "/var/lib/docker-registry");
	cr_assert_eq(cfg.delete_enabled, 1);
	cr_assert_eq(cfg.readonly, 0);
	rs_regconfig_release(&cfg);
	cr_assert_null(cfg.root);
}

Test(regconfig, flow_style_and_yaml11_booleans)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "storage: {filesystem: {rootdirectory: '/srv/reg'}, "
			   "delete: {enabled: yes}, maintenance: {readonly: {enabled: On}}}\n"), 0);
	cr_assert_str_eq(cfg.root, "/srv/reg");
	cr_assert_eq(cfg.delete_enabled, 1);
	cr_assert_eq(cfg.readonly, 1);
	rs_regconfig_release(&cfg);

	cr_assert_eq(parse(&cfg, "storage:\n  filesystem: {rootdirectory: /x}\n"
			   "  delete: {enabled: False}\n"), 0);
	cr_assert_eq(cfg.delete_enabled, 0);
	rs_regconfig_release(&cfg);
}

Test(regconfig, defaults)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "storage:\n  filesystem:\n"), 0, "%s", rs_error_message());
	cr_assert_str_eq(cfg.root, RS_REGCONFIG_DEFAULT_ROOT);
	cr_assert_eq(cfg.delete_enabled, 0, "deletes are off unless enabled");
	rs_regconfig_release(&cfg);

	cr_assert_eq(parse(&cfg, "storage:\n  delete: {enabled: true}\n  filesystem: {}\n"), 0);
	cr_assert_str_eq(cfg.root, RS_REGCONFIG_DEFAULT_ROOT);
	rs_regconfig_release(&cfg);
}

Test(regconfig, anchors)
{
	struct rs_regconfig cfg;
	const char *text =
		"x-root: &root /data/registry\n"
		"storage:\n  filesystem:\n    rootdirectory: *root\n  delete: {enabled: TRUE}\n";

	cr_assert_eq(parse(&cfg, text), 0, "%s", rs_error_message());
	cr_assert_str_eq(cfg.root, "/data/registry");
	cr_assert_eq(cfg.delete_enabled, 1);
	rs_regconfig_release(&cfg);
}

Test(regconfig, keys_are_case_sensitive_as_in_distribution)
{
	struct rs_regconfig cfg;

	/* distribution knows no driver "FileSystem" and ignores "RootDirectory" */
	cr_assert_eq(parse(&cfg, "storage:\n  FileSystem: {rootdirectory: /x}\n"), 0);
	cr_assert_str_eq(cfg.driver, "FileSystem");
	cr_assert_null(cfg.root, "not the filesystem driver");
	rs_regconfig_release(&cfg);
	cr_assert_eq(parse(&cfg, "storage:\n  filesystem: {RootDirectory: /x}\n"), 0);
	cr_assert_str_eq(cfg.root, RS_REGCONFIG_DEFAULT_ROOT);
	rs_regconfig_release(&cfg);
	cr_assert_eq(parse(&cfg, "Storage:\n  filesystem: {}\n"), RS_EUSAGE);
}

Test(regconfig, other_driver_has_no_root)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "storage:\n  s3:\n    bucket: b\n    region: r\n"
			   "  delete: {enabled: true}\n"), 0);
	cr_assert_str_eq(cfg.driver, "s3");
	cr_assert_null(cfg.root);
	rs_regconfig_release(&cfg);
}

Test(regconfig, errors)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "version: 0.1\nhttp:\n  addr: :5000\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "'config.yml' has no 'storage' section"));
	cr_assert_null(cfg.driver);

	cr_assert_eq(parse(&cfg, "storage:\n  delete: {enabled: true}\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "names no storage driver"));

	cr_assert_eq(parse(&cfg, "storage: {'': {}, delete: {enabled: true}}\n"), RS_EUSAGE,
		     "an empty key names no driver");
	cr_assert(strstr(rs_error_message(), "names no storage driver"));

	cr_assert_eq(parse(&cfg, "storage:\n  filesystem: {}\n  s3: {}\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "two storage drivers"));
	cr_assert_null(cfg.driver, "nothing is left half-owned");

	cr_assert_eq(parse(&cfg, "storage:\n  filesystem: {}\n  delete: {enabled: maybe}\n"),
		     RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "storage.delete.enabled"));

	cr_assert_eq(parse(&cfg, "storage:\n  filesystem: [unclosed\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "is not valid YAML (line"), "%s", rs_error_message());

	cr_assert_eq(parse(&cfg, ""), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "is empty"));
}
