/* fuzz_inuse.c: lists of images in use (rs_inuse_parse: kubectl and docker
 * output, or anything a user pipes in), which references name a registry,
 * and tag names compared as versions. The first byte picks the mode.
 * Promises: a list either adds only valid references or is refused whole
 * with a printable message naming its line; version comparison is a total
 * order (antisymmetric, transitive, 0 only for equal names). */
#include "fuzz.h"

#include "base/digest.h"
#include "base/error.h"
#include "model/manifest.h"
#include "policy/inuse.h"
#include "policy/version.h"

static const char *const registries[] = {
	"http://127.0.0.1:5000", "https://registry.example.com", "https://u:p@r.example:443/x",
	"http://[::1]:8080", "",
};

static void check_refs(const struct rs_inuse *set)
{
	for (size_t i = 0; i < set->nrefs; i++) {
		const struct rs_image_ref *r = &set->refs[i];

		FUZZ_ASSERT(r->host && *r->host && !strchr(r->host, '/'));
		for (const char *h = r->host; *h; h++)
			FUZZ_ASSERT(!(*h >= 'A' && *h <= 'Z'));
		FUZZ_ASSERT(rs_valid_repo_name(r->repo));
		FUZZ_ASSERT(r->digest[0] ? rs_digest_valid(r->digest) : 1);
		FUZZ_ASSERT(r->digest[0] ? r->tag == NULL : r->tag && rs_valid_tag(r->tag));
		FUZZ_ASSERT(r->line >= 1 && r->source);
		for (size_t k = 0; k < sizeof(registries) / sizeof(registries[0]); k++)
			(void)rs_inuse_names_registry(r, registries[k]);
	}
}

static void fuzz_list(const uint8_t *data, size_t size)
{
	struct rs_inuse *set = NULL;
	struct rs_inuse_match m;
	char *text = fuzz_bytes(data, size);
	size_t before;
	int rc;

	FUZZ_ASSERT(rs_inuse_new(&set) == 0);
	FUZZ_ASSERT(rs_inuse_parse(set, "r.example/kept:1\n", 17, "seed") == 0);
	before = set->nrefs;
	rc = rs_inuse_parse(set, text, size, "fuzz");
	if (rc < 0) {
		const char *msg = rs_error_message();

		FUZZ_ASSERT(rc == RS_EUSAGE);
		FUZZ_ASSERT(set->nrefs == before && set->nsources == 1);
		FUZZ_ASSERT(strncmp(msg, "fuzz", 4) == 0 && strlen(msg) < 1024);
		for (const char *p = msg; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	} else {
		FUZZ_ASSERT(set->nsources == 2);
	}
	check_refs(set);
	FUZZ_ASSERT(rs_inuse_match_init(&m, set, registries[size % 5]) == 0);
	FUZZ_ASSERT(m.nhere + m.nelsewhere == set->nrefs);
	rs_inuse_match_release(&m);
	rs_inuse_free(set);
	free(text);
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Three names separated by NUL bytes. */
static void fuzz_versions(const uint8_t *data, size_t size)
{
	char *copy = fuzz_cstr(data, size), *names[3], *p = copy;
	const char *end = copy + size;
	for (int i = 0; i < 3; i++) {
		names[i] = p;
		p += strlen(p);
		if (p < end)
			p++;
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			int ij = rs_version_compare(names[i], names[j]);

			FUZZ_ASSERT(sign(ij) == -sign(rs_version_compare(names[j], names[i])));
			FUZZ_ASSERT((ij == 0) == (strcmp(names[i], names[j]) == 0));
			for (int k = 0; k < 3; k++)
				if (ij < 0 && rs_version_compare(names[j], names[k]) < 0)
					FUZZ_ASSERT(rs_version_compare(names[i], names[k]) < 0);
		}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 4 == 3)
		fuzz_versions(data + 1, size - 1);
	else
		fuzz_list(data + 1, size - 1);
	return 0;
}
