/* cmd_config.c: `regsweep config`, the effective settings with secrets masked. */
#include "cli.h"
#include "error.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int cmd_config(struct cli_ctx *ctx)
{
	struct rs_buf out = RS_BUF_INIT;
	int rc = 0;

	if (ctx->settings.json) {
		cJSON *root = cJSON_CreateObject();
		char *text;

		for (size_t i = 0; root && i < rs_setting_count; i++) {
			char value[1024];

			rs_settings_format(&ctx->settings, (int)i, value, sizeof(value));
			cJSON_AddStringToObject(root, rs_setting_table[i].name, value);
		}
		text = root ? cJSON_Print(root) : NULL;
		cJSON_Delete(root);
		if (!text)
			return rs_error_set(RS_ERROR, "out of memory");
		rc = rs_buf_printf(&out, "%s\n", text);
		free(text);
	} else {
		for (size_t i = 0; rc == 0 && i < rs_setting_count; i++) {
			char value[1024];

			rs_settings_format(&ctx->settings, (int)i, value, sizeof(value));
			rc = rs_buf_printf(&out, "%-20s %-40s # %s\n", rs_setting_table[i].name, value,
					   rs_settings_source_name(ctx->settings.sources[i]));
		}
	}
	if (rc == 0)
		rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	rs_buf_release(&out);
	return rc;
}
