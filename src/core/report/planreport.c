/* planreport.c: the plan's report document: the report's own JSON, with
 * the plan's figures and decisions added. */
#include "report/planreport.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static cJSON *string_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *time_or_null(int64_t when)
{
	char text[64];

	if (when == RS_TIME_UNKNOWN)
		return cJSON_CreateNull();
	return cJSON_CreateString(rs_time_format(text, sizeof(text), when));
}

static cJSON *totals_json(const struct rs_plan_totals *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "repositories", (double)t->repositories);
	cJSON_AddNumberToObject(o, "incomplete", (double)t->incomplete);
	cJSON_AddNumberToObject(o, "tags", (double)t->tags);
	cJSON_AddNumberToObject(o, "tags_deleted", (double)t->tags_deleted);
	cJSON_AddNumberToObject(o, "manifests", (double)t->manifests);
	cJSON_AddNumberToObject(o, "manifests_deleted", (double)t->manifests_deleted);
	cJSON_AddNumberToObject(o, "untagged_deleted", (double)t->untagged_deleted);
	cJSON_AddNumberToObject(o, "reclaimable_bytes", (double)t->reclaimable_bytes);
	return o;
}

static cJSON *deletion_json(const char *repo, const struct rs_plan_manifest *m)
{
	cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();

	for (size_t i = 0; i < m->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(m->tags[i]));
	cJSON_AddStringToObject(o, "repository", repo);
	cJSON_AddStringToObject(o, "digest", m->digest);
	cJSON_AddItemToObject(o, "media_type", string_or_null(m->media_type));
	cJSON_AddItemToObject(o, "tags", tags);
	cJSON_AddItemToObject(o, "reason", string_or_null(m->reason));
	cJSON_AddStringToObject(o, "outcome", "planned");
	cJSON_AddNullToObject(o, "detail");
	return o;
}

static cJSON *repo_json(const struct rs_plan_repo *r)
{
	cJSON *o = cJSON_CreateObject();
	size_t tags_deleted = 0;

	for (size_t i = 0; i < r->ntags; i++)
		tags_deleted += r->tags[i].verdict == RS_VERDICT_DELETE;
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddBoolToObject(o, "complete", r->complete);
	cJSON_AddItemToObject(o, "note", string_or_null(r->note));
	cJSON_AddNumberToObject(o, "tags", (double)r->ntags);
	cJSON_AddNumberToObject(o, "tags_deleted", (double)tags_deleted);
	cJSON_AddNumberToObject(o, "manifests", (double)(r->ndeletions + r->nkept));
	cJSON_AddNumberToObject(o, "manifests_deleted", (double)r->ndeletions);
	return o;
}

static cJSON *tag_json(const char *repo, const struct rs_plan_tag *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "repository", repo);
	cJSON_AddStringToObject(o, "tag", t->name);
	cJSON_AddItemToObject(o, "digest", t->digest[0] ? cJSON_CreateString(t->digest)
							 : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "created", time_or_null(t->created));
	cJSON_AddStringToObject(o, "decision", t->verdict == RS_VERDICT_DELETE ? "delete" : "keep");
	cJSON_AddItemToObject(o, "reason", string_or_null(t->reason));
	return o;
}

static cJSON *plan_json(const struct rs_plan *plan, cJSON *deletions)
{
	cJSON *o = cJSON_CreateObject(), *repos = cJSON_CreateArray(), *tags = cJSON_CreateArray();

	cJSON_AddItemToObject(o, "policy", string_or_null(plan->policy));
	cJSON_AddItemToObject(o, "created", time_or_null(plan->created));
	cJSON_AddItemToObject(o, "totals", totals_json(&plan->totals));
	for (size_t r = 0; r < plan->nrepos; r++) {
		const struct rs_plan_repo *repo = &plan->repos[r];

		cJSON_AddItemToArray(repos, repo_json(repo));
		for (size_t i = 0; i < repo->ntags; i++)
			cJSON_AddItemToArray(tags, tag_json(repo->name, &repo->tags[i]));
		for (size_t i = 0; i < repo->ndeletions; i++)
			cJSON_AddItemToArray(deletions, deletion_json(repo->name, &repo->deletions[i]));
	}
	cJSON_AddItemToObject(o, "repositories", repos);
	cJSON_AddItemToObject(o, "tags", tags);
	return o;
}

int rs_plan_report_json(char **out, const struct rs_report *report, const struct rs_plan *plan)
{
	cJSON *doc = NULL, *deletions;
	char *base = NULL;
	int rc;

	*out = NULL;
	rc = rs_report_json(&base, report, 1);
	if (rc < 0)
		return rc;
	doc = cJSON_Parse(base);
	free(base);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	cJSON_AddStringToObject(doc, "command", "plan");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "skips");
	deletions = cJSON_CreateArray();
	if (!deletions || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "deletions", deletions)) {
		cJSON_Delete(deletions);
		cJSON_Delete(doc);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	cJSON_AddItemToObject(doc, "plan", plan_json(plan, deletions));
	*out = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	return 0;
}
