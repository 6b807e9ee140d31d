/* http_url.c: URL helpers of the transport: Link pagination, query
 * escaping, and URLs in the canonical form request signing expects (URLs
 * themselves are net/url.c's). */
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

/* Append `text` percent-encoded, every byte but A-Za-z0-9-_.~ (and '/'
 * when `keep_slash`), with upper-case hex as request signing wants. */
static int escape_into(struct rs_buf *out, const char *text, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)text; rc == 0 && *p; p++) {
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			rc = rs_buf_put(out, (const char *)&c, 1);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};

			rc = rs_buf_put(out, enc, 3);
		}
	}
	return rc;
}

static int cmp_param(const void *a, const void *b)
{
	const struct rs_http_param *x = *(const struct rs_http_param *const *)a;
	const struct rs_http_param *y = *(const struct rs_http_param *const *)b;

	return strcmp(x->name, y->name);
}

int rs_http_url_build(char **out, const char *base, const char *host_prefix, const char *path,
		      const struct rs_http_param *params, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *old_path = NULL, *origin = NULL, *url = NULL;
	const struct rs_http_param **sorted = NULL;
	struct rs_buf buf = RS_BUF_INIT;
	size_t len;
	int rc = 0;

	*out = NULL;
	if (!u)
		return rs_error_set(RS_ERROR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_EUSAGE, "'%s' is not an http:// or https:// URL", base);
		goto done;
	}
	if (host_prefix && *host_prefix) {
		if (rs_buf_printf(&buf, "%s%s", host_prefix, host) < 0 ||
		    curl_url_set(u, CURLUPART_HOST, buf.ptr, 0) != CURLUE_OK) {
			rc = rs_error_set(RS_EUSAGE, "'%s%s' is not a host name", host_prefix, host);
			goto done;
		}
		rs_buf_reset(&buf);
	}
	if (curl_url_get(u, CURLUPART_PATH, &old_path, 0) != CURLUE_OK)
		old_path = NULL;
	/* the origin, without credentials (never sent in a URL, nor shown in
	 * a logged one), path, query or fragment */
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &origin, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_ERROR, "cannot build a URL from '%s'", base);
		goto done;
	}
	/* Setting a URL's path or query through CURLU lowercases their
	 * percent-encoding (libcurl 7.88), which request signing tells apart:
	 * the rest is appended as text, then the whole URL parsed back, which
	 * keeps it as it is. */
	len = strlen(origin);
	while (len && origin[len - 1] == '/')
		len--;
	rc = rs_buf_put(&buf, origin, len);
	/* the base's own path, without its trailing slashes, then `path` */
	if (rc == 0 && old_path) {
		len = strlen(old_path);
		while (len && old_path[len - 1] == '/')
			len--;
		rc = rs_buf_put(&buf, old_path, len);
	}
	if (rc == 0 && path && *path != '/')
		rc = rs_buf_puts(&buf, "/");
	if (rc == 0 && path)
		rc = escape_into(&buf, path, 1);
	if (rc == 0 && n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted) {
			rc = rs_error_set(RS_ERROR, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			sorted[i] = &params[i];
		qsort(sorted, n, sizeof(*sorted), cmp_param);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = rs_buf_puts(&buf, i ? "&" : "?");
			if (rc == 0)
				rc = escape_into(&buf, sorted[i]->name, 0);
			if (rc == 0)
				rc = rs_buf_puts(&buf, "=");
			if (rc == 0)
				rc = escape_into(&buf, sorted[i]->value ? sorted[i]->value : "", 0);
		}
	}
	if (rc < 0)
		goto done;
	if (curl_url_set(u, CURLUPART_URL, buf.ptr, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_ERROR, "cannot build a URL from '%s'", base);
		goto done;
	}
	*out = strdup(url);
	if (!*out)
		rc = rs_error_set(RS_ERROR, "out of memory");
done:
	free(sorted);
	rs_buf_release(&buf);
	curl_free(url);
	curl_free(origin);
	curl_free(old_path);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}
