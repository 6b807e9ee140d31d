/* html.h: the run report as one self-contained HTML page, for people who
 * open it the next morning (a Jenkins artifact, a GitLab exposed artifact,
 * a file:// link).
 *
 * The page is rendered from the report's JSON document (rs_report_json(),
 * or the plan's document from rs_plan_report_json()), never from the
 * report's internals, so that every figure on it is the JSON report's:
 * counts are printed as the JSON has them, and sizes are printed for
 * people with the exact byte count beside them. Each figure's cell carries
 * data-key="before.tags" (the JSON path) and data-value="N" (the number),
 * so that scripts and tests can check the page against the document.
 *
 * What the page holds: the registry, the command, the outcome and exit
 * code, the times; the before/after/change table; a chart of each
 * repository's bytes before and after (inline SVG), largest first; the
 * stages with their durations; garbage collection's steps and figures;
 * the deletions, untags (when the document lists any) and skips with their
 * reasons; the errors. A plan's document adds the plan's totals, its
 * figures per repository and every tag's decision.
 *
 * Self-contained and inert: one file, no script, no external style, font,
 * image or link (inline CSS and SVG only; the only href values are anchors
 * within the page), and a Content-Security-Policy that forbids loading
 * anything. Every string that came from the registry or the run
 * (repository names, tags, digests, reasons, errors, the registry URL) is
 * HTML-escaped. Long lists are cut at RS_HTML_MAX_ROWS rows, saying how
 * many more the JSON report holds.
 */
#ifndef RS_HTML_H
#define RS_HTML_H

#include "base/buf.h"

#include <stddef.h>

#define RS_HTML_MAX_ROWS 10000

/* Append the page for the report document `json` (text) to `out`.
 * `command` names what ran ("run", "apply", "plan") for the title. Returns
 * 0; RS_EPROTO when `json` is not a JSON object; RS_ERROR when out of
 * memory. */
int rs_report_html(struct rs_buf *out, const char *json, const char *command);

/* Append `text` to `out` with &, <, >, " and ' escaped and control
 * characters (but tab and newline) replaced, for HTML text and attribute
 * values. */
int rs_html_escape(struct rs_buf *out, const char *text);

#endif
