/* fuzz_link.c: Link headers (rs_http_link_next). The security promise: a
 * next link is never on another scheme, host or port than the page. */
#include "fuzz.h"

#include "base/error.h"
#include "net/http.h"
#include "net/url.h"

static const char *const bases[] = {
	"https://registry.example:5000/v2/_catalog?n=100",
	"http://127.0.0.1:5000/v2/app/tags/list?n=1000",
	"https://r.example/v2/a/b/c/tags/list",
	"http://[::1]:8080/v2/_catalog?last=x&n=2",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *base;
	char *link, *next = (char *)1;
	int rc;

	if (size < 1)
		return 0;
	base = bases[data[0] % (sizeof(bases) / sizeof(bases[0]))];
	link = fuzz_cstr(data + 1, size - 1);
	rc = rs_http_link_next(&next, link, base);
	if (rc < 0) {
		FUZZ_ASSERT(next == NULL);
	} else if (next) {
		char *origin_base = NULL, *origin_next = NULL;

		FUZZ_ASSERT(rs_url_origin(&origin_base, base) == 0);
		FUZZ_ASSERT(rs_url_origin(&origin_next, next) == 0);
		FUZZ_ASSERT(strcmp(origin_base, origin_next) == 0);
		free(origin_base);
		free(origin_next);
	}
	free(next);
	free(link);
	return 0;
}
