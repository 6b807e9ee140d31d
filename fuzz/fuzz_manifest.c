/* fuzz_manifest.c: manifests of every media type (rs_manifest_parse). The
 * first byte picks the Content-Type the registry claimed; the rest is the
 * body, given with its exact length (no terminator to lean on). */
#include "fuzz.h"

#include "base/error.h"
#include "model/inventory.h"
#include "model/manifest.h"

static const char *const content_types[] = {
	NULL,
	RS_MT_STR_DOCKER_MANIFEST,
	RS_MT_STR_DOCKER_LIST,
	RS_MT_STR_OCI_MANIFEST,
	RS_MT_STR_OCI_INDEX,
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	"application/json",
	"",
};

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_descriptor(const struct rs_descriptor *d)
{
	FUZZ_ASSERT(rs_digest_valid(d->digest));
	FUZZ_ASSERT(d->size >= 0);
	if (d->media_type)
		(void)strlen(d->media_type);
	if (d->platform)
		(void)strlen(d->platform);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_manifest *m = (struct rs_manifest *)1, *copy = NULL;
	const char *type;
	char *body;
	int rc;

	if (size < 1)
		return 0;
	type = content_types[data[0] % (sizeof(content_types) / sizeof(content_types[0]))];
	body = fuzz_bytes(data + 1, size - 1);
	rc = rs_manifest_parse(&m, DIGEST, body, size - 1, type);
	if (rc < 0) {
		FUZZ_ASSERT(m == NULL);
		FUZZ_ASSERT(rs_error_message()[0] != '\0');
	} else {
		FUZZ_ASSERT(m != NULL);
		FUZZ_ASSERT(strcmp(m->digest, DIGEST) == 0);
		FUZZ_ASSERT(m->type != RS_MT_UNKNOWN);
		FUZZ_ASSERT(m->size == (int64_t)(size - 1));
		FUZZ_ASSERT(m->nchildren <= RS_MANIFEST_MAX_ENTRIES);
		FUZZ_ASSERT(m->nlayers <= RS_MANIFEST_MAX_ENTRIES);
		FUZZ_ASSERT(m->nchildren == 0 || rs_media_type_is_index(m->type));
		for (size_t i = 0; i < m->nchildren; i++)
			check_descriptor(&m->children[i]);
		for (size_t i = 0; i < m->nlayers; i++)
			check_descriptor(&m->layers[i]);
		if (m->config.digest[0])
			check_descriptor(&m->config);
		if (m->subject[0])
			FUZZ_ASSERT(rs_digest_valid(m->subject));
		FUZZ_ASSERT(rs_manifest_dup(&copy, m) == 0);
		FUZZ_ASSERT(copy->nchildren == m->nchildren && copy->nlayers == m->nlayers);
		rs_manifest_free(copy);
		rs_manifest_free(m);
	}
	free(body);
	return 0;
}
