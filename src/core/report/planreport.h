/* planreport.h: a plan as a report document, so that `regsweep plan` has
 * what `run` and `apply` have: a page (html.h) and a notification
 * (notify.h) made from one JSON document. The plan file that --out and
 * --json write is not this: it stays the plan's own format (planfile.h).
 *
 * The document is the report's (report.h, report_version 1, per_repo
 * included), made from `report` (the registry, times, figures before the
 * plan, stages, errors, exit code), with:
 *   "command": "plan", "after": null, "change": null, "apply": null,
 *   "gc": null, no "skips";
 *   "deletions": the manifests the plan deletes, in plan order, each
 *     {"repository","digest","media_type","tags","reason",
 *      "outcome":"planned","detail":null};
 *   "plan": {"policy", "created",
 *     "totals": {"repositories","incomplete","tags","tags_deleted",
 *                "manifests","manifests_deleted","untagged_deleted",
 *                "reclaimable_bytes" (-1 unknown)},
 *     "repositories": [{"name","complete","note","tags","tags_deleted",
 *                       "manifests","manifests_deleted"}],
 *     "tags": [{"repository","tag","digest","created","decision","reason"}]}
 * where "decision" is "keep" or "delete" and "created" is RFC 3339 or null.
 */
#ifndef RS_PLANREPORT_H
#define RS_PLANREPORT_H

#include "policy/plan.h"
#include "report/report.h"

/* The document for `plan`, with the run's facts from `report`; *out is the
 * caller's. */
int rs_plan_report_json(char **out, const struct rs_report *report, const struct rs_plan *plan);

#endif
