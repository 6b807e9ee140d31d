/* test_auth.c: the WWW-Authenticate parser, base64, token answers and JWT
 * grants, scope refusals, Basic and pre-issued tokens, and (with a loopback
 * token server) the bearer flow: caching, renewal, several scopes in one
 * request, the OAuth2 POST form, and what is never sent or logged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "net/auth.h"
#include "base/base64.h"
#include "base/error.h"
#include "net/http.h"
#include "base/log.h"

#include "mock_http.h"

/* ---- the challenge parser ------------------------------------------------- */

static struct rs_challenge *parse_ok(const char *header, size_t want)
{
	struct rs_challenge *list = NULL;
	size_t n = 99;

	cr_assert_eq(rs_challenges_parse(&list, &n, header), 0, "'%s': %s", header,
		     rs_error_message());
	cr_assert_eq(n, want, "'%s' gave %zu challenges, want %zu", header, n, want);
	return list;
}

Test(challenge, distribution_bearer)
{
	struct rs_challenge *c = parse_ok("Bearer realm=\"https://auth.example/token\","
					  "service=\"registry.example\","
					  "scope=\"repository:app/web:pull\"", 1);

	cr_assert_str_eq(c[0].scheme, "bearer");
	cr_assert_str_eq(c[0].realm, "https://auth.example/token");
	cr_assert_str_eq(c[0].service, "registry.example");
	cr_assert_str_eq(c[0].scope, "repository:app/web:pull");
	cr_assert_null(c[0].error);
	rs_challenges_free(c, 1);
}

Test(challenge, scheme_and_names_in_any_case)
{
	struct rs_challenge *c = parse_ok("BEARER Realm=\"r\", SERVICE=\"s\", Error=\"invalid_token\"", 1);

	cr_assert_str_eq(c[0].scheme, "bearer");
	cr_assert_str_eq(c[0].realm, "r");
	cr_assert_str_eq(c[0].service, "s");
	cr_assert_str_eq(c[0].error, "invalid_token");
	rs_challenges_free(c, 1);
	c = parse_ok("bAsIc realm=\"x\"", 1);
	cr_assert_str_eq(c[0].scheme, "basic");
	rs_challenges_free(c, 1);
}

Test(challenge, quoted_commas_and_escaped_quotes)
{
	struct rs_challenge *c = parse_ok(
		"Bearer realm=\"https://a.example/t?x=1,2\",service=\"say \\\"hi\\\", please\","
		"scope=\"repository:a:pull,push\"", 1);

	cr_assert_str_eq(c[0].realm, "https://a.example/t?x=1,2");
	cr_assert_str_eq(c[0].service, "say \"hi\", please");
	cr_assert_str_eq(c[0].scope, "repository:a:pull,push");
	rs_challenges_free(c, 1);
}

Test(challenge, several_challenges_in_one_header)
{
	/* as libcurl joins two WWW-Authenticate headers, and as one header may hold both */
	struct rs_challenge *c = parse_ok("Basic realm=\"r1\", Bearer realm=\"r2\",service=\"s2\","
					  "error=\"insufficient_scope\", Digest realm=\"d\", "
					  "nonce=\"n,1\"", 3);

	cr_assert_str_eq(c[0].scheme, "basic");
	cr_assert_str_eq(c[0].realm, "r1");
	cr_assert_str_eq(c[1].scheme, "bearer");
	cr_assert_str_eq(c[1].realm, "r2");
	cr_assert_str_eq(c[1].service, "s2");
	cr_assert_str_eq(c[1].error, "insufficient_scope");
	cr_assert_str_eq(c[2].scheme, "digest");
	cr_assert_str_eq(c[2].realm, "d");
	rs_challenges_free(c, 3);
}

Test(challenge, token68_and_bare_schemes)
{
	struct rs_challenge *c = parse_ok("Negotiate abc/+123==, Bearer realm=\"x\"", 2);

	cr_assert_str_eq(c[0].scheme, "negotiate");
	cr_assert_null(c[0].realm);
	cr_assert_str_eq(c[1].scheme, "bearer");
	cr_assert_str_eq(c[1].realm, "x");
	rs_challenges_free(c, 2);
	c = parse_ok("Basic", 1);
	cr_assert_str_eq(c[0].scheme, "basic");
	rs_challenges_free(c, 1);
	c = parse_ok("Basic, Bearer", 2);
	rs_challenges_free(c, 2);
}

Test(challenge, unquoted_values_and_spaces)
{
	struct rs_challenge *c = parse_ok("Bearer  realm = https://a.example/token , service= reg ,"
					  "scope=registry:catalog:*", 1);

	cr_assert_str_eq(c[0].realm, "https://a.example/token");
	cr_assert_str_eq(c[0].service, "reg");
	cr_assert_str_eq(c[0].scope, "registry:catalog:*");
	rs_challenges_free(c, 1);
}

Test(challenge, several_scopes_unknown_and_repeated_parameters)
{
	struct rs_challenge *c = parse_ok("Bearer realm=\"first\",charset=\"UTF-8\",realm=\"second\","
					  "scope=\"repository:a:pull repository:b:pull\"", 1);

	cr_assert_str_eq(c[0].realm, "first", "the first of a repeated parameter wins");
	cr_assert_str_eq(c[0].scope, "repository:a:pull repository:b:pull");
	rs_challenges_free(c, 1);
}

Test(challenge, empty_and_missing_headers)
{
	struct rs_challenge *list = (void *)1;
	size_t n = 5;

	cr_assert_eq(rs_challenges_parse(&list, &n, NULL), 0);
	cr_assert_null(list);
	cr_assert_eq(n, 0);
	cr_assert_eq(rs_challenges_parse(&list, &n, ""), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(rs_challenges_parse(&list, &n, " , ,"), 0);
	cr_assert_eq(n, 0);
}

Test(challenge, malformed_headers_are_refused)
{
	const char *bad[] = {
		"Bearer realm=\"unterminated",
		"realm=\"x\"",                  /* a parameter before any scheme */
		"Bearer realm=\"x\", @@@",
		"\"quoted\"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rs_challenge *list = (void *)1;
		size_t n = 5;

		cr_assert_eq(rs_challenges_parse(&list, &n, bad[i]), RS_EPROTO, "accepted '%s'", bad[i]);
		cr_assert_null(list);
		cr_assert_eq(n, 0);
		cr_assert(strstr(rs_error_message(), "WWW-Authenticate") != NULL);
	}
}

Test(challenge, too_many_challenges)
{
	char header[2048] = "";
	struct rs_challenge *list;
	size_t n;

	for (int i = 0; i < 40; i++)
		strcat(header, "Basic realm=\"x\", ");
	cr_assert_eq(rs_challenges_parse(&list, &n, header), RS_EPROTO);
}

Test(challenge, long_names_do_not_overflow)
{
	char header[600];
	struct rs_challenge *c;

	memset(header, 'A', 300);
	strcpy(header + 300, " realm=\"x\"");
	c = parse_ok(header, 1);
	cr_assert_eq(strlen(c[0].scheme), sizeof(c[0].scheme) - 1);
	rs_challenges_free(c, 1);
}

/* ---- base64 -------------------------------------------------------------- */

Test(base64, encodes_and_decodes)
{
	char *out = NULL;
	size_t len = 0;

	cr_assert_eq(rs_base64_encode(&out, "user:pass", 9), 0);
	cr_assert_str_eq(out, "dXNlcjpwYXNz");
	free(out);
	cr_assert_eq(rs_base64_encode(&out, "", 0), 0);
	cr_assert_str_eq(out, "");
	free(out);
	cr_assert_eq(rs_base64_decode(&out, &len, "dXNlcjpwYXNzd29yZA=="), 0);
	cr_assert_str_eq(out, "user:password");
	cr_assert_eq(len, 13);
	free(out);
	cr_assert_eq(rs_base64_decode(&out, &len, "YTpi"), 0);
	cr_assert_str_eq(out, "a:b");
	free(out);
}

Test(base64, refuses_garbage)
{
	char *out = (void *)1;

	cr_assert_eq(rs_base64_decode(&out, NULL, "abc"), RS_EPROTO);
	cr_assert_null(out);
	cr_assert_eq(rs_base64_decode(&out, NULL, "ab!?"), RS_EPROTO);
	cr_assert_null(out);
}

Test(base64, url_alphabet_without_padding)
{
	char *out = NULL;
	size_t len;

	/* "?" "?" ">" is "Pz8-" in base64url */
	cr_assert_eq(rs_base64url_decode(&out, &len, "Pz8-"), 0);
	cr_assert_str_eq(out, "\?\?>");
	free(out);
	cr_assert_eq(rs_base64url_decode(&out, &len, "eyJhIjoxfQ"), 0);
	cr_assert_str_eq(out, "{\"a\":1}");
	free(out);
	cr_assert_eq(rs_base64url_decode(&out, &len, "a"), RS_EPROTO);
}

/* ---- token answers, scopes and JWT grants ---------------------------------- */

Test(token, response_forms)
{
	char *token, *refresh;
	int64_t ttl;
	const char *a = "{\"token\":\"t1\",\"expires_in\":300,\"issued_at\":\"2024-01-01T00:00:00Z\"}";
	const char *b = "{\"access_token\":\"t2\",\"refresh_token\":\"r2\"}";
	const char *c = "{\"token\":\"\",\"access_token\":\"t3\",\"expires_in\":0}";

	cr_assert_eq(rs_token_response_parse(&token, &ttl, &refresh, a, strlen(a), "R"), 0);
	cr_assert_str_eq(token, "t1");
	cr_assert_eq(ttl, 300);
	cr_assert_null(refresh);
	free(token);
	cr_assert_eq(rs_token_response_parse(&token, &ttl, &refresh, b, strlen(b), "R"), 0);
	cr_assert_str_eq(token, "t2");
	cr_assert_eq(ttl, 60, "no expires_in: the spec's 60 s");
	cr_assert_str_eq(refresh, "r2");
	free(token);
	free(refresh);
	cr_assert_eq(rs_token_response_parse(&token, &ttl, NULL, c, strlen(c), "R"), 0);
	cr_assert_str_eq(token, "t3");
	cr_assert_eq(ttl, 60, "an expires_in below 1 is ignored");
	free(token);
}

Test(token, responses_without_a_token)
{
	char *token = (void *)1;
	int64_t ttl;
	const char *empty = "{\"expires_in\":300}";

	cr_assert_eq(rs_token_response_parse(&token, &ttl, NULL, empty, strlen(empty),
					     "https://auth.example/token"), RS_EPROTO);
	cr_assert_null(token);
	cr_assert(strstr(rs_error_message(), "'https://auth.example/token' sent no token"));
	cr_assert_eq(rs_token_response_parse(&token, &ttl, NULL, "<html>", 6, "R"), RS_EPROTO);
	cr_assert(strstr(rs_error_message(), "not a JSON object"));
	cr_assert_eq(rs_token_response_parse(&token, &ttl, NULL, NULL, 0, "R"), RS_EPROTO);
}

Test(token, scope_split)
{
	char type[32], name[128], actions[64];

	cr_assert_eq(rs_scope_split("repository:app/web:pull,delete", type, sizeof(type), name,
				    sizeof(name), actions, sizeof(actions)), 0);
	cr_assert_str_eq(type, "repository");
	cr_assert_str_eq(name, "app/web");
	cr_assert_str_eq(actions, "pull,delete");
	cr_assert_eq(rs_scope_split("repository:reg.example:5000/app:pull", type, sizeof(type), name,
				    sizeof(name), actions, sizeof(actions)), 0);
	cr_assert_str_eq(name, "reg.example:5000/app", "a name may hold a colon");
	cr_assert_eq(rs_scope_split("registry:catalog:*", type, sizeof(type), name, sizeof(name),
				    actions, sizeof(actions)), 0);
	cr_assert_str_eq(name, "catalog");
	cr_assert_eq(rs_scope_split("nocolons", type, sizeof(type), name, sizeof(name), actions,
				    sizeof(actions)), -1);
	cr_assert_eq(rs_scope_split("repository:app", type, sizeof(type), name, sizeof(name),
				    actions, sizeof(actions)), -1);
	cr_assert_eq(rs_scope_split("repository:app:", type, sizeof(type), name, sizeof(name),
				    actions, sizeof(actions)), -1);
}

/* A JWT (unsigned: the registry checks signatures, not regsweep) whose
 * payload is `payload`. */
static char *make_jwt(const char *payload)
{
	char *b64 = NULL, *jwt;
	size_t n;

	cr_assert_eq(rs_base64_encode(&b64, payload, strlen(payload)), 0);
	for (char *c = b64; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	n = strlen(b64);
	while (n && b64[n - 1] == '=')
		b64[--n] = '\0';
	jwt = malloc(strlen(b64) + 64);
	sprintf(jwt, "eyJhbGciOiJFUzI1NiJ9.%s.c2lnbmF0dXJl", b64);
	free(b64);
	return jwt;
}

Test(token, jwt_grants)
{
	char *jwt = make_jwt("{\"iss\":\"i\",\"access\":[{\"type\":\"repository\",\"name\":\"app/web\","
			     "\"actions\":[\"pull\"]},{\"type\":\"registry\",\"name\":\"catalog\","
			     "\"actions\":[\"*\"]},{\"type\":\"repository\",\"name\":\"all\","
			     "\"actions\":[\"*\"]}]}");

	cr_assert_eq(rs_token_grants(jwt, "repository:app/web:pull"), 1);
	cr_assert_eq(rs_token_grants(jwt, "repository:app/web:delete"), 0);
	cr_assert_eq(rs_token_grants(jwt, "repository:app/web:pull,delete"), 0);
	cr_assert_eq(rs_token_grants(jwt, "repository:other:pull"), 0);
	cr_assert_eq(rs_token_grants(jwt, "registry:catalog:*"), 1);
	cr_assert_eq(rs_token_grants(jwt, "repository:all:delete"), 1, "'*' grants every action");
	free(jwt);
}

Test(token, opaque_tokens_grant_unknown)
{
	char *jwt = make_jwt("{\"iss\":\"i\"}");

	cr_assert_eq(rs_token_grants("opaque-token", "repository:a:pull"), -1);
	cr_assert_eq(rs_token_grants("a.b", "repository:a:pull"), -1);
	cr_assert_eq(rs_token_grants("a.!!!.c", "repository:a:pull"), -1);
	cr_assert_eq(rs_token_grants(jwt, "repository:a:pull"), -1, "no access claim");
	cr_assert_eq(rs_token_grants(NULL, "repository:a:pull"), -1);
	free(jwt);
}

/* ---- Basic, pre-issued tokens and refusals (no network) -------------------- */

static struct rs_http *new_http(void)
{
	struct rs_http_options o = RS_HTTP_OPTIONS_INIT;
	struct rs_http *http = NULL;

	o.retries = 0;
	o.connect_timeout_ms = 2000;
	o.stall_timeout_ms = 5000;
	cr_assert_eq(rs_http_new(&http, &o), 0);
	return http;
}

static struct rs_auth *new_auth(struct rs_http *http, const char *registry, const char *user,
				const char *pass, const char *token)
{
	struct rs_auth_options o = RS_AUTH_OPTIONS_INIT;
	struct rs_auth *auth = NULL;

	o.registry = registry;
	o.username = user;
	o.password = pass;
	o.token = token;
	o.source = user ? "user name and REGSWEEP_PASSWORD" : token ? "REGSWEEP_TOKEN" : NULL;
	cr_assert_eq(rs_auth_new(&auth, &o, http), 0);
	return auth;
}

Test(auth, anonymous_sends_nothing)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", NULL, NULL, NULL);
	char *hdr = (void *)1;

	cr_assert_eq(rs_auth_header(&hdr, auth, "repository:a:pull"), 0);
	cr_assert_null(hdr);
	cr_assert_str_eq(rs_auth_source(auth), "anonymous");
	cr_assert_eq(rs_auth_challenge(auth, "Basic realm=\"r\"", NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "requires a user name and password"));
	cr_assert(strstr(rs_error_message(), "REGSWEEP_USERNAME"));
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, basic_after_the_challenge_then_refused)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", "user", "pass", NULL);
	char *hdr = NULL;

	cr_assert_eq(rs_auth_header(&hdr, auth, NULL), 0);
	cr_assert_null(hdr, "nothing before the registry asks");
	cr_assert_eq(rs_auth_challenge(auth, "Basic realm=\"registry\"", NULL), 0);
	cr_assert_eq(rs_auth_header(&hdr, auth, "repository:a:pull"), 0);
	cr_assert_str_eq(hdr, "Authorization: Basic dXNlcjpwYXNz");
	free(hdr);
	cr_assert_eq(rs_auth_challenge(auth, "Basic realm=\"registry\"", NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "rejected the credentials of user 'user'"));
	cr_assert(!strstr(rs_error_message(), "pass'"));
	cr_assert(rs_contains_secret("pass"));
	cr_assert(rs_contains_secret("dXNlcjpwYXNz"), "the Basic value is a secret too");
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, preissued_token_is_sent_and_refusals_explained)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", NULL, NULL, "tok-123");
	char *hdr = NULL;

	cr_assert_eq(rs_auth_header(&hdr, auth, "repository:a:pull"), 0);
	cr_assert_str_eq(hdr, "Authorization: Bearer tok-123");
	free(hdr);
	cr_assert(rs_contains_secret("tok-123"));
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"https://a/t\",error=\"invalid_token\"",
				       "repository:a:pull"), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "refused the pre-issued token (invalid_token"));
	cr_assert(!strstr(rs_error_message(), "tok-123"));
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"https://a/t\",service=\"s\","
				       "scope=\"repository:app/web:delete\",error=\"insufficient_scope\"",
				       "repository:app/web:delete"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "the token for 'app/web' lacks 'delete'"),
		  "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "REGSWEEP_TOKEN"), "names the source");
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, scope_messages)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", NULL, NULL, "tok");
	const char *insufficient = "Bearer realm=\"https://a/t\",error=\"insufficient_scope\"";

	cr_assert_eq(rs_auth_challenge(auth, insufficient, "registry:catalog:*"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "lacks 'registry:catalog:*'"));
	cr_assert(strstr(rs_error_message(), "may not list the registry's repositories"));
	cr_assert_eq(rs_auth_challenge(auth, insufficient, "repository:team/app:pull,push"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "the token for 'team/app' lacks 'pull,push'"));
	cr_assert_eq(rs_auth_challenge(auth, insufficient, "weird"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "lacks the scope 'weird'"));
	/* no scope of our own: the challenge's is named */
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"https://a/t\",error=\"insufficient_scope\","
				       "scope=\"repository:x:delete\"", NULL), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "the token for 'x' lacks 'delete'"));
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, unsupported_or_missing_challenges)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", "u", "p", NULL);

	cr_assert_eq(rs_auth_challenge(auth, "Negotiate", NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "'negotiate' authentication"));
	cr_assert_eq(rs_auth_challenge(auth, NULL, NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "without a WWW-Authenticate challenge"));
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"unterminated", NULL), RS_EPROTO);
	cr_assert_eq(rs_auth_challenge(auth, "Bearer service=\"s\"", NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "names no realm"));
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, plain_http_realm_refused_for_an_https_registry)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", "u", "p", NULL);
	uint64_t before = rs_auth_token_requests(auth);

	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"http://127.0.0.1:9/token\",service=\"s\"",
				       "repository:a:pull"), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "refusing token realm 'http://127.0.0.1:9/token'"));
	cr_assert(strstr(rs_error_message(), "--insecure"));
	cr_assert_eq(rs_auth_token_requests(auth), before, "nothing was sent");
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"ftp://a/token\"", "repository:a:pull"),
		     RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "not an http(s) URL"));
	rs_auth_free(auth);
	/* a registry named without a scheme is reached over https */
	auth = new_auth(http, "r.example:5000", "u", "p", NULL);
	cr_assert_eq(rs_auth_challenge(auth, "Bearer realm=\"http://127.0.0.1:9/token\"", NULL),
		     RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "refusing token realm"));
	rs_auth_free(auth);
	rs_http_free(http);
}

Test(auth, declared_actions_are_validated)
{
	struct rs_http *http = new_http();
	struct rs_auth *auth = new_auth(http, "https://r.example", "u", "p", NULL);

	cr_assert_eq(rs_auth_declare_action(auth, NULL, "delete"), 0);
	cr_assert_eq(rs_auth_declare_action(auth, "app", "push"), 0);
	cr_assert_eq(rs_auth_declare_action(auth, NULL, "a:b"), RS_EUSAGE);
	cr_assert_eq(rs_auth_declare_action(auth, NULL, ""), RS_EUSAGE);
	rs_auth_free(auth);
	rs_http_free(http);
}

/* ---- the bearer flow against a loopback token server ----------------------- */

#define MAX_SEEN_SCOPES 8

struct token_server {
	int requests;
	char method[8];
	char query[4096];
	char authorization[512];
	char content_type[128];
	char body[4096];
	char scopes[MAX_SEEN_SCOPES][256];   /* scopes asked for, last request */
	int nscopes;
	int get_status;                      /* answer GET with this instead of a token */
	int post_status;
	int expires_in;                      /* 0: omit */
	int jwt;                             /* answer JWTs granting what was asked */
	const char *withhold;                /* an action never granted */
	int strict;                          /* 403 to a request asking for it */
};

static void url_decode(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		if (src[i] == '%' && i + 2 < len) {
			char hex[3] = {src[i + 1], src[i + 2], 0};

			dst[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			dst[o++] = src[i] == '+' ? ' ' : src[i];
		}
	}
	dst[o] = '\0';
}

/* Every "scope=" value of a decoded query or a form body, split at spaces. */
static void collect_scopes(struct token_server *ts, const char *text, int form)
{
	const char *p = text;

	ts->nscopes = 0;
	while (p && *p) {
		size_t len = strcspn(p, "&");

		if (len > 6 && strncmp(p, "scope=", 6) == 0) {
			char value[1024], *s, *save = NULL;

			if (form)
				url_decode(value, sizeof(value), p + 6, len - 6);
			else
				snprintf(value, sizeof(value), "%.*s", (int)(len - 6), p + 6);
			for (s = strtok_r(value, " ", &save); s && ts->nscopes < MAX_SEEN_SCOPES;
			     s = strtok_r(NULL, " ", &save))
				snprintf(ts->scopes[ts->nscopes++], sizeof(ts->scopes[0]), "%s", s);
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

static int asked(const struct token_server *ts, const char *scope)
{
	for (int i = 0; i < ts->nscopes; i++)
		if (strcmp(ts->scopes[i], scope) == 0)
			return 1;
	return 0;
}

/* A JWT whose access claim grants the scopes asked for, minus `withhold`. */
static void jwt_for(const struct token_server *ts, char *out, size_t size)
{
	cJSON *root = cJSON_CreateObject(), *access = cJSON_AddArrayToObject(root, "access");
	char *payload, *jwt;

	for (int i = 0; i < ts->nscopes; i++) {
		char type[64], name[256], actions[128], *a, *save = NULL;
		cJSON *entry, *list;

		if (rs_scope_split(ts->scopes[i], type, sizeof(type), name, sizeof(name), actions,
				   sizeof(actions)) < 0)
			continue;
		entry = cJSON_CreateObject();
		cJSON_AddStringToObject(entry, "type", type);
		cJSON_AddStringToObject(entry, "name", name);
		list = cJSON_AddArrayToObject(entry, "actions");
		for (a = strtok_r(actions, ",", &save); a; a = strtok_r(NULL, ",", &save))
			if (!ts->withhold || strcmp(a, ts->withhold) != 0)
				cJSON_AddItemToArray(list, cJSON_CreateString(a));
		cJSON_AddItemToArray(access, entry);
	}
	payload = cJSON_PrintUnformatted(root);
	jwt = make_jwt(payload);
	snprintf(out, size, "%s", jwt);
	free(jwt);
	free(payload);
	cJSON_Delete(root);
}

static void token_handler(const struct mock_request *req, struct mock_response *resp, void *ud)
{
	struct token_server *ts = ud;
	int is_post = strcmp(req->method, "POST") == 0;
	int status = is_post ? ts->post_status : ts->get_status;
	char token[4096], body[8192];

	ts->requests++;
	snprintf(ts->method, sizeof(ts->method), "%s", req->method);
	snprintf(ts->query, sizeof(ts->query), "%s", req->query);
	snprintf(ts->authorization, sizeof(ts->authorization), "%s",
		 req->authorization ? req->authorization : "");
	snprintf(ts->content_type, sizeof(ts->content_type), "%s",
		 req->content_type ? req->content_type : "");
	snprintf(ts->body, sizeof(ts->body), "%s", req->body);
	collect_scopes(ts, is_post ? req->body : req->query, is_post);
	for (int i = 0; ts->strict && ts->withhold && i < ts->nscopes; i++)
		if (strstr(ts->scopes[i], ts->withhold))
			status = 403;
	if (status && status != 200) {
		mock_reply(resp, status, "{\"error\":\"invalid_grant\"}");
		return;
	}
	if (ts->jwt)
		jwt_for(ts, token, sizeof(token));
	else
		snprintf(token, sizeof(token), "opaque-token-%d", ts->requests);
	if (ts->expires_in)
		snprintf(body, sizeof(body), "{\"token\":\"%s\",\"expires_in\":%d}", token, ts->expires_in);
	else
		snprintf(body, sizeof(body), "{\"access_token\":\"%s\"}", token);
	mock_header(resp, "Content-Type: application/json");
	mock_reply(resp, 200, body);
}

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

struct bearer_fixture {
	struct token_server ts;
	struct mock_server *server;
	struct rs_http *http;
	struct rs_auth *auth;
	char challenge[512];
};

static struct bearer_fixture fx;

/* An authenticator for `registry` with these credentials, and the Bearer
 * challenge of the loopback token server. */
static void bearer_setup(const char *registry, const char *user, const char *pass,
			 const char *identity, int insecure)
{
	struct rs_auth_options o = RS_AUTH_OPTIONS_INIT;

	fx.server = mock_start(token_handler, &fx.ts);
	cr_assert_not_null(fx.server);
	fx.http = new_http();
	o.registry = registry;
	o.username = user;
	o.password = pass;
	o.identity_token = identity;
	o.insecure = insecure;
	o.source = identity ? "docker config 'test'" : user ? "user name and REGSWEEP_PASSWORD" : NULL;
	o.now_ms = fake_clock;
	fake_now = 1000000;
	cr_assert_eq(rs_auth_new(&fx.auth, &o, fx.http), 0);
	snprintf(fx.challenge, sizeof(fx.challenge), "Bearer realm=\"%s\",service=\"test-service\"",
		 mock_url(fx.server, "/token", 0));
}

static void bearer_teardown(void)
{
	rs_auth_free(fx.auth);
	rs_http_free(fx.http);
	mock_stop(fx.server);
	memset(&fx, 0, sizeof(fx));
}

static char *header_for(const char *scope)
{
	char *hdr = NULL;

	cr_assert_eq(rs_auth_header(&hdr, fx.auth, scope), 0, "%s", rs_error_message());
	return hdr;
}

Test(bearer, token_fetched_with_basic_credentials_and_cached)
{
	char *hdr;

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.expires_in = 300;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0, "%s", rs_error_message());
	cr_assert_eq(fx.ts.requests, 1);
	cr_assert_str_eq(fx.ts.method, "GET");
	cr_assert_str_eq(fx.ts.authorization, "Basic YWxpY2U6czNjcmV0");
	cr_assert(strstr(fx.ts.query, "service=test-service"), "%s", fx.ts.query);
	cr_assert(strstr(fx.ts.query, "account=alice"), "%s", fx.ts.query);
	cr_assert_eq(fx.ts.nscopes, 0, "/v2/ needs no scope");
	hdr = header_for(NULL);
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-1");
	free(hdr);
	/* a repository scope: the realm is known, so the token comes before the request */
	hdr = header_for("repository:app:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-2");
	cr_assert_eq(fx.ts.nscopes, 1);
	cr_assert_str_eq(fx.ts.scopes[0], "repository:app:pull");
	free(hdr);
	hdr = header_for("repository:app:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-2", "cached");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2);
	cr_assert_eq(rs_auth_token_requests(fx.auth), 2);
	cr_assert(rs_contains_secret("opaque-token-2"), "tokens are registered secrets");
	bearer_teardown();
}

Test(bearer, tokens_renewed_before_they_expire)
{
	char *hdr;

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.expires_in = 10;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), 0);
	fake_now += 7000;
	hdr = header_for("repository:app:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-1", "still fresh at 7 s of 10");
	free(hdr);
	fake_now += 1500;
	hdr = header_for("repository:app:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-2", "renewed in the last fifth");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2);
	/* a token refused mid-flight (expired early): a new one, and a retry may succeed */
	{
		char invalid[1024];

		snprintf(invalid, sizeof(invalid), "%s,error=\"invalid_token\"", fx.challenge);
		cr_assert_eq(rs_auth_challenge(fx.auth, invalid, "repository:app:pull"), 0);
		cr_assert_eq(fx.ts.requests, 3);
	}
	bearer_teardown();
}

Test(bearer, challenge_without_error_reuses_a_token_fetched_meanwhile)
{
	char *hdr;

	bearer_setup("http://registry.test", NULL, NULL, NULL, 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:a:pull"), 0);
	cr_assert_eq(fx.ts.requests, 1);
	cr_assert_str_eq(fx.ts.authorization, "", "anonymous: no credentials to the realm");
	/* a request sent before the token arrived comes back 401 without error */
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:a:pull"), 0);
	cr_assert_eq(fx.ts.requests, 1, "no second token request");
	hdr = header_for("repository:a:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-1");
	free(hdr);
	bearer_teardown();
}

Test(bearer, challenge_scopes_are_asked_for_too)
{
	char challenge[1024];

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\",service=\"test-service\","
		 "scope=\"repository:app:pull repository:base:pull\"", mock_url(fx.server, "/token", 0));
	cr_assert_eq(rs_auth_challenge(fx.auth, challenge, "repository:app:pull"), 0);
	cr_assert_eq(fx.ts.nscopes, 2);
	cr_assert(asked(&fx.ts, "repository:app:pull"));
	cr_assert(asked(&fx.ts, "repository:base:pull"));
	bearer_teardown();
}

Test(bearer, declared_delete_rides_along_in_one_request)
{
	char *hdr;

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.jwt = 1;
	cr_assert_eq(rs_auth_declare_action(fx.auth, NULL, "delete"), 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0);
	hdr = header_for("repository:app/web:pull");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2);
	cr_assert_eq(fx.ts.nscopes, 2, "both scopes in one token request");
	cr_assert(asked(&fx.ts, "repository:app/web:pull"));
	cr_assert(asked(&fx.ts, "repository:app/web:delete"));
	cr_assert(strstr(fx.ts.query, "scope=repository:app/web:pull&scope=repository:app/web:delete") ||
		  strstr(fx.ts.query, "scope=repository:app/web:delete&scope=repository:app/web:pull"),
		  "one scope= per scope: %s", fx.ts.query);
	hdr = header_for("repository:app/web:delete");
	cr_assert_not_null(hdr);
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2, "the delete is served by the same token");
	/* the catalog is not a repository: nothing rides along */
	hdr = header_for("registry:catalog:*");
	free(hdr);
	cr_assert_eq(fx.ts.nscopes, 1);
	bearer_teardown();
}

Test(bearer, declared_action_for_one_repository_only)
{
	char *hdr;

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	cr_assert_eq(rs_auth_declare_action(fx.auth, "app", "delete"), 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0);
	hdr = header_for("repository:other:pull");
	free(hdr);
	cr_assert_eq(fx.ts.nscopes, 1);
	hdr = header_for("repository:app:delete");
	free(hdr);
	cr_assert_eq(fx.ts.nscopes, 2, "delete and pull for 'app'");
	cr_assert(asked(&fx.ts, "repository:app:pull"));
	bearer_teardown();
}

Test(bearer, withheld_delete_is_explained)
{
	char *hdr, insufficient[1024];

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.jwt = 1;
	fx.ts.withhold = "delete";
	cr_assert_eq(rs_auth_declare_action(fx.auth, NULL, "delete"), 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0);
	hdr = header_for("repository:app/web:pull");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2);
	/* the token does not grant delete, so it is not used for it: ask for it */
	hdr = header_for("repository:app/web:delete");
	cr_assert_not_null(hdr);
	free(hdr);
	cr_assert_eq(fx.ts.requests, 3);
	snprintf(insufficient, sizeof(insufficient), "Bearer realm=\"%s\",service=\"test-service\","
		 "scope=\"repository:app/web:delete\",error=\"insufficient_scope\"",
		 mock_url(fx.server, "/token", 0));
	cr_assert_eq(rs_auth_challenge(fx.auth, insufficient, "repository:app/web:delete"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "the token for 'app/web' lacks 'delete'"),
		  "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "user name and REGSWEEP_PASSWORD"));
	cr_assert(!strstr(rs_error_message(), "s3cret"));
	bearer_teardown();
}

Test(bearer, strict_token_server_refusing_declared_actions)
{
	char *hdr;

	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.withhold = "delete";
	fx.ts.strict = 1;
	cr_assert_eq(rs_auth_declare_action(fx.auth, NULL, "delete"), 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0);
	hdr = header_for("repository:app:pull");
	cr_assert_not_null(hdr, "reading still gets a token");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 3, "asked with delete, refused, asked again without");
	cr_assert_eq(fx.ts.nscopes, 1);
	cr_assert_str_eq(fx.ts.scopes[0], "repository:app:pull");
	/* the DELETE itself: refused by the token server, and said so */
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:delete"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "refused 'repository:app:delete'"), "%s",
		  rs_error_message());
	cr_assert(strstr(rs_error_message(), "ask the registry's administrator"));
	bearer_teardown();
}

Test(bearer, anonymous_scope_refusal_says_to_log_in)
{
	char insufficient[1024];

	bearer_setup("http://registry.test", NULL, NULL, NULL, 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "registry:catalog:*"), 0);
	snprintf(insufficient, sizeof(insufficient), "%s,error=\"insufficient_scope\"", fx.challenge);
	cr_assert_eq(rs_auth_challenge(fx.auth, insufficient, "registry:catalog:*"), RS_EDENIED);
	cr_assert(strstr(rs_error_message(), "no credentials were given"), "%s", rs_error_message());
	bearer_teardown();
}

Test(bearer, identity_token_uses_the_oauth2_form)
{
	char *hdr;

	bearer_setup("http://registry.test", NULL, NULL, "refresh-abc", 0);
	fx.ts.expires_in = 120;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), 0,
		     "%s", rs_error_message());
	cr_assert_str_eq(fx.ts.method, "POST");
	cr_assert_str_eq(fx.ts.content_type, "application/x-www-form-urlencoded");
	cr_assert(strstr(fx.ts.body, "grant_type=refresh_token"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "refresh_token=refresh-abc"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "client_id=regsweep"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "service=test-service"), "%s", fx.ts.body);
	cr_assert(asked(&fx.ts, "repository:app:pull"));
	cr_assert_str_eq(fx.ts.authorization, "", "no Basic header with the form");
	hdr = header_for("repository:app:pull");
	cr_assert_str_eq(hdr, "Authorization: Bearer opaque-token-1");
	free(hdr);
	cr_assert(rs_contains_secret("refresh-abc"));
	bearer_teardown();
}

Test(bearer, identity_token_refused)
{
	bearer_setup("http://registry.test", NULL, NULL, "refresh-abc", 0);
	fx.ts.post_status = 401;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "refused the identity token from docker config 'test'"),
		  "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), "invalid_grant"));
	cr_assert(!strstr(rs_error_message(), "refresh-abc"));
	bearer_teardown();
}

Test(bearer, password_grant_when_get_is_not_served)
{
	bearer_setup("http://registry.test", "alice", "p@ss word", NULL, 0);
	fx.ts.get_status = 405;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), 0,
		     "%s", rs_error_message());
	cr_assert_eq(fx.ts.requests, 2);
	cr_assert_str_eq(fx.ts.method, "POST");
	cr_assert(strstr(fx.ts.body, "grant_type=password"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "username=alice"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "password=p%40ss%20word"), "%s", fx.ts.body);
	cr_assert(strstr(fx.ts.body, "client_id=regsweep"), "%s", fx.ts.body);
	bearer_teardown();
}

Test(bearer, wrong_password_names_the_user_not_the_password)
{
	bearer_setup("http://registry.test", "alice", "wrong-pass", NULL, 0);
	fx.ts.get_status = 401;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "refused the credentials of user 'alice'"),
		  "%s", rs_error_message());
	cr_assert(!strstr(rs_error_message(), "wrong-pass"));
	/* a token fetched ahead that fails is left to the 401 */
	cr_assert_null(header_for("repository:other:pull"));
	bearer_teardown();
}

Test(bearer, token_server_failures)
{
	bearer_setup("http://registry.test", "alice", "s3cret", NULL, 0);
	fx.ts.get_status = 503;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), RS_ENET);
	cr_assert(strstr(rs_error_message(), "failed (503"));
	fx.ts.get_status = 418;
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), RS_EAUTH);
	cr_assert(strstr(rs_error_message(), "answered 418"));
	bearer_teardown();
}

static char warnings[4096];

static void capture_warnings(enum rs_log_level level, const char *line, void *ud)
{
	(void)ud;
	if (level <= RS_LOG_WARN) {
		strncat(warnings, line, sizeof(warnings) - strlen(warnings) - 2);
		strcat(warnings, "\n");
	}
}

Test(bearer, plain_http_realm_allowed_with_insecure)
{
	char *hdr;

	warnings[0] = '\0';
	rs_log_set_handler(capture_warnings, NULL);
	bearer_setup("https://registry.test", "alice", "s3cret", NULL, 1);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), 0, "%s", rs_error_message());
	cr_assert_eq(fx.ts.requests, 1);
	hdr = header_for("repository:a:pull");
	free(hdr);
	cr_assert_eq(fx.ts.requests, 2);
	cr_assert(strstr(warnings, "over plain http (--insecure)"), "%s", warnings);
	cr_assert_null(strstr(strstr(warnings, "plain http") + 1, "plain http"), "warned once: %s",
		       warnings);
	rs_log_set_handler(NULL, NULL);
	bearer_teardown();
	bearer_setup("https://registry.test", "alice", "s3cret", NULL, 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, NULL), RS_EAUTH);
	cr_assert_eq(fx.ts.requests, 0, "the password never left");
	bearer_teardown();
}

/* Every line logged, to look for secrets. */
static char logged[65536];

static void capture(enum rs_log_level level, const char *line, void *ud)
{
	(void)level;
	(void)ud;
	strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
	strcat(logged, "\n");
}

Test(bearer, nothing_secret_is_logged)
{
	char *hdr;

	logged[0] = '\0';
	rs_log_set_handler(capture, NULL);
	rs_log_set_level(RS_LOG_DEBUG);
	bearer_setup("http://registry.test", "alice", "pw-XYZ", NULL, 0);
	cr_assert_eq(rs_auth_declare_action(fx.auth, NULL, "delete"), 0);
	cr_assert_eq(rs_auth_challenge(fx.auth, fx.challenge, "repository:app:pull"), 0);
	hdr = header_for("repository:app:delete");
	free(hdr);
	cr_assert(strstr(logged, "token: asking"), "%s", logged);
	cr_assert(!strstr(logged, "pw-XYZ"));
	cr_assert(!strstr(logged, "opaque-token"));
	cr_assert(!strstr(logged, "YWxpY2U6cHctWFla"), "nor the Basic value");
	bearer_teardown();
	rs_log_set_handler(NULL, NULL);
}

