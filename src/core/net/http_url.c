/* http_url.c: URL helpers of the transport: Link pagination, query
 * escaping (URLs themselves are net/url.c's). */
#include "net/http.h"
#include "net/url.h"
#include "base/buf.h"
#include "base/error.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* Find rel="next" in a Link header: `<url>; rel="next", <url2>; rel="prev"`. */
static int link_find_next(char **out, const char *link)
{
	const char *p = link;

	*out = NULL;
	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *params, *end;

		if (!lt)
			break;
		gt = strchr(lt + 1, '>');
		if (!gt)
			return rs_error_set(RS_EPROTO, "malformed Link header");
		params = gt + 1;
		end = strchr(params, '<');   /* next link-value starts at '<' */
		{
			size_t plen = end ? (size_t)(end - params) : strlen(params);
			const char *r = params;
			int is_next = 0;

			while ((r = strstr(r, "rel")) && r < params + plen) {
				const char *v = r + 3;

				while (*v == ' ')
					v++;
				if (*v == '=') {
					v++;
					while (*v == ' ')
						v++;
					if (strncmp(v, "\"next\"", 6) == 0 || strncmp(v, "next", 4) == 0 ||
					    strncmp(v, "\"next ", 6) == 0)
						is_next = 1;
				}
				r += 3;
			}
			if (is_next) {
				*out = strndup(lt + 1, (size_t)(gt - lt - 1));
				return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
			}
		}
		p = end;
	}
	return 0;
}

int rs_http_link_next(char **out, const char *link, const char *base)
{
	char *target = NULL, *resolved = NULL, *origin_base = NULL, *origin_next = NULL;
	int rc;

	*out = NULL;
	if (!link || !*link)
		return 0;
	rc = link_find_next(&target, link);
	if (rc < 0 || !target)
		return rc;
	if (rs_url_resolve(&resolved, base, target) < 0) {
		rc = rs_error_set(RS_EPROTO, "malformed Link target '%s'", target);
		goto done;
	}
	rc = rs_url_origin(&origin_base, base);
	if (rc == 0)
		rc = rs_url_origin(&origin_next, resolved);
	if (rc < 0)
		goto done;
	if (strcmp(origin_base, origin_next) != 0) {
		rc = rs_error_set(RS_EPROTO, "pagination link points to another server ('%s')",
				  origin_next);
		goto done;
	}
	*out = strdup(resolved);
	if (!*out)
		rc = rs_error_set(RS_ERROR, "out of memory");
done:
	free(resolved);
	free(target);
	free(origin_base);
	free(origin_next);
	return rc;
}

int rs_http_escape(char **out, const char *in)
{
	char *e = curl_easy_escape(NULL, in, 0);

	*out = NULL;
	if (!e)
		return rs_error_set(RS_ERROR, "out of memory");
	*out = strdup(e);
	curl_free(e);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}
