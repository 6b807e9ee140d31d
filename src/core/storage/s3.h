/* s3.h: the storage backend for the registry's `s3` driver: the bucket's
 * keys listed with ListObjectsV2 through the transport (net/http.h, SigV4
 * signed by libcurl), reported to the sink as the filesystem backends
 * report files.
 *
 * The layout is the filesystem driver's, as keys under the root directory
 * (distribution strips the root's slashes: "/lab/" is "lab/"):
 *   ROOT/docker/registry/v2/repositories/NAME/_manifests/revisions/sha256/HEX/link
 *   ROOT/docker/registry/v2/repositories/NAME/_manifests/tags/TAG/current/link
 *   ROOT/docker/registry/v2/blobs/sha256/XX/HEX/data
 * What a read costs, in requests (each listing page holds up to 1,000 keys
 * or prefixes, asked with encoding-type=url since keys may hold anything):
 *   - the repositories: one listing of repositories/ with the delimiter
 *     "/_", whose common prefixes NAME/_ are every directory holding
 *     _manifests, _layers or _uploads, without a key of theirs;
 *   - per repository, one listing of NAME/_manifests/ with the delimiter
 *     "/index/": revision links and each tag's current link, the tags'
 *     history rolled up into one prefix per tag; the _layers links are
 *     never listed. Past the first page, revisions are listed in parallel
 *     by their digest's first hex digit, and the tags apart;
 *   - the blob store: one listing of blobs/sha256/, past its first page in
 *     parallel by the first hex digit;
 *   - with RS_STORAGE_TAG_LINKS, nothing more for a link whose ETag (the
 *     MD5 of its bytes) is the MD5 of one of its repository's revision
 *     digests, "sha256:HEX", which is what a registry writes; a GET of
 *     each other link (another size, an ETag that is no MD5, a digest no
 *     revision has).
 * All of it in a bounded window of requests in flight, on a client of the
 * backend's own (a pause the store asks for never stalls the registry's
 * requests), retried like the registry's. A store that ignores a
 * delimiter answers with every key instead, and one that refuses it (400,
 * 501) is asked without delimiters: the read is then slower, and the same. A missing bucket is a missing root (RS_ENOTFOUND); a root that
 * holds no key at all is a registry that never had a push (an empty view),
 * and one that holds keys but no docker/registry/v2 is not a registry's.
 */
#ifndef RS_STORAGE_S3_H
#define RS_STORAGE_S3_H

#include "storage/storage.h"

struct rs_regconfig;
struct rs_http_options;

/* Where the bucket is and how to reach it. Strings are copied. */
struct rs_s3_config {
	const char *endpoint;       /* http(s)://host[:port][/path]; NULL: AWS's for the region */
	const char *region;         /* signs every request ("us-east-1") */
	const char *bucket;
	const char *root;           /* rootdirectory, as configured (NULL or "" for none) */
	int path_style;             /* 1: ENDPOINT/BUCKET/KEY; 0: BUCKET.HOST/KEY */
	int secure;                 /* https to AWS's endpoint (when `endpoint` is NULL) */
	const char *access_key;
	const char *secret_key;     /* a secret */
	const char *session_token;  /* a secret; NULL when none */
	int insecure;               /* do not verify the store's certificate */
	const char *cacert;         /* CA bundle for the store, NULL: the system's */
	const struct rs_http_options *http;   /* window, retries, timeouts; NULL: defaults */
	int max_keys;               /* keys per listing page, 1 to 1000; 0: the store's
				     * default (1,000) */
};

/* Open the S3 backend from the registry config `cfg` (read from `path`, for
 * messages), with the overrides (--s3-endpoint, --s3-region), credentials
 * (storage/s3cred.h) and client options of `loc`. RS_EUSAGE, naming what
 * to add, when the config names no bucket or no region. */
int rs_storage_open_s3_config(struct rs_storage **out, const struct rs_regconfig *cfg,
			      const struct rs_storage_location *loc, const char *path);

/* The key prefix of the layout under `root` ("lab/docker/registry/v2/"
 * for "/lab"): distribution's rule, the root's slashes trimmed. *out is the
 * caller's. */
int rs_s3_layout_prefix(char **out, const char *root);

#endif
