/* cmd_config.c: `regsweep config`, the effective settings with secrets masked. */
#include "cli.h"
#include "base/error.h"
#include "net/url.h"
#include "storage/s3cred.h"
#include "policy/planfile.h"
#include "policy/policy.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int cmd_config(struct cli_ctx *ctx)
{
	struct rs_buf out = RS_BUF_INIT;
	struct rs_policy *policy = NULL;
	char s3_line[600];
	int rc;

	/* the policy is part of the configuration: a bad rule is an error here too */
	rc = rs_policy_build(&policy, ctx->config, &ctx->settings);
	if (rc < 0)
		return rc;
	rs_s3_credentials_describe(s3_line, sizeof(s3_line), ctx->settings.s3_credentials, NULL);

	if (ctx->settings.json) {
		cJSON *root = cJSON_CreateObject();
		char *text;

		for (size_t i = 0; root && i < rs_setting_count; i++) {
			char value[1024];

			rs_settings_format(&ctx->settings, (int)i, value, sizeof(value));
			if (strcmp(rs_setting_table[i].name, "registry") == 0)
				rs_url_strip_userinfo(value, sizeof(value), ctx->settings.registry ?
						      ctx->settings.registry : "");
			cJSON_AddStringToObject(root, rs_setting_table[i].name, value);
		}
		if (root && s3_line[0])
			cJSON_AddStringToObject(root, "s3_credentials_found", s3_line);
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
			if (strcmp(rs_setting_table[i].name, "registry") == 0)
				rs_url_strip_userinfo(value, sizeof(value), ctx->settings.registry ?
						      ctx->settings.registry : "");
			rc = rs_buf_printf(&out, "%-20s %-40s # %s\n", rs_setting_table[i].name, value,
					   rs_settings_source_name(ctx->settings.sources[i]));
		}
		/* where S3 keys would come from, short of the registry config,
		 * with the secrets masked */
		if (rc == 0 && s3_line[0])
			rc = rs_buf_printf(&out, "# s3 credentials: %s\n", s3_line);
		if (rc == 0)
			rc = rs_buf_printf(&out, "# policy: %s, %zu rule%s\n", policy->source,
					   policy->nrules, policy->nrules == 1 ? "" : "s");
		for (size_t i = 0; rc == 0 && i < policy->nrules; i++) {
			const struct rs_rule *r = &policy->rules[i];

			rc = rs_buf_printf(&out, "#   %zu. '%s': ", i + 1, r->name);
			if (rc == 0 && r->keep == RS_RULE_KEEP_ALL)
				rc = rs_buf_puts(&out, "keep all");
			else if (rc == 0 && r->keep == RS_RULE_KEEP_NONE)
				rc = rs_buf_puts(&out, "keep none");
			if (rc == 0 && r->keep_last >= 0)
				rc = rs_buf_printf(&out, "keep the newest %d", r->keep_last);
			if (rc == 0 && r->keep_newer_than >= 0) {
				char age[32];

				rc = rs_buf_printf(&out, "%skeep those newer than %s",
						   r->keep_last >= 0 ? " and " : "",
						   rs_duration_format(age, sizeof(age), r->keep_newer_than));
			}
			if (rc == 0 && r->keep == RS_RULE_KEEP_SOME && r->order == RS_ORDER_PUSHED)
				rc = rs_buf_puts(&out, ", by push time");
			else if (rc == 0 && r->keep == RS_RULE_KEEP_SOME && r->order == RS_ORDER_VERSION)
				rc = rs_buf_puts(&out, ", by version");
			if (rc == 0)
				rc = rs_buf_puts(&out, "\n");
		}
	}
	if (rc == 0)
		rc = cli_write_output(NULL, rs_buf_cstr(&out), out.len);
	rs_buf_release(&out);
	rs_policy_free(policy);
	return rc;
}
