/* referrers.c: discovering OCI referrers through the registry's referrers
 * API and adding the untagged ones to the inventory. */
#include "scan/referrers.h"
#include "base/error.h"
#include "net/http.h"
#include "base/log.h"
#include "model/manifest.h"
#include "base/map.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 4                       /* referrers of referrers of ... */
#define REFERRERS_MAX_BODY (8u * 1024 * 1024)
#define MAX_PAGES 1000
#define REFERRERS_ACCEPT "Accept: " RS_MT_STR_OCI_INDEX

struct discover {
	struct rs_registry *reg;
	struct rs_map asked;               /* "repo@digest" whose referrers were asked for */
	struct rs_map found;               /* "repo@digest" to add */
	struct rs_stored_manifest *list;   /* what to add this round */
	size_t nlist, cap;
	int fatal;
};

struct job {
	struct discover *d;
	struct rs_repo *repo;
	int pages;
};

static int key_of(char *out, size_t outsize, const char *repo, const char *digest)
{
	return snprintf(out, outsize, "%s@%s", repo, digest) >= (int)outsize ? -1 : 0;
}

static int add_found(struct discover *d, struct rs_repo *repo, const char *digest)
{
	struct rs_stored_manifest *grown;
	char key[600];

	if (rs_repo_find_manifest(repo, digest) || key_of(key, sizeof(key), repo->name, digest) < 0 ||
	    rs_map_get(&d->found, key))
		return 0;
	if (d->nlist == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		grown = realloc(d->list, cap * sizeof(*grown));
		if (!grown)
			return rs_error_set(RS_ERROR, "out of memory");
		d->list = grown;
		d->cap = cap;
	}
	memset(&d->list[d->nlist], 0, sizeof(d->list[0]));
	d->list[d->nlist].repo = repo->name;
	rs_strlcpy(d->list[d->nlist].digest, digest, RS_DIGEST_MAX);
	d->list[d->nlist].stored_at = RS_TIME_UNKNOWN;
	d->nlist++;
	return rs_map_put(&d->found, key, (void *)1);
}

static int submit(struct discover *d, struct rs_repo *repo, const char *path, int pages);

static void on_referrers(struct rs_reg_result *res, void *ud)
{
	struct job *job = ud;
	struct discover *d = job->d;
	char **digests = NULL, *next = NULL;
	int rc = res->rc;

	if (rc == 0)
		rc = rs_referrers_parse(&digests, res->body->ptr ? res->body->ptr : "", res->body->len);
	if (rc == 0)
		rc = rs_http_link_next(&next, res->link, res->url);
	for (size_t i = 0; rc == 0 && digests && digests[i]; i++)
		rc = add_found(d, job->repo, digests[i]);
	if (rc == 0 && next && job->pages < MAX_PAGES)
		rc = submit(d, job->repo, next, job->pages + 1);
	if (rc == RS_ERROR)
		d->fatal = 1;
	else if (rc < 0)
		rs_log(RS_LOG_VERBOSE, "referrers in '%s': %s (referrers not listed count as "
		       "unknown, not as gone)", job->repo->name, rs_error_message());
	rs_strv_free(digests);
	free(next);
	free(job);
}

static int submit(struct discover *d, struct rs_repo *repo, const char *path, int pages)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct job *job = calloc(1, sizeof(*job));
	char scope[512];
	int rc;

	if (!job)
		return rs_error_set(RS_ERROR, "out of memory");
	job->d = d;
	job->repo = repo;
	job->pages = pages;
	call.path = path;
	call.accept = REFERRERS_ACCEPT;
	call.scope = rs_registry_scope(scope, sizeof(scope), repo->name, "pull");
	call.max_body = REFERRERS_MAX_BODY;
	rc = rs_registry_submit(d->reg, &call, on_referrers, job);
	if (rc < 0)
		free(job);
	return rc;
}

/* Ask for the referrers of every manifest not asked about yet. */
static int ask_round(struct discover *d, struct rs_inventory *inv)
{
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < inv->nrepos; r++) {
		struct rs_repo *repo = inv->repos[r];

		for (size_t m = 0; rc == 0 && m < repo->nmanifests; m++) {
			char key[600], path[1024];

			if (key_of(key, sizeof(key), repo->name, repo->manifests[m]->digest) < 0 ||
			    rs_map_get(&d->asked, key))
				continue;
			rc = rs_map_put(&d->asked, key, (void *)1);
			snprintf(path, sizeof(path), "/v2/%s/referrers/%s", repo->name,
				 repo->manifests[m]->digest);
			if (rc == 0)
				rc = submit(d, repo, path, 0);
		}
	}
	if (rc < 0)
		return rc;
	rc = rs_http_run(rs_registry_http(d->reg));
	if (rc == 0 && d->fatal)
		rc = rs_error_set(RS_ERROR, "out of memory");
	return rc;
}

/* Does the registry serve the referrers API? One GET for the first manifest. */
static int probe(struct rs_registry *reg, const struct rs_inventory *inv)
{
	struct rs_reg_call call = RS_REG_CALL_INIT;
	struct rs_reg_answer answer;
	char path[1024], scope[512], **digests = NULL;
	int rc = -1;

	for (size_t r = 0; r < inv->nrepos; r++) {
		const struct rs_repo *repo = inv->repos[r];

		if (!repo->nmanifests)
			continue;
		snprintf(path, sizeof(path), "/v2/%s/referrers/%s", repo->name,
			 repo->manifests[0]->digest);
		call.path = path;
		call.accept = REFERRERS_ACCEPT;
		call.scope = rs_registry_scope(scope, sizeof(scope), repo->name, "pull");
		call.max_body = REFERRERS_MAX_BODY;
		rc = rs_registry_call(reg, &call, &answer);
		if (rc == 0)
			rc = rs_referrers_parse(&digests, answer.body ? answer.body : "", answer.body_len);
		rs_strv_free(digests);
		rs_reg_answer_release(&answer);
		break;
	}
	if (rc == RS_ECANCELLED)
		return rc;
	return rc == 0;
}

int rs_referrers_discover(struct rs_inventory *inv, struct rs_registry *reg,
			  const struct rs_scan_options *opts, int *supported)
{
	struct discover d;
	unsigned from_storage = inv->from_storage;
	int rc, partial = 0;

	if (supported)
		*supported = 0;
	rc = probe(reg, inv);
	if (rc <= 0) {
		if (rc == 0)
			rs_log(RS_LOG_VERBOSE, "the registry has no referrers API: referrers are "
			       "known from tags and the storage only");
		return rc < 0 ? rc : 0;
	}
	if (supported)
		*supported = 1;
	memset(&d, 0, sizeof(d));
	d.reg = reg;
	rc = 0;
	for (int round = 0; rc == 0 && round < ROUNDS; round++) {
		d.nlist = 0;
		rc = ask_round(&d, inv);
		if (rc < 0 || !d.nlist)
			break;
		rs_log(RS_LOG_VERBOSE, "referrers API: %zu untagged referrer%s to read", d.nlist,
		       d.nlist == 1 ? "" : "s");
		rc = rs_scan_add_stored(inv, reg, d.list, d.nlist, opts);
		if (rc == RS_EPARTIAL) {
			partial = 1;
			rc = 0;
		}
	}
	/* these came from the API, not from a listing of the storage */
	inv->from_storage = from_storage;
	free(d.list);
	rs_map_release(&d.asked);
	rs_map_release(&d.found);
	if (rc == 0 && partial)
		rc = rs_error_set(RS_EPARTIAL, "some referrers could not be read: nothing is deleted "
				  "in their repositories");
	return rc;
}
