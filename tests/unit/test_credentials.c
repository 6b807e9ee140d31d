/* test_credentials.c: credential sources: regsweep's own settings first,
 * then the docker config (auths, credHelpers, credsStore) read from temp
 * files, with tests/harness/docker-credential-test as the helper on PATH. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/credentials.h"
#include "base/error.h"
#include "base/log.h"

static char tmpdir[256];
static char config_path[512];
static char logged[16384];

static void capture(enum rs_log_level level, const char *line, void *ud)
{
	(void)level;
	(void)ud;
	strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
	strcat(logged, "\n");
}

/* A temp dir, the fake helper first on PATH, warnings captured. */
static void setup(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096];

	snprintf(tmpdir, sizeof(tmpdir), "%s/regsweep-creds.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(config_path, sizeof(config_path), "%s/config.json", tmpdir);
	snprintf(path, sizeof(path), "%s/tests/harness:%s", top ? top : ".",
		 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	unsetenv("REGSWEEP_TEST_CREDS_MODE");
	unsetenv("REGSWEEP_TEST_CREDS");
	unsetenv("REGSWEEP_TEST_CREDS_LOG");
	logged[0] = '\0';
	rs_log_set_handler(capture, NULL);
	rs_log_set_level(RS_LOG_DEBUG);
}

static void teardown(void)
{
	char cmd[600];

	rs_log_set_handler(NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "cannot write %s", path);
	fputs(text, fp);
	fclose(fp);
}

static void write_config(const char *json)
{
	write_file(config_path, json);
}

/* The helper's store: lines "SERVER USER SECRET". */
static void helper_store(const char *lines)
{
	static char store[600], log[600];

	snprintf(store, sizeof(store), "%s/helper-store", tmpdir);
	snprintf(log, sizeof(log), "%s/helper-log", tmpdir);
	write_file(store, lines);
	setenv("REGSWEEP_TEST_CREDS", store, 1);
	setenv("REGSWEEP_TEST_CREDS_LOG", log, 1);
}

static char *helper_log(void)
{
	static char text[1024];
	char path[600];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/helper-log", tmpdir);
	fp = fopen(path, "r");
	if (!fp)
		return strcpy(text, "");
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static struct rs_credentials *lookup(const char *registry)
{
	struct rs_credentials *c = (void *)1;

	cr_assert_eq(rs_docker_config_lookup(&c, config_path, registry, 2000), 0, "%s",
		     rs_error_message());
	return c;
}

/* ---- names ------------------------------------------------------------------ */

Test(names, registry_hostname)
{
	static const char *const cases[][2] = {
		{"https://R.Example:5000/v2/", "r.example:5000"},
		{"http://127.0.0.1:5000", "127.0.0.1:5000"},
		{"127.0.0.1:5000", "127.0.0.1:5000"},
		{"registry.example", "registry.example"},
		{"docker.io", "index.docker.io"},
		{"https://registry-1.docker.io", "index.docker.io"},
	};
	char *host;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(rs_registry_hostname(&host, cases[i][0]), 0);
		cr_assert_str_eq(host, cases[i][1], "%s", cases[i][0]);
		free(host);
	}
	cr_assert_eq(rs_registry_hostname(&host, "https://"), RS_EUSAGE);
	cr_assert_null(host);
}

Test(names, docker_config_path, .init = setup, .fini = teardown)
{
	char *path;

	setenv("DOCKER_CONFIG", "/some/dir", 1);
	cr_assert_eq(rs_docker_config_path(&path), 0);
	cr_assert_str_eq(path, "/some/dir/config.json");
	free(path);
	unsetenv("DOCKER_CONFIG");
	setenv("HOME", "/home/someone", 1);
	cr_assert_eq(rs_docker_config_path(&path), 0);
	cr_assert_str_eq(path, "/home/someone/.docker/config.json");
	free(path);
}

/* ---- auths ------------------------------------------------------------------ */

Test(auths, keys_as_docker_login_writes_them, .init = setup, .fini = teardown)
{
	static const char *const keys[] = {
		"127.0.0.1:5000", "https://127.0.0.1:5000", "http://127.0.0.1:5000/v1/",
		"https://127.0.0.1:5000/v2/",
	};
	struct rs_credentials *c;
	char json[512];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* "bob:pa:ss" - the password may hold a colon */
		snprintf(json, sizeof(json), "{\"auths\":{\"other:1\":{\"auth\":\"eDp5\"},"
			 "\"%s\":{\"auth\":\"Ym9iOnBhOnNz\"}}}", keys[i]);
		write_config(json);
		c = lookup("https://127.0.0.1:5000");
		cr_assert_not_null(c, "key '%s'", keys[i]);
		cr_assert_str_eq(c->username, "bob");
		cr_assert_str_eq(c->password, "pa:ss");
		cr_assert_null(c->identity_token);
		cr_assert(strstr(c->source, config_path), "%s", c->source);
		cr_assert(strstr(c->source, keys[i]), "%s", c->source);
		cr_assert(!strstr(c->source, "pa:ss"));
		rs_credentials_free(c);
	}
	cr_assert(rs_contains_secret("pa:ss"));
}

Test(auths, no_match_and_default_ports, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	write_config("{\"auths\":{\"registry.example:443\":{\"auth\":\"Ym9iOnB3\"},"
		     "\"127.0.0.1:5001\":{\"auth\":\"Ym9iOnB3\"}}}");
	cr_assert_null(lookup("http://127.0.0.1:5000"));
	cr_assert_null(lookup("127.0.0.1:50011"));
	c = lookup("https://Registry.Example");
	cr_assert_not_null(c, "an explicit :443 is the bare host");
	rs_credentials_free(c);
}

Test(auths, identity_token_and_other_forms, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	write_config("{\"auths\":{"
		     "\"a.example\":{\"auth\":\"MDAwMDAwMDAtMDAwMDo=\",\"identitytoken\":\"idtok\"},"
		     "\"b.example\":{\"username\":\"carol\",\"password\":\"pw2\"},"
		     "\"c.example\":{\"registrytoken\":\"regtok\"},"
		     "\"d.example\":{},"
		     "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"}}}");
	c = lookup("a.example");
	cr_assert_str_eq(c->identity_token, "idtok");
	cr_assert_str_eq(c->username, "00000000-0000");
	cr_assert_null(c->password);
	rs_credentials_free(c);
	c = lookup("https://b.example");
	cr_assert_str_eq(c->username, "carol");
	cr_assert_str_eq(c->password, "pw2");
	rs_credentials_free(c);
	c = lookup("c.example");
	cr_assert_str_eq(c->token, "regtok");
	rs_credentials_free(c);
	cr_assert_null(lookup("d.example"), "an empty entry (a helper's) holds nothing");
	c = lookup("docker.io");
	cr_assert_str_eq(c->username, "hub");
	rs_credentials_free(c);
	cr_assert(rs_contains_secret("idtok") && rs_contains_secret("pw2") &&
		  rs_contains_secret("regtok") && rs_contains_secret("hubpw"));
}

Test(auths, broken_entries_and_files_are_warnings, .init = setup, .fini = teardown)
{
	cr_assert_null(lookup("a.example"), "no file: anonymous");
	cr_assert_str_eq(logged, "", "and no warning");
	write_config("{\"auths\":{\"a.example\":{\"auth\":\"!!!!\"},\"b.example\":{\"auth\":\"bm9jb2xvbg==\"}}}");
	cr_assert_null(lookup("a.example"));
	cr_assert(strstr(logged, "ignoring the 'auth' of 'a.example'"), "%s", logged);
	cr_assert_null(lookup("b.example"));
	write_config("{\"auths\": {");
	logged[0] = '\0';
	cr_assert_null(lookup("a.example"));
	cr_assert(strstr(logged, "not valid JSON"), "%s", logged);
	write_config("[1, 2]");
	cr_assert_null(lookup("a.example"));
}

/* ---- helpers ----------------------------------------------------------------- */

Test(helpers, cred_helpers_per_registry, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	helper_store("127.0.0.1:5000 dave helper-secret\n");
	write_config("{\"auths\":{\"127.0.0.1:5000\":{}},"
		     "\"credHelpers\":{\"127.0.0.1:5000\":\"test\"}}");
	c = lookup("https://127.0.0.1:5000");
	cr_assert_not_null(c, "%s", logged);
	cr_assert_str_eq(c->username, "dave");
	cr_assert_str_eq(c->password, "helper-secret");
	cr_assert(strstr(c->source, "docker-credential-test"), "%s", c->source);
	cr_assert(strstr(c->source, "credHelpers"), "%s", c->source);
	cr_assert_str_eq(helper_log(), "127.0.0.1:5000\n", "the server address, on stdin");
	cr_assert(rs_contains_secret("helper-secret"));
	rs_credentials_free(c);
}

Test(helpers, token_username_means_identity_token, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	helper_store("r.example <token> refresh-xyz\n");
	write_config("{\"credsStore\":\"test\"}");
	c = lookup("r.example");
	cr_assert_not_null(c);
	cr_assert_null(c->username);
	cr_assert_null(c->password);
	cr_assert_str_eq(c->identity_token, "refresh-xyz");
	cr_assert(strstr(c->source, "credsStore"), "%s", c->source);
	rs_credentials_free(c);
}

Test(helpers, cred_helpers_win_over_creds_store, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	helper_store("r.example per-registry pw\n");
	write_config("{\"credsStore\":\"missing-store\",\"credHelpers\":{\"r.example\":\"test\"}}");
	c = lookup("r.example");
	cr_assert_str_eq(c->username, "per-registry");
	rs_credentials_free(c);
	cr_assert_str_eq(logged, "", "the store was not even tried");
}

Test(helpers, nothing_stored_falls_back_to_auths, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	helper_store("other.example x y\n");
	write_config("{\"credsStore\":\"test\",\"auths\":{\"r.example\":{\"auth\":\"Ym9iOnB3\"}}}");
	c = lookup("r.example");
	cr_assert_not_null(c);
	cr_assert_str_eq(c->username, "bob");
	cr_assert(strstr(c->source, "auths"));
	cr_assert(!strstr(logged, "warning"), "not found is no failure: %s", logged);
	rs_credentials_free(c);
	setenv("REGSWEEP_TEST_CREDS_MODE", "quick", 1);
	c = lookup("r.example");
	cr_assert_not_null(c, "a helper that does not read its input");
	rs_credentials_free(c);
}

Test(helpers, missing_helper_is_a_warning, .init = setup, .fini = teardown)
{
	struct rs_credentials *c;

	write_config("{\"credsStore\":\"no-such-helper\",\"auths\":{\"r.example\":{\"auth\":\"Ym9iOnB3\"}}}");
	c = lookup("r.example");
	cr_assert_not_null(c);
	cr_assert_str_eq(c->username, "bob");
	cr_assert(strstr(logged, "cannot run 'docker-credential-no-such-helper': not found on PATH"),
		  "%s", logged);
	rs_credentials_free(c);
}

Test(helpers, misbehaving_helpers, .init = setup, .fini = teardown)
{
	helper_store("r.example u p\n");
	write_config("{\"credHelpers\":{\"r.example\":\"test\"}}");
	setenv("REGSWEEP_TEST_CREDS_MODE", "garbage", 1);
	cr_assert_null(lookup("r.example"));
	cr_assert(strstr(logged, "not a JSON object"), "%s", logged);
	setenv("REGSWEEP_TEST_CREDS_MODE", "fail", 1);
	logged[0] = '\0';
	cr_assert_null(lookup("r.example"));
	cr_assert(strstr(logged, "failed (exit status 3): the keyring is locked"), "%s", logged);
	write_config("{\"credHelpers\":{\"r.example\":\"../../bin/sh\"}}");
	logged[0] = '\0';
	cr_assert_null(lookup("r.example"));
	cr_assert(strstr(logged, "invalid credential helper name"), "%s", logged);
}

Test(helpers, hanging_helper_is_killed, .init = setup, .fini = teardown)
{
	struct rs_credentials *c = (void *)1;
	struct timespec t0, t1;
	long ms;

	setenv("REGSWEEP_TEST_CREDS_MODE", "hang", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(rs_credential_helper_get(&c, "test", "r.example", 300), RS_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_null(c);
	cr_assert(strstr(rs_error_message(), "did not answer within 300 ms"));
	cr_assert_geq(ms, 300);
	cr_assert_lt(ms, 5000);
}

Test(helpers, direct_calls, .init = setup, .fini = teardown)
{
	struct rs_credentials *c = (void *)1;

	helper_store("r.example u p\n");
	cr_assert_eq(rs_credential_helper_get(&c, "test", "nothing.example", 2000), 0);
	cr_assert_null(c, "not found: no credentials, no error");
	cr_assert_eq(rs_credential_helper_get(&c, "test", "r.example", 2000), 0);
	cr_assert_str_eq(c->password, "p");
	rs_credentials_free(c);
	cr_assert_eq(rs_credential_helper_get(&c, "a b", "r.example", 2000), RS_EUSAGE);
	cr_assert_eq(rs_credential_helper_get(&c, "no-such-helper", "r.example", 2000), RS_ERROR);
}

/* ---- resolution order --------------------------------------------------------- */

static struct rs_credentials_options options(void)
{
	struct rs_credentials_options o = RS_CREDENTIALS_OPTIONS_INIT;

	o.registry = "https://r.example";
	o.docker_config = config_path;
	return o;
}

Test(resolve, first_match_wins, .init = setup, .fini = teardown)
{
	struct rs_credentials_options o = options();
	struct rs_credentials *c;

	write_config("{\"auths\":{\"r.example\":{\"auth\":\"Ym9iOnB3\"}}}");
	o.username = "erin";
	o.password = "cli-pw";
	o.password_origin = "--password-file";
	o.token = "tok";
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_str_eq(c->username, "erin");
	cr_assert_str_eq(c->source, "user name 'erin' and --password-file");
	rs_credentials_free(c);
	o.username = NULL;
	o.password = NULL;
	o.token_origin = "REGSWEEP_TOKEN";
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_str_eq(c->token, "tok");
	cr_assert_str_eq(c->source, "REGSWEEP_TOKEN");
	rs_credentials_free(c);
	o.token = NULL;
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_str_eq(c->username, "bob");
	cr_assert(strstr(c->source, "docker config"));
	rs_credentials_free(c);
	o.registry = "https://elsewhere.example";
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_null(c->username);
	cr_assert_null(c->password);
	cr_assert_null(c->token);
	cr_assert_str_eq(c->source, "anonymous");
	rs_credentials_free(c);
	cr_assert(rs_contains_secret("cli-pw") && rs_contains_secret("tok"));
}

Test(resolve, half_given_credentials_are_usage_errors, .init = setup, .fini = teardown)
{
	struct rs_credentials_options o = options();
	struct rs_credentials *c = (void *)1;

	o.password = "pw";
	o.password_origin = "--password-stdin";
	cr_assert_eq(rs_credentials_resolve(&c, &o), RS_EUSAGE);
	cr_assert_null(c);
	cr_assert(strstr(rs_error_message(), "no user name"));
	cr_assert(strstr(rs_error_message(), "--password-stdin"));
	cr_assert(!strstr(rs_error_message(), "pw'"));
	o.password = NULL;
	o.username = "frank";
	cr_assert_eq(rs_credentials_resolve(&c, &o), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "'frank' given without a password"));
}

Test(resolve, docker_config_environment, .init = setup, .fini = teardown)
{
	struct rs_credentials_options o = RS_CREDENTIALS_OPTIONS_INIT;
	struct rs_credentials *c;

	write_config("{\"auths\":{\"r.example\":{\"auth\":\"Ym9iOnB3\"}}}");
	setenv("DOCKER_CONFIG", tmpdir, 1);
	o.registry = "r.example";
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_str_eq(c->username, "bob");
	rs_credentials_free(c);
	unsetenv("DOCKER_CONFIG");
	setenv("HOME", tmpdir, 1);
	cr_assert_eq(rs_credentials_resolve(&c, &o), 0);
	cr_assert_str_eq(c->source, "anonymous", "no ~/.docker/config.json there");
	rs_credentials_free(c);
}
