/* http_url.c: URL helpers of the transport: Link pagination, query
 * escaping and origins (libcurl's URL parser, so they live beside http.c). */
#include "net/http.h"
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
	CURLU *u = NULL;
	int rc;

	*out = NULL;
	if (!link || !*link)
		return 0;
	rc = link_find_next(&target, link);
	if (rc < 0 || !target)
		return rc;
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, target, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &resolved, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_EPROTO, "malformed Link target '%s'", target);
		goto done;
	}
	rc = rs_http_url_origin(&origin_base, base);
	if (rc == 0)
		rc = rs_http_url_origin(&origin_next, resolved);
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
	if (resolved)
		curl_free(resolved);
	curl_url_cleanup(u);
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

int rs_http_url_origin(char **out, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	struct rs_buf buf = RS_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc = rs_error_set(RS_EUSAGE, "invalid URL '%s'", url);
		goto done;
	}
	if (rs_buf_printf(&buf, "%s://%s:%s", scheme, host, port) < 0) {
		rc = RS_ERROR;
		goto done;
	}
	*out = rs_buf_detach(&buf);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}
