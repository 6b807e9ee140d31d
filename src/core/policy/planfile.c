/* planfile.c: writing the plan as JSON and reading it back, checking
 * everything on the way in. */
#include "policy/planfile.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/file.h"
#include "net/url.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/map.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN_FORMAT "regsweep-plan"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (512u * 1024 * 1024)

/* ------------------------------------------------------------------ write */

static cJSON *json_time(int64_t when)
{
	char text[64];

	if (when == RS_TIME_UNKNOWN)
		return cJSON_CreateNull();
	return cJSON_CreateString(rs_time_format(text, sizeof(text), when));
}

static cJSON *json_strv(char *const *items, size_t n)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(items[i]));
	return array;
}

static cJSON *json_manifest(const struct rs_plan_manifest *m, const char *repo)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	if (repo)
		cJSON_AddStringToObject(obj, "repository", repo);
	cJSON_AddStringToObject(obj, "digest", m->digest);
	cJSON_AddItemToObject(obj, "tags", json_strv(m->tags, m->ntags));
	cJSON_AddStringToObject(obj, "reason", m->reason ? m->reason : "");
	if (m->media_type)
		cJSON_AddStringToObject(obj, "media_type", m->media_type);
	else
		cJSON_AddNullToObject(obj, "media_type");
	cJSON_AddItemToObject(obj, "created", json_time(m->created));
	cJSON_AddItemToObject(obj, "stored_at", json_time(m->stored_at));
	cJSON_AddNumberToObject(obj, "size", (double)m->size);
	if (repo) {
		cJSON_AddItemToObject(obj, "children", json_strv(m->children, m->nchildren));
		cJSON_AddStringToObject(obj, "subject", m->subject);
	}
	return obj;
}

static const char *decision_name(enum rs_verdict verdict)
{
	switch (verdict) {
	case RS_VERDICT_DELETE: return "delete";
	case RS_VERDICT_UNTAG: return "untag";
	default: return "keep";
	}
}

static cJSON *json_repo(const struct rs_plan_repo *r)
{
	cJSON *obj = cJSON_CreateObject(), *map, *decisions, *kept;

	if (!obj)
		return NULL;
	cJSON_AddStringToObject(obj, "name", r->name);
	cJSON_AddBoolToObject(obj, "complete", r->complete);
	if (r->note)
		cJSON_AddStringToObject(obj, "note", r->note);
	if (r->failure)
		cJSON_AddStringToObject(obj, "failure", r->failure);
	map = cJSON_AddObjectToObject(obj, "tags");
	decisions = cJSON_AddArrayToObject(obj, "decisions");
	kept = cJSON_AddArrayToObject(obj, "kept");
	for (size_t i = 0; map && decisions && i < r->ntags; i++) {
		const struct rs_plan_tag *t = &r->tags[i];
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(map, t->name, t->digest);
		if (!d)
			continue;
		cJSON_AddStringToObject(d, "tag", t->name);
		cJSON_AddStringToObject(d, "digest", t->digest);
		cJSON_AddItemToObject(d, "created", json_time(t->created));
		cJSON_AddItemToObject(d, "pushed", json_time(t->pushed_at));
		cJSON_AddStringToObject(d, "decision", decision_name(t->verdict));
		cJSON_AddStringToObject(d, "reason", t->reason ? t->reason : "");
		if (t->verdict == RS_VERDICT_UNTAG && t->blocked)
			cJSON_AddStringToObject(d, "untag_blocked", t->blocked);
		cJSON_AddItemToArray(decisions, d);
	}
	for (size_t i = 0; kept && i < r->nkept; i++)
		cJSON_AddItemToArray(kept, json_manifest(&r->kept[i], NULL));
	return obj;
}

static cJSON *json_totals(const struct rs_plan_totals *t)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	cJSON_AddNumberToObject(obj, "repositories", (double)t->repositories);
	cJSON_AddNumberToObject(obj, "incomplete", (double)t->incomplete);
	cJSON_AddNumberToObject(obj, "tags", (double)t->tags);
	cJSON_AddNumberToObject(obj, "tags_deleted", (double)t->tags_deleted);
	cJSON_AddNumberToObject(obj, "tags_untagged", (double)t->tags_untagged);
	cJSON_AddNumberToObject(obj, "untags_blocked", (double)t->untags_blocked);
	cJSON_AddNumberToObject(obj, "manifests", (double)t->manifests);
	cJSON_AddNumberToObject(obj, "manifests_deleted", (double)t->manifests_deleted);
	cJSON_AddNumberToObject(obj, "untagged_deleted", (double)t->untagged_deleted);
	cJSON_AddNumberToObject(obj, "reclaimable_bytes", (double)t->reclaimable_bytes);
	return obj;
}

static cJSON *json_in_use_refs(const struct rs_plan_in_use_ref *refs, size_t n)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; array && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "repository", refs[i].repository);
		cJSON_AddStringToObject(o, "reference", refs[i].reference);
		if (refs[i].digest[0])
			cJSON_AddStringToObject(o, "digest", refs[i].digest);
		else
			cJSON_AddNullToObject(o, "digest");
		cJSON_AddStringToObject(o, "source", refs[i].source);
		cJSON_AddItemToArray(array, o);
	}
	return array;
}

static cJSON *json_in_use(const struct rs_plan *plan)
{
	const struct rs_plan_in_use *u = plan->in_use;
	cJSON *obj;

	if (!u)
		return cJSON_CreateNull();
	obj = cJSON_CreateObject();
	if (!obj)
		return NULL;
	cJSON_AddNumberToObject(obj, "references", (double)u->references);
	cJSON_AddNumberToObject(obj, "this_registry", (double)u->this_registry);
	cJSON_AddNumberToObject(obj, "other_registries", (double)u->other_registries);
	cJSON_AddNumberToObject(obj, "image_ids", (double)u->image_ids);
	cJSON_AddItemToObject(obj, "kept", json_in_use_refs(u->kept, u->nkept));
	cJSON_AddItemToObject(obj, "missing", json_in_use_refs(u->missing, u->nmissing));
	return obj;
}

int rs_planfile_in_use_format(char **out, const struct rs_plan *plan)
{
	cJSON *obj = json_in_use(plan);

	*out = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

int rs_planfile_format(char **out, const struct rs_plan *plan)
{
	cJSON *root = cJSON_CreateObject(), *repos, *deletions;
	char registry[2048], *text = NULL;
	struct rs_buf buf = RS_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if (!root)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_AddStringToObject(root, "format", PLAN_FORMAT);
	cJSON_AddNumberToObject(root, "version", PLAN_VERSION);
	cJSON_AddStringToObject(root, "registry", rs_url_strip_userinfo(registry, sizeof(registry),
									  plan->registry));
	cJSON_AddItemToObject(root, "created", json_time(plan->created));
	cJSON_AddStringToObject(root, "policy", plan->policy ? plan->policy : "");
	cJSON_AddItemToObject(root, "totals", json_totals(&plan->totals));
	if (plan->in_use)
		cJSON_AddItemToObject(root, "in_use", json_in_use(plan));
	repos = cJSON_AddArrayToObject(root, "repositories");
	deletions = cJSON_AddArrayToObject(root, "deletions");
	for (size_t r = 0; repos && deletions && r < plan->nrepos; r++) {
		const struct rs_plan_repo *pr = &plan->repos[r];

		cJSON_AddItemToArray(repos, json_repo(pr));
		for (size_t i = 0; i < pr->ndeletions; i++)
			cJSON_AddItemToArray(deletions, json_manifest(&pr->deletions[i], pr->name));
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	/* cJSON drops what it could not allocate: only a complete print is trusted */
	if (!text || !repos || !deletions)
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc == 0)
		rc = rs_buf_printf(&buf, "%s\n", text);
	free(text);
	if (rc == 0 && rs_contains_secret(rs_buf_cstr(&buf)))
		rc = rs_error_set(RS_ERROR, "the plan would contain a secret: not written");
	if (rc < 0) {
		rs_buf_release(&buf);
		return rc;
	}
	*out = rs_buf_detach(&buf);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

/* ------------------------------------------------------------------- read */

/* Look-ups for checking a repository's deletions against its tag map. */
struct repo_index {
	struct rs_map tags;            /* tag name -> index in the repository's tags + 1 */
	struct rs_map on_digest;       /* digest -> how many tags point at it */
	struct rs_map deleted;         /* digests the plan deletes */
	size_t deletions_cap;          /* room in the repository's deletions */
};

struct reader {
	const char *name;
	struct rs_plan *plan;
	struct repo_index *index;      /* parallel to plan->repos */
	struct rs_map repo_names;      /* name -> index in plan->repos + 1 */
};

static void reader_release(struct reader *rd)
{
	for (size_t i = 0; rd->index && rd->plan && i < rd->plan->nrepos; i++) {
		rs_map_release(&rd->index[i].tags);
		rs_map_release(&rd->index[i].on_digest);
		rs_map_release(&rd->index[i].deleted);
	}
	free(rd->index);
	rs_map_release(&rd->repo_names);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int bad(const struct reader *rd, const char *what)
{
	return rs_error_set(RS_EUSAGE, "plan '%s' is not a valid regsweep plan: %s", rd->name, what);
}

static int read_string(char **out, const struct reader *rd, const cJSON *obj, const char *key,
		       int optional)
{
	const cJSON *item = member(obj, key);
	char what[256];

	*out = NULL;
	if ((!item || cJSON_IsNull(item)) && optional)
		return 0;
	if (!cJSON_IsString(item)) {
		snprintf(what, sizeof(what), "'%s' is missing or not a string", key);
		return bad(rd, what);
	}
	*out = strdup(item->valuestring);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

static int read_time(int64_t *out, const struct reader *rd, const cJSON *obj, const char *key)
{
	const cJSON *item = member(obj, key);
	char what[256];

	*out = RS_TIME_UNKNOWN;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item)) {
		snprintf(what, sizeof(what), "'%s' is not a date", key);
		return bad(rd, what);
	}
	/* dates only inform people: one that does not read back is unknown */
	if (rs_time_parse(out, item->valuestring) < 0) {
		*out = RS_TIME_UNKNOWN;
		rs_error_clear();
	}
	return 0;
}

static int read_digest(char out[RS_DIGEST_MAX], const struct reader *rd, const cJSON *item,
		       int may_be_empty)
{
	char what[256];

	if (!cJSON_IsString(item) ||
	    !((may_be_empty && !*item->valuestring) || rs_digest_valid(item->valuestring)) ||
	    strlen(item->valuestring) >= RS_DIGEST_MAX) {
		snprintf(what, sizeof(what), "invalid digest '%.80s'",
			 cJSON_IsString(item) ? item->valuestring : "");
		return bad(rd, what);
	}
	rs_strlcpy(out, item->valuestring, RS_DIGEST_MAX);
	return 0;
}

static int read_digest_list(char ***out, size_t *count, const struct reader *rd,
			    const cJSON *array, int tags)
{
	const cJSON *item;
	size_t n;

	*out = NULL;
	*count = 0;
	if (!array || cJSON_IsNull(array))
		return 0;
	if (!cJSON_IsArray(array))
		return bad(rd, "a list is expected");
	n = (size_t)cJSON_GetArraySize(array);
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, array) {
		char digest[RS_DIGEST_MAX];
		int rc;

		if (tags) {
			if (!cJSON_IsString(item) || !rs_valid_tag(item->valuestring))
				return bad(rd, "invalid tag name");
		} else if ((rc = read_digest(digest, rd, item, 0)) < 0) {
			return rc;
		}
		if (!((*out)[*count] = strdup(item->valuestring)))
			return rs_error_set(RS_ERROR, "out of memory");
		(*count)++;
	}
	return 0;
}

static int read_manifest(struct rs_plan_manifest *m, const struct reader *rd, const cJSON *obj)
{
	const cJSON *size = member(obj, "size"), *subject = member(obj, "subject");
	int rc;

	if (!cJSON_IsObject(obj))
		return bad(rd, "a manifest entry is not an object");
	rc = read_digest(m->digest, rd, member(obj, "digest"), 0);
	if (rc == 0)
		rc = read_digest_list(&m->tags, &m->ntags, rd, member(obj, "tags"), 1);
	if (rc == 0)
		rc = read_string(&m->reason, rd, obj, "reason", 0);
	if (rc == 0)
		rc = read_string(&m->media_type, rd, obj, "media_type", 1);
	if (rc == 0)
		rc = read_time(&m->created, rd, obj, "created");
	if (rc == 0)
		rc = read_time(&m->stored_at, rd, obj, "stored_at");
	if (rc == 0)
		rc = read_digest_list(&m->children, &m->nchildren, rd, member(obj, "children"), 0);
	if (rc == 0 && subject && !cJSON_IsNull(subject))
		rc = read_digest(m->subject, rd, subject, 1);
	if (rc == 0 && size && !cJSON_IsNumber(size))
		rc = bad(rd, "'size' is not a number");
	if (rc == 0)
		m->size = size ? rs_double_to_int64(size->valuedouble, -1) : 0;
	return rc;
}

static int read_tags(struct rs_plan_repo *r, struct repo_index *ix, const struct reader *rd,
		     const cJSON *obj)
{
	const cJSON *map = member(obj, "tags"), *decisions = member(obj, "decisions"), *item;
	size_t n;

	if (!cJSON_IsObject(map))
		return bad(rd, "a repository has no 'tags' map");
	n = (size_t)cJSON_GetArraySize(map);
	r->tags = calloc(n ? n : 1, sizeof(*r->tags));
	if (!r->tags)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, map) {
		struct rs_plan_tag *t = &r->tags[r->ntags];
		uintptr_t count;
		int rc;

		if (!rs_valid_tag(item->string))
			return bad(rd, "invalid tag name");
		if (rs_map_get(&ix->tags, item->string))
			return bad(rd, "a tag is listed twice");
		if (!(t->name = strdup(item->string)))
			return rs_error_set(RS_ERROR, "out of memory");
		r->ntags++;
		t->created = RS_TIME_UNKNOWN;
		t->pushed_at = RS_TIME_UNKNOWN;
		if ((rc = read_digest(t->digest, rd, item, !r->complete)) < 0)
			return rc;
		count = (uintptr_t)rs_map_get(&ix->on_digest, t->digest) + 1;
		if (rs_map_put(&ix->tags, t->name, (void *)(uintptr_t)r->ntags) < 0 ||
		    rs_map_put(&ix->on_digest, t->digest, (void *)count) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	if (decisions && !cJSON_IsArray(decisions))
		return bad(rd, "'decisions' is not a list");
	cJSON_ArrayForEach(item, decisions) {
		const char *tag = cJSON_GetStringValue(member(item, "tag"));
		const char *decision = cJSON_GetStringValue(member(item, "decision"));
		uintptr_t slot = tag ? (uintptr_t)rs_map_get(&ix->tags, tag) : 0;
		struct rs_plan_tag *t = slot ? &r->tags[slot - 1] : NULL;
		int rc;

		if (!t || !decision || (strcmp(decision, "keep") != 0 &&
					strcmp(decision, "delete") != 0 && strcmp(decision, "untag") != 0))
			return bad(rd, "a decision names no listed tag or no valid decision");
		t->verdict = strcmp(decision, "delete") == 0 ? RS_VERDICT_DELETE
			     : strcmp(decision, "untag") == 0 ? RS_VERDICT_UNTAG : RS_VERDICT_KEEP;
		if (t->verdict == RS_VERDICT_UNTAG && (!r->complete || !t->digest[0]))
			return bad(rd, "it untags a tag in an incomplete repository");
		free(t->reason);
		free(t->blocked);
		t->blocked = NULL;
		if ((rc = read_string(&t->reason, rd, item, "reason", 1)) < 0 ||
		    (rc = read_time(&t->created, rd, item, "created")) < 0 ||
		    (rc = read_time(&t->pushed_at, rd, item, "pushed")) < 0 ||
		    (t->verdict == RS_VERDICT_UNTAG &&
		     (rc = read_string(&t->blocked, rd, item, "untag_blocked", 1)) < 0))
			return rc;
	}
	return 0;
}

static int read_repo(struct rs_plan_repo *r, struct repo_index *ix, const struct reader *rd,
		     const cJSON *obj)
{
	const cJSON *complete = member(obj, "complete"), *kept = member(obj, "kept"), *item;
	int rc;

	if (!cJSON_IsObject(obj))
		return bad(rd, "a repository entry is not an object");
	rc = read_string(&r->name, rd, obj, "name", 0);
	if (rc == 0 && !rs_valid_repo_name(r->name))
		rc = bad(rd, "invalid repository name");
	if (rc == 0 && !cJSON_IsBool(complete))
		rc = bad(rd, "'complete' is missing");
	if (rc < 0)
		return rc;
	r->complete = cJSON_IsTrue(complete);
	rc = read_string(&r->note, rd, obj, "note", 1);
	if (rc == 0)
		rc = read_string(&r->failure, rd, obj, "failure", 1);
	if (rc == 0)
		rc = read_tags(r, ix, rd, obj);
	if (rc < 0)
		return rc;
	if (kept && !cJSON_IsArray(kept))
		return bad(rd, "'kept' is not a list");
	r->kept = calloc((size_t)cJSON_GetArraySize(kept) + 1, sizeof(*r->kept));
	if (!r->kept)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, kept) {
		r->nkept++;
		r->kept[r->nkept - 1].verdict = RS_VERDICT_KEEP;
		if ((rc = read_manifest(&r->kept[r->nkept - 1], rd, item)) < 0)
			return rc;
	}
	return 0;
}

/* A deletion must agree with its repository: complete, listed once, and
 * naming exactly the tags that point at its digest (one DELETE removes
 * them all). */
static int check_deletion(const struct rs_plan_repo *r, struct repo_index *ix,
			  const struct rs_plan_manifest *m, const struct reader *rd)
{
	char what[512] = "a deletion does not name every tag on its digest";

	if (!r->complete) {
		snprintf(what, sizeof(what), "it deletes %s in incomplete repository '%s'", m->digest,
			 r->name);
		return bad(rd, what);
	}
	if (rs_map_get(&ix->deleted, m->digest))
		return bad(rd, "a deletion is listed twice");
	for (size_t k = 0; k < m->ntags; k++) {
		uintptr_t slot = (uintptr_t)rs_map_get(&ix->tags, m->tags[k]);

		for (size_t j = 0; j < k; j++)
			if (strcmp(m->tags[j], m->tags[k]) == 0)
				return bad(rd, "a deletion names a tag twice");
		if (!slot || strcmp(r->tags[slot - 1].digest, m->digest) != 0) {
			snprintf(what, sizeof(what), "deletion %s in '%s' names tag '%s', which the tag "
				 "map does not point at it", m->digest, r->name, m->tags[k]);
			return bad(rd, what);
		}
	}
	if ((uintptr_t)rs_map_get(&ix->on_digest, m->digest) != m->ntags) {
		for (size_t i = 0; i < r->ntags; i++) {
			int named = 0;

			if (strcmp(r->tags[i].digest, m->digest) != 0)
				continue;
			for (size_t k = 0; k < m->ntags; k++)
				named |= strcmp(m->tags[k], r->tags[i].name) == 0;
			if (!named)
				snprintf(what, sizeof(what), "deletion %s in '%s' would also remove tag "
					 "'%s', which it does not name", m->digest, r->name,
					 r->tags[i].name);
		}
		return bad(rd, what);
	}
	if (rs_map_put(&ix->deleted, m->digest, (void *)1) < 0)
		return rs_error_set(RS_ERROR, "out of memory");
	return 0;
}

static int read_deletions(struct rs_plan *plan, struct reader *rd, const cJSON *array)
{
	const cJSON *item;

	if (!cJSON_IsArray(array))
		return bad(rd, "'deletions' is missing or not a list");
	cJSON_ArrayForEach(item, array) {
		const char *repo = cJSON_GetStringValue(member(item, "repository"));
		uintptr_t slot = repo ? (uintptr_t)rs_map_get(&rd->repo_names, repo) : 0;
		struct rs_plan_repo *r = slot ? &plan->repos[slot - 1] : NULL;
		struct repo_index *ix = slot ? &rd->index[slot - 1] : NULL;
		struct rs_plan_manifest m, *grown = NULL;
		int rc;

		if (!r)
			return bad(rd, "a deletion names a repository the plan does not list");
		memset(&m, 0, sizeof(m));
		m.verdict = RS_VERDICT_DELETE;
		rc = read_manifest(&m, rd, item);
		if (rc == 0)
			rc = check_deletion(r, ix, &m, rd);
		if (rc == 0 && r->ndeletions == ix->deletions_cap) {
			size_t cap = ix->deletions_cap ? ix->deletions_cap * 2 : 16;

			if (!(grown = realloc(r->deletions, cap * sizeof(*grown))))
				rc = rs_error_set(RS_ERROR, "out of memory");
			else {
				r->deletions = grown;
				ix->deletions_cap = cap;
			}
		}
		if (rc < 0) {
			rs_plan_manifest_release(&m);
			return rc;
		}
		r->deletions[r->ndeletions++] = m;
	}
	return 0;
}

/* A tag untagged alone must be on a digest that stays: deleting its digest
 * would take the tag anyway, and any other tag on it. */
static int check_untags(const struct rs_plan *plan, const struct reader *rd)
{
	char what[512];

	for (size_t r = 0; r < plan->nrepos; r++) {
		const struct rs_plan_repo *pr = &plan->repos[r];

		for (size_t t = 0; t < pr->ntags; t++) {
			const struct rs_plan_tag *pt = &pr->tags[t];

			if (pt->verdict != RS_VERDICT_UNTAG ||
			    !rs_map_get(&rd->index[r].deleted, pt->digest))
				continue;
			snprintf(what, sizeof(what), "it untags '%s:%s' but also deletes its digest %s",
				 pr->name, pt->name, pt->digest);
			return bad(rd, what);
		}
	}
	return 0;
}

static int read_root(struct reader *rd, const cJSON *root)
{
	const cJSON *repos = member(root, "repositories"), *version = member(root, "version");
	const cJSON *item, *totals = member(root, "totals");
	struct rs_plan *plan = rd->plan;
	int rc;

	if (!cJSON_IsObject(root) ||
	    strcmp(cJSON_GetStringValue(member(root, "format")) ?
		   cJSON_GetStringValue(member(root, "format")) : "", PLAN_FORMAT) != 0)
		return bad(rd, "no \"format\": \"" PLAN_FORMAT "\"");
	if (!cJSON_IsNumber(version) || version->valuedouble != PLAN_VERSION)
		return bad(rd, "unsupported version (this regsweep reads version 1)");
	free(plan->registry);
	if ((rc = read_string(&plan->registry, rd, root, "registry", 0)) < 0 ||
	    (rc = read_string(&plan->policy, rd, root, "policy", 1)) < 0 ||
	    (rc = read_time(&plan->created, rd, root, "created")) < 0)
		return rc;
	if (!cJSON_IsArray(repos))
		return bad(rd, "'repositories' is missing or not a list");
	plan->repos = calloc((size_t)cJSON_GetArraySize(repos) + 1, sizeof(*plan->repos));
	rd->index = calloc((size_t)cJSON_GetArraySize(repos) + 1, sizeof(*rd->index));
	if (!plan->repos || !rd->index)
		return rs_error_set(RS_ERROR, "out of memory");
	cJSON_ArrayForEach(item, repos) {
		struct rs_plan_repo *r = &plan->repos[plan->nrepos++];

		if ((rc = read_repo(r, &rd->index[plan->nrepos - 1], rd, item)) < 0)
			return rc;
		if (rs_map_get(&rd->repo_names, r->name))
			return bad(rd, "a repository is listed twice");
		if (rs_map_put(&rd->repo_names, r->name, (void *)(uintptr_t)plan->nrepos) < 0)
			return rs_error_set(RS_ERROR, "out of memory");
	}
	rc = read_deletions(plan, rd, member(root, "deletions"));
	if (rc == 0)
		rc = check_untags(plan, rd);
	if (rc < 0)
		return rc;
	plan->totals.reclaimable_bytes = -1;
	if (cJSON_IsNumber(member(totals, "reclaimable_bytes")))
		plan->totals.reclaimable_bytes =
			rs_double_to_int64(member(totals, "reclaimable_bytes")->valuedouble, -1);
	rs_plan_count(plan);
	return 0;
}

int rs_planfile_parse(struct rs_plan **out, const char *text, size_t len, const char *name)
{
	struct reader rd;
	cJSON *root;
	int rc;

	*out = NULL;
	memset(&rd, 0, sizeof(rd));
	rd.name = name;
	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return bad(&rd, "not JSON");
	rc = rs_plan_new(&rd.plan, "");
	if (rc == 0)
		rc = read_root(&rd, root);
	cJSON_Delete(root);
	reader_release(&rd);
	if (rc < 0) {
		rs_plan_free(rd.plan);
		return rc;
	}
	*out = rd.plan;
	return 0;
}

int rs_planfile_read(struct rs_plan **out, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = rs_file_read(&text, &len, path, PLAN_MAX_BYTES);
	if (rc == RS_ENOTFOUND)
		return rs_error_set(RS_EUSAGE, "cannot read plan '%s': it does not exist", path);
	if (rc == RS_EPROTO)
		return rs_error_set(RS_EUSAGE, "plan '%s' is too large", path);
	if (rc < 0)
		return rs_error_set(RS_EUSAGE, "cannot read plan: %s", rs_error_message());
	rc = rs_planfile_parse(out, text, len, path);
	free(text);
	return rc;
}
