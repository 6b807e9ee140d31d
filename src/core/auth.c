/* auth.c: challenge parsing, basic credentials and the bearer token flow. */
#include "auth.h"
#include "error.h"
#include "log.h"
#include "map.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_MAX_BODY (1024 * 1024)
#define TOKEN_DEFAULT_TTL 60       /* seconds, per the token spec */
#define TOKEN_EXPIRY_MARGIN 10     /* renew this many seconds early */

struct cached_token {
	char *header;                  /* "Authorization: Bearer ..." */
	int64_t expires_at;
};

struct rs_auth {
	char *registry;
	char *username;
	char *password;
	char *token;
	char *identity_token;
	char *source;
	int insecure;
	struct rs_http *http;
	int scheme_basic;              /* the registry asked for Basic */
	int scheme_bearer;             /* the registry asked for Bearer */
	char *realm;
	char *service;
	struct rs_map tokens;          /* scope -> struct cached_token * */
};

int rs_base64_encode(char **out, const void *data, size_t len)
{
	char *buf = malloc(4 * ((len + 2) / 3) + 1);

	*out = NULL;
	if (!buf)
		return rs_error_set(RS_ERROR, "out of memory");
	EVP_EncodeBlock((unsigned char *)buf, data, (int)len);
	*out = buf;
	return 0;
}

int rs_base64_decode(char **out, size_t *outlen, const char *text)
{
	size_t len = strlen(text), pad = 0;
	unsigned char *buf;
	int n;

	*out = NULL;
	if (len % 4)
		return rs_error_set(RS_EPROTO, "invalid base64");
	buf = malloc(3 * (len / 4) + 1);
	if (!buf)
		return rs_error_set(RS_ERROR, "out of memory");
	n = EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(buf);
		return rs_error_set(RS_EPROTO, "invalid base64");
	}
	while (pad < 2 && len > pad && text[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	buf[n] = '\0';
	*out = (char *)buf;
	if (outlen)
		*outlen = (size_t)n;
	return 0;
}

void rs_challenges_free(struct rs_challenge *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++) {
		free(list[i].realm);
		free(list[i].service);
		free(list[i].scope);
		free(list[i].error);
	}
	free(list);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read a token (RFC 7230 tchar run). */
static const char *read_token(const char *p, char *out, size_t outsize)
{
	size_t n = 0;

	while (*p && (isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p))) {
		if (n + 1 < outsize)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	return p;
}

/* Read a quoted-string or a token68-ish value into a new string. */
static const char *read_value(const char *p, char **out)
{
	struct rs_buf buf = RS_BUF_INIT;

	*out = NULL;
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (rs_buf_put(&buf, p, 1) < 0)
				return NULL;
			p++;
		}
		if (*p != '"') {
			rs_buf_release(&buf);
			return NULL;
		}
		p++;
	} else {
		while (*p && *p != ',' && *p != ' ' && *p != '\t') {
			if (rs_buf_put(&buf, p, 1) < 0)
				return NULL;
			p++;
		}
	}
	*out = rs_buf_detach(&buf);
	return *out ? p : NULL;
}

int rs_challenges_parse(struct rs_challenge **out, size_t *count, const char *header)
{
	struct rs_challenge *list = NULL, *cur = NULL;
	size_t n = 0;
	const char *p = header;

	*out = NULL;
	*count = 0;
	if (!header)
		return 0;
	while (*p) {
		char name[64];
		const char *after;

		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p)
			break;
		after = read_token(p, name, sizeof(name));
		if (after == p)
			goto bad;
		after = skip_ws(after);
		if (*after == '=' && cur) {
			/* auth-param of the current challenge */
			char *value;

			p = read_value(skip_ws(after + 1), &value);
			if (!p)
				goto bad;
			for (char *c = name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (strcmp(name, "realm") == 0 && !cur->realm)
				cur->realm = value;
			else if (strcmp(name, "service") == 0 && !cur->service)
				cur->service = value;
			else if (strcmp(name, "scope") == 0 && !cur->scope)
				cur->scope = value;
			else if (strcmp(name, "error") == 0 && !cur->error)
				cur->error = value;
			else
				free(value);
			continue;
		}
		/* a new challenge: scheme name */
		{
			struct rs_challenge *grown = realloc(list, (n + 1) * sizeof(*list));

			if (!grown) {
				rs_challenges_free(list, n);
				return rs_error_set(RS_ERROR, "out of memory");
			}
			list = grown;
			cur = &list[n++];
			memset(cur, 0, sizeof(*cur));
			rs_strlcpy(cur->scheme, name, sizeof(cur->scheme));
			for (char *c = cur->scheme; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			p = after;
		}
		if (n > 32)
			goto bad;
	}
	*out = list;
	*count = n;
	return 0;
bad:
	rs_challenges_free(list, n);
	return rs_error_set(RS_EPROTO, "malformed WWW-Authenticate header");
}

int rs_auth_new(struct rs_auth **out, const struct rs_auth_options *opts, struct rs_http *http)
{
	struct rs_auth *auth = calloc(1, sizeof(*auth));

	*out = NULL;
	if (!auth)
		return rs_error_set(RS_ERROR, "out of memory");
	auth->http = http;
	auth->insecure = opts->insecure;
	auth->registry = rs_strdup(opts->registry);
	auth->username = rs_strdup(opts->username);
	auth->password = rs_strdup(opts->password);
	auth->token = rs_strdup(opts->token);
	auth->identity_token = rs_strdup(opts->identity_token);
	auth->source = rs_strdup(opts->source ? opts->source : "anonymous");
	if (!auth->source) {
		rs_auth_free(auth);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	rs_secret_register(auth->password);
	rs_secret_register(auth->token);
	rs_secret_register(auth->identity_token);
	*out = auth;
	return 0;
}

static void token_free(struct cached_token *t)
{
	if (!t)
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
		token_free(value);
	rs_map_release(&auth->tokens);
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

static int basic_header(char **out, const struct rs_auth *auth)
{
	struct rs_buf plain = RS_BUF_INIT;
	char *b64 = NULL;
	int rc;

	*out = NULL;
	rc = rs_buf_printf(&plain, "%s:%s", auth->username, auth->password ? auth->password : "");
	if (rc < 0)
		return rc;
	rc = rs_base64_encode(&b64, plain.ptr, plain.len);
	rs_buf_release(&plain);
	if (rc < 0)
		return rc;
	{
		struct rs_buf hdr = RS_BUF_INIT;

		rc = rs_buf_printf(&hdr, "Authorization: Basic %s", b64);
		free(b64);
		if (rc < 0)
			return rc;
		*out = rs_buf_detach(&hdr);
	}
	return 0;
}

int rs_auth_header(char **out, struct rs_auth *auth, const char *scope)
{
	struct cached_token *t;
	struct rs_buf hdr = RS_BUF_INIT;
	int rc;

	*out = NULL;
	if (auth->token && !auth->scheme_basic) {
		rc = rs_buf_printf(&hdr, "Authorization: Bearer %s", auth->token);
		if (rc < 0)
			return rc;
		*out = rs_buf_detach(&hdr);
		return 0;
	}
	if (auth->scheme_bearer) {
		t = rs_map_get(&auth->tokens, scope ? scope : "");
		if (t && t->expires_at > (int64_t)time(NULL) + TOKEN_EXPIRY_MARGIN) {
			*out = strdup(t->header);
			return *out ? 0 : rs_error_set(RS_ERROR, "out of memory");
		}
		return 0;   /* no valid token yet: the 401 will fetch one */
	}
	if (auth->scheme_basic && auth->username)
		return basic_header(out, auth);
	return 0;
}

static int fetch_token(struct rs_auth *auth, const struct rs_challenge *ch, const char *scope)
{
	struct rs_buf url = RS_BUF_INIT;
	struct rs_http_req *req = NULL;
	struct rs_http_response resp;
	cJSON *root = NULL;
	const char *token;
	const cJSON *ttl;
	struct cached_token *t = NULL;
	char *escaped = NULL, *auth_hdr = NULL;
	int rc;

	if (!ch->realm)
		return rs_error_set(RS_EAUTH, "the registry's Bearer challenge names no realm");
	if (strncmp(ch->realm, "https://", 8) != 0 &&
	    (strncmp(ch->realm, "http://", 7) != 0 ||
	     (auth->registry && strncmp(auth->registry, "https://", 8) == 0 && !auth->insecure)))
		return rs_error_set(RS_EAUTH,
			"refusing token realm '%s': an https registry must not send credentials "
			"over plain http (use --insecure to allow)", ch->realm);
	rc = rs_buf_puts(&url, ch->realm);
	if (rc == 0)
		rc = rs_buf_puts(&url, strchr(ch->realm, '?') ? "&" : "?");
	if (rc == 0 && ch->service) {
		rc = rs_http_escape(&escaped, ch->service);
		if (rc == 0)
			rc = rs_buf_printf(&url, "service=%s", escaped);
		free(escaped);
		escaped = NULL;
	}
	if (rc == 0 && scope && *scope) {
		rc = rs_http_escape(&escaped, scope);
		if (rc == 0)
			rc = rs_buf_printf(&url, "%sscope=%s", ch->service ? "&" : "", escaped);
		free(escaped);
	}
	if (rc < 0)
		goto done;
	rc = rs_http_req_new(&req, "GET", rs_buf_cstr(&url));
	if (rc < 0)
		goto done;
	rs_http_req_max_body(req, TOKEN_MAX_BODY);
	if (auth->username) {
		rc = basic_header(&auth_hdr, auth);
		if (rc == 0)
			rc = rs_http_req_header(req, auth_hdr);
		free(auth_hdr);
		if (rc < 0) {
			rs_http_req_free(req);
			goto done;
		}
	}
	rc = rs_http_perform(auth->http, req, &resp);
	if (rc < 0) {
		rs_error_prefix("token request to '%s': ", ch->realm);
		goto done;
	}
	if (resp.status == 401 || resp.status == 403) {
		rc = rs_error_set(RS_EAUTH, "the token server '%s' refused %s (%ld): check the user "
				  "name and password", ch->realm,
				  auth->username ? "the credentials" : "anonymous access", resp.status);
		goto release;
	}
	if (resp.status != 200) {
		rc = rs_error_set(RS_EAUTH, "the token server '%s' answered %ld", ch->realm, resp.status);
		goto release;
	}
	root = cJSON_ParseWithLength(resp.body.ptr ? resp.body.ptr : "", resp.body.len);
	token = root ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "token")) : NULL;
	if (!token && root)
		token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "access_token"));
	if (!token || !*token) {
		rc = rs_error_set(RS_EPROTO, "the token server '%s' sent no token", ch->realm);
		goto release;
	}
	rs_secret_register(token);
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto release;
	}
	{
		struct rs_buf hdr = RS_BUF_INIT;

		if (rs_buf_printf(&hdr, "Authorization: Bearer %s", token) < 0) {
			token_free(t);
			rc = RS_ERROR;
			goto release;
		}
		t->header = rs_buf_detach(&hdr);
	}
	ttl = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	t->expires_at = (int64_t)time(NULL) +
			(cJSON_IsNumber(ttl) && ttl->valuedouble >= 1 ? (int64_t)ttl->valuedouble
								      : TOKEN_DEFAULT_TTL);
	{
		struct cached_token *old = rs_map_get(&auth->tokens, scope ? scope : "");

		rc = rs_map_put(&auth->tokens, scope ? scope : "", t);
		if (rc < 0)
			token_free(t);
		else
			token_free(old);
	}
release:
	cJSON_Delete(root);
	rs_http_response_release(&resp);
done:
	rs_buf_release(&url);
	return rc;
}

/* "repository:app/web:delete" -> "the token for 'app/web' lacks 'delete'" */
static int scope_denied(const char *scope)
{
	const char *name, *actions;

	if (!scope || strncmp(scope, "repository:", 11) != 0 || !(actions = strrchr(scope, ':')) ||
	    actions < scope + 11)
		return rs_error_set(RS_EDENIED, "the token lacks the scope '%s'", scope ? scope : "");
	name = scope + 11;
	return rs_error_set(RS_EDENIED, "the token for '%.*s' lacks '%s'", (int)(actions - name), name,
			    actions + 1);
}

int rs_auth_challenge(struct rs_auth *auth, const char *www_authenticate, const char *scope)
{
	struct rs_challenge *list = NULL;
	size_t n = 0;
	int rc;

	rc = rs_challenges_parse(&list, &n, www_authenticate);
	if (rc < 0)
		return rc;
	rc = rs_error_set(RS_EAUTH, "the registry requires authentication and answered 401: "
			  "set REGSWEEP_USERNAME and REGSWEEP_PASSWORD (or --password-file), or "
			  "REGSWEEP_TOKEN");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].scheme, "bearer") == 0) {
			if (list[i].error && strcmp(list[i].error, "insufficient_scope") == 0 &&
			    auth->scheme_bearer && rs_map_get(&auth->tokens, scope ? scope : "")) {
				rc = scope_denied(scope);
				break;
			}
			if (auth->token && !auth->scheme_bearer) {
				rc = rs_error_set(RS_EAUTH, "the registry refused the pre-issued token "
						  "(expired, or not valid for this registry)");
				break;
			}
			auth->scheme_bearer = 1;
			rc = fetch_token(auth, &list[i], scope);
			break;
		}
		if (strcmp(list[i].scheme, "basic") == 0) {
			if (!auth->username) {
				rc = rs_error_set(RS_EAUTH, "the registry requires a user name and "
						  "password (401): set REGSWEEP_USERNAME and "
						  "REGSWEEP_PASSWORD, or use --password-file");
			} else if (auth->scheme_basic) {
				rc = rs_error_set(RS_EAUTH, "the registry rejected the credentials for "
						  "'%s' (401): check the user name and password",
						  auth->username);
			} else {
				auth->scheme_basic = 1;
				rc = 0;
			}
			break;
		}
	}
	rs_challenges_free(list, n);
	return rc;
}
