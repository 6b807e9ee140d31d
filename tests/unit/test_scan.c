/* test_scan.c: reading one repository against answers recorded from
 * registries the integration suite cannot run here: distribution 3.1's tag
 * pagination (Link on every full page, so the last page is empty, "tags":
 * null in 3.1.0 and 3.1.1, [] later), and 3.x's 500 for a stored schema 1
 * manifest. */
#include "base/digest.h"
#include "base/error.h"
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

#define NTAGS 4
#define MAX_LOG 32

/* What the registry answers, and what it was asked. */
struct script {
	const char *last_page;      /* body of the page after the last full one */
	int last_page_has_link;     /* and whether it still carries a Link */
	int schema1_tag;            /* index of a tag whose manifest is 500 schema 1, -1 none */
	char asked[MAX_LOG][256];   /* tag list requests, "path?query" */
	int nasked;
};

static struct script script;
static const char *const tags[NTAGS] = {"a", "b", "c", "d"};

static void manifest_body(char *out, size_t outsize, const char *tag)
{
	snprintf(out, outsize, "{\"schemaVersion\":2,\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
		 "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
		 "%064d\",\"size\":2},\"layers\":[],\"annotations\":{\"tag\":\"%s\"}}", 0, tag);
}

/* distribution 3.1's tag list, pages of 2 after `last` (a strict lower
 * bound), a Link on every full page */
static void tag_page(const struct mock_request *req, struct mock_response *resp)
{
	const char *last = strstr(req->query, "last=");
	size_t start = 0, n = 0;
	char list[256] = "";

	if (script.nasked < MAX_LOG)
		snprintf(script.asked[script.nasked++], sizeof(script.asked[0]), "%s?%s", req->url,
			 req->query);
	for (size_t i = 0; last && i < NTAGS; i++)
		if (strncmp(last + 5, tags[i], strlen(tags[i])) == 0)
			start = i + 1;
	if (start >= NTAGS) {
		mock_reply(resp, 200, script.last_page);
		if (script.last_page_has_link)
			mock_header(resp, "Link: </v2/app/tags/list?last=zzz&n=2>; rel=\"next\"");
		mock_header(resp, "Content-Type: application/json");
		return;
	}
	for (size_t i = start; i < NTAGS && n < 2; i++, n++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"", n ? "," : "",
			 tags[i]);
	snprintf(resp->body, sizeof(resp->body), "{\"name\":\"app\",\"tags\":[%s]}\n", list);
	resp->body_len = strlen(resp->body);
	resp->status = 200;
	mock_header(resp, "Content-Type: application/json");
	mock_header(resp, "Link: </v2/app/tags/list?last=%s&n=2>; rel=\"next\"",
		    tags[start + n - 1]);
}

static void handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	const char *prefix = "/v2/app/manifests/";
	char body[1024], digest[RS_DIGEST_MAX];

	(void)ud;
	if (strcmp(req->url, "/v2/app/tags/list") == 0) {
		tag_page(req, resp);
		return;
	}
	if (strncmp(req->url, prefix, strlen(prefix)) != 0) {
		mock_reply(resp, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}");
		return;
	}
	for (int i = 0; i < NTAGS; i++) {
		if (strcmp(req->url + strlen(prefix), tags[i]) != 0)
			continue;
		if (i == script.schema1_tag) {
			/* as distribution 3.0 answers for a stored schema 1 manifest */
			mock_reply(resp, 500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"unknown "
				   "error\",\"detail\":\"unrecognized manifest schema version 1\"}]}\n");
			mock_header(resp, "Content-Type: application/json");
			return;
		}
		manifest_body(body, sizeof(body), tags[i]);
		rs_digest_sha256(digest, body, strlen(body));
		mock_reply(resp, 200, body);
		mock_header(resp, "Content-Type: application/vnd.oci.image.manifest.v1+json");
		mock_header(resp, "Docker-Content-Digest: %s", digest);
		return;
	}
	mock_reply(resp, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
}

struct env {
	struct mock_server *server;
	struct rs_http *http;
	struct rs_auth *auth;
	struct rs_registry *reg;
};

static void setup(struct env *e, const char *last_page, int link, int schema1_tag)
{
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;

	memset(&script, 0, sizeof(script));
	script.last_page = last_page;
	script.last_page_has_link = link;
	script.schema1_tag = schema1_tag;
	e->server = mock_start(handler, NULL);
	cr_assert_not_null(e->server);
	hopts.retries = 0;
	cr_assert_eq(rs_http_new(&e->http, &hopts), 0);
	aopts.registry = mock_url(e->server, "", 0);
	cr_assert_eq(rs_auth_new(&e->auth, &aopts, e->http), 0);
	cr_assert_eq(rs_registry_new(&e->reg, mock_url(e->server, "", 0), e->http, e->auth), 0);
}

static void teardown(struct env *e)
{
	rs_registry_free(e->reg);
	rs_auth_free(e->auth);
	rs_http_free(e->http);
	mock_stop(e->server);
}

/* Every tag read, each once, and the list not asked for past the empty page. */
static void read_completely(const char *last_page, int link)
{
	struct rs_inventory *inv = NULL;
	const struct rs_repo *repo;
	struct env e;
	int rc;

	setup(&e, last_page, link, -1);
	rc = rs_scan_repo(&inv, e.reg, "app");
	cr_assert_eq(rc, 0, "%s", rs_error_message());
	repo = rs_inventory_find_repo(inv, "app");
	cr_assert_not_null(repo);
	cr_assert_eq(repo->failed, 0, "%s", repo->failure ? repo->failure : "");
	cr_assert_eq(repo->ntags, NTAGS);
	for (size_t i = 0; i < NTAGS; i++) {
		cr_assert_str_eq(repo->tags[i].name, tags[i]);
		cr_assert_neq(repo->tags[i].digest[0], '\0', "tag %s resolved", tags[i]);
	}
	cr_assert_eq(script.nasked, 3, "three pages: two full, one empty (asked %d)",
		     script.nasked);
	cr_assert(strstr(script.asked[2], "last=d"), "%s", script.asked[2]);
	rs_inventory_free(inv);
	teardown(&e);
}

Test(scan, tags_last_page_null_as_distribution_3_1_0_sends)
{
	read_completely("{\"name\":\"app\",\"tags\":null}\n", 0);
}

Test(scan, tags_last_page_empty_list)
{
	read_completely("{\"name\":\"app\",\"tags\":[]}\n", 0);
}

/* an empty page ends the list even if it names a next one */
Test(scan, tags_empty_page_with_a_link_ends_the_list)
{
	read_completely("{\"name\":\"app\",\"tags\":[]}\n", 1);
}

Test(scan, schema1_manifest_on_3x_is_named_and_keeps_its_repository)
{
	struct rs_inventory *inv = NULL;
	const struct rs_repo *repo;
	struct env e;
	int rc;

	setup(&e, "{\"name\":\"app\",\"tags\":null}\n", 0, 2);
	rc = rs_scan_repo(&inv, e.reg, "app");
	cr_assert_eq(rc, RS_EPARTIAL, "%s", rs_error_message());
	repo = rs_inventory_find_repo(inv, "app");
	cr_assert_eq(repo->failed, 1);
	cr_assert_not_null(repo->failure);
	cr_assert(strstr(repo->failure, "reading manifest 'app:c'"), "%s", repo->failure);
	cr_assert(strstr(repo->failure, "schema 1"), "%s", repo->failure);
	cr_assert(strstr(rs_error_message(), "schema 1"), "%s", rs_error_message());
	rs_inventory_free(inv);
	teardown(&e);
}
