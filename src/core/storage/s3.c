/* s3.c: the storage backend for the registry's `s3` driver: where the
 * bucket is, from the registry's config and the user's overrides, the
 * credentials, and the signed requests the reader (s3read.c) sends. */
#include "storage/s3.h"
#include "storage/s3_internal.h"
#include "storage/s3cred.h"
#include "storage/regconfig.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static void store_free(void *impl)
{
	struct rs_s3_store *s3 = impl;

	if (!s3)
		return;
	free(s3->endpoint);
	free(s3->host_prefix);
	free(s3->bucket);
	free(s3->layout);
	free(s3->root);
	free(s3->provider);
	free(s3->access_key);
	secret_free(s3->secret_key);
	secret_free(s3->session_token);
	free(s3->cacert);
	free(s3);
}

static const struct rs_storage_ops s3_ops = { "s3", rs_s3_read, store_free };

int rs_s3_layout_prefix(char **out, const char *root)
{
	struct rs_buf buf = RS_BUF_INIT;
	size_t len = root ? strlen(root) : 0;
	const char *p = root;
	int rc;

	*out = NULL;
	/* distribution: TrimLeft(TrimRight(root, "/") + "/docker/...", "/") */
	while (len && p[len - 1] == '/')
		len--;
	while (len && *p == '/') {
		p++;
		len--;
	}
	rc = rs_buf_put(&buf, p ? p : "", len);
	if (rc == 0 && len)
		rc = rs_buf_puts(&buf, "/");
	if (rc == 0)
		rc = rs_buf_puts(&buf, RS_STORAGE_V2 "/");
	if (rc < 0)
		return rc;
	*out = rs_buf_detach(&buf);
	return 0;
}

int rs_s3_request(struct rs_http_req **out, const struct rs_s3_store *s3, const char *key,
		  const struct rs_http_param *params, size_t n)
{
	struct rs_buf path = RS_BUF_INIT;
	struct rs_http_req *req = NULL;
	char *url = NULL;
	int rc = 0;

	*out = NULL;
	if (!s3->host_prefix)
		rc = rs_buf_printf(&path, "/%s", s3->bucket);
	if (rc == 0 && (key || s3->host_prefix))
		rc = rs_buf_printf(&path, "/%s", key ? key : "");
	if (rc == 0)
		rc = rs_http_url_build(&url, s3->endpoint, s3->host_prefix, path.ptr, params, n);
	if (rc == 0)
		rc = rs_http_req_new(&req, "GET", url);
	if (rc == 0)
		rc = rs_http_req_aws_sigv4(req, s3->provider, s3->access_key, s3->secret_key,
					   s3->session_token);
	if (rc == 0) {
		*out = req;
		req = NULL;
	}
	rs_http_req_free(req);
	free(url);
	rs_buf_release(&path);
	return rc;
}

/* The endpoint as a URL: a scheme added when the config gives a bare host
 * (as the AWS SDK does, by `secure`), AWS's own for the region when none. */
static int endpoint_url(char **out, const struct rs_s3_config *cfg)
{
	const char *scheme = cfg->secure ? "https" : "http";
	int n;

	*out = NULL;
	if (cfg->endpoint && *cfg->endpoint) {
		if (strstr(cfg->endpoint, "://"))
			*out = strdup(cfg->endpoint);
		else if (asprintf(out, "%s://%s", scheme, cfg->endpoint) < 0)
			*out = NULL;
		return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
	}
	n = asprintf(out, "%s://s3.%s.amazonaws.com%s", scheme, cfg->region,
		     strncmp(cfg->region, "cn-", 3) == 0 ? ".cn" : "");
	if (n < 0)
		*out = NULL;
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

static int copy_field(char **out, const char *value)
{
	*out = NULL;
	if (!value)
		return 0;
	*out = strdup(value);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

int rs_storage_open_s3(struct rs_storage **out, const struct rs_s3_config *cfg)
{
	struct rs_s3_store *s3;
	struct rs_http_options defaults = RS_HTTP_OPTIONS_INIT;
	char *where = NULL, *probe = NULL;
	int rc;

	*out = NULL;
	if (!cfg->bucket || !*cfg->bucket)
		return rs_error_set(RS_EUSAGE, "no S3 bucket given");
	if (!cfg->region || !*cfg->region)
		return rs_error_set(RS_EUSAGE, "no S3 region given: use --s3-region REGION");
	if (!cfg->access_key || !*cfg->access_key || !cfg->secret_key || !*cfg->secret_key)
		return rs_error_set(RS_EUSAGE, "no S3 credentials given");
	if (cfg->max_keys < 0 || cfg->max_keys > 1000)
		return rs_error_set(RS_EUSAGE, "an S3 listing page holds 1 to 1000 keys, not %d",
				    cfg->max_keys);
	s3 = calloc(1, sizeof(*s3));
	if (!s3)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = endpoint_url(&s3->endpoint, cfg);
	if (rc == 0 && !cfg->path_style && asprintf(&s3->host_prefix, "%s.", cfg->bucket) < 0) {
		s3->host_prefix = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0)
		rc = copy_field(&s3->bucket, cfg->bucket);
	if (rc == 0)
		rc = rs_s3_layout_prefix(&s3->layout, cfg->root);
	if (rc == 0) {
		size_t v2 = strlen(RS_STORAGE_V2 "/");

		s3->root = strndup(s3->layout, strlen(s3->layout) - v2);
		if (!s3->root)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0 && asprintf(&s3->provider, "aws:amz:%s:s3", cfg->region) < 0) {
		s3->provider = NULL;
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
	if (rc == 0)
		rc = copy_field(&s3->access_key, cfg->access_key);
	if (rc == 0)
		rc = copy_field(&s3->secret_key, cfg->secret_key);
	if (rc == 0 && cfg->session_token && *cfg->session_token)
		rc = copy_field(&s3->session_token, cfg->session_token);
	if (rc == 0)
		rc = copy_field(&s3->cacert, cfg->cacert);
	/* the endpoint must make a URL: said now, not at the first request */
	if (rc == 0)
		rc = rs_http_url_build(&probe, s3->endpoint, s3->host_prefix, "", NULL, 0);
	free(probe);
	if (rc < 0) {
		if (rc == RS_EUSAGE)
			rs_error_prefix("the S3 endpoint: ");
		store_free(s3);
		return rc;
	}
	s3->http = cfg->http ? *cfg->http : defaults;
	s3->http.cacert = s3->cacert;
	s3->http.cert = s3->http.key = NULL;
	s3->http.insecure = cfg->insecure;
	s3->http.rate = 0;
	if (cfg->max_keys)
		snprintf(s3->max_keys, sizeof(s3->max_keys), "%d", cfg->max_keys);
	if (asprintf(&where, "'s3://%s/%.*s' on %s", s3->bucket,
		     (int)(strlen(s3->root) ? strlen(s3->root) - 1 : 0), s3->root, s3->endpoint) < 0)
		where = NULL;
	return rs_storage_new(out, &s3_ops, s3, where);
}

/* ------------------------------------------------- from a registry config */

int rs_storage_open_s3_config(struct rs_storage **out, const struct rs_regconfig *cfg,
			      const struct rs_storage_location *loc, const char *path)
{
	const struct rs_regconfig_s3 *c = &cfg->s3;
	struct rs_s3_credential_sources sources;
	struct rs_s3_credentials creds;
	struct rs_s3_config s3;
	int rc;

	*out = NULL;
	memset(&s3, 0, sizeof(s3));
	if (!c->bucket)
		return rs_error_set(RS_EUSAGE, "the registry config '%s' names no storage.s3.bucket",
				    path);
	s3.endpoint = loc->s3_endpoint && *loc->s3_endpoint ? loc->s3_endpoint : c->regionendpoint;
	s3.region = loc->s3_region && *loc->s3_region ? loc->s3_region : c->region;
	/* distribution needs no region beside a custom endpoint; signing does,
	 * and S3-compatible stores take the first AWS region */
	if ((!s3.region || !*s3.region) && s3.endpoint && *s3.endpoint)
		s3.region = "us-east-1";
	if (!s3.region || !*s3.region)
		return rs_error_set(RS_EUSAGE, "the registry config '%s' names no storage.s3.region: "
				    "give --s3-region REGION", path);
	s3.bucket = c->bucket;
	s3.root = c->rootdirectory;
	s3.secure = c->secure;
	/* 2.8 addresses the bucket by path when it has an endpoint; 3.x says
	 * so with forcepathstyle */
	s3.path_style = c->forcepathstyle >= 0 ? c->forcepathstyle : s3.endpoint && *s3.endpoint;
	s3.insecure = c->skipverify;
	s3.cacert = getenv("AWS_CA_BUNDLE");
	if (s3.cacert && !*s3.cacert)
		s3.cacert = NULL;
	s3.http = loc->http;
	if (!c->v4auth)
		rs_log(RS_LOG_VERBOSE, "storage: '%s' has v4auth off; regsweep signs its requests "
		       "with Signature Version 4 all the same", path);
	if (c->skipverify)
		rs_log(RS_LOG_WARN, "warning: '%s' sets storage.s3.skipverify: the S3 store's "
		       "certificate is not verified", path);
	memset(&sources, 0, sizeof(sources));
	sources.config_access_key = c->accesskey;
	sources.config_secret_key = c->secretkey;
	sources.config_session_token = c->sessiontoken;
	sources.config_name = path;
	sources.file = loc->s3_credentials;
	rc = rs_s3_credentials_resolve(&creds, &sources);
	if (rc < 0)
		return rc;
	s3.access_key = creds.access_key;
	s3.secret_key = creds.secret_key;
	s3.session_token = creds.session_token;
	rc = rs_storage_open_s3(out, &s3);
	if (rc == 0)
		rs_log(RS_LOG_VERBOSE, "storage: %s (%s-style) from '%s', credentials from %s",
		       rs_storage_describe(*out), s3.path_style ? "path" : "virtual-hosted", path,
		       creds.source);
	rs_s3_credentials_release(&creds);
	return rc;
}
