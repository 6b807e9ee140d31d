/* cmd_restore.c: `regsweep restore DIR`: put back what apply deleted, from
 * its backup; says what cannot come back. */
#include "cli.h"
#include "base/error.h"
#include "policy/plan.h"
#include "policy/planfile.h"
#include "act/restore.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

static int format_result(struct rs_buf *out, const struct rs_restore_result *r)
{
	char shortd[RS_DIGEST_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < r->nitems; i++) {
		const struct rs_restore_item *it = &r->items[i];

		rc = rs_buf_printf(out, "%-16s %s@%s ", rs_restore_outcome_name(it->outcome), it->repo,
				   rs_digest_short(shortd, it->digest));
		for (size_t t = 0; rc == 0 && t < it->ntags; t++)
			rc = rs_buf_printf(out, "%s%s", t ? "," : "", it->tags[t]);
		if (rc == 0 && !it->ntags)
			rc = rs_buf_puts(out, "(untagged)");
		if (rc == 0)
			rc = rs_buf_printf(out, "%s%s\n", it->detail ? "  " : "",
					   it->detail ? it->detail : "");
	}
	if (rc == 0 && r->dry_run)
		rc = rs_buf_printf(out, "dry run: %zu can be restored, %zu still present, %zu cannot "
				   "come back, %zu failed; nothing was changed\n", r->possible,
				   r->present, r->impossible, r->failed);
	else if (rc == 0)
		rc = rs_buf_printf(out, "restore: %zu restored, %zu still present, %zu cannot come "
				   "back, %zu failed, %zu not attempted; %zu tags back, %zu left "
				   "alone\n", r->done, r->present, r->impossible, r->failed, r->pending,
				   r->tags_restored, r->tags_conflicting);
	return rc;
}

int cmd_restore(struct cli_ctx *ctx)
{
	struct rs_restore_options opts = RS_RESTORE_OPTIONS_INIT;
	struct rs_restore_result *res = NULL;
	struct rs_buf text = RS_BUF_INIT;
	char *json = NULL;
	struct rs_error_state kept;
	int rc, out_rc;

	if (ctx->argc != 1)
		return rs_error_set(RS_EUSAGE, "'restore' needs the backup directory apply wrote: "
				    "regsweep restore DIR");
	rc = cli_connect(ctx);
	if (rc < 0)
		return rc;
	opts.dry_run = ctx->settings.dry_run;
	rc = rs_restore(&res, ctx->registry, ctx->argv[0], &opts);
	if (!res)
		return rc;
	rs_error_save(&kept);
	if (ctx->settings.json) {
		out_rc = rs_restore_result_json(&json, res);
		if (out_rc == 0)
			out_rc = cli_write_output(NULL, json, strlen(json));
	} else {
		out_rc = format_result(&text, res);
		if (out_rc == 0)
			out_rc = cli_write_output(NULL, rs_buf_cstr(&text), text.len);
	}
	if (rc == 0 && out_rc < 0)
		rc = out_rc;
	else if (rc < 0)
		rs_error_restore(&kept);
	free(json);
	rs_buf_release(&text);
	rs_restore_result_free(res);
	return rc;
}
