/* fuzz_docker_config.c: the docker CLI's config.json
 * (rs_docker_config_lookup), as regsweep reads it for credentials. The
 * first byte picks the registry looked up; the rest is the file. No
 * credential helper can run: PATH points nowhere. The promise checked: the
 * `source` string never holds a secret. */
#include "fuzz.h"

#include "net/credentials.h"
#include "base/error.h"
#include "base/log.h"

#include <unistd.h>

static char path[4096];
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("PATH", "/nonexistent-regsweep-fuzz", 1);
	snprintf(path, sizeof(path), "%s/regsweep-fuzz-config-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	atexit(remove_file);
	return 0;
}

static void no_secret_in(const char *text, const char *secret)
{
	if (text && secret && strlen(secret) >= 4)
		FUZZ_ASSERT(!strstr(text, secret));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const registries[] = {
		"https://registry.example:5000", "registry.example:5000", "http://127.0.0.1:5000/v2/",
		"https://index.docker.io/v1/", "docker.io", "HTTPS://Registry.Example"
	};
	struct rs_credentials *creds = (struct rs_credentials *)1;
	const char *registry;
	char *host = NULL;
	int rc;

	if (size < 1)
		return 0;
	registry = registries[data[0] % (sizeof(registries) / sizeof(registries[0]))];
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	rs_error_clear();   /* a message from an earlier input is not this one's */
	rc = rs_docker_config_lookup(&creds, path, registry, 200);
	if (rc < 0) {
		FUZZ_ASSERT(creds == NULL);
	} else if (creds) {
		FUZZ_ASSERT(creds->source != NULL);
		no_secret_in(creds->source, creds->password);
		no_secret_in(creds->source, creds->token);
		no_secret_in(creds->source, creds->identity_token);
		no_secret_in(rs_error_message(), creds->password);
		rs_credentials_free(creds);
	}
	if (rs_registry_hostname(&host, registry) == 0)
		FUZZ_ASSERT(host && *host);
	free(host);
	rs_secret_clear();
	return 0;
}
