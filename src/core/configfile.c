/* configfile.c: placeholder until the YAML loader lands: refuses config files. */
#include "configfile.h"
#include "error.h"

int rs_config_load(struct rs_config **out, const char *path)
{
	*out = NULL;
	return rs_error_set(RS_EUSAGE, "cannot read '%s': config files are not supported yet", path);
}

void rs_config_free(struct rs_config *cfg)
{
	(void)cfg;
}

int rs_config_apply_settings(const struct rs_config *cfg, struct rs_settings *s)
{
	(void)cfg;
	(void)s;
	return 0;
}

const char *rs_config_path(const struct rs_config *cfg)
{
	(void)cfg;
	return "";
}
