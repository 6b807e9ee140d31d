/* configfile.h: the regsweep YAML config file (parsed with libyaml).
 *
 * Top-level keys are settings, named as in the settings table (`registry`,
 * `jobs`, `untagged_grace`, `ssh`, ...); `rules` is the ordered list of
 * policy rules the policy module reads. Errors name the file, the line and
 * the key. A file that holds a secret (password, token, ...) and is
 * readable by group or others draws a warning.
 *
 * Values are scalars or lists of scalars. A list given for a pattern
 * setting (`repos`, `tags`, `keep_tags`) is joined with commas, the form
 * the command line uses; a list setting (`in_use`) takes a scalar or a
 * list, value by value; any other setting takes one scalar. A null value
 * (`key:` or `key: ~`) leaves the setting as it was. Settings the file may
 * not hold (`config`, `out`, `verbose`, `progress`, `password_stdin`) are
 * refused.
 *
 * Everything returned by the getters is owned by the config and lives as
 * long as it does.
 */
#ifndef RS_CONFIGFILE_H
#define RS_CONFIGFILE_H

#include "config/settings.h"

#include <stddef.h>

struct rs_config;

/* A value: one scalar (is_list 0, count 1) or a list of scalars. */
struct rs_config_value {
	char **items;
	size_t count;
	int is_list;
	int line;              /* 1-based line of the value */
};

/* One `key: value` pair of a mapping. */
struct rs_config_field {
	char *key;
	struct rs_config_value value;
	int line;              /* 1-based line of the key */
};

/* One entry of `rules:`, its fields in file order (not validated here:
 * the policy module knows which keys a rule may have). */
struct rs_config_rule {
	struct rs_config_field *fields;
	size_t nfields;
	int line;
};

/* Parse `path`; *out is the caller's, free with rs_config_free(). Fails
 * with RS_EUSAGE ("FILE:LINE: ...") on YAML errors, unknown or duplicate
 * keys, and values of the wrong shape; RS_ERROR when the file cannot be
 * read. */
int rs_config_load(struct rs_config **out, const char *path);

/* Parse YAML text as if it were the file `name` (tests; no permission
 * check). */
int rs_config_parse(struct rs_config **out, const char *name, const char *text, size_t len);

void rs_config_free(struct rs_config *cfg);

/* Apply every top-level setting of the file to `s` as RS_SRC_FILE (a
 * stronger source already set wins). Errors are prefixed "FILE:LINE: ". */
int rs_config_apply_settings(const struct rs_config *cfg, struct rs_settings *s);

/* The path the config was loaded from. */
const char *rs_config_path(const struct rs_config *cfg);

/* Did the file have a `rules:` key (possibly an empty list)? */
int rs_config_has_rules(const struct rs_config *cfg);

/* The rules, in file order. */
size_t rs_config_rule_count(const struct rs_config *cfg);
const struct rs_config_rule *rs_config_rule_at(const struct rs_config *cfg, size_t index);

/* The top-level setting `name` as written in the file, or NULL. */
const struct rs_config_field *rs_config_setting(const struct rs_config *cfg, const char *name);

#endif
