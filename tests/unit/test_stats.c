/* test_stats.c: the data summary counts exactly what the brief defines. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model/inventory.h"
#include "scan/stats.h"
#include "base/util.h"

static void add_image(struct rs_repo *repo, const char *digest, const char *config, int64_t csize,
		      const char *layer, int64_t lsize)
{
	struct rs_manifest *m = NULL;

	cr_assert_eq(rs_manifest_new(&m, digest), 0);
	m->type = RS_MT_DOCKER_MANIFEST;
	rs_strlcpy(m->config.digest, config, RS_DIGEST_MAX);
	m->config.size = csize;
	m->layers = calloc(1, sizeof(*m->layers));
	m->nlayers = 1;
	rs_strlcpy(m->layers[0].digest, layer, RS_DIGEST_MAX);
	m->layers[0].size = lsize;
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
}

#define H(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

Test(stats, shared_blobs_count_once_manifests_once_per_repo)
{
	struct rs_inventory *inv = NULL;
	struct rs_repo *a, *b, *empty;
	struct rs_stats s;
	struct rs_buf out = RS_BUF_INIT;

	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	cr_assert_eq(rs_inventory_add_repo(&a, inv, "a"), 0);
	cr_assert_eq(rs_inventory_add_repo(&b, inv, "b"), 0);
	cr_assert_eq(rs_inventory_add_repo(&empty, inv, "empty"), 0);
	/* a: two images sharing a base layer; b: the same first image again */
	add_image(a, H("1"), H("a"), 100, H("f"), 1000);
	add_image(a, H("2"), H("b"), 200, H("f"), 1000);
	add_image(b, H("1"), H("a"), 100, H("f"), 1000);
	rs_repo_add_tag(NULL, a, "v1", H("1"));
	rs_repo_add_tag(NULL, a, "v2", H("2"));
	rs_repo_add_tag(NULL, a, "latest", H("2"));
	rs_repo_add_tag(NULL, b, "v1", H("1"));

	cr_assert_eq(rs_stats_compute(&s, inv), 0);
	cr_assert_eq(s.repositories, 3, "a repository with no tags still counts");
	cr_assert_eq(s.tags, 4);
	cr_assert_eq(s.manifests, 3, "a manifest counts once per repository holding it");
	cr_assert_eq(s.blobs, 3, "configs a, b and the shared layer, once each");
	cr_assert_eq(s.bytes, 100 + 200 + 1000);
	cr_assert_eq(s.storage_bytes, -1);

	cr_assert_eq(rs_stats_format_text(&out, &s), 0);
	cr_assert_str_eq(out.ptr, "[ Data summary ]\nRepositories: 3\nTags: 4\nManifests: 3\n"
			 "Blobs: 3\nSize of blobs: 1.3 KiB\n");
	rs_buf_reset(&out);
	cr_assert_eq(rs_stats_format_json(&out, &s, NULL, 0), 0);
	cr_assert_str_eq(out.ptr, "{\"repositories\":3,\"tags\":4,\"manifests\":3,\"blobs\":3,"
			 "\"bytes\":1300}\n");
	rs_buf_release(&out);
	rs_inventory_free(inv);
}

Test(stats, per_repository)
{
	struct rs_inventory *inv = NULL;
	struct rs_repo *a, *b;
	struct rs_repo_stats *per = NULL;

	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	rs_inventory_add_repo(&a, inv, "a");
	rs_inventory_add_repo(&b, inv, "b");
	add_image(a, H("1"), H("a"), 100, H("f"), 1000);
	add_image(b, H("1"), H("a"), 100, H("f"), 1000);
	cr_assert_eq(rs_stats_per_repo(&per, inv), 0);
	cr_assert_str_eq(per[0].name, "a");
	cr_assert_eq(per[0].stats.blobs, 2);
	cr_assert_eq(per[1].stats.bytes, 1100);
	free(per);
	rs_inventory_free(inv);
}
