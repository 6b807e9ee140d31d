/* auth.c: Basic credentials and the bearer token flow (token requests, the
 * per-scope token cache, scope refusals); the parsers are in auth_parse.c. */
#include "net/auth.h"
#include "base/base64.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TOKEN_MAX_BODY (1024 * 1024)
#define TOKEN_RENEW_MARGIN_MS 10000   /* renew this early, at most a fifth of the lifetime */
#define MAX_SCOPES 16                 /* scopes in one token request */
#define CLIENT_ID "regsweep"

/* One token, shared by every scope it was cached under. */
struct cached_token {
	char *header;                  /* "Authorization: Bearer ..." */
	int64_t renew_at_ms;           /* renew from here on */
	int refs;                      /* map entries pointing here */
};

/* An action the caller will need on a repository (NULL: every one). */
struct declared_action {
	char *repo;
	char *action;
};

struct rs_auth {
	char *registry;
	char *username;
	char *password;
	char *token;                   /* pre-issued */
	char *identity_token;          /* OAuth2 refresh token */
	char *source;
	int insecure;
	int64_t (*now_ms)(void);
	struct rs_http *http;
	int scheme_basic;              /* the registry asked for Basic */
	int scheme_bearer;             /* the registry asked for Bearer */
	char *realm;                   /* from the last Bearer challenge */
	char *service;
	int fetch_ahead_failed;        /* a token fetched ahead failed: wait for 401s */
	int warned_plain_realm;        /* the --insecure http realm warning was given */
	struct rs_map tokens;          /* scope ("" for none) -> struct cached_token * */
	struct declared_action *declared;
	size_t ndeclared;
	uint64_t token_requests;
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the authenticator --------------------------------------------------- */

static int header_line(char **out, const char *scheme, const char *value)
{
	struct rs_buf hdr = RS_BUF_INIT;

	*out = NULL;
	if (rs_buf_printf(&hdr, "Authorization: %s %s", scheme, value) < 0)
		return RS_ERROR;
	*out = rs_buf_detach(&hdr);
	return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
}

/* base64("user:password"), registered as a secret: it is one. */
static int basic_value(char **out, const struct rs_auth *auth)
{
	struct rs_buf plain = RS_BUF_INIT;
	int rc;

	*out = NULL;
	rc = rs_buf_printf(&plain, "%s:%s", auth->username, auth->password ? auth->password : "");
	if (rc < 0)
		return rc;
	rc = rs_base64_encode(out, plain.ptr, plain.len);
	memset(plain.ptr, 0, plain.len);
	rs_buf_release(&plain);
	if (rc == 0)
		rs_secret_register(*out);
	return rc;
}

int rs_auth_new(struct rs_auth **out, const struct rs_auth_options *opts, struct rs_http *http)
{
	struct rs_auth *auth = calloc(1, sizeof(*auth));

	*out = NULL;
	if (!auth)
		return rs_error_set(RS_ERROR, "out of memory");
	auth->http = http;
	auth->insecure = opts->insecure;
	auth->now_ms = opts->now_ms ? opts->now_ms : monotonic_ms;
	auth->registry = rs_strdup(opts->registry);
	auth->username = rs_strdup(opts->username);
	auth->password = rs_strdup(opts->password);
	auth->token = rs_strdup(opts->token);
	auth->identity_token = rs_strdup(opts->identity_token);
	auth->source = rs_strdup(opts->source ? opts->source : "anonymous");
	if (!auth->source || (opts->registry && !auth->registry) ||
	    (opts->username && !auth->username) || (opts->password && !auth->password) ||
	    (opts->token && !auth->token) || (opts->identity_token && !auth->identity_token)) {
		rs_auth_free(auth);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rs_secret_register(auth->password);
	rs_secret_register(auth->token);
	rs_secret_register(auth->identity_token);
	if (auth->username) {
		/* registers the Basic value as a secret before anything is sent */
		char *value = NULL;
		int rc = basic_value(&value, auth);

		free(value);
		if (rc < 0) {
			rs_auth_free(auth);
			return rc;
		}
	}
	*out = auth;
	return 0;
}

static void token_unref(struct cached_token *t)
{
	if (!t || --t->refs > 0)
		return;
	free(t->header);
	free(t);
}

void rs_auth_free(struct rs_auth *auth)
{
	size_t pos = 0;
	void *value;

	if (!auth)
		return;
	while (rs_map_next(&auth->tokens, &pos, NULL, &value))
		token_unref(value);
	rs_map_release(&auth->tokens);
	for (size_t i = 0; i < auth->ndeclared; i++) {
		free(auth->declared[i].repo);
		free(auth->declared[i].action);
	}
	free(auth->declared);
	free(auth->registry);
	free(auth->username);
	free(auth->password);
	free(auth->token);
	free(auth->identity_token);
	free(auth->source);
	free(auth->realm);
	free(auth->service);
	free(auth);
}

const char *rs_auth_source(const struct rs_auth *auth)
{
	return auth->source;
}

uint64_t rs_auth_token_requests(const struct rs_auth *auth)
{
	return auth->token_requests;
}

int rs_auth_declare_action(struct rs_auth *auth, const char *repo, const char *action)
{
	struct declared_action *grown;
	char *r = rs_strdup(repo), *a = rs_strdup(action);

	if (!action || !*action || strpbrk(action, ": ")) {
		free(r);
		free(a);
		return rs_error_set(RS_EUSAGE, "invalid action '%s'", action ? action : "");
	}
	grown = realloc(auth->declared, (auth->ndeclared + 1) * sizeof(*grown));
	if (!grown || !a || (repo && !r)) {
		if (grown)
			auth->declared = grown;
		free(r);
		free(a);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	auth->declared = grown;
	auth->declared[auth->ndeclared].repo = r;
	auth->declared[auth->ndeclared].action = a;
	auth->ndeclared++;
	return 0;
}

/* The cached token for `key`, or NULL when there is none or it is due for
 * renewal (expired tokens are still returned when `any` is set). */
static struct cached_token *cache_get(struct rs_auth *auth, const char *key, int any)
{
	struct cached_token *t = rs_map_get(&auth->tokens, key);

	if (t && !any && auth->now_ms() >= t->renew_at_ms)
		return NULL;
	return t;
}

static int cache_put(struct rs_auth *auth, const char *key, struct cached_token *t)
{
	struct cached_token *old = rs_map_get(&auth->tokens, key);
	int rc;

	if (old == t)
		return 0;
	rc = rs_map_put(&auth->tokens, key, t);
	if (rc < 0)
		return rc;
	t->refs++;
	token_unref(old);
	return 0;
}

/* Scope lists are small arrays of owned strings. */
struct scope_list {
	char *items[MAX_SCOPES];
	size_t n;
};

static void scope_list_release(struct scope_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	list->n = 0;
}

static int scope_list_add(struct scope_list *list, const char *scope, size_t len)
{
	if (!len || list->n == MAX_SCOPES)
		return 0;
	for (size_t i = 0; i < list->n; i++)
		if (strlen(list->items[i]) == len && strncmp(list->items[i], scope, len) == 0)
			return 0;
	list->items[list->n] = strndup(scope, len);
	if (!list->items[list->n])
		return rs_error_set(RS_ERROR, "out of memory");
	list->n++;
	return 0;
}

/* What to ask the token server for: the scope the request needs, those the
 * challenge names, and, for a repository with declared actions, pull and
 * those actions, so one token serves reading and changing it. */
static int scope_list_build(struct scope_list *list, const struct rs_auth *auth, const char *scope,
			    const char *challenge_scope, int with_declared)
{
	char type[64], name[512], actions[256], extra[700];
	const char *p = challenge_scope;
	int rc = 0, declared = 0;

	list->n = 0;
	if (scope)
		rc = scope_list_add(list, scope, strlen(scope));
	while (rc == 0 && p && *p) {
		size_t len = strcspn(p, " ");

		rc = scope_list_add(list, p, len);
		p += len;
		while (*p == ' ')
			p++;
	}
	if (rc < 0 || !scope || !with_declared ||
	    rs_scope_split(scope, type, sizeof(type), name, sizeof(name), actions, sizeof(actions)) < 0 ||
	    strcmp(type, "repository") != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < auth->ndeclared; i++) {
		const struct declared_action *d = &auth->declared[i];

		if (d->repo && strcmp(d->repo, name) != 0)
			continue;
		declared = 1;
		snprintf(extra, sizeof(extra), "repository:%s:%s", name, d->action);
		rc = scope_list_add(list, extra, strlen(extra));
	}
	if (rc == 0 && declared) {
		snprintf(extra, sizeof(extra), "repository:%s:pull", name);
		rc = scope_list_add(list, extra, strlen(extra));
	}
	return rc;
}

/* May credentials go to this realm? */
static int realm_check(struct rs_auth *auth, const char *realm)
{
	/* a registry given without a scheme is reached over https */
	int registry_https = auth->registry && strncasecmp(auth->registry, "http://", 7) != 0;

	if (strncasecmp(realm, "https://", 8) == 0)
		return 0;
	if (strncasecmp(realm, "http://", 7) != 0)
		return rs_error_set(RS_EAUTH, "the registry names the token realm '%s', which is not an "
				    "http(s) URL", realm);
	if (registry_https && !auth->insecure)
		return rs_error_set(RS_EAUTH,
			"refusing token realm '%s': an https registry must not send credentials "
			"over plain http (use --insecure to allow)", realm);
	if (registry_https && !auth->warned_plain_realm) {
		rs_log(RS_LOG_WARN, "warning: asking the token realm '%s' over plain http (--insecure)",
		       realm);
		auth->warned_plain_realm = 1;
	}
	return 0;
}

static int add_param(struct rs_buf *buf, const char *name, const char *value)
{
	char *escaped = NULL;
	int rc = rs_http_escape(&escaped, value);

	if (rc == 0)
		rc = rs_buf_printf(buf, "%s%s=%s", buf->len ? "&" : "", name, escaped);
	free(escaped);
	return rc;
}

/* GET realm?service=..&scope=..&scope=.. with Basic credentials when known. */
static int token_get(struct rs_auth *auth, const struct scope_list *scopes,
		     struct rs_http_response *resp)
{
	struct rs_buf query = RS_BUF_INIT, url = RS_BUF_INIT;
	struct rs_http_req *req = NULL;
	char *value = NULL, *hdr = NULL;
	int rc = 0;

	if (auth->service)
		rc = add_param(&query, "service", auth->service);
	for (size_t i = 0; rc == 0 && i < scopes->n; i++)
		rc = add_param(&query, "scope", scopes->items[i]);
	if (rc == 0 && auth->username)
		rc = add_param(&query, "account", auth->username);
	if (rc == 0)
		rc = rs_buf_printf(&url, "%s%s%s", auth->realm,
				   !query.len ? "" : strchr(auth->realm, '?') ? "&" : "?",
				   rs_buf_cstr(&query));
	if (rc == 0)
		rc = rs_http_req_new(&req, "GET", rs_buf_cstr(&url));
	if (rc < 0)
		goto done;
	rs_http_req_max_body(req, TOKEN_MAX_BODY);
	if (auth->username) {
		rc = basic_value(&value, auth);
		if (rc == 0)
			rc = header_line(&hdr, "Basic", value);
		if (rc == 0)
			rc = rs_http_req_header(req, hdr);
		if (rc < 0) {
			rs_http_req_free(req);
			goto done;
		}
	}
	auth->token_requests++;
	rc = rs_http_perform(auth->http, req, resp);
done:
	free(value);
	free(hdr);
	rs_buf_release(&query);
	rs_buf_release(&url);
	return rc;
}

/* The OAuth2 form: POST realm with grant_type=refresh_token or password. */
static int token_post(struct rs_auth *auth, const struct scope_list *scopes, const char *grant,
		      struct rs_http_response *resp)
{
	struct rs_buf form = RS_BUF_INIT, joined = RS_BUF_INIT;
	struct rs_http_req *req = NULL;
	int rc;

	rc = add_param(&form, "grant_type", grant);
	if (rc == 0 && auth->service)
		rc = add_param(&form, "service", auth->service);
	if (rc == 0)
		rc = add_param(&form, "client_id", CLIENT_ID);
	for (size_t i = 0; rc == 0 && i < scopes->n; i++)
		rc = rs_buf_printf(&joined, "%s%s", i ? " " : "", scopes->items[i]);
	if (rc == 0 && scopes->n)
		rc = add_param(&form, "scope", rs_buf_cstr(&joined));
	if (rc == 0 && strcmp(grant, "refresh_token") == 0)
		rc = add_param(&form, "refresh_token", auth->identity_token);
	if (rc == 0 && strcmp(grant, "password") == 0) {
		rc = add_param(&form, "username", auth->username);
		if (rc == 0)
			rc = add_param(&form, "password", auth->password ? auth->password : "");
	}
	if (rc == 0)
		rc = rs_http_req_new(&req, "POST", auth->realm);
	if (rc == 0)
		rc = rs_http_req_header(req, "Content-Type: application/x-www-form-urlencoded");
	if (rc == 0)
		rc = rs_http_req_body(req, form.ptr, form.len);
	if (rc < 0) {
		rs_http_req_free(req);
		goto done;
	}
	rs_http_req_max_body(req, TOKEN_MAX_BODY);
	/* asking for a token changes nothing: safe to resend */
	rs_http_req_retryable(req, 1);
	auth->token_requests++;
	rc = rs_http_perform(auth->http, req, resp);
done:
	if (form.ptr)
		memset(form.ptr, 0, form.len);
	rs_buf_release(&form);
	rs_buf_release(&joined);
	return rc;
}

/* Turn a token server's refusal into a message saying what to fix. */
static int token_refused(const struct rs_auth *auth, const char *grant, long status,
			 const struct rs_http_response *resp, const struct scope_list *scopes)
{
	cJSON *root = resp->body.len ? cJSON_ParseWithLength(resp->body.ptr, resp->body.len) : NULL;
	const char *oauth = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	char why[96];
	int rc;

	snprintf(why, sizeof(why), "%ld%s%s", status, oauth ? " " : "", oauth ? oauth : "");
	for (char *c = why; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	if (status >= 500)
		rc = rs_error_set(RS_ENET, "the token server '%s' failed (%s)", auth->realm, why);
	else if (status != 400 && status != 401 && status != 403)
		rc = rs_error_set(RS_EAUTH, "the token server '%s' answered %s", auth->realm, why);
	else if (status == 403 && scopes->n && (auth->username || auth->identity_token))
		/* authenticated, but not for this: a permission, not a password, is missing */
		rc = rs_error_set(RS_EDENIED, "the token server '%s' refused '%s'%s (%s, credentials: "
				  "%s): ask the registry's administrator to grant it", auth->realm,
				  scopes->items[0], scopes->n > 1 ? " and more" : "", why, auth->source);
	else if (strcmp(grant, "refresh_token") == 0)
		rc = rs_error_set(RS_EAUTH, "the token server '%s' refused the identity token from %s "
				  "(%s): log in to the registry again (docker login)", auth->realm,
				  auth->source, why);
	else if (auth->username)
		rc = rs_error_set(RS_EAUTH, "the token server '%s' refused the credentials of user "
				  "'%s' (%s): check the user name and password", auth->realm,
				  auth->username, why);
	else
		rc = rs_error_set(RS_EAUTH, "the token server '%s' refused anonymous access (%s): set "
				  "REGSWEEP_USERNAME and REGSWEEP_PASSWORD (or --password-file), "
				  "REGSWEEP_TOKEN, or log in with docker login", auth->realm, why);
	cJSON_Delete(root);
	return rc;
}

/* Cache `token` under the scope the request needs and under every other
 * scope asked for that the token grants (or may grant: an opaque token). */
static int cache_token(struct rs_auth *auth, const char *key, const struct scope_list *scopes,
		       const char *token, int64_t expires_in)
{
	struct cached_token *t = calloc(1, sizeof(*t));
	int64_t ttl_ms = expires_in * 1000, margin = ttl_ms / 5;
	int rc;

	if (!t)
		return rs_error_set(RS_ERROR, "out of memory");
	rc = header_line(&t->header, "Bearer", token);
	if (rc < 0) {
		free(t);
		return rc;
	}
	if (margin > TOKEN_RENEW_MARGIN_MS)
		margin = TOKEN_RENEW_MARGIN_MS;
	t->renew_at_ms = auth->now_ms() + ttl_ms - margin;
	t->refs = 1;   /* ours, until the end of this function */
	rc = cache_put(auth, key, t);
	for (size_t i = 0; rc == 0 && i < scopes->n; i++) {
		int granted;

		if (strcmp(scopes->items[i], key) == 0)
			continue;
		granted = rs_token_grants(token, scopes->items[i]);
		if (granted == 0)
			rs_log(RS_LOG_VERBOSE, "token: the token server did not grant '%s'",
			       scopes->items[i]);
		else
			rc = cache_put(auth, scopes->items[i], t);
	}
	token_unref(t);
	return rc;
}

/* Send one token request for `scopes`: GET, or the OAuth2 form for an
 * identity token or a realm that refuses GET. *grant says which was used. */
static int request_token(struct rs_auth *auth, const struct scope_list *scopes, const char **grant,
			 struct rs_http_response *resp)
{
	int rc;

	if (rs_log_get_level() >= RS_LOG_VERBOSE) {
		struct rs_buf all = RS_BUF_INIT;

		for (size_t i = 0; i < scopes->n; i++)
			rs_buf_printf(&all, "%s'%s'", i ? ", " : "", scopes->items[i]);
		rs_log(RS_LOG_VERBOSE, "token: asking '%s' for %s (%s)", auth->realm,
		       scopes->n ? rs_buf_cstr(&all) : "no scope",
		       auth->identity_token ? "identity token" : auth->username ? "user name and password"
		       : "anonymous");
		rs_buf_release(&all);
	}
	*grant = auth->identity_token ? "refresh_token" : "basic";
	if (auth->identity_token)
		return token_post(auth, scopes, *grant, resp);
	rc = token_get(auth, scopes, resp);
	if (rc == 0 && (resp->status == 404 || resp->status == 405) && auth->username) {
		/* a realm that speaks only the OAuth2 form */
		rs_http_response_release(resp);
		*grant = "password";
		rc = token_post(auth, scopes, *grant, resp);
	}
	return rc;
}

/* Ask the realm for a token for `scope` (and companions); cache it. */
static int fetch_token(struct rs_auth *auth, const char *scope, const char *challenge_scope)
{
	struct scope_list scopes = { {NULL}, 0 };
	struct rs_http_response resp;
	const char *grant = "basic";
	char *token = NULL, *refresh = NULL;
	int64_t expires_in = 0;
	size_t asked;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if (!auth->realm)
		return rs_error_set(RS_EAUTH, "the registry's Bearer challenge names no realm");
	rc = realm_check(auth, auth->realm);
	if (rc == 0)
		rc = scope_list_build(&scopes, auth, scope, challenge_scope, 1);
	if (rc < 0)
		goto done;
	rc = request_token(auth, &scopes, &grant, &resp);
	asked = scopes.n;
	if (rc == 0 && (resp.status == 401 || resp.status == 403) && auth->ndeclared) {
		/* a token server that refuses outright what it would not grant:
		 * ask again for what this request needs, without the declared actions */
		scope_list_release(&scopes);
		rc = scope_list_build(&scopes, auth, scope, challenge_scope, 0);
		if (rc == 0 && scopes.n < asked) {
			rs_log(RS_LOG_VERBOSE, "token: refused with the declared actions; asking "
			       "without them");
			rs_http_response_release(&resp);
			rc = request_token(auth, &scopes, &grant, &resp);
		}
	}
	if (rc < 0) {
		rs_error_prefix("token request to '%s': ", auth->realm);
		goto done;
	}
	if (resp.status != 200) {
		rc = token_refused(auth, grant, resp.status, &resp, &scopes);
		goto done;
	}
	rc = rs_token_response_parse(&token, &expires_in, &refresh, resp.body.ptr, resp.body.len,
				     auth->realm);
	if (rc < 0)
		goto done;
	rs_secret_register(token);
	rs_secret_register(refresh);
	rc = cache_token(auth, scope ? scope : "", &scopes, token, expires_in);
	if (rc == 0)
		rs_log(RS_LOG_VERBOSE, "token: got one valid for %lld s", (long long)expires_in);
done:
	if (token)
		memset(token, 0, strlen(token));
	free(token);
	free(refresh);
	if (resp.body.ptr)
		memset(resp.body.ptr, 0, resp.body.len);
	rs_http_response_release(&resp);
	scope_list_release(&scopes);
	return rc;
}

int rs_auth_header(char **out, struct rs_auth *auth, const char *scope)
{
	const char *key = scope ? scope : "";
	struct cached_token *t;
	char *value = NULL;
	int rc;

	*out = NULL;
	if (auth->token && !auth->scheme_basic)
		return header_line(out, "Bearer", auth->token);
	if (auth->scheme_bearer) {
		t = cache_get(auth, key, 0);
		if (!t && auth->realm && !auth->fetch_ahead_failed) {
			/* the realm is known: fetch now rather than after a 401 */
			if (fetch_token(auth, scope, NULL) < 0) {
				rs_log(RS_LOG_DEBUG, "token: fetching ahead failed: %s", rs_error_message());
				auth->fetch_ahead_failed = 1;
				rs_error_clear();
			}
			t = cache_get(auth, key, 0);
		}
		if (!t)
			return 0;   /* the 401 will say what is missing */
		*out = strdup(t->header);
		return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
	}
	if (auth->scheme_basic && auth->username) {
		rc = basic_value(&value, auth);
		if (rc == 0)
			rc = header_line(out, "Basic", value);
		free(value);
		return rc;
	}
	return 0;
}

int rs_auth_grants(struct rs_auth *auth, const char *scope)
{
	struct cached_token *t;
	const char *bearer;

	if (auth->token && !auth->scheme_basic)
		return rs_token_grants(auth->token, scope);
	if (!auth->scheme_bearer || !auth->realm)
		return -1;   /* Basic or none: the registry decides request by request */
	t = cache_get(auth, scope, 0);
	if (!t && fetch_token(auth, scope, NULL) < 0) {
		rs_log(RS_LOG_VERBOSE, "token: cannot tell whether '%s' is granted: %s", scope,
		       rs_error_message());
		rs_error_clear();
		return -1;
	}
	t = t ? t : cache_get(auth, scope, 0);
	bearer = t ? strstr(t->header, "Bearer ") : NULL;
	return bearer ? rs_token_grants(bearer + 7, scope) : -1;
}

/* What to tell a user whose credentials lack a scope. */
static const char *credentials_hint(const struct rs_auth *auth, char *out, size_t outsize)
{
	if (!auth->username && !auth->token && !auth->identity_token)
		snprintf(out, outsize, ": no credentials were given (set REGSWEEP_USERNAME and "
			 "REGSWEEP_PASSWORD, REGSWEEP_TOKEN, or log in with docker login)");
	else
		snprintf(out, outsize, " (credentials: %s): ask the registry's administrator to "
			 "grant it", auth->source);
	return out;
}

/* "repository:app/web:delete" -> "the token for 'app/web' lacks 'delete'" */
static int scope_denied(const struct rs_auth *auth, const char *scope)
{
	char type[64], name[512], actions[256], hint[512];

	credentials_hint(auth, hint, sizeof(hint));
	if (!scope || !*scope)
		return rs_error_set(RS_EDENIED, "the token was refused for lack of a scope the registry "
				    "did not name%s", hint);
	if (rs_scope_split(scope, type, sizeof(type), name, sizeof(name), actions,
			   sizeof(actions)) < 0)
		return rs_error_set(RS_EDENIED, "the token lacks the scope '%s'%s", scope, hint);
	if (strcmp(type, "registry") == 0 && strcmp(name, "catalog") == 0)
		return rs_error_set(RS_EDENIED, "the token lacks '%s': the credentials may not list "
				    "the registry's repositories%s", scope, hint);
	return rs_error_set(RS_EDENIED, "the token for '%s' lacks '%s'%s", name, actions, hint);
}

static int bearer_challenge(struct rs_auth *auth, const struct rs_challenge *ch, const char *scope)
{
	const char *key = scope ? scope : "";
	int insufficient = ch->error && strcmp(ch->error, "insufficient_scope") == 0;
	int rc;

	if (insufficient && (auth->token || cache_get(auth, key, 1)))
		return scope_denied(auth, scope ? scope : ch->scope);
	if (auth->token)
		return rs_error_set(RS_EAUTH, "the registry refused the pre-issued token (%s, "
				    "credentials: %s): it has expired or is not valid for this registry",
				    ch->error ? ch->error : "401", auth->source);
	if (!ch->realm)
		return rs_error_set(RS_EAUTH, "the registry's Bearer challenge names no realm");
	if (!auth->realm || strcmp(auth->realm, ch->realm) != 0 ||
	    (ch->service && (!auth->service || strcmp(auth->service, ch->service) != 0))) {
		char *realm = strdup(ch->realm), *service = rs_strdup(ch->service);

		if (!realm || (ch->service && !service)) {
			free(realm);
			free(service);
			return rs_error_set(RS_ERROR, "out of memory");
		}
		free(auth->realm);
		free(auth->service);
		auth->realm = realm;
		auth->service = service;
	}
	auth->scheme_bearer = 1;
	/* no error: the request went without a token; one may have come since */
	if (!ch->error && cache_get(auth, key, 0))
		return 0;
	rc = fetch_token(auth, scope, ch->scope);
	if (rc == 0)
		auth->fetch_ahead_failed = 0;
	return rc;
}

static int basic_challenge(struct rs_auth *auth)
{
	if (!auth->username && (auth->token || auth->identity_token))
		return rs_error_set(RS_EAUTH, "the registry asks for a user name and password (Basic), "
				    "but only a token is configured (%s)", auth->source);
	if (!auth->username)
		return rs_error_set(RS_EAUTH, "the registry requires a user name and password (401): "
				    "set REGSWEEP_USERNAME and REGSWEEP_PASSWORD (or --password-file, "
				    "--password-stdin), or log in with docker login");
	if (auth->scheme_basic)
		return rs_error_set(RS_EAUTH, "the registry rejected the credentials of user '%s' "
				    "(401, credentials: %s): check the user name and password",
				    auth->username, auth->source);
	auth->scheme_basic = 1;
	return 0;
}

int rs_auth_challenge(struct rs_auth *auth, const char *www_authenticate, const char *scope)
{
	struct rs_challenge *list = NULL;
	const struct rs_challenge *bearer = NULL, *basic = NULL;
	size_t n = 0;
	int rc;

	rc = rs_challenges_parse(&list, &n, www_authenticate);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!bearer && strcmp(list[i].scheme, "bearer") == 0)
			bearer = &list[i];
		else if (!basic && strcmp(list[i].scheme, "basic") == 0)
			basic = &list[i];
	}
	if (bearer)
		rc = bearer_challenge(auth, bearer, scope);
	else if (basic)
		rc = basic_challenge(auth);
	else if (n)
		rc = rs_error_set(RS_EAUTH, "the registry asks for '%s' authentication, which regsweep "
				  "does not support (only Basic and Bearer)", list[0].scheme);
	else
		rc = rs_error_set(RS_EAUTH, "the registry answered 401 without a WWW-Authenticate "
				  "challenge: the credentials are missing or wrong");
	rs_challenges_free(list, n);
	return rc;
}
