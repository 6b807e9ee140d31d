/* test_referrers.c: referrers found through the registry's referrers API
 * join the inventory and follow their subject in the plan; a registry
 * without the API is left alone. Against a scripted registry on loopback. */
#include "base/error.h"
#include "net/http.h"
#include "model/inventory.h"
#include "model/manifest.h"
#include "policy/plan.h"
#include "policy/policy.h"
#include "scan/referrers.h"
#include "net/registry.h"
#include "config/settings.h"
#include "base/util.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_http.h"

/* 0 "old" image, 1 "keep" image, 2 referrer of 0, 3 referrer of 1,
 * 4 referrer of 2 (a signature of the SBOM): 2, 3 and 4 are untagged. */
#define NMAN 5

static struct {
	char body[NMAN][1024];
	char digest[NMAN][RS_DIGEST_MAX];
	int subject[NMAN];             /* index of the subject, -1 for none */
	int no_api;                    /* answer the referrers API with 404 */
	int referrer_gets;             /* GETs of /referrers/ */
} reg;

static void handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	const char *manifests = "/v2/app/manifests/", *referrers = "/v2/app/referrers/";

	(void)ud;
	if (strncmp(req->url, referrers, strlen(referrers)) == 0) {
		char list[2048] = "";

		reg.referrer_gets++;
		if (reg.no_api) {
			mock_reply(resp, 404, "404 page not found");
			return;
		}
		for (int i = 0; i < NMAN; i++)
			if (reg.subject[i] >= 0 &&
			    strcmp(reg.digest[reg.subject[i]], req->url + strlen(referrers)) == 0)
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					 "%s{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"}",
					 list[0] ? "," : "", RS_MT_STR_OCI_MANIFEST, strlen(reg.body[i]),
					 reg.digest[i]);
		snprintf(resp->body, sizeof(resp->body), "{\"schemaVersion\":2,\"mediaType\":\"%s\","
			 "\"manifests\":[%s]}", RS_MT_STR_OCI_INDEX, list);
		resp->body_len = strlen(resp->body);
		resp->status = 200;
		mock_header(resp, "Content-Type: %s", RS_MT_STR_OCI_INDEX);
		return;
	}
	for (int i = 0; i < NMAN; i++)
		if (strncmp(req->url, manifests, strlen(manifests)) == 0 &&
		    strcmp(req->url + strlen(manifests), reg.digest[i]) == 0) {
			mock_reply(resp, 200, reg.body[i]);
			mock_header(resp, "Content-Type: %s", RS_MT_STR_OCI_MANIFEST);
			mock_header(resp, "Docker-Content-Digest: %s", reg.digest[i]);
			return;
		}
	mock_reply(resp, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
}

static void set_manifest(int i, int subject)
{
	char subj[256] = "";

	if (subject >= 0)
		snprintf(subj, sizeof(subj), ",\"subject\":{\"mediaType\":\"%s\",\"size\":%zu,"
			 "\"digest\":\"%s\"}", RS_MT_STR_OCI_MANIFEST, strlen(reg.body[subject]),
			 reg.digest[subject]);
	snprintf(reg.body[i], sizeof(reg.body[i]), "{\"schemaVersion\":2,\"mediaType\":\"%s\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
		 "\"digest\":\"sha256:%064d\"},\"layers\":[]%s}", RS_MT_STR_OCI_MANIFEST, i + 1, subj);
	rs_digest_sha256(reg.digest[i], reg.body[i], strlen(reg.body[i]));
	reg.subject[i] = subject;
}

struct env {
	struct mock_server *server;
	struct rs_http *http;
	struct rs_auth *auth;
	struct rs_registry *reg;
	struct rs_inventory *inv;
};

/* The registry, and the inventory a scan of its tags gives: 0 and 1 only. */
static void setup(struct env *e)
{
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;
	struct rs_repo *repo = NULL;
	static const char *const tags[] = {"old", "keep"};

	memset(e, 0, sizeof(*e));
	memset(&reg, 0, sizeof(reg));
	set_manifest(0, -1);
	set_manifest(1, -1);
	set_manifest(2, 0);
	set_manifest(3, 1);
	set_manifest(4, 2);
	e->server = mock_start(handler, NULL);
	cr_assert_not_null(e->server);
	hopts.retries = 0;
	cr_assert_eq(rs_http_new(&e->http, &hopts), 0);
	aopts.registry = mock_url(e->server, "", 0);
	cr_assert_eq(rs_auth_new(&e->auth, &aopts, e->http), 0);
	cr_assert_eq(rs_registry_new(&e->reg, mock_url(e->server, "", 0), e->http, e->auth), 0);
	cr_assert_eq(rs_inventory_new(&e->inv, rs_registry_url(e->reg)), 0);
	cr_assert_eq(rs_inventory_add_repo(&repo, e->inv, "app"), 0);
	for (int i = 0; i < 2; i++) {
		struct rs_manifest *m = NULL;

		cr_assert_eq(rs_manifest_parse(&m, reg.digest[i], reg.body[i], strlen(reg.body[i]),
					       NULL), 0);
		m->flags |= RS_MF_FETCHED;
		m->created = 1600000000 + i;
		cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
		cr_assert_eq(rs_repo_add_tag(NULL, repo, tags[i], reg.digest[i]), 0);
	}
}

static void teardown(struct env *e)
{
	rs_inventory_free(e->inv);
	rs_registry_free(e->reg);
	rs_auth_free(e->auth);
	rs_http_free(e->http);
	mock_stop(e->server);
}

static const struct rs_plan_manifest *decision(const struct rs_plan *plan, int i, size_t *pos)
{
	const struct rs_plan_repo *r = &plan->repos[0];

	for (size_t k = 0; k < r->ndeletions; k++)
		if (strcmp(r->deletions[k].digest, reg.digest[i]) == 0) {
			*pos = k;
			return &r->deletions[k];
		}
	for (size_t k = 0; k < r->nkept; k++)
		if (strcmp(r->kept[k].digest, reg.digest[i]) == 0)
			return &r->kept[k];
	cr_assert_fail("manifest %d is not in the plan", i);
	return NULL;
}

Test(referrers, untagged_referrers_join_and_follow_their_subject)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct rs_policy *policy = NULL;
	struct rs_plan *plan = NULL;
	struct rs_settings s;
	size_t p_ref = 0, p_refref = 0, p_subject = 0;
	struct env e;
	int supported = -1;

	setup(&e);
	cr_assert_eq(rs_referrers_discover(e.inv, e.reg, &opts, &supported), 0, "%s",
		     rs_error_message());
	cr_assert_eq(supported, 1);
	cr_assert_eq(e.inv->repos[0]->nmanifests, 5, "the three referrers joined");
	cr_assert_eq(e.inv->from_storage, 0, "the API is not the storage");

	rs_settings_init(&s);
	rs_settings_set(&s, rs_settings_lookup("tags"), "old", RS_SRC_CLI);
	rs_settings_set(&s, rs_settings_lookup("keep_last"), "0", RS_SRC_CLI);
	cr_assert_eq(rs_policy_build(&policy, NULL, &s), 0);
	rs_inventory_sort(e.inv);
	cr_assert_eq(rs_plan_build(&plan, e.inv, policy, 1700000000), 0);
	cr_assert_eq(decision(plan, 0, &p_subject)->verdict, RS_VERDICT_DELETE);
	cr_assert_eq(decision(plan, 2, &p_ref)->verdict, RS_VERDICT_DELETE);
	cr_assert_eq(decision(plan, 4, &p_refref)->verdict, RS_VERDICT_DELETE);
	cr_assert_eq(decision(plan, 1, &p_ref)->verdict, RS_VERDICT_KEEP);
	cr_assert_eq(decision(plan, 3, &p_ref)->verdict, RS_VERDICT_KEEP,
		     "the referrer of a kept image stays");
	decision(plan, 2, &p_ref);
	cr_assert_lt(p_refref, p_ref);
	cr_assert_lt(p_ref, p_subject, "referrers go before their subject");
	rs_plan_free(plan);
	rs_policy_free(policy);
	rs_settings_release(&s);
	teardown(&e);
}

Test(referrers, a_registry_without_the_api_is_asked_once)
{
	struct rs_scan_options opts = RS_SCAN_OPTIONS_INIT;
	struct env e;
	int supported = -1;

	setup(&e);
	reg.no_api = 1;
	cr_assert_eq(rs_referrers_discover(e.inv, e.reg, &opts, &supported), 0, "%s",
		     rs_error_message());
	cr_assert_eq(supported, 0);
	cr_assert_eq(reg.referrer_gets, 1, "one probe, then nothing");
	cr_assert_eq(e.inv->repos[0]->nmanifests, 2);
	teardown(&e);
}

