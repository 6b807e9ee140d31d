/* credentials.h: where the credentials for a registry come from.
 *
 * Sources, first match wins:
 *   1. a user name and password given to regsweep (command line or
 *      environment: REGSWEEP_USERNAME with REGSWEEP_PASSWORD,
 *      --password-file or --password-stdin);
 *   2. a pre-issued bearer token (REGSWEEP_TOKEN or --token-file);
 *   3. the docker CLI's config, read as docker reads it:
 *      $DOCKER_CONFIG/config.json, else ~/.docker/config.json. The registry's
 *      host[:port] selects the entry (keys may carry a scheme and a path, as
 *      `docker login` writes them). `credHelpers` for that registry, else
 *      `credsStore`, names a helper: `docker-credential-NAME get` runs with
 *      the server address on its standard input (no shell, a time limit) and
 *      answers {"Username":..,"Secret":..}; a Username of "<token>" makes
 *      the Secret an identity token. When the helper has nothing (or cannot
 *      be run: a warning says so), the `auths` entry is used: `auth` (base64
 *      "user:password"), `username`/`password`, `identitytoken` (an OAuth2
 *      refresh token), `registrytoken` (a bearer token).
 * Nothing found means anonymous. A config.json that is missing is not an
 * error; one that cannot be parsed gives a warning and is ignored.
 *
 * Every secret found is registered with the log redactor at once; the
 * `source` string says where the credentials came from and never holds a
 * secret.
 */
#ifndef RS_CREDENTIALS_H
#define RS_CREDENTIALS_H

#include <stddef.h>

struct rs_credentials {
	char *username;
	char *password;
	char *token;            /* pre-issued bearer token */
	char *identity_token;   /* OAuth2 refresh token */
	char *source;           /* e.g. "docker config '/home/u/.docker/config.json'" */
};

struct rs_credentials_options {
	const char *registry;         /* registry URL or host[:port] */
	const char *username;         /* given to regsweep, or NULL */
	const char *password;
	const char *password_origin;  /* "REGSWEEP_PASSWORD", "--password-file"... for -v */
	const char *token;
	const char *token_origin;     /* "REGSWEEP_TOKEN", "--token-file" */
	const char *docker_config;    /* config.json to read; NULL: docker's rules */
	long helper_timeout_ms;       /* limit for a credential helper; 0: 10 s */
};

#define RS_CREDENTIALS_OPTIONS_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* Find the credentials for opts->registry. *out is the caller's (free with
 * rs_credentials_free) and always set on success; all its secrets are NULL
 * for anonymous access. Fails with RS_EUSAGE for a password without a user
 * name or a user name without a password, RS_ERROR when out of memory. */
int rs_credentials_resolve(struct rs_credentials **out, const struct rs_credentials_options *opts);
void rs_credentials_free(struct rs_credentials *creds);

/* The config.json docker would read: $DOCKER_CONFIG/config.json, else
 * $HOME/.docker/config.json (the password database's home when HOME is
 * unset). *out is the caller's. */
int rs_docker_config_path(char **out);

/* Look `registry` up in the docker config at `path`, helpers included.
 * *out is NULL when nothing matches (a missing or unreadable file too);
 * otherwise the caller's. Returns 0 or RS_ERROR (out of memory). */
int rs_docker_config_lookup(struct rs_credentials **out, const char *path, const char *registry,
			    long helper_timeout_ms);

/* The key docker uses for a registry: host[:port] of a URL ("https://r:5000/v2"
 * -> "r:5000"), lower-cased; Docker Hub's names give "index.docker.io".
 * *out is the caller's. Fails with RS_EUSAGE on an empty host. */
int rs_registry_hostname(char **out, const char *registry);

/* Run `docker-credential-NAME get` (found on PATH) with `server` on its
 * standard input. *out is NULL when the helper has no credentials for
 * `server`, otherwise the caller's (source names the helper). Returns 0,
 * RS_EUSAGE for an invalid NAME, RS_ERROR when the helper cannot be run,
 * fails or answers nonsense, RS_ETIMEOUT when it outlives `timeout_ms`
 * (it is then killed). */
int rs_credential_helper_get(struct rs_credentials **out, const char *name, const char *server,
			     long timeout_ms);

#endif
