/* test_untag.c: removing a tag alone against a scripted registry on
 * loopback, for what a real one will not do on cue: a tag moved by someone
 * else between the placeholder's push and its check, a registry that takes
 * the image with its tag, a placeholder that cannot be deleted, and a
 * placeholder an interrupted run left over a tag. The ordinary paths run
 * against real registries in tests/integration/untag.sh. */
#include "act/apply.h"
#include "act/untag.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/util.h"
#include "model/inventory.h"
#include "net/auth.h"
#include "net/http.h"
#include "net/registry.h"
#include "scan/scan.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_http.h"

#define MAXM 8
#define MAXT 8
#define MT_OCI "application/vnd.oci.image.manifest.v1+json"

/* The repository "app": manifests by digest, tags, and the knobs. */
struct fake {
	char body[MAXM][2048];
	char digest[MAXM][RS_DIGEST_MAX];
	int nman;
	char tag[MAXT][64];
	int tag_of[MAXT];              /* manifest index, -1 when the tag is gone */
	int ntags;
	int tag_delete;                /* 3.x: DELETE by tag removes the tag */
	int image_goes_too;            /* ...and, wrongly, the manifest */
	int deny_push;                 /* POST of an upload: 401 */
	int readonly_deletes;          /* DELETE by digest: 405 read-only */
	int steal_after_put;           /* a PUT by tag lands, then someone moves the tag */
	char log[64][160];
	int nlog;
};

static struct fake fake;

static int find_manifest(const char *digest)
{
	for (int i = 0; i < fake.nman; i++)
		if (strcmp(fake.digest[i], digest) == 0)
			return i;
	return -1;
}

static int find_tag(const char *name)
{
	for (int i = 0; i < fake.ntags; i++)
		if (strcmp(fake.tag[i], name) == 0)
			return i;
	return -1;
}

static int add_manifest(const char *body)
{
	int i = fake.nman++;

	snprintf(fake.body[i], sizeof(fake.body[i]), "%s", body);
	rs_digest_sha256(fake.digest[i], body, strlen(body));
	return i;
}

static void set_tag(const char *name, int manifest)
{
	int t = find_tag(name);

	if (t < 0) {
		t = fake.ntags++;
		snprintf(fake.tag[t], sizeof(fake.tag[t]), "%s", name);
	}
	fake.tag_of[t] = manifest;
}

/* A manifest by tag or digest: its index, or -1. */
static int resolve(const char *ref)
{
	int t;

	if (strncmp(ref, "sha256:", 7) == 0)
		return find_manifest(ref);
	t = find_tag(ref);
	return t < 0 ? -1 : fake.tag_of[t];
}

static void unknown(struct mock_response *resp)
{
	mock_reply(resp, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
}

static void manifests(const struct mock_request *req, struct mock_response *resp, const char *ref)
{
	int i = resolve(ref);

	if (strcmp(req->method, "PUT") == 0) {
		char digest[RS_DIGEST_MAX];
		int m;

		rs_digest_sha256(digest, req->body, req->body_len);
		m = find_manifest(digest);
		if (m < 0)
			m = add_manifest(req->body);
		set_tag(ref, m);
		if (fake.steal_after_put)
			set_tag(ref, 0);
		mock_reply(resp, 201, NULL);
		mock_header(resp, "Docker-Content-Digest: %s", digest);
		return;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		if (strncmp(ref, "sha256:", 7) != 0) {
			if (!fake.tag_delete) {
				mock_reply(resp, 400, "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}");
				return;
			}
			if (i < 0) {
				unknown(resp);
				return;
			}
			fake.tag_of[find_tag(ref)] = -1;
			if (fake.image_goes_too)
				fake.digest[i][0] = '\0';
			mock_reply(resp, 202, NULL);
			return;
		}
		if (fake.readonly_deletes) {
			mock_reply(resp, 405, "Method not allowed");
			return;
		}
		if (i < 0) {
			unknown(resp);
			return;
		}
		for (int t = 0; t < fake.ntags; t++)
			if (fake.tag_of[t] == i)
				fake.tag_of[t] = -1;
		fake.digest[i][0] = '\0';
		mock_reply(resp, 202, NULL);
		return;
	}
	if (i < 0) {
		unknown(resp);
		return;
	}
	mock_reply(resp, 200, fake.body[i]);
	mock_header(resp, "Content-Type: %s", MT_OCI);
	mock_header(resp, "Docker-Content-Digest: %s", fake.digest[i]);
}

static void handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	const char *prefix = "/v2/app/manifests/";

	(void)ud;
	if (fake.nlog < 64)
		snprintf(fake.log[fake.nlog++], sizeof(fake.log[0]), "%s %s", req->method, req->url);
	if (strcmp(req->url, "/v2/") == 0) {
		mock_reply(resp, 200, "{}");
	} else if (strcmp(req->url, "/v2/app/tags/list") == 0) {
		char list[512] = "";

		for (int t = 0; t < fake.ntags; t++)
			if (fake.tag_of[t] >= 0)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
					 list[0] ? "," : "", fake.tag[t]);
		snprintf(resp->body, sizeof(resp->body), "{\"name\":\"app\",\"tags\":[%s]}", list);
		resp->body_len = strlen(resp->body);
		resp->status = 200;
	} else if (strncmp(req->url, prefix, strlen(prefix)) == 0) {
		manifests(req, resp, req->url + strlen(prefix));
	} else if (strcmp(req->url, "/v2/app/blobs/uploads/") == 0) {
		if (fake.deny_push) {
			mock_reply(resp, 401, "{\"errors\":[{\"code\":\"DENIED\"}]}");
			return;
		}
		mock_reply(resp, 202, NULL);
		mock_header(resp, "Location: /v2/app/blobs/uploads/u1?_state=x");
	} else if (strcmp(req->url, "/v2/app/blobs/uploads/u1") == 0) {
		mock_reply(resp, 201, NULL);
	} else {
		mock_reply(resp, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}");
	}
}

static const char *image_body(const char *name)
{
	static char body[512];

	snprintf(body, sizeof(body), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":"
		 "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
		 "\"sha256:%064d\",\"size\":2},\"layers\":[],\"annotations\":{\"n\":\"%s\"}}",
		 MT_OCI, 1, name);
	return body;
}

struct env {
	struct mock_server *server;
	struct rs_http *http;
	struct rs_auth *auth;
	struct rs_registry *reg;
	struct rs_inventory *inv;
	struct rs_untagger *untagger;
	struct rs_apply_item item;
	char *tags[1];
};

/* "keep" and "pr" on one image; an item to untag "pr". */
static void setup(struct env *e)
{
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;

	memset(e, 0, sizeof(*e));
	if (!fake.nman) {
		add_manifest(image_body("other"));   /* where a stolen tag goes */
		add_manifest(image_body("image"));
		set_tag("keep", 1);
		set_tag("pr", 1);
	}
	e->server = mock_start(handler, NULL);
	cr_assert_not_null(e->server);
	hopts.retries = 0;
	cr_assert_eq(rs_http_new(&e->http, &hopts), 0);
	aopts.registry = mock_url(e->server, "", 0);
	cr_assert_eq(rs_auth_new(&e->auth, &aopts, e->http), 0);
	cr_assert_eq(rs_registry_new(&e->reg, mock_url(e->server, "", 0), e->http, e->auth), 0);
	cr_assert_eq(rs_scan_repo(&e->inv, e->reg, "app"), 0, "%s", rs_error_message());
	cr_assert_eq(rs_untagger_new(&e->untagger, e->reg, 1700000000), 0);
	e->item.action = RS_APPLY_UNTAG;
	e->item.repo = "app";
	rs_strlcpy(e->item.digest, fake.digest[1], sizeof(e->item.digest));
	e->tags[0] = "pr";
	e->item.tags = e->tags;
	e->item.ntags = 1;
}

static int untag(struct env *e)
{
	return rs_untag_repo(e->untagger, rs_inventory_find_repo(e->inv, "app"), &e->item, 1, 0);
}

static void teardown(struct env *e)
{
	free(e->item.detail);
	rs_untagger_free(e->untagger);
	rs_inventory_free(e->inv);
	rs_registry_free(e->reg);
	rs_auth_free(e->auth);
	rs_http_free(e->http);
	mock_stop(e->server);
	memset(&fake, 0, sizeof(fake));
}

static int logged(const char *what)
{
	for (int i = 0; i < fake.nlog; i++)
		if (strstr(fake.log[i], what))
			return 1;
	return 0;
}

Test(untag, tag_delete_removes_the_tag_alone)
{
	struct env e;

	fake.tag_delete = 1;
	setup(&e);
	cr_assert_eq(untag(&e), 0, "%s", rs_error_message());
	cr_assert_eq(e.item.outcome, RS_APPLY_DELETED, "%s", e.item.detail);
	cr_assert_eq(fake.tag_of[find_tag("pr")], -1);
	cr_assert_eq(fake.tag_of[find_tag("keep")], 1);
	cr_assert(logged("DELETE /v2/app/manifests/pr"));
	cr_assert(!logged("POST"), "3.x needs no placeholder");
	teardown(&e);
}

Test(untag, a_registry_that_takes_the_image_with_the_tag_is_a_failure)
{
	struct env e;

	fake.tag_delete = 1;
	fake.image_goes_too = 1;
	setup(&e);
	cr_assert_eq(untag(&e), 0);
	cr_assert_eq(e.item.outcome, RS_APPLY_FAILED);
	cr_assert(strstr(e.item.detail, "so is its image"), "%s", e.item.detail);
	teardown(&e);
}

Test(untag, placeholder_takes_the_tag_and_only_it)
{
	struct env e;
	int placeholder;

	setup(&e);
	cr_assert_eq(untag(&e), 0, "%s", rs_error_message());
	cr_assert_eq(e.item.outcome, RS_APPLY_DELETED, "%s", e.item.detail);
	cr_assert_eq(fake.tag_of[find_tag("pr")], -1);
	cr_assert_eq(fake.tag_of[find_tag("keep")], 1);
	cr_assert_str_eq(fake.digest[1], e.item.digest, "the image stays");
	placeholder = fake.nman - 1;
	cr_assert_eq(placeholder, 2, "one placeholder was pushed");
	cr_assert_str_eq(fake.digest[placeholder], "", "and deleted");
	cr_assert(strstr(fake.body[placeholder], RS_UNTAG_PLACEHOLDER_TYPE), "%s",
		  fake.body[placeholder]);
	cr_assert(strstr(fake.body[placeholder], "\"layers\":[]"));
	cr_assert(logged("POST /v2/app/blobs/uploads/"));
	teardown(&e);
}

Test(untag, a_tag_moved_while_the_placeholder_goes_up_stays)
{
	struct env e;

	fake.steal_after_put = 1;
	setup(&e);
	cr_assert_eq(untag(&e), 0, "%s", rs_error_message());
	cr_assert_eq(e.item.outcome, RS_APPLY_SKIPPED);
	cr_assert(strstr(e.item.detail, "moved while it was being removed"), "%s", e.item.detail);
	cr_assert_eq(fake.tag_of[find_tag("pr")], 0, "the new push keeps the tag");
	cr_assert_str_eq(fake.digest[2], "", "the placeholder is not left behind");
	teardown(&e);
}

Test(untag, without_push_the_tag_stays_and_says_why)
{
	struct env e;

	fake.deny_push = 1;
	setup(&e);
	cr_assert_eq(untag(&e), 0, "%s", rs_error_message());
	cr_assert_eq(e.item.outcome, RS_APPLY_SKIPPED);
	cr_assert(strstr(e.item.detail, "lack 'push' on 'app'"), "%s", e.item.detail);
	cr_assert_eq(fake.tag_of[find_tag("pr")], 1);
	cr_assert_eq(fake.nman, 2, "nothing pushed");
	teardown(&e);
}

Test(untag, a_placeholder_that_cannot_be_deleted_says_so_and_stops)
{
	struct env e;

	fake.readonly_deletes = 1;
	setup(&e);
	cr_assert_eq(untag(&e), RS_EREADONLY);
	cr_assert_eq(e.item.outcome, RS_APPLY_FAILED);
	cr_assert(strstr(e.item.detail, "now points at regsweep's placeholder"), "%s",
		  e.item.detail);
	cr_assert(strstr(e.item.detail, "run apply again"), "%s", e.item.detail);
	teardown(&e);
}

/* An interrupted run left "pr" on its placeholder: the next run finishes,
 * and takes the old placeholder too. */
Test(untag, a_placeholder_left_by_an_interrupted_run_is_finished)
{
	char old[1024];
	struct env e;
	int left;

	snprintf(old, sizeof(old), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
		 "\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\",\"size\":9},\"layers\":[]}",
		 MT_OCI, RS_UNTAG_PLACEHOLDER_TYPE, 7);
	add_manifest(image_body("other"));
	add_manifest(image_body("image"));
	left = add_manifest(old);
	set_tag("keep", 1);
	set_tag("pr", left);
	setup(&e);
	cr_assert_eq(untag(&e), 0, "%s", rs_error_message());
	cr_assert_eq(e.item.outcome, RS_APPLY_DELETED, "%s", e.item.detail);
	cr_assert_eq(fake.tag_of[find_tag("pr")], -1);
	cr_assert_str_eq(fake.digest[left], "", "the old placeholder is gone too");
	cr_assert_str_eq(fake.digest[1], e.item.digest, "the image stays");
	teardown(&e);
}
