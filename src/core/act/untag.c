/* untag.c: removing a tag alone: the probe that tells how, a tag DELETE on
 * distribution 3.x, a placeholder pushed over the tag and deleted by digest
 * on 2.x, each checked before and after. */
#include "act/untag.h"
#include "base/buf.h"
#include "base/cancel.h"
#include "base/digest.h"
#include "base/error.h"
#include "net/url.h"
#include "base/log.h"
#include "base/map.h"
#include "base/util.h"
#include "model/manifest.h"
#include "net/auth.h"
#include "net/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PLACEHOLDER_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define SMALL_BODY (64 * 1024)

struct rs_untagger {
	struct rs_registry *reg;
	char probe_tag[64];            /* a tag name no one uses */
	struct rs_map blocked;         /* repo -> malloc'd reason it cannot untag */
	struct rs_map pushed;          /* repos holding this run's placeholder config */
	char *config;                  /* the placeholder's config blob, unique to the run */
	char config_digest[RS_DIGEST_MAX];
	char *manifest;                /* the placeholder manifest */
	char digest[RS_DIGEST_MAX];    /* its digest */
};

/* ------------------------------------------------------------- lifecycle */

static int random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];
	size_t got = 0;

	if (bytes > sizeof(raw))
		bytes = sizeof(raw);
	while (got < bytes) {
		ssize_t n = getrandom(raw + got, bytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rs_error_set(RS_ERROR, "cannot get random bytes: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* The placeholder: a config blob that names the run (so its digest is new
 * in every run), and an image manifest without layers that says what it
 * is, for anyone who comes across it. */
static int make_placeholder(struct rs_untagger *u, const char *run, int64_t now)
{
	struct rs_buf config = RS_BUF_INIT, manifest = RS_BUF_INIT;
	char when[64];
	int rc;

	rs_time_format(when, sizeof(when), now);
	rc = rs_buf_printf(&config, "{\"created\":\"%s\",\"regsweep\":\"untag placeholder\","
			   "\"run\":\"%s\"}", when, run);
	if (rc == 0)
		rc = rs_digest_sha256(u->config_digest, config.ptr, config.len);
	if (rc == 0)
		rc = rs_buf_printf(&manifest, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
				   "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
				   "\"layers\":[],\"annotations\":{"
				   "\"org.opencontainers.image.created\":\"%s\","
				   "\"org.opencontainers.image.description\":\"regsweep untag "
				   "placeholder: pushed over a tag that regsweep removes without its "
				   "image, then deleted; nothing to run\"}}",
				   PLACEHOLDER_MANIFEST_TYPE, RS_UNTAG_PLACEHOLDER_TYPE, u->config_digest,
				   config.len, when);
	if (rc == 0)
		rc = rs_digest_sha256(u->digest, manifest.ptr, manifest.len);
	if (rc == 0) {
		u->config = rs_buf_detach(&config);
		u->manifest = rs_buf_detach(&manifest);
		if (!u->config || !u->manifest)
			rc = rs_error_set(RS_ERROR, "out of memory");
	}
	rs_buf_release(&config);
	rs_buf_release(&manifest);
	return rc;
}

int rs_untagger_new(struct rs_untagger **out, struct rs_registry *reg, int64_t now)
{
	struct rs_untagger *u = calloc(1, sizeof(*u));
	char run[33];
	int rc;

	*out = NULL;
	if (!u)
		return rs_error_set(RS_ERROR, "out of memory");
	u->reg = reg;
	rc = random_hex(run, 16);
	if (rc == 0) {
		/* a valid tag name that no one has: it cannot hit a real tag */
		snprintf(u->probe_tag, sizeof(u->probe_tag), "regsweep-probe-%s", run);
		rc = make_placeholder(u, run, now);
	}
	if (rc < 0) {
		rs_untagger_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

void rs_untagger_free(struct rs_untagger *u)
{
	size_t pos = 0;
	void *value;

	if (!u)
		return;
	while (rs_map_next(&u->blocked, &pos, NULL, &value))
		free(value);
	rs_map_release(&u->blocked);
	rs_map_release(&u->pushed);
	free(u->config);
	free(u->manifest);
	free(u);
}

/* Remember why `repo` cannot untag (the first reason given stays). */
static const char *block(struct rs_untagger *u, const char *repo, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *block(struct rs_untagger *u, const char *repo, const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	const char *known = rs_map_get(&u->blocked, repo);
	char *why;
	va_list ap;
	int rc;

	if (known)
		return known;
	va_start(ap, fmt);
	rc = rs_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	why = rc == 0 ? rs_buf_detach(&buf) : NULL;
	rs_buf_release(&buf);
	if (!why || rs_map_put(&u->blocked, repo, why) < 0) {
		free(why);
		return "out of memory";
	}
	return why;
}

/* ------------------------------------------------------------ requests */

/* HEAD a manifest by tag or digest: 1 present (*digest set when given),
 * 0 absent, <0 error. */
static int head_manifest(struct rs_untagger *u, const char *repo, const char *ref,
			 char digest[RS_DIGEST_MAX])
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
	call.method = "HEAD";
	call.path = path;
	call.accept = RS_MANIFEST_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo, "pull");
	rc = rs_registry_call(u->reg, &call, &answer);
	if (digest)
		rs_strlcpy(digest, rc == 0 && answer.digest ? answer.digest : "", RS_DIGEST_MAX);
	rs_reg_answer_release(&answer);
	if (rc == RS_ENOTFOUND)
		return 0;
	if (rc == 0 && digest && !digest[0])
		return rs_error_set(RS_EPROTO, "HEAD %s:%s: no Docker-Content-Digest in the answer",
				    repo, ref);
	return rc < 0 ? rc : 1;
}

/* DELETE /v2/REPO/manifests/REF; *status is the answer's status (0: none). */
static int delete_manifest(struct rs_untagger *u, const char *repo, const char *ref,
			   long *status, char **body)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512];
	int rc;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
	call.method = "DELETE";
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo, "delete");
	call.max_body = SMALL_BODY;
	rc = rs_registry_call(u->reg, &call, &answer);
	*status = answer.status;
	if (body) {
		*body = answer.body;
		answer.body = NULL;
	}
	rs_reg_answer_release(&answer);
	return rc;
}

static int is_refusal(int rc)
{
	return rc == RS_EUNSUPPORTED || rc == RS_EREADONLY || rc == RS_EAUTH || rc == RS_EDENIED;
}

/* ---------------------------------------------------------------- probe */

/* DELETE of a tag no one uses: 404 (or 202) means the registry deletes
 * tags alone, 400 (DIGEST_INVALID) that it takes only digests. */
static int probe(struct rs_untagger *u, const char *repo)
{
	char *body = NULL;
	long status = 0;
	int rc = delete_manifest(u, repo, u->probe_tag, &status, &body);

	if (rc == RS_ECANCELLED) {
		free(body);
		return rc;
	}
	if (rc == 0 || rc == RS_ENOTFOUND) {
		rs_registry_set_feature(u->reg, RS_FEATURE_TAG_DELETE, 1);
		rs_log(RS_LOG_VERBOSE, "untag: the registry deletes a tag alone (DELETE of tag '%s' "
		       "in '%s' answered %ld)", u->probe_tag, repo, status);
	} else if (status == 400) {
		rs_registry_set_feature(u->reg, RS_FEATURE_TAG_DELETE, 0);
		rs_log(RS_LOG_VERBOSE, "untag: the registry deletes only by digest (400%s): tags go "
		       "alone through a placeholder", body && strstr(body, "DIGEST_INVALID")
		       ? " DIGEST_INVALID" : "");
	} else if (rc == RS_EUNSUPPORTED || rc == RS_EREADONLY) {
		/* the registry's own words: deletes disabled, or read-only */
		block(u, repo, "the registry refuses deletes: %s", rs_error_message());
	} else if (rc == RS_EAUTH || rc == RS_EDENIED) {
		block(u, repo, "the credentials lack 'delete' on '%s': %s", repo, rs_error_message());
	} else {
		block(u, repo, "cannot tell whether the registry deletes a tag alone: %s",
		      rs_error_message());
	}
	free(body);
	rs_error_clear();
	return 0;
}

enum rs_untag_method rs_untag_method(struct rs_untagger *u, const char *repo)
{
	int known = rs_registry_feature(u->reg, RS_FEATURE_TAG_DELETE);

	if (known < 0 && !rs_map_get(&u->blocked, repo) && probe(u, repo) < 0)
		return RS_UNTAG_UNKNOWN;
	known = rs_registry_feature(u->reg, RS_FEATURE_TAG_DELETE);
	return known < 0 ? RS_UNTAG_UNKNOWN : known ? RS_UNTAG_TAG_DELETE : RS_UNTAG_PLACEHOLDER;
}

const char *rs_untag_blocked(struct rs_untagger *u, const char *repo)
{
	enum rs_untag_method method = rs_untag_method(u, repo);
	const char *why = rs_map_get(&u->blocked, repo);
	struct rs_auth *auth = rs_registry_auth(u->reg);
	char scope[512];

	if (why)
		return why;
	if (method == RS_UNTAG_UNKNOWN)
		return rs_interrupted() ? "interrupted"
		       : block(u, repo, "cannot tell how this registry removes a tag alone");
	/* what the token's claims say; without claims the requests will tell */
	if (auth && rs_auth_grants(auth, rs_registry_scope(scope, sizeof(scope), repo,
							   "delete")) == 0)
		return block(u, repo, "the credentials lack 'delete' on '%s'", repo);
	if (method == RS_UNTAG_PLACEHOLDER && auth &&
	    rs_auth_grants(auth, rs_registry_scope(scope, sizeof(scope), repo, "pull,push")) == 0)
		return block(u, repo, "the credentials lack 'push' on '%s', which removing a tag "
			     "alone needs on this registry (distribution 2.x has no tag delete: "
			     "regsweep pushes a placeholder over the tag and deletes that)", repo);
	return NULL;
}

int rs_untag_check_plan(struct rs_plan *plan, struct rs_registry *reg, int64_t now)
{
	struct rs_untagger *u = NULL;
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < plan->nrepos; r++) {
		struct rs_plan_repo *pr = &plan->repos[r];
		const char *why = NULL;
		int asked = 0;

		for (size_t t = 0; rc == 0 && t < pr->ntags; t++) {
			struct rs_plan_tag *pt = &pr->tags[t];

			if (pt->verdict != RS_VERDICT_UNTAG)
				continue;
			if (!u && (rc = rs_untagger_new(&u, reg, now)) < 0)
				break;
			if (!asked) {
				why = rs_untag_blocked(u, pr->name);
				asked = 1;
			}
			if (rs_interrupted())
				rc = rs_error_set(RS_ECANCELLED, "interrupted");
			free(pt->blocked);
			pt->blocked = NULL;
			if (rc == 0 && why && !(pt->blocked = strdup(why)))
				rc = rs_error_set(RS_ERROR, "out of memory");
		}
	}
	rs_untagger_free(u);
	rs_plan_count(plan);
	return rc;
}

/* --------------------------------------------------------------- items */

static void outcome(struct rs_apply_item *item, enum rs_apply_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void outcome(struct rs_apply_item *item, enum rs_apply_outcome o, const char *fmt, ...)
{
	struct rs_buf buf = RS_BUF_INIT;
	va_list ap;

	item->outcome = o;
	if (!fmt)
		return;
	va_start(ap, fmt);
	if (rs_buf_vprintf(&buf, fmt, ap) == 0) {
		free(item->detail);
		item->detail = rs_buf_detach(&buf);
	}
	va_end(ap);
	rs_buf_release(&buf);
}

static const char *item_tag(const struct rs_apply_item *item)
{
	return item->ntags ? item->tags[0] : "";
}

static int is_placeholder(const struct rs_repo *now, const char *digest)
{
	const struct rs_manifest *m = rs_repo_find_manifest(now, digest);

	return m && m->config.media_type &&
	       strcmp(m->config.media_type, RS_UNTAG_PLACEHOLDER_TYPE) == 0;
}

/* Against the repository as listed again: the digest each pending tag must
 * still resolve to (the plan's, or a placeholder an interrupted run left),
 * in expect[i]; a tag gone or moved is decided here. */
static void recheck(const struct rs_repo *now, struct rs_apply_item *items, size_t n,
		    char (*expect)[RS_DIGEST_MAX])
{
	char shortd[RS_DIGEST_MAX];

	for (size_t i = 0; i < n; i++) {
		struct rs_apply_item *item = &items[i];
		const struct rs_tag *tag;

		expect[i][0] = '\0';
		if (item->outcome != RS_APPLY_PENDING)
			continue;
		tag = rs_repo_find_tag(now, item_tag(item));
		if (!tag)
			outcome(item, RS_APPLY_GONE, "the tag is already gone");
		else if (strcmp(tag->digest, item->digest) == 0 || is_placeholder(now, tag->digest))
			rs_strlcpy(expect[i], tag->digest, RS_DIGEST_MAX);
		else
			outcome(item, RS_APPLY_SKIPPED, "tag '%s' moved since the plan (now %s)",
				tag->name, rs_digest_short(shortd, tag->digest));
	}
}

/* Just before changing it: does the tag still resolve to `expect`?
 * 1 yes, 0 no (the item says how it went), <0 an error that stops. */
static int still_there(struct rs_untagger *u, struct rs_apply_item *item, const char *expect)
{
	char now[RS_DIGEST_MAX], shortd[RS_DIGEST_MAX];
	int rc = head_manifest(u, item->repo, item_tag(item), now);

	if (rc == RS_ECANCELLED)
		return rc;
	if (rc < 0) {
		outcome(item, RS_APPLY_FAILED, "cannot check the tag before removing it: %s",
			rs_error_message());
		return 0;
	}
	if (rc == 0) {
		outcome(item, RS_APPLY_GONE, "the tag is already gone");
		return 0;
	}
	if (strcmp(now, expect) != 0) {
		outcome(item, RS_APPLY_SKIPPED, "tag '%s' moved since the plan (now %s)",
			item_tag(item), rs_digest_short(shortd, now));
		return 0;
	}
	return 1;
}

/* After: the tag must be gone and, when `image` is given, the image there. */
static int confirm_gone(struct rs_untagger *u, struct rs_apply_item *item, const char *image)
{
	char now[RS_DIGEST_MAX], shortd[RS_DIGEST_MAX];
	int rc = head_manifest(u, item->repo, item_tag(item), now);

	if (rc == RS_ECANCELLED) {
		outcome(item, RS_APPLY_DELETED, "the registry accepted it; not confirmed (interrupted)");
		return rc;
	}
	if (rc < 0) {
		outcome(item, RS_APPLY_FAILED, "removed, but the check that the tag is gone failed: "
			"%s", rs_error_message());
		return 0;
	}
	if (rc == 1) {
		outcome(item, RS_APPLY_FAILED, "the registry accepted it but tag '%s' still resolves "
			"(to %s)", item_tag(item), rs_digest_short(shortd, now));
		return 0;
	}
	if (image) {
		rc = head_manifest(u, item->repo, image, NULL);
		if (rc == RS_ECANCELLED)
			return rc;
		if (rc == 0) {
			outcome(item, RS_APPLY_FAILED, "the tag is gone, but so is its image %s: "
				"restore it from the backup", rs_digest_short(shortd, image));
			return 0;
		}
		if (rc < 0) {
			outcome(item, RS_APPLY_FAILED, "the tag is gone; the check that its image "
				"stays failed: %s", rs_error_message());
			return 0;
		}
	}
	outcome(item, RS_APPLY_DELETED, NULL);
	return 0;
}

/* ----------------------------------------------------- 3.x: tag delete */

static int delete_tag(struct rs_untagger *u, struct rs_apply_item *item, const char *expect)
{
	long status = 0;
	int rc = still_there(u, item, expect);

	if (rc <= 0)
		return rc;
	rc = delete_manifest(u, item->repo, item_tag(item), &status, NULL);
	if (rc == RS_ENOTFOUND) {
		outcome(item, RS_APPLY_GONE, "the tag is already gone");
		return 0;
	}
	if (rc == RS_ECANCELLED)
		return rc;
	if (rc < 0) {
		outcome(item, RS_APPLY_FAILED, "%s", rs_error_message());
		return is_refusal(rc) ? rc : 0;
	}
	/* a placeholder left by an interrupted run may go with its tag */
	return confirm_gone(u, item, strcmp(expect, item->digest) == 0 ? item->digest : NULL);
}

/* ---------------------------------------------- 2.x: placeholder, delete */

/* The run's config blob in `repo`: POST an upload, PUT it with its digest.
 * Returns 0, or the error (its message set) that prevents it. */
static int push_config(struct rs_untagger *u, const char *repo)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512], *where = NULL, *origin = NULL, *ours = NULL, *digest = NULL;
	struct rs_buf url = RS_BUF_INIT;
	int rc;

	if (rs_map_get(&u->pushed, repo))
		return 0;
	snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", repo);
	call.method = "POST";
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo, "pull,push");
	call.max_body = SMALL_BODY;
	rc = rs_registry_call(u->reg, &call, &answer);
	if (rc == 0 && (!answer.location || !*answer.location))
		rc = rs_error_set(RS_EPROTO, "POST %s: the registry started an upload without a "
				  "Location", path);
	if (rc == 0 && !(where = strdup(answer.location)))
		rc = rs_error_set(RS_ERROR, "out of memory");
	rs_reg_answer_release(&answer);
	if (rc < 0)
		goto done;
	/* the upload URL must be on this registry: credentials go with it */
	if (rc == 0) {
		char *absolute = NULL;

		rc = rs_url_resolve(&absolute, rs_registry_url(u->reg), where);
		if (rc == 0)
			rc = rs_url_origin(&origin, absolute);
		if (rc == 0)
			rc = rs_url_origin(&ours, rs_registry_url(u->reg));
		if (rc == 0 && strcmp(origin, ours) != 0)
			rc = rs_error_set(RS_EPROTO, "the registry sends the upload to another server "
					  "('%s')", origin);
		if (rc == 0) {
			free(where);
			where = absolute;
			absolute = NULL;
		}
		free(absolute);
	}
	if (rc == 0)
		rc = rs_http_escape(&digest, u->config_digest);
	if (rc == 0)
		rc = rs_buf_printf(&url, "%s%sdigest=%s", where, strchr(where, '?') ? "&" : "?",
				   digest);
	if (rc < 0)
		goto done;
	call = (struct rs_reg_call)RS_REG_CALL_INIT;
	call.method = "PUT";
	call.path = url.ptr;
	call.scope = scope;
	call.content_type = "application/octet-stream";
	call.body = u->config;
	call.body_len = strlen(u->config);
	call.max_body = SMALL_BODY;
	rc = rs_registry_call(u->reg, &call, &answer);
	rs_reg_answer_release(&answer);
	if (rc == 0 && rs_map_put(&u->pushed, repo, (void *)1) < 0)
		rc = rs_error_set(RS_ERROR, "out of memory");
done:
	free(where);
	free(origin);
	free(ours);
	free(digest);
	rs_buf_release(&url);
	return rc;
}

/* Push the placeholder over the tag and see the tag resolve to it:
 * 1 placed, 0 not (the item says why), <0 an error that stops. *pushed is
 * set once the registry holds the placeholder, placed or not. */
static int place(struct rs_untagger *u, struct rs_apply_item *item, const char *expect,
		 int *pushed)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512], now[RS_DIGEST_MAX], shortd[RS_DIGEST_MAX];
	int rc = strcmp(expect, u->digest) == 0 ? 1 : still_there(u, item, expect);

	if (rc <= 0)
		return rc;
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", item->repo, item_tag(item));
	call.method = "PUT";
	call.path = path;
	call.scope = rs_registry_scope(scope, sizeof(scope), item->repo, "pull,push");
	call.content_type = PLACEHOLDER_MANIFEST_TYPE;
	call.body = u->manifest;
	call.body_len = strlen(u->manifest);
	call.max_body = SMALL_BODY;
	rc = rs_registry_call(u->reg, &call, &answer);
	if (rc == 0 && answer.digest && strcmp(answer.digest, u->digest) != 0)
		rc = rs_error_set(RS_EPROTO, "the registry stored the placeholder as %s, not %s",
				  answer.digest, u->digest);
	rs_reg_answer_release(&answer);
	if (rc == RS_ECANCELLED)
		return rc;
	if (rc == RS_EAUTH || rc == RS_EDENIED) {
		/* no 'push': the tag stays, and says why; nothing else changes */
		outcome(item, RS_APPLY_SKIPPED, "%s", block(u, item->repo, "the credentials lack "
			"'push' on '%s', which removing a tag alone needs on this registry: %s",
			item->repo, rs_error_message()));
		return 0;
	}
	if (rc < 0) {
		outcome(item, RS_APPLY_FAILED, "cannot push regsweep's placeholder over the tag: %s",
			rs_error_message());
		return is_refusal(rc) ? rc : 0;
	}
	*pushed = 1;
	rc = head_manifest(u, item->repo, item_tag(item), now);
	if (rc == RS_ECANCELLED)
		return rc;
	if (rc == 1 && strcmp(now, u->digest) == 0)
		return 1;
	if (rc == 1)
		outcome(item, RS_APPLY_SKIPPED, "tag '%s' moved while it was being removed (now %s)",
			item_tag(item), rs_digest_short(shortd, now));
	else
		outcome(item, RS_APPLY_FAILED, "the tag does not resolve to the placeholder pushed "
			"over it: %s", rc == 0 ? "it is gone" : rs_error_message());
	return 0;
}

static int untag_by_placeholder(struct rs_untagger *u, const char *repo,
				struct rs_apply_item *items, size_t n,
				char (*expect)[RS_DIGEST_MAX])
{
	char shortd[RS_DIGEST_MAX], why[1024];
	unsigned char *placed = calloc(n ? n : 1, 1);
	size_t nplaced = 0;
	int pushed = 0;
	long status = 0;
	int rc, stop;

	if (!placed)
		return rs_error_set(RS_ERROR, "out of memory");
	stop = 0;
	rc = push_config(u, repo);
	if (rc == RS_EAUTH || rc == RS_EDENIED) {
		const char *reason = block(u, repo, "the credentials lack 'push' on '%s', which "
					   "removing a tag alone needs on this registry: %s", repo,
					   rs_error_message());

		for (size_t i = 0; i < n; i++)
			if (items[i].outcome == RS_APPLY_PENDING)
				outcome(&items[i], RS_APPLY_SKIPPED, "%s", reason);
		rc = 0;
		goto done;
	}
	if (rc < 0 && rc != RS_ECANCELLED) {
		rs_strlcpy(why, rs_error_message(), sizeof(why));
		for (size_t i = 0; i < n; i++)
			if (items[i].outcome == RS_APPLY_PENDING)
				outcome(&items[i], RS_APPLY_FAILED, "cannot upload regsweep's "
					"placeholder: %s", why);
		rc = is_refusal(rc) ? rc : 0;
		goto done;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int r;

		if (items[i].outcome != RS_APPLY_PENDING)
			continue;
		if (rs_interrupted()) {
			rc = rs_error_set(RS_ECANCELLED, "interrupted");
			break;
		}
		r = place(u, &items[i], expect[i], &pushed);
		if (r < 0)
			rc = r;
		else if (r == 1) {
			placed[i] = 1;
			nplaced++;
		}
	}
	/* an interrupt or a refusal while placing: what is placed still goes */
	stop = rc;
	rc = 0;
	if (!nplaced && !pushed)
		goto done;
	/* one delete of the placeholder takes every tag now on it, and one
	 * pushed over a tag that someone moved meanwhile is not left behind */
	rc = delete_manifest(u, repo, u->digest, &status, NULL);
	if (rc == RS_ENOTFOUND)
		rc = 0;
	if (rc < 0) {
		rs_strlcpy(why, rs_error_message(), sizeof(why));
		for (size_t i = 0; i < n; i++)
			if (placed[i])
				outcome(&items[i], RS_APPLY_FAILED, "tag '%s' now points at regsweep's "
					"placeholder %s, which could not be deleted (%s): run apply "
					"again, or delete it by digest", item_tag(&items[i]),
					rs_digest_short(shortd, u->digest), why);
		rc = rc == RS_ECANCELLED || is_refusal(rc) ? rc : 0;
		goto done;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (placed[i])
			rc = confirm_gone(u, &items[i], strcmp(expect[i], items[i].digest) == 0
					  ? items[i].digest : NULL);
	/* placeholders an interrupted run left under these tags go too */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (placed[i] && strcmp(expect[i], items[i].digest) != 0 &&
		    strcmp(expect[i], u->digest) != 0 &&
		    delete_manifest(u, repo, expect[i], &status, NULL) < 0)
			rs_log(RS_LOG_WARN, "warning: a placeholder of an earlier run, %s in '%s', could "
			       "not be deleted: %s", expect[i], repo, rs_error_message());
done:
	free(placed);
	return rc < 0 ? rc : stop;
}

int rs_untag_repo(struct rs_untagger *u, const struct rs_repo *now, struct rs_apply_item *items,
		  size_t nitems, int dry_run)
{
	char (*expect)[RS_DIGEST_MAX];
	const char *repo, *why;
	size_t pending = 0;
	int rc = 0;

	if (!nitems)
		return 0;
	repo = items[0].repo;
	expect = calloc(nitems, sizeof(*expect));
	if (!expect)
		return rs_error_set(RS_ERROR, "out of memory");
	recheck(now, items, nitems, expect);
	for (size_t i = 0; i < nitems; i++)
		pending += items[i].outcome == RS_APPLY_PENDING;
	why = pending ? rs_untag_blocked(u, repo) : NULL;
	for (size_t i = 0; why && i < nitems; i++)
		if (items[i].outcome == RS_APPLY_PENDING)
			outcome(&items[i], RS_APPLY_SKIPPED, "%s", why);
	if (!pending || why)
		goto done;
	if (dry_run) {
		for (size_t i = 0; i < nitems; i++)
			if (items[i].outcome == RS_APPLY_PENDING)
				outcome(&items[i], RS_APPLY_WOULD_DELETE, NULL);
		goto done;
	}
	if (rs_untag_method(u, repo) == RS_UNTAG_TAG_DELETE) {
		for (size_t i = 0; rc == 0 && i < nitems; i++) {
			if (items[i].outcome != RS_APPLY_PENDING)
				continue;
			rc = rs_interrupted() ? rs_error_set(RS_ECANCELLED, "interrupted")
					      : delete_tag(u, &items[i], expect[i]);
		}
	} else {
		rc = untag_by_placeholder(u, repo, items, nitems, expect);
	}
	for (size_t i = 0; i < nitems; i++)
		if (items[i].outcome != RS_APPLY_PENDING)
			rs_log(RS_LOG_VERBOSE, "%s:%s (%s): %s", items[i].repo, item_tag(&items[i]),
			       items[i].digest, items[i].outcome == RS_APPLY_DELETED ? "untagged"
			       : rs_apply_outcome_name(items[i].outcome));
done:
	free(expect);
	return rc;
}
