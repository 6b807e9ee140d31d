/* s3.h: the storage backend for the registry's `s3` driver: the bucket's
 * keys listed with ListObjectsV2 through the transport (net/http.h, SigV4
 * signed by libcurl), reported to the sink as the filesystem backends
 * report files. */
#ifndef RS_STORAGE_S3_H
#define RS_STORAGE_S3_H

#include "storage/storage.h"

struct rs_regconfig;

/* Open the S3 backend from the registry config `cfg` (read from `path`, for
 * messages), with the overrides and credentials of `loc`. */
int rs_storage_open_s3_config(struct rs_storage **out, const struct rs_regconfig *cfg,
			      const struct rs_storage_location *loc, const char *path);

#endif
