/* test_regconfig.c: reading where a registry keeps its storage, and whether
 * it allows deletes, from distribution's config.yml. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
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

Test(regconfig, s3_section_as_distribution_reads_it)
{
	struct rs_regconfig cfg;
	const char *text =
		"storage:\n"
		"  s3:\n"
		"    accesskey: \"lab:registry\"\n"
		"    secretkey: 'S3cr3t-value'\n"
		"    region: us-east-1\n"
		"    regionendpoint: http://127.0.0.1:8480\n"
		"    bucket: 1234\n"
		"    secure: false\n"
		"    v4auth: \"true\"\n"
		"    forcepathstyle: \"t\"\n"
		"    rootdirectory: /lab\n"
		"    chunksize: 5242880\n"
		"  delete:\n    enabled: true\n"
		"  redirect:\n    disable: true\n";

	rs_secret_clear();
	cr_assert_eq(parse(&cfg, text), 0, "%s", rs_error_message());
	cr_assert_str_eq(cfg.driver, "s3");
	cr_assert_str_eq(cfg.s3.accesskey, "lab:registry");
	cr_assert_str_eq(cfg.s3.secretkey, "S3cr3t-value");
	cr_assert_str_eq(cfg.s3.region, "us-east-1");
	cr_assert_str_eq(cfg.s3.regionendpoint, "http://127.0.0.1:8480");
	cr_assert_str_eq(cfg.s3.bucket, "1234", "any scalar is taken as its text, as Go's Sprint");
	cr_assert_str_eq(cfg.s3.rootdirectory, "/lab");
	cr_assert_eq(cfg.s3.secure, 0);
	cr_assert_eq(cfg.s3.v4auth, 1, "a boolean may be a string strconv.ParseBool reads");
	cr_assert_eq(cfg.s3.forcepathstyle, 1);
	cr_assert_eq(cfg.s3.skipverify, 0);
	cr_assert_null(cfg.s3.sessiontoken);
	cr_assert_eq(cfg.delete_enabled, 1);
	cr_assert(rs_contains_secret("S3cr3t-value"), "the secret key is masked from the start");
	rs_regconfig_release(&cfg);
	cr_assert_null(cfg.s3.secretkey);
}

Test(regconfig, s3_defaults)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "storage:\n  s3:\n    bucket: b\n    accesskey:\n"), 0,
		     "%s", rs_error_message());
	cr_assert_eq(cfg.s3.secure, 1);
	cr_assert_eq(cfg.s3.v4auth, 1);
	cr_assert_eq(cfg.s3.forcepathstyle, -1, "not given: 2.8 has no such key");
	cr_assert_null(cfg.s3.accesskey, "an empty value is none");
	cr_assert_null(cfg.s3.region);
	rs_regconfig_release(&cfg);
	cr_assert_eq(parse(&cfg, "storage:\n  s3:\n"), 0, "an empty section is one");
	rs_regconfig_release(&cfg);
}

Test(regconfig, s3_errors_never_quote_values)
{
	struct rs_regconfig cfg;

	cr_assert_eq(parse(&cfg, "storage:\n  s3:\n    secure: sometimes-Secret\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "storage.s3.secure is not true or false"));
	cr_assert_null(strstr(rs_error_message(), "sometimes-Secret"));
	cr_assert_eq(parse(&cfg, "storage:\n  s3:\n    secretkey: [a, b]\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "storage.s3.secretkey is not a single value"));
	cr_assert_null(cfg.driver);
	cr_assert_eq(parse(&cfg, "storage:\n  s3: just-text\n"), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "storage.s3 is not a mapping"));
}
