/* s3.c: the storage backend for the registry's `s3` driver (see s3.h). */
#include "storage/s3.h"
#include "storage/backend.h"
#include "storage/regconfig.h"
#include "base/error.h"

int rs_storage_open_s3_config(struct rs_storage **out, const struct rs_regconfig *cfg,
			      const struct rs_storage_location *loc, const char *path)
{
	(void)cfg;
	(void)loc;
	*out = NULL;
	return rs_error_set(RS_EUSAGE, "the registry config '%s' uses the 's3' storage driver: "
			    "the storage view reads only the filesystem driver", path);
}

int rs_storage_open_s3(struct rs_storage **out, const struct rs_s3_config *cfg,
		       struct rs_http *http)
{
	(void)cfg;
	(void)http;
	*out = NULL;
	return rs_error_set(RS_EUSAGE, "the s3 storage backend is not built yet");
}
