/* http_url.c: the transport's canonical URLs for signed requests (see
 * rs_http_url_build in http.h), built with libcurl's URL API. */
#include "net/http.h"
#include "base/buf.h"
#include "base/error.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

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
