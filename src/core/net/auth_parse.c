/* auth_parse.c: the parsers of the authentication module: base64, the
 * WWW-Authenticate challenges, scopes, token answers and JWT access claims.
 * Pure functions, no I/O; declared in auth.h. */
#include "net/auth.h"
#include "base/buf.h"
#include "base/base64.h"
#include "base/error.h"
#include "base/util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_DEFAULT_TTL 60          /* seconds, per the token spec */
#define MAX_CHALLENGES 32

/* ---- WWW-Authenticate ---------------------------------------------------- */

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

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token68_char(int c)
{
	return isalnum(c) || (c && strchr("-._~+/", c));
}

/* Read a token (RFC 7230 tchar run), lower-cased, truncated to `outsize`. */
static const char *read_token(const char *p, char *out, size_t outsize)
{
	size_t n = 0;

	while (is_tchar((unsigned char)*p)) {
		if (n + 1 < outsize)
			out[n++] = (char)tolower((unsigned char)*p);
		p++;
	}
	out[n] = '\0';
	return p;
}

/* Read a quoted-string (with backslash escapes) or a bare value into a new
 * string; NULL on an unterminated quote or no memory. */
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

/* Right after a scheme: skip a token68 ("Negotiate abc==") if that is what
 * follows rather than auth-params. */
static const char *skip_token68(const char *p)
{
	const char *q = skip_ws(p), *r = q;

	while (is_token68_char((unsigned char)*r))
		r++;
	if (r == q)
		return p;
	while (*r == '=')
		r++;
	r = skip_ws(r);
	return *r == ',' || !*r ? r : p;
}

static void challenge_param(struct rs_challenge *ch, const char *name, char *value)
{
	char **slot = strcmp(name, "realm") == 0 ? &ch->realm
		    : strcmp(name, "service") == 0 ? &ch->service
		    : strcmp(name, "scope") == 0 ? &ch->scope
		    : strcmp(name, "error") == 0 ? &ch->error : NULL;

	if (slot && !*slot)
		*slot = value;
	else
		free(value);
}

int rs_challenges_parse(struct rs_challenge **out, size_t *count, const char *header)
{
	struct rs_challenge *list = NULL, *cur = NULL;
	const char *p = header;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!header)
		return 0;
	for (;;) {
		char name[64];
		const char *after;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		after = read_token(p, name, sizeof(name));
		if (after == p) {
			rc = rs_error_set(RS_EPROTO, "malformed WWW-Authenticate header: unexpected '%c'", *p);
			goto fail;
		}
		after = skip_ws(after);
		if (*after == '=' && after[1] != '=') {
			char *value;

			if (!cur) {
				rc = rs_error_set(RS_EPROTO, "malformed WWW-Authenticate header: parameter "
						  "'%s' before any scheme", name);
				goto fail;
			}
			p = read_value(skip_ws(after + 1), &value);
			if (!p) {
				rc = rs_error_set(RS_EPROTO, "malformed WWW-Authenticate header: unterminated "
						  "quoted value of '%s'", name);
				goto fail;
			}
			challenge_param(cur, name, value);
			continue;
		}
		/* not "name=value": a new challenge's scheme */
		if (n == MAX_CHALLENGES) {
			rc = rs_error_set(RS_EPROTO, "malformed WWW-Authenticate header: more than %d "
					  "challenges", MAX_CHALLENGES);
			goto fail;
		}
		{
			struct rs_challenge *grown = realloc(list, (n + 1) * sizeof(*list));

			if (!grown) {
				rc = rs_error_set(RS_ERROR, "out of memory");
				goto fail;
			}
			list = grown;
		}
		cur = &list[n++];
		memset(cur, 0, sizeof(*cur));
		rs_strlcpy(cur->scheme, name, sizeof(cur->scheme));
		p = skip_token68(after);
	}
	*out = list;
	*count = n;
	return 0;
fail:
	rs_challenges_free(list, n);
	return rc;
}

/* ---- scopes and tokens --------------------------------------------------- */

int rs_scope_split(const char *scope, char *type, size_t typesize, char *name, size_t namesize,
		   char *actions, size_t actionssize)
{
	const char *first, *last;

	if (!scope)
		return -1;
	first = strchr(scope, ':');
	last = strrchr(scope, ':');
	if (!first || first == scope || first == last || (size_t)(first - scope) >= typesize ||
	    (size_t)(last - first - 1) >= namesize || last == first + 1 || !last[1] ||
	    strlen(last + 1) >= actionssize)
		return -1;
	memcpy(type, scope, (size_t)(first - scope));
	type[first - scope] = '\0';
	memcpy(name, first + 1, (size_t)(last - first - 1));
	name[last - first - 1] = '\0';
	strcpy(actions, last + 1);
	return 0;
}

static int json_array_has(const cJSON *array, const char *want)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		const char *s = cJSON_GetStringValue(item);

		if (s && (strcmp(s, want) == 0 || strcmp(s, "*") == 0))
			return 1;
	}
	return 0;
}

/* Does access entry `entry` grant every action in the comma list `actions`? */
static int entry_grants(const cJSON *entry, const char *actions)
{
	const cJSON *granted = cJSON_GetObjectItemCaseSensitive(entry, "actions");
	char one[64];
	const char *p = actions;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len && len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = '\0';
			if (!json_array_has(granted, one))
				return 0;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 1;
}

int rs_token_grants(const char *token, const char *scope)
{
	char type[64], name[512], actions[256];
	const char *dot1, *dot2;
	char *segment = NULL, *payload = NULL;
	cJSON *root = NULL;
	const cJSON *access, *entry;
	int result = -1;

	if (!token || rs_scope_split(scope, type, sizeof(type), name, sizeof(name), actions,
				     sizeof(actions)) < 0)
		return -1;
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
		return -1;
	segment = strndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!segment || rs_base64url_decode(&payload, NULL, segment) < 0)
		goto done;
	root = cJSON_Parse(payload);
	access = cJSON_GetObjectItemCaseSensitive(root, "access");
	if (!cJSON_IsArray(access))
		goto done;
	result = 0;
	cJSON_ArrayForEach(entry, access) {
		const char *etype = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "type"));
		const char *ename = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "name"));

		if (etype && ename && strcmp(etype, type) == 0 && strcmp(ename, name) == 0 &&
		    entry_grants(entry, actions)) {
			result = 1;
			break;
		}
	}
done:
	cJSON_Delete(root);
	free(payload);
	free(segment);
	return result;
}

int rs_token_response_parse(char **token, int64_t *expires_in, char **refresh,
			    const char *body, size_t len, const char *realm)
{
	cJSON *root;
	const char *value;
	const cJSON *ttl;
	int rc = 0;

	*token = NULL;
	*expires_in = TOKEN_DEFAULT_TTL;
	if (refresh)
		*refresh = NULL;
	root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	if (!cJSON_IsObject(root)) {
		rc = rs_error_set(RS_EPROTO, "the token server '%s' answered something that is not a "
				  "JSON object", realm);
		goto done;
	}
	value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "token"));
	if (!value || !*value)
		value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "access_token"));
	if (!value || !*value) {
		rc = rs_error_set(RS_EPROTO, "the token server '%s' sent no token", realm);
		goto done;
	}
	*token = strdup(value);
	ttl = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	if (cJSON_IsNumber(ttl) && ttl->valuedouble >= 1 && ttl->valuedouble < 1e9)
		*expires_in = (int64_t)ttl->valuedouble;
	value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "refresh_token"));
	if (refresh && value && *value)
		*refresh = strdup(value);
	if (!*token || (refresh && value && *value && !*refresh)) {
		free(*token);
		*token = NULL;
		if (refresh) {
			free(*refresh);
			*refresh = NULL;
		}
		rc = rs_error_set(RS_ERROR, "out of memory");
	}
done:
	cJSON_Delete(root);
	return rc;
}
