/* manifest.h: parsing what the registry sends as JSON: manifests of the four
 * media types, image configs, catalog and tag-list pages. The only module
 * besides the report writers that includes cJSON.
 *
 * Parsers never trust their input: they check types, bound counts and
 * lengths, and reject what does not fit with RS_EPROTO and a message.
 */
#ifndef RS_MANIFEST_H
#define RS_MANIFEST_H

#include "base/buf.h"
#include "model/inventory.h"

#include <stddef.h>
#include <stdint.h>

/* The Accept header every manifest GET/HEAD sends: all four media types,
 * or the registry answers a multi-arch tag with one child's digest. */
#define RS_MANIFEST_ACCEPT \
	"Accept: " RS_MT_STR_OCI_INDEX ", " RS_MT_STR_OCI_MANIFEST ", " \
	RS_MT_STR_DOCKER_LIST ", " RS_MT_STR_DOCKER_MANIFEST

/* The most children, layers or list entries a document may have. */
#define RS_MANIFEST_MAX_ENTRIES 100000

/* Parse a manifest body into a new manifest whose digest is `digest`.
 * `content_type` (may be NULL) is used when the body has no mediaType.
 * *out is the caller's. */
int rs_manifest_parse(struct rs_manifest **out, const char *digest, const char *body, size_t len,
		      const char *content_type);

/* Read the `created` time of an image config blob. *out is RS_TIME_UNKNOWN
 * when the field is missing, unparseable, or the 1970 epoch that
 * reproducible builds use (an unknown age, which the policy keeps). */
int rs_config_parse_created(int64_t *out, const char *body, size_t len);

/* Parse a `_catalog` page ({"repositories":[...]}) into a NULL-terminated
 * array of names; *out is the caller's (free with rs_strv_free). */
int rs_catalog_parse(char ***out, const char *body, size_t len);

/* Parse a tags/list page ({"name":..,"tags":[...]|null}); a null or missing
 * list yields an empty array. */
int rs_tags_parse(char ***out, const char *body, size_t len);

/* Parse an OCI referrers response (an image index) into the digests of the
 * manifests it lists. */
int rs_referrers_parse(char ***out, const char *body, size_t len);

/* Free a NULL-terminated string array; NULL is a no-op. */
void rs_strv_free(char **strv);
size_t rs_strv_len(char *const *strv);

/* Does a repository name / tag follow the distribution spec's grammar?
 * Names from the registry that do not are refused rather than used in URLs. */
int rs_valid_repo_name(const char *name);
int rs_valid_tag(const char *tag);

#endif
