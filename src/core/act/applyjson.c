/* applyjson.c: the results of apply and restore as JSON documents, for
 * --json, the report and the record apply leaves in its backup. */
#include "act/apply.h"
#include "base/buf.h"
#include "base/error.h"
#include "act/restore.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *strv(char *const *items, size_t n)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(items[i]));
	return array;
}

static void add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

/* Print `root` (which this frees) with a final newline into *out. */
static int print(char **out, cJSON *root)
{
	struct rs_buf buf = RS_BUF_INIT;
	char *text = root ? cJSON_Print(root) : NULL;
	int rc;

	*out = NULL;
	cJSON_Delete(root);
	if (!text)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = rs_buf_printf(&buf, "%s\n", text);
	free(text);
	if (rc < 0)
		return rc;
	*out = rs_buf_detach(&buf);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

cJSON *rs_apply_item_cjson(const struct rs_apply_item *it)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "action", it->action == RS_APPLY_UNTAG ? "untag" : "delete");
	cJSON_AddStringToObject(obj, "repository", it->repo);
	cJSON_AddStringToObject(obj, "digest", it->digest);
	add_string_or_null(obj, "media_type", it->media_type);
	cJSON_AddItemToObject(obj, "tags", strv(it->tags, it->ntags));
	add_string_or_null(obj, "reason", it->reason);
	cJSON_AddStringToObject(obj, "outcome", rs_apply_outcome_name(it->outcome));
	add_string_or_null(obj, "detail", it->detail);
	return obj;
}

cJSON *rs_apply_result_cjson(const struct rs_apply_result *r, int with_items)
{
	cJSON *root = cJSON_CreateObject(), *items;
	char when[64];

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "registry", r->registry ? r->registry : "");
	cJSON_AddBoolToObject(root, "dry_run", r->dry_run);
	add_string_or_null(root, "backup_dir", r->backup_dir);
	cJSON_AddStringToObject(root, "started", rs_time_format(when, sizeof(when), r->started));
	cJSON_AddNumberToObject(root, "deleted", (double)r->deleted);
	cJSON_AddNumberToObject(root, "untagged", (double)r->untagged);
	cJSON_AddNumberToObject(root, "already_gone", (double)r->gone);
	cJSON_AddNumberToObject(root, "skipped", (double)r->skipped);
	cJSON_AddNumberToObject(root, "failed", (double)r->failed);
	cJSON_AddNumberToObject(root, "not_attempted", (double)r->pending);
	cJSON_AddNumberToObject(root, "would_delete", (double)r->would_delete);
	cJSON_AddNumberToObject(root, "would_untag", (double)r->would_untag);
	add_string_or_null(root, "stopped", r->stop_reason);
	if (!with_items)
		return root;
	items = cJSON_AddArrayToObject(root, "items");
	for (size_t i = 0; items && i < r->nitems + r->nuntags; i++)
		cJSON_AddItemToArray(items, rs_apply_item_cjson(i < r->nitems ? &r->items[i]
								: &r->untags[i - r->nitems]));
	return root;
}

int rs_apply_result_json(char **out, const struct rs_apply_result *r)
{
	return print(out, rs_apply_result_cjson(r, 1));
}

int rs_restore_result_json(char **out, const struct rs_restore_result *r)
{
	cJSON *root = cJSON_CreateObject(), *items;

	if (!root)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_AddStringToObject(root, "registry", r->registry ? r->registry : "");
	cJSON_AddBoolToObject(root, "dry_run", r->dry_run);
	cJSON_AddNumberToObject(root, "restored", (double)r->done);
	cJSON_AddNumberToObject(root, "present", (double)r->present);
	cJSON_AddNumberToObject(root, "impossible", (double)r->impossible);
	cJSON_AddNumberToObject(root, "failed", (double)r->failed);
	cJSON_AddNumberToObject(root, "not_attempted", (double)r->pending);
	cJSON_AddNumberToObject(root, "possible", (double)r->possible);
	cJSON_AddNumberToObject(root, "tags_restored", (double)r->tags_restored);
	cJSON_AddNumberToObject(root, "tags_left_alone", (double)r->tags_conflicting);
	items = cJSON_AddArrayToObject(root, "items");
	for (size_t i = 0; items && i < r->nitems; i++) {
		const struct rs_restore_item *it = &r->items[i];
		cJSON *obj = cJSON_CreateObject();

		if (!obj)
			break;
		cJSON_AddStringToObject(obj, "repository", it->repo);
		cJSON_AddStringToObject(obj, "digest", it->digest);
		cJSON_AddItemToObject(obj, "tags", strv(it->tags, it->ntags));
		cJSON_AddStringToObject(obj, "outcome", rs_restore_outcome_name(it->outcome));
		add_string_or_null(obj, "detail", it->detail);
		cJSON_AddItemToArray(items, obj);
	}
	return print(out, root);
}
