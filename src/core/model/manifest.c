/* manifest.c: JSON parsing of manifests, configs and listings with cJSON. */
#include "model/manifest.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *json_string(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int parse_descriptor(struct rs_descriptor *d, const cJSON *obj, const char *what)
{
	const char *digest = json_string(obj, "digest");
	const char *media_type = json_string(obj, "mediaType");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(obj, "size");
	const cJSON *platform = cJSON_GetObjectItemCaseSensitive(obj, "platform");

	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(obj) || !digest)
		return rs_error_set(RS_EPROTO, "%s has no digest", what);
	if (!rs_digest_valid(digest))
		return rs_error_set(RS_EPROTO, "%s has an invalid digest '%.80s'", what, digest);
	rs_strlcpy(d->digest, digest, sizeof(d->digest));
	if (size && (!cJSON_IsNumber(size) || size->valuedouble < 0 ||
		     size->valuedouble > 9007199254740992.0))
		return rs_error_set(RS_EPROTO, "%s has an invalid size", what);
	d->size = size ? (int64_t)size->valuedouble : 0;
	if (media_type && !(d->media_type = rs_media_type_dup(media_type)))
		return rs_error_set(RS_ERROR, "out of memory");
	if (cJSON_IsObject(platform)) {
		const char *os = json_string(platform, "os");
		const char *arch = json_string(platform, "architecture");
		const char *variant = json_string(platform, "variant");
		struct rs_buf buf = RS_BUF_INIT;

		if (os && arch) {
			if (rs_buf_printf(&buf, "%s/%s%s%s", os, arch, variant ? "/" : "",
					  variant ? variant : "") < 0)
				return RS_ERROR;
			d->platform = rs_buf_detach(&buf);
		}
	}
	return 0;
}

static int parse_descriptor_array(struct rs_descriptor **out, size_t *count, const cJSON *array,
				  const char *what)
{
	size_t n, i = 0;
	const cJSON *item;

	*out = NULL;
	*count = 0;
	if (!array)
		return 0;
	if (!cJSON_IsArray(array))
		return rs_error_set(RS_EPROTO, "'%s' is not a list", what);
	n = (size_t)cJSON_GetArraySize(array);
	if (n > RS_MANIFEST_MAX_ENTRIES)
		return rs_error_set(RS_EPROTO, "'%s' has too many entries (%zu)", what, n);
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, array) {
		int rc = parse_descriptor(&(*out)[i], item, what);

		i++;
		*count = i;   /* so the caller frees what was filled */
		if (rc < 0)
			return rc;
	}
	return 0;
}

static enum rs_media_type infer_type(const cJSON *root, const char *content_type)
{
	const char *mt = json_string(root, "mediaType");
	enum rs_media_type type = rs_media_type_from_string(mt);

	if (type != RS_MT_UNKNOWN)
		return type;
	type = rs_media_type_from_string(content_type);
	if (type != RS_MT_UNKNOWN)
		return type;
	/* OCI makes mediaType optional: go by shape */
	if (cJSON_GetObjectItemCaseSensitive(root, "manifests"))
		return RS_MT_OCI_INDEX;
	if (cJSON_GetObjectItemCaseSensitive(root, "config"))
		return RS_MT_OCI_MANIFEST;
	if (cJSON_GetObjectItemCaseSensitive(root, "fsLayers"))
		return RS_MT_DOCKER_SCHEMA1;
	return RS_MT_UNKNOWN;
}

int rs_manifest_parse(struct rs_manifest **out, const char *digest, const char *body, size_t len,
		      const char *content_type)
{
	struct rs_manifest *m = NULL;
	cJSON *root;
	const char *mt, *artifact;
	const cJSON *subject, *schema;
	int rc;

	*out = NULL;
	root = cJSON_ParseWithLength(body, len);
	if (!root)
		return rs_error_set(RS_EPROTO, "manifest %s is not valid JSON", digest);
	if (!cJSON_IsObject(root)) {
		rc = rs_error_set(RS_EPROTO, "manifest %s is not a JSON object", digest);
		goto out;
	}
	rc = rs_manifest_new(&m, digest);
	if (rc < 0)
		goto out;
	m->size = (int64_t)len;
	m->type = infer_type(root, content_type);
	schema = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
	if (m->type == RS_MT_UNKNOWN) {
		rc = rs_error_set(RS_EPROTO, "manifest %s has an unknown media type '%s'", digest,
				  content_type ? content_type : "");
		goto out;
	}
	if (m->type != RS_MT_DOCKER_SCHEMA1 && (!cJSON_IsNumber(schema) || schema->valueint != 2)) {
		rc = rs_error_set(RS_EPROTO, "manifest %s is not schemaVersion 2", digest);
		goto out;
	}
	mt = json_string(root, "mediaType");
	if (!mt)
		mt = rs_media_type_name(m->type);
	if (!(m->media_type = rs_media_type_dup(mt))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto out;
	}
	artifact = json_string(root, "artifactType");
	if (artifact && !(m->artifact_type = strdup(artifact))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto out;
	}
	subject = cJSON_GetObjectItemCaseSensitive(root, "subject");
	if (subject) {
		struct rs_descriptor sd;

		rc = parse_descriptor(&sd, subject, "subject");
		if (rc == 0)
			rc = rs_manifest_set_subject(m, sd.digest);
		rs_media_type_free(sd.media_type);
		free(sd.platform);
		if (rc < 0)
			goto out;
	}
	if (rs_media_type_is_index(m->type)) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "manifests");

		if (!list) {
			rc = rs_error_set(RS_EPROTO, "index %s has no 'manifests'", digest);
			goto out;
		}
		rc = parse_descriptor_array(&m->children, &m->nchildren, list, "manifests");
	} else if (m->type == RS_MT_DOCKER_SCHEMA1) {
		rc = 0;   /* legacy: no sizes to count, listed only */
	} else {
		const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");

		if (!config) {
			rc = rs_error_set(RS_EPROTO, "manifest %s has no 'config'", digest);
			goto out;
		}
		rc = parse_descriptor(&m->config, config, "config");
		if (rc == 0)
			rc = parse_descriptor_array(&m->layers, &m->nlayers,
						    cJSON_GetObjectItemCaseSensitive(root, "layers"),
						    "layers");
	}
	if (rc < 0)
		rs_error_prefix("manifest %s: ", digest);
out:
	cJSON_Delete(root);
	if (rc < 0) {
		rs_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int rs_config_parse_created(int64_t *out, const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const char *created;
	int64_t when;

	*out = RS_TIME_UNKNOWN;
	if (!root)
		return rs_error_set(RS_EPROTO, "image config is not valid JSON");
	created = cJSON_IsObject(root) ? json_string(root, "created") : NULL;
	if (created && rs_time_parse(&when, created) == 0 && when > 86400)
		*out = when;   /* the epoch (reproducible builds) stays unknown */
	cJSON_Delete(root);
	return 0;
}

void rs_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **p = strv; *p; p++)
		free(*p);
	free(strv);
}

size_t rs_strv_len(char *const *strv)
{
	size_t n = 0;

	while (strv && strv[n])
		n++;
	return n;
}

static int string_list(char ***out, const cJSON *array, const char *what,
		       int (*valid)(const char *))
{
	size_t n, i = 0;
	const cJSON *item;
	char **strv;

	*out = NULL;
	n = cJSON_IsArray(array) ? (size_t)cJSON_GetArraySize(array) : 0;
	if (array && !cJSON_IsNull(array) && !cJSON_IsArray(array))
		return rs_error_set(RS_EPROTO, "'%s' is not a list", what);
	if (n > 10 * RS_MANIFEST_MAX_ENTRIES)
		return rs_error_set(RS_EPROTO, "'%s' has too many entries", what);
	strv = calloc(n + 1, sizeof(*strv));
	if (!strv)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, array) {
		if (!cJSON_IsString(item) || (valid && !valid(item->valuestring))) {
			rs_strv_free(strv);
			return rs_error_set(RS_EPROTO, "'%s' holds an invalid entry '%.80s'", what,
					    cJSON_IsString(item) ? item->valuestring : "(not a string)");
		}
		if (!(strv[i++] = strdup(item->valuestring))) {
			rs_strv_free(strv);
			return rs_error_set(RS_ERROR, "out of memory");
		}
	}
	*out = strv;
	return 0;
}

static int parse_list(char ***out, const char *body, size_t len, const char *key,
		      int (*valid)(const char *))
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	int rc;

	*out = NULL;
	if (!root)
		return rs_error_set(RS_EPROTO, "response is not valid JSON");
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return rs_error_set(RS_EPROTO, "response is not a JSON object");
	}
	rc = string_list(out, cJSON_GetObjectItemCaseSensitive(root, key), key, valid);
	cJSON_Delete(root);
	return rc;
}

int rs_catalog_parse(char ***out, const char *body, size_t len)
{
	return parse_list(out, body, len, "repositories", rs_valid_repo_name);
}

int rs_tags_parse(char ***out, const char *body, size_t len)
{
	return parse_list(out, body, len, "tags", rs_valid_tag);
}

int rs_referrers_parse(char ***out, const char *body, size_t len)
{
	struct rs_descriptor *d = NULL;
	size_t n = 0;
	cJSON *root = cJSON_ParseWithLength(body, len);
	char **strv = NULL;
	int rc;

	*out = NULL;
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return rs_error_set(RS_EPROTO, "referrers response is not a JSON object");
	}
	rc = parse_descriptor_array(&d, &n, cJSON_GetObjectItemCaseSensitive(root, "manifests"),
				    "manifests");
	if (rc == 0) {
		strv = calloc(n + 1, sizeof(*strv));
		if (!strv)
			rc = rs_error_set(RS_ERROR, "out of memory");
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (!(strv[i] = strdup(d[i].digest)))
				rc = rs_error_set(RS_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		rs_media_type_free(d[i].media_type);
		free(d[i].platform);
	}
	free(d);
	cJSON_Delete(root);
	if (rc < 0) {
		rs_strv_free(strv);
		return rc;
	}
	*out = strv;
	return 0;
}

/* name := component ('/' component)*, component := [a-z0-9]+ (sep [a-z0-9]+)*,
 * sep := '.' | '_' | '__' | '-'+ ; at most 255 characters. */
int rs_valid_repo_name(const char *name)
{
	size_t len = strlen(name);
	const char *p = name;

	if (!len || len > 255)
		return 0;
	for (;;) {
		/* one component */
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
			return 0;
		while (*p) {
			while (islower((unsigned char)*p) || isdigit((unsigned char)*p))
				p++;
			if (*p == '.' || *p == '-' || *p == '_') {
				const char *sep = p;

				while (*p == '-')
					p++;
				if (p == sep) {
					if (*p == '_' && p[1] == '_')
						p += 2;
					else
						p++;
				}
				if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
					return 0;
				continue;
			}
			break;
		}
		if (!*p)
			return 1;
		if (*p != '/')
			return 0;
		p++;
	}
}

/* tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
int rs_valid_tag(const char *tag)
{
	size_t len = strlen(tag);

	if (!len || len > 128 || !(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
		return 0;
	for (const char *p = tag; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}
