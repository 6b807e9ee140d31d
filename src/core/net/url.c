/* url.c: URLs through libcurl's URL API (see url.h). */
#include "net/url.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A curl-allocated part as a malloc'd copy (NULL stays NULL). */
static int take(char **out, char *curl_part)
{
	*out = NULL;
	if (!curl_part)
		return 0;
	*out = strdup(curl_part);
	curl_free(curl_part);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static CURLU *parse(const char *text, unsigned flags)
{
	CURLU *u = curl_url();
	unsigned cflags = CURLU_NON_SUPPORT_SCHEME;

	if (flags & RS_URL_DEFAULT_HTTPS)
		cflags |= CURLU_DEFAULT_SCHEME;
	if (u && curl_url_set(u, CURLUPART_URL, text, cflags) != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

int rs_url_parse(struct rs_url *out, const char *text, unsigned flags)
{
	CURLU *u;
	char *part = NULL, *user = NULL, *password = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->port = -1;
	u = parse(text ? text : "", flags);
	if (!u) {
		char shown[512];

		return rs_error_set(RS_EUSAGE, "'%s' is not a URL",
				    rs_url_strip_userinfo(shown, sizeof(shown), text ? text : ""));
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
		out->has_userinfo = 1;
	curl_free(user);
	curl_free(password);
	if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) == CURLUE_OK)
		rc = take(&out->scheme, part);
	part = NULL;
	if (rc == 0 && curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK)
		rc = take(&out->host, part);
	part = NULL;
	if (rc == 0 && curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK) {
		out->explicit_port = 1;
		out->port = atoi(part);
		curl_free(part);
	} else if (rc == 0 && curl_url_get(u, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		out->port = atoi(part);
		curl_free(part);
	}
	part = NULL;
	if (rc == 0 && curl_url_get(u, CURLUPART_PATH, &part, 0) == CURLUE_OK)
		rc = take(&out->path, part);
	part = NULL;
	if (rc == 0 && curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK)
		rc = take(&out->query, part);
	curl_url_cleanup(u);
	lower(out->scheme);
	lower(out->host);
	if (rc == 0 && (!out->scheme || !out->host || !*out->host)) {
		char shown[512];

		rc = rs_error_set(RS_EUSAGE, "'%s' is not a URL with a host",
				  rs_url_strip_userinfo(shown, sizeof(shown), text));
	}
	if (rc == 0 && !out->path && !(out->path = strdup("/")))
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc < 0)
		rs_url_release(out);
	return rc;
}

void rs_url_release(struct rs_url *url)
{
	free(url->scheme);
	free(url->host);
	free(url->path);
	free(url->query);
	memset(url, 0, sizeof(*url));
	url->port = -1;
}

int rs_url_origin(char **out, const char *url)
{
	struct rs_url u;
	int rc;

	*out = NULL;
	rc = rs_url_parse(&u, url, 0);
	if (rc < 0)
		return rs_error_set(RS_EUSAGE, "invalid URL '%s'", url);
	if (asprintf(out, "%s://%s:%d", u.scheme, u.host, u.port) < 0) {
		*out = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
	rs_url_release(&u);
	return rc;
}

int rs_url_resolve(char **out, const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *resolved = NULL;
	int rc = 0;

	*out = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &resolved, 0) != CURLUE_OK)
		rc = rs_error_set(RS_EPROTO, "malformed URL '%s'", ref);
	else
		rc = take(out, resolved);
	curl_url_cleanup(u);
	return rc;
}

char *rs_url_strip_userinfo(char *out, size_t outsize, const char *url)
{
	CURLU *u = parse(url, 0);
	char *clean = NULL;

	if (u && curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &clean, 0) == CURLUE_OK) {
		/* libcurl writes "http://h" as "http://h/": keep what was given */
		size_t n = strlen(clean);
		const char *tail = url + strlen(url);

		if (n && clean[n - 1] == '/' && tail > url && tail[-1] != '/')
			clean[n - 1] = '\0';
		snprintf(out, outsize, "%s", clean);
	} else if (!strchr(url, '@')) {
		snprintf(out, outsize, "%s", url);   /* nothing to hide in it */
	} else {
		snprintf(out, outsize, "%s", "(an unreadable URL)");
	}
	curl_free(clean);
	curl_url_cleanup(u);
	return out;
}

int rs_url_path_query(char **out, const char *url)
{
	struct rs_url u;
	int rc;

	*out = NULL;
	rc = rs_url_parse(&u, url, 0);
	if (rc < 0) {
		*out = strdup(url);
		rs_error_clear();
		return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
	}
	if (asprintf(out, "%s%s%s", u.path, u.query ? "?" : "", u.query ? u.query : "") < 0) {
		*out = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
	rs_url_release(&u);
	return rc;
}

/* The parts of a URL that rs_url_mask and rs_url_register_secrets
 * look at; absent parts are NULL. */
struct url_parts {
	char *scheme, *user, *password, *host, *port, *path, *query;
};

static void url_parts_release(struct url_parts *p)
{
	curl_free(p->scheme);
	curl_free(p->user);
	curl_free(p->password);
	curl_free(p->host);
	curl_free(p->port);
	curl_free(p->path);
	curl_free(p->query);
	memset(p, 0, sizeof(*p));
}

/* Split `url` with libcurl's URL parser; `decode` percent-decodes the
 * user, password, path and query. The message never shows the URL. */
static int url_split(struct url_parts *p, const char *url, int decode)
{
	unsigned flags = decode ? CURLU_URLDECODE : 0;
	CURLU *u = curl_url();
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (!u)
		return rs_error_set(RS_ERROR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK) {
		rc = rs_error_set(RS_EUSAGE, "not a valid URL (not shown: it may hold a secret)");
		goto done;
	}
	/* absent parts answer CURLUE_NO_USER, CURLUE_NO_PORT...: left NULL */
	curl_url_get(u, CURLUPART_USER, &p->user, flags);
	curl_url_get(u, CURLUPART_PASSWORD, &p->password, flags);
	curl_url_get(u, CURLUPART_PORT, &p->port, 0);
	curl_url_get(u, CURLUPART_PATH, &p->path, flags);
	curl_url_get(u, CURLUPART_QUERY, &p->query, flags);
done:
	if (rc < 0)
		url_parts_release(p);
	curl_url_cleanup(u);
	return rc;
}

int rs_url_mask(char **out, const char *url)
{
	struct rs_buf buf = RS_BUF_INIT;
	struct url_parts p;
	int rc;

	*out = NULL;
	rc = url_split(&p, url, 0);
	if (rc < 0)
		return rc;
	rc = rs_buf_printf(&buf, "%s://", p.scheme);
	if (rc == 0 && p.user && p.password)
		rc = rs_buf_printf(&buf, "%s:***@", p.user);
	else if (rc == 0 && (p.user || p.password))
		rc = rs_buf_puts(&buf, "***@");
	if (rc == 0)
		rc = rs_buf_printf(&buf, "%s%s%s", p.host, p.port ? ":" : "", p.port ? p.port : "");
	if (rc == 0 && ((p.path && strcmp(p.path, "/") != 0) || (p.query && *p.query)))
		rc = rs_buf_puts(&buf, "/***");
	if (rc == 0 && !(*out = rs_buf_detach(&buf)))
		rc = rs_error_set(RS_ERROR, "out of memory");
	rs_buf_release(&buf);
	url_parts_release(&p);
	return rc;
}

int rs_url_register_secrets(const char *url)
{
	for (int decode = 0; decode < 2; decode++) {
		struct url_parts p;
		int rc = url_split(&p, url, decode);

		if (rc < 0)
			return rc;
		rs_secret_register(p.password);
		if (!p.password)
			rs_secret_register(p.user);   /* a user name alone is usually a token */
		if (p.path && strcmp(p.path, "/") != 0)
			rs_secret_register(p.path);
		rs_secret_register(p.query);
		url_parts_release(&p);
	}
	return 0;
}
