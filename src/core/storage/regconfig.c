/* regconfig.c: reading the storage section of a registry's config.yml with
 * libyaml's document API (see regconfig.h). */
#include "storage/regconfig.h"
#include "base/error.h"
#include "base/log.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Keys of `storage` that configure the storage rather than name a driver
 * (distribution's configuration.Storage). */
static const char *const storage_settings[] = {
	"maintenance", "cache", "delete", "redirect", "tag", NULL
};

static const char *scalar(yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

/* The value under `key` in mapping `map`, or NULL. Keys compare exactly,
 * as distribution's parser (yaml.v2, and its driver names) does. */
static yaml_node_t *mapping_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));

		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* YAML 1.1 booleans, exactly as Go's yaml.v2 resolves them; -1 when not a
 * boolean (quoted values are strings, and distribution then reads "off"). */
static int yaml_bool(yaml_node_t *node)
{
	static const char *const yes[] = {
		"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL
	};
	static const char *const no[] = {
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL
	};
	const char *v = scalar(node);

	if (!v || node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return -1;
	for (size_t i = 0; yes[i]; i++)
		if (strcmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; no[i]; i++)
		if (strcmp(v, no[i]) == 0)
			return 0;
	return -1;
}

static int read_flag(int *out, yaml_document_t *doc, yaml_node_t *section, const char *path,
		     const char *name)
{
	yaml_node_t *node = mapping_get(doc, section, "enabled");
	int value;

	*out = 0;
	if (!node)
		return 0;
	value = yaml_bool(node);
	if (value < 0)
		return rs_error_set(RS_EUSAGE, "'%s': %s.enabled is not true or false", name, path);
	*out = value;
	return 0;
}

/* Go's strconv.ParseBool, for booleans written as strings. */
static int parse_bool_text(const char *v)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (size_t i = 0; yes[i]; i++)
		if (strcmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; no[i]; i++)
		if (strcmp(v, no[i]) == 0)
			return 0;
	return -1;
}

/* storage.s3.KEY as text into *out (NULL when absent). */
static int s3_string(char **out, yaml_document_t *doc, yaml_node_t *s3, const char *key,
		     const char *name)
{
	yaml_node_t *node = mapping_get(doc, s3, key);
	const char *v;

	*out = NULL;
	if (!node)
		return 0;
	v = scalar(node);
	if (!v)
		return rs_error_set(RS_EUSAGE, "'%s': storage.s3.%s is not a single value", name, key);
	if (!*v && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0;   /* `key:` with nothing: null, as Go reads it */
	*out = strdup(v);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

/* storage.s3.KEY as a boolean (a YAML one, or a string ParseBool reads);
 * `fallback` when absent. */
static int s3_bool(int *out, yaml_document_t *doc, yaml_node_t *s3, const char *key,
		   int fallback, const char *name)
{
	yaml_node_t *node = mapping_get(doc, s3, key);
	const char *v = scalar(node);
	int value;

	*out = fallback;
	if (!node || (v && !*v && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
		return 0;
	value = v ? yaml_bool(node) : -1;
	if (value < 0 && v)
		value = parse_bool_text(v);
	if (value < 0)
		return rs_error_set(RS_EUSAGE, "'%s': storage.s3.%s is not true or false", name, key);
	*out = value;
	return 0;
}

static int read_s3(struct rs_regconfig_s3 *out, yaml_document_t *doc, yaml_node_t *s3,
		   const char *name)
{
	struct {
		const char *key;
		char **field;
	} strings[] = {
		{"bucket", &out->bucket}, {"region", &out->region},
		{"regionendpoint", &out->regionendpoint}, {"rootdirectory", &out->rootdirectory},
		{"accesskey", &out->accesskey}, {"secretkey", &out->secretkey},
		{"sessiontoken", &out->sessiontoken},
	};
	int rc = 0;

	out->forcepathstyle = -1;
	if (s3 && s3->type != YAML_MAPPING_NODE && !(scalar(s3) && !*scalar(s3)))
		return rs_error_set(RS_EUSAGE, "'%s': storage.s3 is not a mapping", name);
	for (size_t i = 0; rc == 0 && i < sizeof(strings) / sizeof(strings[0]); i++)
		rc = s3_string(strings[i].field, doc, s3, strings[i].key, name);
	/* what leaks through a log line is masked from the moment it is read */
	rs_secret_register(out->secretkey);
	rs_secret_register(out->sessiontoken);
	if (rc == 0)
		rc = s3_bool(&out->secure, doc, s3, "secure", 1, name);
	if (rc == 0)
		rc = s3_bool(&out->v4auth, doc, s3, "v4auth", 1, name);
	if (rc == 0)
		rc = s3_bool(&out->forcepathstyle, doc, s3, "forcepathstyle", -1, name);
	if (rc == 0)
		rc = s3_bool(&out->skipverify, doc, s3, "skipverify", 0, name);
	return rc;
}

static int is_setting(const char *key)
{
	for (size_t i = 0; storage_settings[i]; i++)
		if (strcmp(key, storage_settings[i]) == 0)
			return 1;
	return 0;
}

static int read_storage(struct rs_regconfig *out, yaml_document_t *doc, yaml_node_t *storage,
			const char *name)
{
	yaml_node_t *driver_node = NULL;
	int rc;

	if (!storage || storage->type != YAML_MAPPING_NODE)
		return rs_error_set(RS_EUSAGE, "'%s' has no 'storage' section: is it a registry's "
				    "config file?", name);
	for (yaml_node_pair_t *p = storage->data.mapping.pairs.start;
	     p < storage->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));

		if (!k || !*k || is_setting(k))
			continue;
		if (out->driver)
			return rs_error_set(RS_EUSAGE, "'%s' names two storage drivers, '%s' and '%s'",
					    name, out->driver, k);
		out->driver = strdup(k);
		if (!out->driver)
			return rs_error_set(RS_ERROR, "out of memory");
		driver_node = yaml_document_get_node(doc, p->value);
	}
	if (!out->driver)
		return rs_error_set(RS_EUSAGE, "'%s' names no storage driver", name);
	if (strcmp(out->driver, "filesystem") == 0) {
		const char *root = scalar(mapping_get(doc, driver_node, "rootdirectory"));

		out->root = strdup(root && *root ? root : RS_REGCONFIG_DEFAULT_ROOT);
		if (!out->root)
			return rs_error_set(RS_ERROR, "out of memory");
	} else if (strcmp(out->driver, "s3") == 0) {
		rc = read_s3(&out->s3, doc, driver_node, name);
		if (rc < 0)
			return rc;
	}
	rc = read_flag(&out->delete_enabled, doc, mapping_get(doc, storage, "delete"),
		       "storage.delete", name);
	if (rc == 0)
		rc = read_flag(&out->readonly, doc,
			       mapping_get(doc, mapping_get(doc, storage, "maintenance"), "readonly"),
			       "storage.maintenance.readonly", name);
	return rc;
}

int rs_regconfig_parse(struct rs_regconfig *out, const char *text, size_t len, const char *name)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return rs_error_set(RS_ERROR, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = rs_error_set(RS_EUSAGE, "'%s' is not valid YAML (line %lu): %s", name,
				  (unsigned long)parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root)
		rc = rs_error_set(RS_EUSAGE, "'%s' is empty", name);
	else
		rc = read_storage(out, &doc, mapping_get(&doc, root, "storage"), name);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0)
		rs_regconfig_release(out);
	return rc;
}

/* Wipe and free a copy of a secret. */
static void secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

void rs_regconfig_release(struct rs_regconfig *cfg)
{
	struct rs_regconfig_s3 *s3 = &cfg->s3;

	free(cfg->driver);
	free(cfg->root);
	free(s3->bucket);
	free(s3->region);
	free(s3->regionendpoint);
	free(s3->rootdirectory);
	free(s3->accesskey);
	secret_free(s3->secretkey);
	secret_free(s3->sessiontoken);
	memset(cfg, 0, sizeof(*cfg));
}
