/* configfile.h: the regsweep YAML config file (parsed with libyaml).
 *
 * Top-level keys are settings, named as in the settings table (`registry`,
 * `jobs`, `untagged_grace`, `ssh`, ...); `rules` is the ordered list of
 * policy rules the policy module reads. Errors name the file, the line and
 * the key. A file that holds a secret (password, token, ...) and is
 * readable by group or others draws a warning.
 */
#ifndef RS_CONFIGFILE_H
#define RS_CONFIGFILE_H

#include "settings.h"

struct rs_config;

/* Parse `path`; *out is the caller's, free with rs_config_free(). */
int rs_config_load(struct rs_config **out, const char *path);
void rs_config_free(struct rs_config *cfg);

/* Apply every top-level setting of the file to `s` as RS_SRC_FILE. */
int rs_config_apply_settings(const struct rs_config *cfg, struct rs_settings *s);

/* The path the config was loaded from. */
const char *rs_config_path(const struct rs_config *cfg);

#endif
