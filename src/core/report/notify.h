/* notify.h: telling a chat (or any webhook) how a run ended.
 *
 * When a run, apply or plan ends, regsweep POSTs one JSON document to each
 * --notify URL. It is made from the report's JSON document (report.h, or
 * planreport.h for a plan), never from the report's internals:
 *   {"text": one line for people, fit for a Slack, Mattermost or Teams
 *            incoming webhook: the command, the registry, the outcome, the
 *            bytes freed, the deletions and the failures,
 *    "outcome": "done" | "done in part" | "failed",
 *    "bytes_freed": bytes (on disk when known, else blob bytes), or null,
 *    and the report's figures under their report names: "report_version",
 *    "tool", "tool_version", "command", "registry", "dry_run", "started",
 *    "finished", "success", "exit_code", "requests", "before", "after",
 *    "change", "stages", "apply" (its counts), "gc", "errors", and for a
 *    plan "plan" with its "policy", "created" and "totals"}.
 * The long lists (deletions, untags, skips, per_repo, the plan's
 * decisions) stay in the report. Nothing secret is in it: the report holds
 * no secret, and the webhook's own URL is never part of the body.
 *
 * The text line names no repository or tag and quotes no error message
 * (a hostile registry could put "<!channel>" in one); it names the stage
 * that failed, and the errors are in "errors".
 *
 * Sending: one POST per URL with Content-Type: application/json, through
 * the transport (net/http.h), certificates verified against the system's
 * CAs (the registry's --cacert and --insecure do not apply). A failure (no
 * answer, or a status other than 2xx) is retried once when it may pass
 * (no answer, 408, 429, 5xx); both attempts together take at most
 * `timeout_ms`. A notification that fails is the caller's warning, never
 * the run's outcome. Retrying means a receiver may, rarely, get the same
 * notification twice.
 */
#ifndef RS_NOTIFY_H
#define RS_NOTIFY_H

enum rs_notify_when {
	RS_NOTIFY_ALWAYS = 0,     /* every run */
	RS_NOTIFY_FAILURE,        /* runs that did not succeed (exit code 1 or 3) */
	RS_NOTIFY_CHANGE          /* runs that deleted or untagged something (or would:
				   * dry runs and plans), and runs that did not succeed */
};

/* "always", "failure", "change"; RS_EUSAGE otherwise. */
int rs_notify_when_parse(enum rs_notify_when *out, const char *text);

/* Does the run whose report document is `report_json` call for a
 * notification under `when`? 1 or 0 (a document that cannot be read: 1). */
int rs_notify_wanted(const char *report_json, enum rs_notify_when when);

/* The notification for the report document `report_json` of `command`
 * ("run", "apply", "plan"); *out is the caller's. RS_EPROTO when the
 * document is not a JSON object. */
int rs_notify_body(char **out, const char *report_json, const char *command);

struct rs_notify_options {
	long connect_timeout_ms;
	long timeout_ms;          /* both attempts together, > 0 */
	long retry_delay_ms;      /* pause before the second attempt */
};

#define RS_NOTIFY_OPTIONS_INIT { 10000, 30000, 1000 }

/* POST `body` to `url`. Returns 0 when the receiver answered 2xx;
 * otherwise an error whose message shows the URL masked
 * (rs_url_mask): RS_EPROTO for another status, RS_ENET, RS_ETIMEOUT
 * or RS_ECANCELLED when no answer came, RS_EUSAGE for an unusable URL. */
int rs_notify_send(const char *url, const char *body, const struct rs_notify_options *opts);

#endif
