/* auth.h: credentials and the registry's authentication schemes.
 *
 * The registry module asks for an Authorization header before each request
 * (rs_auth_header) and hands every 401 to rs_auth_challenge(), which parses
 * the WWW-Authenticate challenge and, for Bearer, fetches a token for the
 * scope the request needs (with basic credentials when it has them,
 * anonymously otherwise). Tokens are cached per scope until they expire.
 * Secrets live only in this module and in the header strings it returns;
 * they are registered with the log redactor and never formatted elsewhere.
 */
#ifndef RS_AUTH_H
#define RS_AUTH_H

#include "http.h"

#include <stdint.h>

struct rs_auth;

struct rs_auth_options {
	const char *registry;      /* base URL, to match credentials and realms */
	const char *username;
	const char *password;
	const char *token;         /* pre-issued bearer token */
	const char *identity_token; /* OAuth2 refresh token (docker config) */
	const char *source;        /* where the credentials came from, for -v */
	int insecure;              /* allow an http:// realm for an https:// registry */
};

#define RS_AUTH_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* One challenge from a WWW-Authenticate header. */
struct rs_challenge {
	char scheme[16];           /* lower case: "basic", "bearer" */
	char *realm;
	char *service;
	char *scope;
	char *error;               /* "insufficient_scope", "invalid_token" */
};

/* Parse every challenge in a WWW-Authenticate value (several may be joined
 * by commas; quoted strings may hold commas and escaped quotes; the scheme
 * is matched in any case). *out is an array of *count entries, the caller's;
 * free with rs_challenges_free. */
int rs_challenges_parse(struct rs_challenge **out, size_t *count, const char *header);
void rs_challenges_free(struct rs_challenge *list, size_t count);

/* Create an authenticator; copies everything in `opts`. `http` is borrowed
 * for token requests. */
int rs_auth_new(struct rs_auth **out, const struct rs_auth_options *opts, struct rs_http *http);
void rs_auth_free(struct rs_auth *auth);

/* The "Authorization: ..." header line for a request needing `scope` (e.g.
 * "repository:app:pull"; NULL for none), or *out = NULL to send none.
 * *out is the caller's. */
int rs_auth_header(char **out, struct rs_auth *auth, const char *scope);

/* A request needing `scope` got 401 with this WWW-Authenticate value.
 * Returns 0 when a retry may now succeed (a new token, or basic credentials
 * to send), or RS_EAUTH (credentials missing or wrong) / RS_EDENIED
 * (insufficient scope) with a message saying what to fix. */
int rs_auth_challenge(struct rs_auth *auth, const char *www_authenticate, const char *scope);

/* Describe the credential source in use ("REGSWEEP_USERNAME/REGSWEEP_PASSWORD",
 * "docker config.json", "anonymous"), never the secret. */
const char *rs_auth_source(const struct rs_auth *auth);

/* Base64 of `len` bytes (OpenSSL); *out is the caller's. */
int rs_base64_encode(char **out, const void *data, size_t len);
/* Decode base64; *out is NUL-terminated and the caller's. */
int rs_base64_decode(char **out, size_t *outlen, const char *text);

#endif
