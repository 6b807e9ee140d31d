/* report_cli.c: the page and the notifications a reporting command ends
 * with. */
#include "report_cli.h"
#include "base/error.h"
#include "net/url.h"
#include "base/log.h"
#include "base/util.h"
#include "net/http.h"
#include "policy/planfile.h"
#include "report/html.h"
#include "report/notify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_publish_wanted(const struct cli_ctx *ctx)
{
	return (ctx->settings.html && *ctx->settings.html) || ctx->settings.notify.count > 0;
}

static int write_page(struct cli_ctx *ctx, const char *document)
{
	struct rs_buf page = RS_BUF_INIT;
	int rc = rs_report_html(&page, document, ctx->command ? ctx->command : "run");

	if (rc == 0)
		rc = cli_write_output(ctx->settings.html, rs_buf_cstr(&page), page.len);
	if (rc == 0)
		rs_log(RS_LOG_INFO, "report page written to '%s'", ctx->settings.html);
	rs_buf_release(&page);
	return rc;
}

static void notify_all(struct cli_ctx *ctx, const char *document)
{
	struct rs_notify_options opts = RS_NOTIFY_OPTIONS_INIT;
	enum rs_notify_when when = RS_NOTIFY_ALWAYS;
	char *body = NULL;

	if (ctx->settings.notify_on && rs_notify_when_parse(&when, ctx->settings.notify_on) < 0) {
		rs_log(RS_LOG_WARN, "warning: no notification: %s", rs_error_message());
		return;
	}
	if (!rs_notify_wanted(document, when)) {
		rs_log(RS_LOG_INFO, "no notification (--notify-on %s)", ctx->settings.notify_on);
		return;
	}
	if (rs_notify_body(&body, document, ctx->command ? ctx->command : "run") < 0) {
		rs_log(RS_LOG_WARN, "warning: no notification: %s", rs_error_message());
		return;
	}
	if (rs_contains_secret(body)) {
		/* a second line of defence: the report never holds one */
		rs_log(RS_LOG_WARN, "warning: no notification sent: it would hold a secret");
		free(body);
		return;
	}
	opts.connect_timeout_ms = (long)ctx->settings.connect_timeout * 1000;
	opts.timeout_ms = (long)ctx->settings.timeout * 1000;
	for (size_t i = 0; i < ctx->settings.notify.count; i++) {
		const char *url = ctx->settings.notify.items[i];
		char *masked = NULL;

		if (rs_notify_send(url, body, &opts) < 0) {
			rs_log(RS_LOG_WARN, "warning: %s (the run's outcome is unchanged)",
			       rs_error_message());
			continue;
		}
		if (rs_url_mask(&masked, url) == 0)
			rs_log(RS_LOG_INFO, "notified %s", masked);
		free(masked);
	}
	free(body);
}

int cli_publish(struct cli_ctx *ctx, const char *document)
{
	char message[4096];
	int code = rs_error_code(), rc = 0;

	/* sending may set errors of its own: the caller's (or the page's)
	 * message is the one left afterwards */
	rs_strlcpy(message, rs_error_message(), sizeof(message));
	if (ctx->settings.html && *ctx->settings.html)
		rc = write_page(ctx, document);
	if (rc < 0) {
		rs_strlcpy(message, rs_error_message(), sizeof(message));
		code = rc;
	}
	if (ctx->settings.notify.count)
		notify_all(ctx, document);
	rs_error_set(code, "%s", message);
	return rc;
}

int cli_publish_report(struct cli_ctx *ctx, const struct rs_report *report)
{
	char *document = NULL;
	int rc;

	if (!cli_publish_wanted(ctx))
		return 0;
	rc = rs_report_json(&document, report, 1);
	if (rc == 0)
		rc = cli_publish(ctx, document);
	free(document);
	return rc;
}

struct rs_report *cli_report_begin(struct cli_ctx *ctx)
{
	struct rs_report *report = NULL;
	char registry[2048];

	if (!cli_publish_wanted(ctx))
		return NULL;
	rs_url_strip_userinfo(registry, sizeof(registry),
			      ctx->settings.registry ? ctx->settings.registry : "");
	if (rs_report_new(&report, registry, ctx->settings.dry_run, (int64_t)time(NULL)) < 0)
		rs_log(RS_LOG_WARN, "warning: no report page or notification: %s", rs_error_message());
	return report;
}

void cli_report_end(struct cli_ctx *ctx, struct rs_report *report, int rc)
{
	if (!report)
		return;
	report->finished = (int64_t)time(NULL);
	report->exit_code = rc == 0 ? CLI_EXIT_OK : cli_exit_code(rc);
	report->requests = ctx->http ? rs_http_request_count(ctx->http) : 0;
	if (rc < 0)
		rs_report_error(report, rs_error_message());
}
