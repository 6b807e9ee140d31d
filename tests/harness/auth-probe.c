/* auth-probe.c: a test program that sends registry calls through the core's
 * credentials, authenticator and registry modules, so that the integration
 * tests can check what no command does yet on its own (a DELETE under a
 * token server that withholds it, several scopes in one token request).
 *
 * usage: auth_probe [--declare-delete] METHOD PATH SCOPE [METHOD PATH SCOPE...]
 *
 * The registry and credentials come from the environment as for regsweep
 * (REGSWEEP_REGISTRY, REGSWEEP_USERNAME, REGSWEEP_PASSWORD, REGSWEEP_TOKEN,
 * the docker config); SCOPE "-" is none. For each call it prints
 * "METHOD PATH STATUS" or "METHOD PATH error: MESSAGE", then
 * "token-requests N". Exit status 0 when every call succeeded, 1 otherwise,
 * 2 on a usage error.
 */
#include "net/auth.h"
#include "net/credentials.h"
#include "base/error.h"
#include "net/http.h"
#include "base/log.h"
#include "net/registry.h"
#include "config/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_stderr(enum rs_log_level level, const char *line, void *ud)
{
	(void)level;
	(void)ud;
	fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
	struct rs_settings s;
	struct rs_credentials_options copts = RS_CREDENTIALS_OPTIONS_INIT;
	struct rs_http_options hopts = RS_HTTP_OPTIONS_INIT;
	struct rs_auth_options aopts = RS_AUTH_OPTIONS_INIT;
	struct rs_credentials *creds = NULL;
	struct rs_http *http = NULL;
	struct rs_auth *auth = NULL;
	struct rs_registry *reg = NULL;
	int first = 1, failed = 0, rc;
	char clean[2048];

	rs_log_set_handler(to_stderr, NULL);
	rs_log_set_level(getenv("AUTH_PROBE_VERBOSE") ? RS_LOG_DEBUG : RS_LOG_WARN);
	if (argc > 1 && strcmp(argv[1], "--declare-delete") == 0)
		first = 2;
	if (argc <= first || (argc - first) % 3 != 0) {
		fprintf(stderr, "usage: auth_probe [--declare-delete] METHOD PATH SCOPE...\n");
		return 2;
	}
	if ((rc = rs_settings_init(&s)) < 0 || (rc = rs_settings_load_env(&s)) < 0 ||
	    (rc = rs_settings_resolve_secrets(&s)) < 0)
		goto fail;
	copts.registry = s.registry;
	copts.username = s.username;
	copts.password = s.password;
	copts.token = s.token;
	if ((rc = rs_credentials_resolve(&creds, &copts)) < 0)
		goto fail;
	hopts.cacert = s.cacert;
	hopts.cert = s.cert;
	hopts.key = s.key;
	hopts.insecure = s.insecure;
	hopts.jobs = 1;
	aopts.registry = s.registry;
	aopts.username = creds->username;
	aopts.password = creds->password;
	aopts.token = creds->token;
	aopts.identity_token = creds->identity_token;
	aopts.source = creds->source;
	aopts.insecure = s.insecure;
	if ((rc = rs_http_new(&http, &hopts)) < 0 || (rc = rs_auth_new(&auth, &aopts, http)) < 0 ||
	    (rc = rs_registry_new(&reg, s.registry, http, auth)) < 0)
		goto fail;
	if (first == 2 && (rc = rs_auth_declare_action(auth, NULL, "delete")) < 0)
		goto fail;
	if ((rc = rs_registry_ping(reg)) < 0)
		goto fail;
	for (int i = first; i + 2 < argc; i += 3) {
		struct rs_reg_call call = RS_REG_CALL_INIT;
		struct rs_reg_answer answer;

		call.method = argv[i];
		call.path = argv[i + 1];
		call.scope = strcmp(argv[i + 2], "-") == 0 ? NULL : argv[i + 2];
		call.accept = "Accept: application/vnd.oci.image.index.v1+json, "
			      "application/vnd.oci.image.manifest.v1+json, "
			      "application/vnd.docker.distribution.manifest.list.v2+json, "
			      "application/vnd.docker.distribution.manifest.v2+json";
		rc = rs_registry_call(reg, &call, &answer);
		if (rc < 0) {
			printf("%s %s error: %s\n", call.method, call.path,
			       rs_redact(rs_error_message(), clean, sizeof(clean)));
			failed = 1;
		} else {
			printf("%s %s %ld\n", call.method, call.path, answer.status);
		}
		rs_reg_answer_release(&answer);
	}
	printf("token-requests %llu\n", (unsigned long long)rs_auth_token_requests(auth));
	rc = failed ? RS_ERROR : 0;
	goto done;
fail:
	printf("error: %s\n", rs_redact(rs_error_message(), clean, sizeof(clean)));
done:
	rs_registry_free(reg);
	rs_auth_free(auth);
	rs_http_free(http);
	rs_credentials_free(creds);
	rs_settings_release(&s);
	return rc < 0 ? 1 : 0;
}
