/* test_manifest.c: parsing manifests of all four media types and listings. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/error.h"
#include "model/manifest.h"
#include "base/util.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define DM "sha256:4444444444444444444444444444444444444444444444444444444444444444"

static struct rs_manifest *parse(const char *json, const char *ctype)
{
	struct rs_manifest *m = NULL;
	int rc = rs_manifest_parse(&m, DM, json, strlen(json), ctype);

	cr_assert_eq(rc, 0, "parse failed: %s", rs_error_message());
	return m;
}

Test(manifest, docker_v2)
{
	struct rs_manifest *m = parse(
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
		"\"size\":7023,\"digest\":\"" D1 "\"},"
		"\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
		"\"size\":32654,\"digest\":\"" D2 "\"},{\"size\":16724,\"digest\":\"" D3 "\"}]}", NULL);

	cr_assert_eq(m->type, RS_MT_DOCKER_MANIFEST);
	cr_assert_str_eq(m->config.digest, D1);
	cr_assert_eq(m->config.size, 7023);
	cr_assert_eq(m->nlayers, 2);
	cr_assert_eq(m->layers[1].size, 16724);
	cr_assert_eq(m->nchildren, 0);
	cr_assert_str_eq(m->subject, "");
	rs_manifest_free(m);
}

Test(manifest, oci_manifest_without_media_type_uses_content_type_or_shape)
{
	const char *json = "{\"schemaVersion\":2,\"config\":{\"size\":2,\"digest\":\"" D1 "\"},"
			   "\"layers\":[]}";
	struct rs_manifest *m = parse(json, RS_MT_STR_OCI_MANIFEST "; charset=utf-8");

	cr_assert_eq(m->type, RS_MT_OCI_MANIFEST);
	cr_assert_eq(m->nlayers, 0);
	rs_manifest_free(m);
	m = parse(json, NULL);
	cr_assert_eq(m->type, RS_MT_OCI_MANIFEST);
	rs_manifest_free(m);
}

Test(manifest, oci_index_and_docker_list_children)
{
	struct rs_manifest *m = parse(
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_OCI_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" RS_MT_STR_OCI_MANIFEST "\",\"size\":500,\"digest\":\"" D1 "\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		"{\"mediaType\":\"" RS_MT_STR_OCI_MANIFEST "\",\"size\":501,\"digest\":\"" D2 "\","
		"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}", NULL);

	cr_assert_eq(m->type, RS_MT_OCI_INDEX);
	cr_assert(rs_media_type_is_index(m->type));
	cr_assert_eq(m->nchildren, 2);
	cr_assert_str_eq(m->children[0].platform, "linux/amd64");
	cr_assert_str_eq(m->children[1].platform, "linux/arm64/v8");
	rs_manifest_free(m);

	m = parse("{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_DOCKER_LIST "\",\"manifests\":["
		  "{\"mediaType\":\"" RS_MT_STR_DOCKER_MANIFEST "\",\"size\":5,\"digest\":\"" D3 "\"}]}",
		  NULL);
	cr_assert_eq(m->type, RS_MT_DOCKER_LIST);
	cr_assert_eq(m->nchildren, 1);
	rs_manifest_free(m);
}

Test(manifest, referrer_subject_and_artifact_type)
{
	struct rs_manifest *m = parse(
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_OCI_MANIFEST "\","
		"\"artifactType\":\"application/vnd.example.sbom\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,"
		"\"digest\":\"" D1 "\"},\"layers\":[],"
		"\"subject\":{\"mediaType\":\"" RS_MT_STR_OCI_MANIFEST "\",\"size\":9,\"digest\":\"" D2 "\"}}",
		NULL);

	cr_assert_str_eq(m->subject, D2);
	cr_assert_str_eq(m->artifact_type, "application/vnd.example.sbom");
	rs_manifest_free(m);
}

Test(manifest, rejects_bad_documents)
{
	const char *bad[] = {
		"", "{", "[]", "null",
		"{\"schemaVersion\":1}",
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_DOCKER_MANIFEST "\"}",
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_OCI_INDEX "\"}",
		"{\"schemaVersion\":2,\"mediaType\":\"" RS_MT_STR_OCI_INDEX "\",\"manifests\":{}}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":-1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":\"1\"},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"size\":1}]}",
		"{\"schemaVersion\":2,\"mediaType\":\"application/x-unknown\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rs_manifest *m = (struct rs_manifest *)1;

		cr_assert_lt(rs_manifest_parse(&m, DM, bad[i], strlen(bad[i]), NULL), 0,
			     "accepted '%s'", bad[i]);
		cr_assert_null(m, "failure must leave *out NULL");
	}
}

Test(manifest, config_created_and_epoch_unknown)
{
	int64_t t;
	const char *c1 = "{\"created\":\"2024-05-01T10:00:00Z\",\"os\":\"linux\"}";
	const char *c2 = "{\"created\":\"1970-01-01T00:00:00Z\"}";
	const char *c3 = "{\"os\":\"linux\"}";
	const char *c4 = "{\"created\":\"last tuesday\"}";

	cr_assert_eq(rs_config_parse_created(&t, c1, strlen(c1)), 0);
	cr_assert_eq(t, 1714557600);
	cr_assert_eq(rs_config_parse_created(&t, c2, strlen(c2)), 0);
	cr_assert_eq(t, RS_TIME_UNKNOWN, "the reproducible-build epoch is an unknown date");
	cr_assert_eq(rs_config_parse_created(&t, c3, strlen(c3)), 0);
	cr_assert_eq(t, RS_TIME_UNKNOWN);
	cr_assert_eq(rs_config_parse_created(&t, c4, strlen(c4)), 0);
	cr_assert_eq(t, RS_TIME_UNKNOWN);
	cr_assert_lt(rs_config_parse_created(&t, "{", 1), 0);
}

Test(listing, catalog_and_tags)
{
	char **v = NULL;
	const char *cat = "{\"repositories\":[\"app\",\"team/web\",\"a.b-c__d/e\"]}";
	const char *tags = "{\"name\":\"app\",\"tags\":[\"latest\",\"v1.0\",\"sha256-ab.sig\"]}";
	const char *none = "{\"name\":\"app\",\"tags\":null}";

	cr_assert_eq(rs_catalog_parse(&v, cat, strlen(cat)), 0);
	cr_assert_eq(rs_strv_len(v), 3);
	cr_assert_str_eq(v[1], "team/web");
	rs_strv_free(v);
	cr_assert_eq(rs_tags_parse(&v, tags, strlen(tags)), 0);
	cr_assert_eq(rs_strv_len(v), 3);
	rs_strv_free(v);
	cr_assert_eq(rs_tags_parse(&v, none, strlen(none)), 0);
	cr_assert_eq(rs_strv_len(v), 0, "a repository whose tags were all deleted has 0 tags");
	rs_strv_free(v);
}

Test(listing, refuses_names_that_do_not_fit_the_grammar)
{
	char **v = NULL;
	const char *cat = "{\"repositories\":[\"app\",\"../../etc\"]}";
	const char *tags = "{\"tags\":[\"ok\",\"bad tag\"]}";
	const char *notlist = "{\"repositories\":\"app\"}";

	cr_assert_eq(rs_catalog_parse(&v, cat, strlen(cat)), RS_EPROTO);
	cr_assert_null(v);
	cr_assert_eq(rs_tags_parse(&v, tags, strlen(tags)), RS_EPROTO);
	cr_assert_eq(rs_catalog_parse(&v, notlist, strlen(notlist)), RS_EPROTO);
}

Test(names, repository_and_tag_grammar)
{
	const char *good[] = {"a", "app", "team/web", "a.b", "a_b", "a__b", "a---b", "x/y/z0"};
	const char *bad[] = {"", "App", "-a", "a-", "a//b", "/a", "a/", "a..b", "a b", "a?b", "a/../b"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(rs_valid_repo_name(good[i]), "rejected '%s'", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(rs_valid_repo_name(bad[i]), "accepted '%s'", bad[i]);
	cr_assert(rs_valid_tag("v1.2.3-rc_1"));
	cr_assert(rs_valid_tag("_x"));
	cr_assert_not(rs_valid_tag(".x"));
	cr_assert_not(rs_valid_tag("a/b"));
	cr_assert_not(rs_valid_tag(""));
}
