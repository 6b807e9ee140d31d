/* test_ssh.c: the SSH module without a network: targets, fingerprints in
 * OpenSSH's form, and known_hosts checks, additions and preferences on
 * temporary files (plain, "[host]:port", hashed, revoked entries). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/auth.h"
#include "base/base64.h"
#include "base/error.h"
#include "host/ssh.h"

/* Keys made with ssh-keygen; fingerprints as `ssh-keygen -lf` prints them. */
#define ED1 "AAAAC3NzaC1lZDI1NTE5AAAAIPRg9FSdEKL2FkxFzx9Uei4UNZP7V+fjc70MJA9uMbYr"
#define ED1_FP "SHA256:wKw8ZoYFV9q5rnxqvNOOCtfnR6fLlc4UdW1j8EBMOF8"
#define ED2 "AAAAC3NzaC1lZDI1NTE5AAAAIBU1OJuVxXAHObguY7Ze+ya4CkBhNH5/ljrdzIn78Bq9"
#define ED2_FP "SHA256:RfJTW1NyPfrzumfXOK3hE1cdJxozl7WZdPz3F7pHjy4"
#define EC3 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDM74Av7elBCYTX/Mb6SC5l3oib3zZ6sIS" \
	"tYnMfsCd6QScYMAW2a2Tnqg8SXNNHAkflu6tULW3oK+ZSbsGVGz0A="
#define EC3_FP "SHA256:1yDvAtJoXDjIH2e6hN/H5yxx7r3FBhoQanlcp1BEsVs"
/* ED1 for "[127.0.0.1]:2222" and for "registry.example.com", hashed by ssh-keygen -H */
#define HASHED_PORT "|1|eCkEND4Wp1EpQ2KlUmEURsCdEJ8=|7OdSzWWtgkuEd8PJkDg5ovOvS+4= ssh-ed25519 " ED1
#define HASHED_22 "|1|qxVisDaf9ENkgiecNlx6JnkcWzE=|K7UhflkX8x6qYGRou+SowwIKzhg= ssh-ed25519 " ED1

struct blob {
	unsigned char *data;
	size_t len;
};

static struct blob key(const char *b64)
{
	struct blob b = {NULL, 0};
	char *raw = NULL;

	cr_assert_eq(rs_base64_decode(&raw, &b.len, b64), 0);
	b.data = (unsigned char *)raw;
	return b;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ssh.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

/* Write `text` to a file in the temporary directory; returns its path. */
static char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static char *read_all(const char *path)
{
	static char text[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	cr_assert_not_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static enum rs_ssh_hostkey_status check(const char *path, const char *host, int port,
					const char *b64)
{
	struct blob b = key(b64);
	enum rs_ssh_hostkey_status status;

	cr_assert_eq(rs_ssh_known_hosts_check(&status, path, host, port, b.data, b.len), 0, "%s",
		     rs_error_message());
	free(b.data);
	return status;
}

TestSuite(ssh_target);

Test(ssh_target, user_host_port)
{
	struct rs_ssh_target t;

	cr_assert_eq(rs_ssh_target_parse(&t, "deploy@registry.example.com:2222"), 0);
	cr_assert_str_eq(t.user, "deploy");
	cr_assert_str_eq(t.host, "registry.example.com");
	cr_assert_eq(t.port, 2222);
	rs_ssh_target_release(&t);

	cr_assert_eq(rs_ssh_target_parse(&t, "registry"), 0);
	cr_assert_null(t.user);
	cr_assert_str_eq(t.host, "registry");
	cr_assert_eq(t.port, 22);
	rs_ssh_target_release(&t);

	/* the last '@' separates the user, as in ssh(1) */
	cr_assert_eq(rs_ssh_target_parse(&t, "me@corp@host"), 0);
	cr_assert_str_eq(t.user, "me@corp");
	cr_assert_str_eq(t.host, "host");
	rs_ssh_target_release(&t);
}

Test(ssh_target, ipv6)
{
	struct rs_ssh_target t;

	cr_assert_eq(rs_ssh_target_parse(&t, "root@[::1]:2200"), 0);
	cr_assert_str_eq(t.user, "root");
	cr_assert_str_eq(t.host, "::1");
	cr_assert_eq(t.port, 2200);
	rs_ssh_target_release(&t);

	cr_assert_eq(rs_ssh_target_parse(&t, "[fe80::1%eth0]"), 0);
	cr_assert_str_eq(t.host, "fe80::1%eth0");
	cr_assert_eq(t.port, 22);
	rs_ssh_target_release(&t);

	cr_assert_eq(rs_ssh_target_parse(&t, "2001:db8::5"), 0, "a bare IPv6 address, no port");
	cr_assert_str_eq(t.host, "2001:db8::5");
	cr_assert_eq(t.port, 22);
	rs_ssh_target_release(&t);
}

Test(ssh_target, rejects)
{
	static const char *const bad[] = {
		"", "@host", "user@", "host:", "host:0", "host:65536", "host:22x", "[::1", "[]:22",
		"[::1]2222", "a host", "host/path", ":22",
	};
	struct rs_ssh_target t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(rs_ssh_target_parse(&t, bad[i]), RS_EUSAGE, "'%s' accepted", bad[i]);
		cr_assert_null(t.host);
		cr_assert_null(t.user);
	}
	cr_assert(strstr(rs_error_message(), "invalid SSH target ':22'"));
}

Test(ssh_target, known_host_names)
{
	char name[64];

	cr_assert_eq(rs_ssh_known_host_name(name, sizeof(name), "example.com", 22), 0);
	cr_assert_str_eq(name, "example.com");
	cr_assert_eq(rs_ssh_known_host_name(name, sizeof(name), "127.0.0.1", 2222), 0);
	cr_assert_str_eq(name, "[127.0.0.1]:2222");
	cr_assert_eq(rs_ssh_known_host_name(name, sizeof(name), "::1", 2222), 0);
	cr_assert_str_eq(name, "[::1]:2222");
	cr_assert_neq(rs_ssh_known_host_name(name, 8, "example.com", 22), 0);
}

TestSuite(ssh_key);

Test(ssh_key, fingerprints_match_ssh_keygen)
{
	const char *keys[] = {ED1, ED2, EC3};
	const char *fps[] = {ED1_FP, ED2_FP, EC3_FP};
	char fp[64];

	for (size_t i = 0; i < 3; i++) {
		struct blob b = key(keys[i]);

		cr_assert_eq(rs_ssh_fingerprint(fp, sizeof(fp), b.data, b.len), 0);
		cr_assert_str_eq(fp, fps[i]);
		free(b.data);
	}
}

Test(ssh_key, blob_types)
{
	struct blob ed = key(ED1), ec = key(EC3);
	char type[64];
	unsigned char bad[] = {0, 0, 1, 0, 'x'};

	cr_assert_eq(rs_ssh_blob_type(type, sizeof(type), ed.data, ed.len), 0);
	cr_assert_str_eq(type, "ssh-ed25519");
	cr_assert_eq(rs_ssh_blob_type(type, sizeof(type), ec.data, ec.len), 0);
	cr_assert_str_eq(type, "ecdsa-sha2-nistp256");
	cr_assert_eq(rs_ssh_blob_type(type, sizeof(type), bad, sizeof(bad)), RS_EPROTO);
	free(ed.data);
	free(ec.data);
}

TestSuite(known_hosts, .init = make_tmpdir, .fini = remove_tmpdir);

Test(known_hosts, plain_and_port_entries)
{
	char *path = write_file("kh", "# a comment\n\n"
				"[127.0.0.1]:2222 ssh-ed25519 " ED1 "\n"
				"registry.example.com,10.0.0.5 ssh-ed25519 " ED2 " comment\n");

	cr_assert_eq(check(path, "127.0.0.1", 2222, ED1), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "127.0.0.1", 2222, ED2), RS_SSH_HOSTKEY_CHANGED);
	cr_assert_eq(check(path, "127.0.0.1", 2223, ED1), RS_SSH_HOSTKEY_UNKNOWN,
		     "another port is another host");
	cr_assert_eq(check(path, "127.0.0.1", 22, ED1), RS_SSH_HOSTKEY_UNKNOWN);
	cr_assert_eq(check(path, "registry.example.com", 22, ED2), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "10.0.0.5", 22, ED2), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "registry.example.com", 2222, ED2), RS_SSH_HOSTKEY_UNKNOWN,
		     "a port-22 entry does not vouch for another port");
	cr_assert_eq(check(path, "registry.example.com", 22, EC3), RS_SSH_HOSTKEY_OTHER_TYPE);
}

Test(known_hosts, hashed_entries)
{
	char *path = write_file("kh", HASHED_PORT "\n" HASHED_22 "\n");

	cr_assert_eq(check(path, "127.0.0.1", 2222, ED1), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "127.0.0.1", 2222, ED2), RS_SSH_HOSTKEY_CHANGED);
	cr_assert_eq(check(path, "registry.example.com", 22, ED1), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "registry.example.com", 22, EC3), RS_SSH_HOSTKEY_OTHER_TYPE);
	cr_assert_eq(check(path, "other.example.com", 22, ED1), RS_SSH_HOSTKEY_UNKNOWN);
}

Test(known_hosts, malformed_hashed_entries_are_skipped)
{
	/* a hash of the wrong length, a salt that is not base64, no hash at all */
	char *path = write_file("kh", "|1|qxVisDaf9ENkgiecNlx6JnkcWzE=|K7UhflkX8x6q ssh-ed25519 " ED1 "\n"
				"|1|!!!|K7UhflkX8x6qYGRou+SowwIKzhg= ssh-ed25519 " ED1 "\n"
				"|1|qxVisDaf9ENkgiecNlx6JnkcWzE= ssh-ed25519 " ED1 "\n"
				HASHED_PORT "\n");

	cr_assert_eq(check(path, "registry.example.com", 22, ED1), RS_SSH_HOSTKEY_UNKNOWN);
	cr_assert_eq(check(path, "127.0.0.1", 2222, ED1), RS_SSH_HOSTKEY_MATCH,
		     "the good line after them still counts");
}

Test(known_hosts, revoked_and_unusual_lines)
{
	char *path = write_file("kh", "@cert-authority *.example.com ssh-ed25519 " ED2 "\n"
				"this line is not a known_hosts line\n"
				"@revoked * ssh-ed25519 " ED1 "\n"
				"[127.0.0.1]:2222 ssh-ed25519 " ED1 "\n"
				"[127.0.0.1]:2223 ssh-ed25519 " ED2);

	cr_assert_eq(check(path, "127.0.0.1", 2222, ED1), RS_SSH_HOSTKEY_REVOKED,
		     "a revoked key is refused even where it is listed");
	cr_assert_eq(check(path, "127.0.0.1", 2223, ED2), RS_SSH_HOSTKEY_MATCH,
		     "lines after unusual ones are still read");
}

Test(known_hosts, missing_file_knows_nothing)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	cr_assert_eq(check(path, "127.0.0.1", 2222, ED1), RS_SSH_HOSTKEY_UNKNOWN);
}

Test(known_hosts, add_appends_and_keeps_the_rest)
{
	char *path = strdup(write_file("kh", "# keep me\n[10.1.1.1]:2222 ssh-ed25519 " ED2));
	struct blob b = key(EC3);
	char *text;

	cr_assert_eq(rs_ssh_known_hosts_add(path, "127.0.0.1", 2222, b.data, b.len), 0, "%s",
		     rs_error_message());
	text = read_all(path);
	cr_assert_str_eq(text, "# keep me\n[10.1.1.1]:2222 ssh-ed25519 " ED2 "\n"
			 "[127.0.0.1]:2222 ecdsa-sha2-nistp256 " EC3 "\n");
	cr_assert_eq(check(path, "127.0.0.1", 2222, EC3), RS_SSH_HOSTKEY_MATCH);
	cr_assert_eq(check(path, "10.1.1.1", 2222, ED2), RS_SSH_HOSTKEY_MATCH);
	free(b.data);
	free(path);
}

Test(known_hosts, add_creates_ssh_dir)
{
	char path[160];
	struct blob b = key(ED1);

	snprintf(path, sizeof(path), "%s/.ssh/known_hosts", tmpdir);
	cr_assert_eq(rs_ssh_known_hosts_add(path, "example.com", 22, b.data, b.len), 0, "%s",
		     rs_error_message());
	cr_assert_str_eq(read_all(path), "example.com ssh-ed25519 " ED1 "\n");
	cr_assert_eq(access(path, R_OK), 0);
	free(b.data);
}

Test(known_hosts, preference_puts_known_types_first)
{
	char *path = write_file("kh", "[127.0.0.1]:2222 ecdsa-sha2-nistp256 " EC3 "\n"
				HASHED_22 "\n");
	char prefs[256];

	cr_assert_eq(rs_ssh_hostkey_preference(prefs, sizeof(prefs), path, "127.0.0.1", 2222), 0);
	cr_assert_str_eq(prefs, "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384,"
			 "ecdsa-sha2-nistp521,ssh-rsa");
	cr_assert_eq(rs_ssh_hostkey_preference(prefs, sizeof(prefs), path, "registry.example.com",
					       22), 0);
	cr_assert(strncmp(prefs, "ssh-ed25519,", 12) == 0, "%s", prefs);
	cr_assert_eq(rs_ssh_hostkey_preference(prefs, sizeof(prefs), path, "unknown", 22), 0);
	cr_assert_str_eq(prefs, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
			 "ecdsa-sha2-nistp521,ssh-rsa");
}
