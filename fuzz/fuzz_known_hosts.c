/* fuzz_known_hosts.c: an OpenSSH known_hosts file
 * (rs_ssh_known_hosts_check, rs_ssh_hostkey_preference) and SSH targets
 * (rs_ssh_target_parse). The first byte picks: 0-1 the file, 2 a target. */
#include "fuzz.h"

#include "host/ssh.h"

#include <unistd.h>

/* libssh2 1.10 leaks an HMAC context when it checks a host against a
 * malformed hashed entry ("|1|salt|hash"): its bug, not regsweep's (the
 * SSH integration tests suppress the same leak). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libssh2.so\n";
}

/* libcrypto has no frame pointers: unwind slowly to see libssh2 above it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

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
	snprintf(path, sizeof(path), "%s/regsweep-fuzz-known-hosts-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	atexit(remove_file);
	return 0;
}

/* The wire blob of an ed25519 key: string "ssh-ed25519", string key[32]. */
static const unsigned char ed25519_blob[] = {
	0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
	0, 0, 0, 32,
	0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f, 0x0d, 0x73,
	0x65, 0x32, 0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 3 < 2) {
		enum rs_ssh_hostkey_status status = RS_SSH_HOSTKEY_MATCH;
		const char *host = data[0] % 3 ? "127.0.0.1" : "registry.example";
		int port = data[0] % 3 ? 2222 : 22;
		char prefs[1024];

		if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
			abort();
		if (rs_ssh_known_hosts_check(&status, path, host, port, ed25519_blob,
					     sizeof(ed25519_blob)) == 0)
			FUZZ_ASSERT(status >= RS_SSH_HOSTKEY_MATCH && status <= RS_SSH_HOSTKEY_REVOKED);
		if (rs_ssh_hostkey_preference(prefs, sizeof(prefs), path, host, port) == 0)
			FUZZ_ASSERT(strlen(prefs) < sizeof(prefs));
	} else {
		struct rs_ssh_target target;
		char *text = fuzz_cstr(data + 1, size - 1);

		memset(&target, 0, sizeof(target));
		if (rs_ssh_target_parse(&target, text) == 0) {
			FUZZ_ASSERT(target.host && *target.host);
			FUZZ_ASSERT(target.port >= 1 && target.port <= 65535);
			FUZZ_ASSERT(!strchr(target.host, '/') && !strchr(target.host, ' '));
			rs_ssh_target_release(&target);
		}
		free(text);
	}
	return 0;
}
