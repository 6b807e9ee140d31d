/* configfile.c: loading the YAML config file with libyaml into settings and
 * raw policy rules. */
#include "config/configfile.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_ITEMS 10000

struct rs_config {
	char *path;
	struct rs_config_field *settings;   /* top-level settings, file order */
	size_t nsettings;
	struct rs_config_rule *rules;
	size_t nrules;
	int has_rules;
};

static const char *const secret_keys[] = {"password", "token", "ssh_password", "ssh_passphrase"};
static const char *const pattern_keys[] = {"repos", "tags", "keep_tags"};

static int line_of(const yaml_node_t *node)
{
	return (int)node->start_mark.line + 1;
}

static void value_release(struct rs_config_value *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static void fields_free(struct rs_config_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fields[i].key);
		value_release(&fields[i].value);
	}
	free(fields);
}

void rs_config_free(struct rs_config *cfg)
{
	if (!cfg)
		return;
	fields_free(cfg->settings, cfg->nsettings);
	for (size_t i = 0; i < cfg->nrules; i++)
		fields_free(cfg->rules[i].fields, cfg->rules[i].nfields);
	free(cfg->rules);
	free(cfg->path);
	free(cfg);
}

static int is_null_scalar(const yaml_node_t *node)
{
	const char *v = (const char *)node->data.scalar.value;

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static int push_item(struct rs_config_value *v, const char *text)
{
	char **grown;

	if (v->count >= CONFIG_MAX_ITEMS)
		return rs_error_set(RS_EUSAGE, "too many values");
	grown = realloc(v->items, (v->count + 1) * sizeof(*grown));
	if (!grown)
		return rs_error_set(RS_ERROR, "out of memory");
	v->items = grown;
	if (!(v->items[v->count] = strdup(text)))
		return rs_error_set(RS_ERROR, "out of memory");
	v->count++;
	return 0;
}

/* A scalar or a list of scalars; a null scalar yields count 0. */
static int read_value(struct rs_config_value *out, yaml_document_t *doc, yaml_node_t *node,
		      const char *path, const char *key)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->line = line_of(node);
	if (node->type == YAML_SCALAR_NODE) {
		if (is_null_scalar(node))
			return 0;
		rc = push_item(out, (const char *)node->data.scalar.value);
	} else if (node->type == YAML_SEQUENCE_NODE) {
		out->is_list = 1;
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     rc == 0 && it < node->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(doc, *it);

			if (!item || item->type != YAML_SCALAR_NODE)
				rc = rs_error_set(RS_EUSAGE, "%s:%d: '%s' must be a list of plain values",
						  path, item ? line_of(item) : out->line, key);
			else
				rc = push_item(out, (const char *)item->data.scalar.value);
		}
	} else {
		rc = rs_error_set(RS_EUSAGE, "%s:%d: '%s' must be a value or a list, not a mapping",
				  path, out->line, key);
	}
	if (rc < 0)
		value_release(out);
	return rc;
}

/* Read a mapping's pairs into fields; duplicate keys are refused. */
static int read_mapping(struct rs_config_field **out, size_t *count, yaml_document_t *doc,
			yaml_node_t *map, const char *path)
{
	struct rs_config_field *fields = NULL;
	size_t n = 0, total;
	int rc = 0;

	*out = NULL;
	*count = 0;
	total = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	if (total > CONFIG_MAX_ITEMS)
		return rs_error_set(RS_EUSAGE, "%s:%d: too many keys", path, line_of(map));
	if (total && !(fields = calloc(total, sizeof(*fields))))
		return rs_error_set(RS_ERROR, "out of memory");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     rc == 0 && p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			rc = rs_error_set(RS_EUSAGE, "%s:%d: keys must be plain names", path,
					  k ? line_of(k) : line_of(map));
			break;
		}
		key = (const char *)k->data.scalar.value;
		for (size_t i = 0; i < n; i++)
			if (strcmp(fields[i].key, key) == 0)
				rc = rs_error_set(RS_EUSAGE, "%s:%d: duplicate key '%s'", path,
						  line_of(k), key);
		if (rc < 0)
			break;
		if (!(fields[n].key = strdup(key))) {
			rc = rs_error_set(RS_ERROR, "out of memory");
			break;
		}
		fields[n].line = line_of(k);
		fields[n].value.line = line_of(v);
		n++;
	}
	if (rc < 0) {
		fields_free(fields, n);
		return rc;
	}
	*out = fields;
	*count = n;
	return 0;
}

static int read_rules(struct rs_config *cfg, yaml_document_t *doc, yaml_node_t *node)
{
	size_t total;

	cfg->has_rules = 1;
	if (node->type == YAML_SCALAR_NODE && is_null_scalar(node))
		return 0;
	if (node->type != YAML_SEQUENCE_NODE)
		return rs_error_set(RS_EUSAGE, "%s:%d: 'rules' must be a list of rules", cfg->path,
				    line_of(node));
	total = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (total > CONFIG_MAX_ITEMS)
		return rs_error_set(RS_EUSAGE, "%s:%d: too many rules", cfg->path, line_of(node));
	if (total && !(cfg->rules = calloc(total, sizeof(*cfg->rules))))
		return rs_error_set(RS_ERROR, "out of memory");
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		struct rs_config_rule *rule = &cfg->rules[cfg->nrules];
		yaml_node_pair_t *p;
		size_t i = 0;
		int rc;

		if (!item || item->type != YAML_MAPPING_NODE)
			return rs_error_set(RS_EUSAGE, "%s:%d: each rule must be a mapping "
					    "(name: ..., tags: ..., keep_last: ...)", cfg->path,
					    item ? line_of(item) : line_of(node));
		rc = read_mapping(&rule->fields, &rule->nfields, doc, item, cfg->path);
		if (rc < 0)
			return rc;
		rule->line = line_of(item);
		cfg->nrules++;
		for (p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++, i++) {
			yaml_node_t *v = yaml_document_get_node(doc, p->value);

			rc = read_value(&rule->fields[i].value, doc, v, cfg->path, rule->fields[i].key);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int is_one_of(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

/* Check a top-level setting's key and the shape of its value. */
static int check_setting(const struct rs_config *cfg, const struct rs_config_field *f)
{
	int index = rs_settings_lookup(f->key);
	const struct rs_setting_info *info;

	if (index < 0 || strchr(f->key, '-'))
		return rs_error_set(RS_EUSAGE, "%s:%d: unknown key '%s'", cfg->path, f->line, f->key);
	info = &rs_setting_table[index];
	if (info->flags & RS_SETF_NO_FILE)
		return rs_error_set(RS_EUSAGE, "%s:%d: '%s' cannot be set in the config file",
				    cfg->path, f->line, f->key);
	if (f->value.is_list && !is_one_of(f->key, pattern_keys, 3) && info->type != RS_SET_LIST)
		return rs_error_set(RS_EUSAGE, "%s:%d: '%s' takes one value, not a list", cfg->path,
				    f->value.line, f->key);
	return 0;
}

static int read_root(struct rs_config *cfg, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	size_t i = 0;
	int rc;

	if (!root)
		return 0;   /* an empty file */
	if (root->type == YAML_SCALAR_NODE && is_null_scalar(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return rs_error_set(RS_EUSAGE, "%s:%d: the file must be a mapping of settings "
				    "(key: value)", cfg->path, line_of(root));
	rc = read_mapping(&cfg->settings, &cfg->nsettings, doc, root, cfg->path);
	if (rc < 0)
		return rc;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++, i++) {
		struct rs_config_field *f = &cfg->settings[i];
		yaml_node_t *v = yaml_document_get_node(doc, p->value);

		if (strcmp(f->key, "rules") == 0) {
			rc = read_rules(cfg, doc, v);
		} else {
			rc = read_value(&f->value, doc, v, cfg->path, f->key);
			if (rc == 0)
				rc = check_setting(cfg, f);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rs_config_parse(struct rs_config **out, const char *name, const char *text, size_t len)
{
	struct rs_config *cfg;
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(name))) {
		free(cfg);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	if (!yaml_parser_initialize(&parser)) {
		rs_config_free(cfg);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = rs_error_set(RS_EUSAGE, "%s:%d: %s%s%s", name, (int)parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "invalid YAML",
				  parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		rs_config_free(cfg);
		return rc;
	}
	rc = read_root(cfg, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		rs_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

static int holds_secret(const struct rs_config *cfg)
{
	for (size_t i = 0; i < cfg->nsettings; i++)
		if (cfg->settings[i].value.count &&
		    is_one_of(cfg->settings[i].key, secret_keys, 4))
			return 1;
	return 0;
}

int rs_config_load(struct rs_config **out, const char *path)
{
	struct rs_buf text = RS_BUF_INIT;
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rs_error_set(RS_ERROR, "cannot read config file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rs_error_set(RS_ERROR, "cannot read config file '%s': not a regular file", path);
	}
	rs_buf_init(&text, CONFIG_MAX_BYTES);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = rs_error_set(RS_ERROR, "cannot read config file '%s': %s", path,
					  strerror(errno));
			break;
		}
		if (rs_buf_put(&text, chunk, (size_t)n) < 0) {
			rc = rs_error_set(RS_EUSAGE, "config file '%s' is larger than 1 MiB", path);
			break;
		}
	}
	close(fd);
	if (rc == 0)
		rc = rs_config_parse(out, path, rs_buf_cstr(&text), text.len);
	rs_buf_release(&text);
	if (rc < 0)
		return rc;
	if ((st.st_mode & (S_IRGRP | S_IROTH)) && holds_secret(*out))
		rs_log(RS_LOG_WARN, "warning: config file '%s' holds a secret and is readable by "
		       "group or others: chmod 600 '%s'", path, path);
	return 0;
}

int rs_config_apply_settings(const struct rs_config *cfg, struct rs_settings *s)
{
	struct rs_buf joined = RS_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cfg->nsettings; i++) {
		const struct rs_config_field *f = &cfg->settings[i];

		if (strcmp(f->key, "rules") == 0 || !f->value.count)
			continue;
		if (rs_setting_table[rs_settings_lookup(f->key)].type == RS_SET_LIST) {
			/* each value on its own: a file name may hold a comma */
			for (size_t j = 0; rc == 0 && j < f->value.count; j++)
				rc = rs_settings_set(s, rs_settings_lookup(f->key), f->value.items[j],
						     RS_SRC_FILE);
			if (rc < 0)
				rs_error_prefix("%s:%d: ", cfg->path, f->value.line);
			continue;
		}
		rs_buf_reset(&joined);
		for (size_t j = 0; rc == 0 && j < f->value.count; j++)
			rc = rs_buf_printf(&joined, "%s%s", j ? "," : "", f->value.items[j]);
		if (rc == 0)
			rc = rs_settings_set(s, rs_settings_lookup(f->key), rs_buf_cstr(&joined),
					     RS_SRC_FILE);
		if (rc < 0)
			rs_error_prefix("%s:%d: ", cfg->path, f->value.line);
	}
	rs_buf_release(&joined);
	return rc;
}

const char *rs_config_path(const struct rs_config *cfg)
{
	return cfg ? cfg->path : "";
}

int rs_config_has_rules(const struct rs_config *cfg)
{
	return cfg && cfg->has_rules;
}

size_t rs_config_rule_count(const struct rs_config *cfg)
{
	return cfg ? cfg->nrules : 0;
}

const struct rs_config_rule *rs_config_rule_at(const struct rs_config *cfg, size_t index)
{
	return cfg && index < cfg->nrules ? &cfg->rules[index] : NULL;
}

const struct rs_config_field *rs_config_setting(const struct rs_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nsettings; i++)
		if (strcmp(cfg->settings[i].key, name) == 0 && strcmp(name, "rules") != 0)
			return &cfg->settings[i];
	return NULL;
}
