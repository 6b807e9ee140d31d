/* s3_internal.h: the S3 backend's state, shared by s3.c (opening it from
 * a registry config) and s3read.c (reading the bucket). Internal to
 * src/core/storage/. */
#ifndef RS_STORAGE_S3_INTERNAL_H
#define RS_STORAGE_S3_INTERNAL_H

#include "net/http.h"
#include "storage/backend.h"

struct rs_s3_store {
	char *endpoint;            /* base URL: scheme://host[:port][/path] */
	char *host_prefix;         /* "BUCKET." for virtual-hosted-style, else NULL */
	char *bucket;
	char *layout;              /* "ROOT/docker/registry/v2/" ("docker/..." without a root) */
	char *root;                /* "ROOT/" ("" without a root) */
	char *provider;            /* "aws:amz:REGION:s3" */
	char *access_key;
	char *secret_key;          /* a secret, wiped when freed */
	char *session_token;       /* a secret, wiped when freed; NULL when none */
	char *cacert;
	struct rs_http_options http;   /* the store's client; cacert points at `cacert` */
	char max_keys[16];         /* keys per page, "" for the store's default */
};

/* The read of rs_storage_ops for the S3 backend (s3read.c): `impl` is a
 * struct rs_s3_store. */
int rs_s3_read(void *impl, unsigned what, struct rs_storage_sink *sink);

/* A request for `key` (NULL: the bucket itself, for a listing) with the
 * query `params`, signed: *out is the caller's until submitted. */
int rs_s3_request(struct rs_http_req **out, const struct rs_s3_store *s3, const char *key,
		  const struct rs_http_param *params, size_t n);

#endif
