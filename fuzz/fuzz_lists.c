/* fuzz_lists.c: the registry's JSON listings: _catalog pages, tag lists,
 * OCI referrers, and distribution's error bodies. The first byte picks the
 * parser. Names that come back must be safe to put in a URL path. */
#include "fuzz.h"

#include "base/digest.h"
#include "base/error.h"
#include "model/manifest.h"
#include "net/registry.h"

static void check_list(int rc, char **list, int (*valid)(const char *))
{
	if (rc < 0) {
		FUZZ_ASSERT(list == NULL);
		return;
	}
	FUZZ_ASSERT(list != NULL);
	for (size_t i = 0; list[i]; i++) {
		FUZZ_ASSERT(valid(list[i]));
		FUZZ_ASSERT(!strstr(list[i], "..") || valid == rs_valid_tag);
		FUZZ_ASSERT(!strchr(list[i], '?') && !strchr(list[i], '#') && !strchr(list[i], '%'));
	}
	FUZZ_ASSERT(rs_strv_len(list) < 100 * 100000 + 1);
	rs_strv_free(list);
}

static int valid_digest(const char *d)
{
	return rs_digest_valid(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **list = (char **)1;
	char *body;
	int rc;

	if (size < 1)
		return 0;
	body = fuzz_bytes(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		rc = rs_catalog_parse(&list, body, size - 1);
		check_list(rc, list, rs_valid_repo_name);
		break;
	case 1:
		rc = rs_tags_parse(&list, body, size - 1);
		check_list(rc, list, rs_valid_tag);
		break;
	case 2:
		rc = rs_referrers_parse(&list, body, size - 1);
		check_list(rc, list, valid_digest);
		break;
	default: {
		static const long statuses[] = {400, 401, 403, 404, 405, 429, 500, 503, 302};

		rc = rs_registry_status_error(statuses[(size > 1 ? data[1] : 0) % 9], body, size - 1,
					      "GET /v2/x");
		FUZZ_ASSERT(rc < 0);
		FUZZ_ASSERT(strlen(rs_error_message()) < 2048);
		break;
	}
	}
	free(body);
	return 0;
}
