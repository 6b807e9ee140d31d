/* auth.h: the registry's authentication schemes: Basic, and the Bearer
 * token flow of distribution's token auth (Docker Hub, Harbor, GitLab...).
 *
 * The registry module asks for an Authorization header before each request
 * (rs_auth_header) and hands every 401 to rs_auth_challenge(), which parses
 * the WWW-Authenticate challenges and, for Bearer, fetches a token for the
 * scope the request needs. Once the token realm is known, tokens are fetched
 * before the request that needs them, and renewed shortly before they
 * expire, so a long run with short-lived tokens costs no extra round trips.
 *
 * Token requests: GET on the realm with `service`, one `scope=` per scope
 * and HTTP Basic credentials when there are any (anonymous otherwise); the
 * OAuth2 POST form (`grant_type=refresh_token`, `client_id=regsweep`) when
 * an identity token is configured, and `grant_type=password` when a realm
 * answers GET with 404 or 405. Tokens are cached per scope until they expire.
 * A token realm on plain http:// for an https:// registry is refused unless
 * `insecure` is set.
 *
 * Secrets (password, tokens, the Basic header value) live only in this
 * module and in the header strings it returns; each is registered with the
 * log redactor and never formatted into a log line or an error message.
 */
#ifndef RS_AUTH_H
#define RS_AUTH_H

#include "net/http.h"

#include <stddef.h>
#include <stdint.h>

struct rs_auth;

struct rs_auth_options {
	const char *registry;      /* base URL, to judge realms */
	const char *username;
	const char *password;
	const char *token;         /* pre-issued bearer token, sent as is */
	const char *identity_token; /* OAuth2 refresh token (docker config) */
	const char *source;        /* where the credentials came from, for -v */
	int insecure;              /* allow an http:// realm for an https:// registry */
	int64_t (*now_ms)(void);   /* clock for token expiry; NULL: monotonic (tests) */
};

#define RS_AUTH_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL }

/* One challenge from a WWW-Authenticate header. */
struct rs_challenge {
	char scheme[16];           /* lower case: "basic", "bearer" */
	char *realm;
	char *service;
	char *scope;               /* may hold several scopes, space-separated */
	char *error;               /* "insufficient_scope", "invalid_token" */
};

/* Parse every challenge in a WWW-Authenticate value (RFC 7235: several may
 * be joined by commas, as libcurl joins repeated headers; quoted strings may
 * hold commas and backslash-escaped quotes; the scheme and parameter names
 * are matched in any case; a token68 after a scheme is skipped). Unknown
 * parameters are ignored, and the first of a repeated one wins. *out is an
 * array of *count entries (NULL and 0 for an empty header), the caller's;
 * free it with rs_challenges_free. Fails with RS_EPROTO on a malformed
 * header (an unterminated quote, a parameter before any scheme). */
int rs_challenges_parse(struct rs_challenge **out, size_t *count, const char *header);
void rs_challenges_free(struct rs_challenge *list, size_t count);

/* Create an authenticator; copies everything in `opts` and registers the
 * secrets with the redactor. `http` is borrowed for token requests and must
 * outlive the authenticator. *out is the caller's (rs_auth_free). */
int rs_auth_new(struct rs_auth **out, const struct rs_auth_options *opts, struct rs_http *http);
void rs_auth_free(struct rs_auth *auth);

/* Declare that `action` ("delete") will be needed on `repo` (NULL: on every
 * repository), so that each token requested for a repository scope also
 * asks for it: one token then serves reading and deleting, and a token
 * server that withholds the action is noticed before the first DELETE is
 * sent. Returns 0 or RS_ERROR (out of memory). */
int rs_auth_declare_action(struct rs_auth *auth, const char *repo, const char *action);

/* The "Authorization: ..." header line for a request needing `scope` (e.g.
 * "repository:app:pull", "registry:catalog:*"; NULL for none), or *out =
 * NULL to send none. May fetch a token first (blocking: safe from a
 * transport callback); a failure to fetch is not reported here but left to
 * the 401 that follows. *out is the caller's. */
int rs_auth_header(char **out, struct rs_auth *auth, const char *scope);

/* A request needing `scope` got 401 with this WWW-Authenticate value.
 * Returns 0 when a retry may now succeed (a new token, or Basic credentials
 * to send), or:
 *   RS_EAUTH    credentials missing or wrong, token server refused them,
 *               a realm refused for safety, an unsupported scheme;
 *   RS_EDENIED  the token is valid but lacks the scope
 *               ("the token for 'app/web' lacks 'delete'");
 *   RS_ENET, RS_ETIMEOUT, RS_EPROTO  the token server could not be used;
 * with a message saying what to fix. */
int rs_auth_challenge(struct rs_auth *auth, const char *www_authenticate, const char *scope);

/* Would the registry let these credentials do `scope`
 * ("repository:app:pull,push")? For Bearer auth a token for the scope is
 * fetched (or taken from the cache) and its claims read (rs_token_grants):
 * 1 granted, 0 not; -1 when it cannot be told (Basic or no auth, where the
 * registry decides each request, an opaque token, a failed fetch). Sends
 * nothing to the registry itself. */
int rs_auth_grants(struct rs_auth *auth, const char *scope);

/* Describe the credential source in use ("REGSWEEP_USERNAME and
 * REGSWEEP_PASSWORD", "docker config ...", "anonymous"), never the secret.
 * Valid as long as `auth`. */
const char *rs_auth_source(const struct rs_auth *auth);

/* Token requests sent so far (for -v and tests). */
uint64_t rs_auth_token_requests(const struct rs_auth *auth);

/* Does a token's payload (a JWT, read without verifying it: the registry
 * does that) grant `scope` ("repository:app:pull,delete": every action)?
 * Returns 1 yes, 0 no, -1 unknown (an opaque token, or no `access` claim). */
int rs_token_grants(const char *token, const char *scope);

/* Parse a token endpoint's JSON answer: `token` or `access_token` into
 * *token, `expires_in` into *expires_in (60 when absent or below 1), and
 * `refresh_token` into *refresh (NULL when absent; may be NULL to ignore).
 * The strings are the caller's. Fails with RS_EPROTO when there is no token
 * (the message names `realm`). */
int rs_token_response_parse(char **token, int64_t *expires_in, char **refresh,
			    const char *body, size_t len, const char *realm);

/* Split "repository:NAME:ACTIONS" into its parts, written into the three
 * buffers. Returns 0, or -1 when `scope` is not of that form or too long. */
int rs_scope_split(const char *scope, char *type, size_t typesize, char *name, size_t namesize,
		   char *actions, size_t actionssize);

#endif
