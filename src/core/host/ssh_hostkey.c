/* ssh_hostkey.c: host key trust: OpenSSH known_hosts files (read through
 * libssh2's knownhost API, which understands hashed entries), fingerprints
 * in OpenSSH's SHA256 form, and the host key algorithm preference. */
#include "host/ssh_internal.h"
#include "base/base64.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KNOWN_HOSTS_MAX_LINE 16384

struct key_kind {
	const char *name;      /* algorithm and blob type */
	int knownhost;         /* LIBSSH2_KNOWNHOST_KEY_* */
};

/* In order of preference; DSA is left out on purpose. */
static const struct key_kind key_kinds[] = {
	{"ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519},
	{"ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256},
	{"ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384},
	{"ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521},
	{"ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA},
};
#define NKINDS (sizeof(key_kinds) / sizeof(key_kinds[0]))

int rs_ssh_known_host_name(char *out, size_t outsize, const char *host, int port)
{
	int n;

	if (port == 22)
		n = snprintf(out, outsize, "%s", host);
	else
		n = snprintf(out, outsize, "[%s]:%d", host, port);
	if (n < 0 || (size_t)n >= outsize)
		return rs_error_set(RS_ERROR, "host name '%s' is too long", host);
	return 0;
}

int rs_ssh_fingerprint(char *out, size_t outsize, const unsigned char *blob, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char b64[64];
	unsigned int mdlen = 0;
	int n;

	if (!EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return rs_error_set(RS_ERROR, "cannot compute a SHA-256 fingerprint");
	n = EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	if ((size_t)snprintf(out, outsize, "SHA256:%s", b64) >= outsize)
		return rs_error_set(RS_ERROR, "fingerprint buffer too small");
	return 0;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rs_ssh_blob_type(char *out, size_t outsize, const unsigned char *blob, size_t len)
{
	uint32_t n;

	if (len < 4 || (n = get_u32(blob)) > len - 4 || n == 0 || n >= outsize)
		return rs_error_set(RS_EPROTO, "malformed SSH public key");
	memcpy(out, blob + 4, n);
	out[n] = '\0';
	return 0;
}

static const struct key_kind *kind_of(const char *type)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(key_kinds[i].name, type) == 0)
			return &key_kinds[i];
	return NULL;
}

/* A `@revoked` line naming `blob` (for any host: being strict is safe). */
static int line_revokes(const char *line, const unsigned char *blob, size_t len)
{
	char hosts[1024], type[64], key[KNOWN_HOSTS_MAX_LINE];
	char *decoded = NULL;
	size_t dlen = 0;
	int revoked;

	if (sscanf(line, "@revoked %1023s %63s %16383s", hosts, type, key) != 3)
		return 0;
	if (rs_base64_decode(&decoded, &dlen, key) < 0) {
		rs_error_clear();
		return 0;
	}
	revoked = dlen == len && memcmp(decoded, blob, len) == 0;
	free(decoded);
	return revoked;
}

/* A hashed host field, "|1|SALT|HASH", must hold a 20-byte HMAC-SHA1 (and
 * salt): anything else matches nothing, and libssh2 1.10 leaks memory on
 * each check against such an entry, so it is never handed over. */
static int hashed_entry_ok(const char *line)
{
	const char *salt = line + 3, *bar = strchr(salt, '|'), *end;
	char field[128], *raw = NULL;
	size_t len = 0, n;
	int ok;

	if (!bar)
		return 0;
	end = bar + 1 + strcspn(bar + 1, " \t");
	for (int part = 0; part < 2; part++) {
		const char *from = part ? bar + 1 : salt, *to = part ? end : bar;

		n = (size_t)(to - from);
		if (n == 0 || n >= sizeof(field))
			return 0;
		memcpy(field, from, n);
		field[n] = '\0';
		if (rs_base64_decode(&raw, &len, field) < 0) {
			rs_error_clear();
			return 0;
		}
		free(raw);
		ok = len == 20;
		if (!ok)
			return 0;
	}
	return 1;
}

/* Load `path` into `hosts`; a missing file is empty. With `blob`, set
 * *revoked when a @revoked line names it. */
static int load_known_hosts(LIBSSH2_KNOWNHOSTS *hosts, const char *path,
			    const unsigned char *blob, size_t len, int *revoked)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	FILE *fp;

	if (revoked)
		*revoked = 0;
	fp = fopen(path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		return rs_error_set(RS_ERROR, "cannot read known hosts file '%s': %s", path,
				    strerror(errno));
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *p = line;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!*p || *p == '#')
			continue;
		if (*p == '@') {
			/* libssh2 knows neither markers nor certificates */
			if (blob && revoked && strncmp(p, "@revoked", 8) == 0 && line_revokes(p, blob, len))
				*revoked = 1;
			continue;
		}
		if (strlen(p) >= KNOWN_HOSTS_MAX_LINE ||
		    (strncmp(p, "|1|", 3) == 0 && !hashed_entry_ok(p)) ||
		    libssh2_knownhost_readline(hosts, p, strlen(p), LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0)
			rs_log(RS_LOG_DEBUG, "ssh: '%s' line %u: not understood, skipped", path, lineno);
	}
	free(line);
	fclose(fp);
	return 0;
}

/* A knownhost collection needs a session; this one never connects. */
static int open_known_hosts(LIBSSH2_SESSION **session, LIBSSH2_KNOWNHOSTS **hosts)
{
	int rc = rs_ssh_global_init();

	*hosts = NULL;
	*session = NULL;
	if (rc < 0)
		return rc;
	*session = libssh2_session_init();
	if (*session)
		*hosts = libssh2_knownhost_init(*session);
	if (!*hosts) {
		if (*session)
			libssh2_session_free(*session);
		*session = NULL;
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

static void close_known_hosts(LIBSSH2_SESSION *session, LIBSSH2_KNOWNHOSTS *hosts)
{
	if (hosts)
		libssh2_knownhost_free(hosts);
	if (session)
		libssh2_session_free(session);
}

/* Does `hosts` hold a key of `kind` for `name`? Checking a key that cannot
 * match says "mismatch" exactly when the host has an entry of that type. */
static int has_kind(LIBSSH2_KNOWNHOSTS *hosts, const char *name, const struct key_kind *kind)
{
	static const char probe[] = "regsweep-probe";

	return libssh2_knownhost_checkp(hosts, name, -1, probe, sizeof(probe) - 1,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
					kind->knownhost, NULL) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
}

int rs_ssh_known_hosts_check(enum rs_ssh_hostkey_status *status, const char *path,
			     const char *host, int port, const unsigned char *blob, size_t len)
{
	LIBSSH2_SESSION *session = NULL;
	LIBSSH2_KNOWNHOSTS *hosts = NULL;
	const struct key_kind *kind;
	char name[1100], type[64];
	int revoked = 0, rc, check;

	*status = RS_SSH_HOSTKEY_UNKNOWN;
	rc = rs_ssh_blob_type(type, sizeof(type), blob, len);
	if (rc < 0)
		return rc;
	kind = kind_of(type);
	if (!kind)
		return rs_error_set(RS_EHOSTKEY, "the host key of '%s' is of type '%s', which regsweep "
				    "cannot check", host, type);
	rc = rs_ssh_known_host_name(name, sizeof(name), host, port);
	if (rc == 0)
		rc = open_known_hosts(&session, &hosts);
	if (rc == 0)
		rc = load_known_hosts(hosts, path, blob, len, &revoked);
	if (rc < 0)
		goto done;
	if (revoked) {
		*status = RS_SSH_HOSTKEY_REVOKED;
		goto done;
	}
	/* port -1: match `name` itself, "[host]:port" as OpenSSH writes it, and
	 * never fall back to the plain host name for another port */
	check = libssh2_knownhost_checkp(hosts, name, -1, (const char *)blob, len,
					 LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
					 kind->knownhost, NULL);
	switch (check) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		*status = RS_SSH_HOSTKEY_MATCH;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		*status = RS_SSH_HOSTKEY_CHANGED;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		for (size_t i = 0; i < NKINDS; i++)
			if (&key_kinds[i] != kind && has_kind(hosts, name, &key_kinds[i]))
				*status = RS_SSH_HOSTKEY_OTHER_TYPE;
		break;
	default:
		rc = rs_error_set(RS_ERROR, "cannot check the host key of '%s' against '%s'", name,
				  path);
		break;
	}
done:
	close_known_hosts(session, hosts);
	return rc;
}

static int make_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	char dir[4096];
	size_t suffix = strlen(".ssh");

	/* only ~/.ssh-like directories are created, never arbitrary trees */
	if (!len || len >= sizeof(dir) || len < suffix || strncmp(slash - suffix, ".ssh", suffix) != 0)
		return 0;
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rs_error_set(RS_ERROR, "cannot create '%s': %s", dir, strerror(errno));
	return 0;
}

/* Does the file end without a newline (so a line must start with one)? */
static int needs_newline(int fd)
{
	struct stat st;
	char last;

	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return 0;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return 0;
	return last != '\n';
}

int rs_ssh_known_hosts_add(const char *path, const char *host, int port,
			   const unsigned char *blob, size_t len)
{
	LIBSSH2_SESSION *session = NULL;
	LIBSSH2_KNOWNHOSTS *hosts = NULL;
	struct libssh2_knownhost *entry = NULL;
	const struct key_kind *kind;
	char name[1100], type[64], line[KNOWN_HOSTS_MAX_LINE];
	size_t linelen = 0;
	int fd = -1, rc;

	rc = rs_ssh_blob_type(type, sizeof(type), blob, len);
	if (rc < 0)
		return rc;
	kind = kind_of(type);
	if (!kind)
		return rs_error_set(RS_EHOSTKEY, "cannot record a host key of type '%s'", type);
	rc = rs_ssh_known_host_name(name, sizeof(name), host, port);
	if (rc == 0)
		rc = open_known_hosts(&session, &hosts);
	if (rc < 0)
		goto done;
	if (libssh2_knownhost_addc(hosts, name, NULL, (const char *)blob, len, NULL, 0,
				   LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
				   kind->knownhost, &entry) != 0 ||
	    libssh2_knownhost_writeline(hosts, entry, line, sizeof(line), &linelen,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
		rc = rs_error_set(RS_ERROR, "cannot format a known hosts line for '%s'", name);
		goto done;
	}
	rc = make_parent_dir(path);
	if (rc < 0)
		goto done;
	/* append, never rewrite: the file's comments and the lines libssh2
	 * does not understand must survive */
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = rs_error_set(RS_ERROR, "cannot write known hosts file '%s': %s", path,
				  strerror(errno));
		goto done;
	}
	if ((needs_newline(fd) && write(fd, "\n", 1) != 1) ||
	    write(fd, line, linelen) != (ssize_t)linelen || fsync(fd) < 0)
		rc = rs_error_set(RS_ERROR, "cannot write known hosts file '%s': %s", path,
				  strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	close_known_hosts(session, hosts);
	return rc;
}

int rs_ssh_hostkey_preference(char *out, size_t outsize, const char *path,
			      const char *host, int port)
{
	LIBSSH2_SESSION *session = NULL;
	LIBSSH2_KNOWNHOSTS *hosts = NULL;
	int known[NKINDS] = {0};
	char name[1100];
	size_t used = 0;
	int rc;

	if (outsize)
		out[0] = '\0';
	rc = rs_ssh_known_host_name(name, sizeof(name), host, port);
	if (rc == 0)
		rc = open_known_hosts(&session, &hosts);
	if (rc == 0)
		rc = load_known_hosts(hosts, path, NULL, 0, NULL);
	if (rc < 0)
		goto done;
	for (size_t i = 0; i < NKINDS; i++)
		known[i] = has_kind(hosts, name, &key_kinds[i]);
	/* two passes: the kinds known_hosts can verify, then the others */
	for (int pass = 1; pass >= 0 && rc == 0; pass--) {
		for (size_t i = 0; i < NKINDS; i++) {
			int n;

			if (known[i] != pass)
				continue;
			n = snprintf(out + used, outsize - used, "%s%s", used ? "," : "",
				     key_kinds[i].name);
			if (n < 0 || (size_t)n >= outsize - used) {
				rc = rs_error_set(RS_ERROR, "host key preference buffer too small");
				break;
			}
			used += (size_t)n;
		}
	}
done:
	close_known_hosts(session, hosts);
	return rc;
}

int rs_ssh_default_known_hosts(char **out)
{
	const char *home = getenv("HOME");
	size_t len;

	*out = NULL;
	if (!home || !*home)
		return rs_error_set(RS_EUSAGE, "HOME is not set: give --ssh-known-hosts FILE");
	len = strlen(home) + sizeof("/.ssh/known_hosts");
	*out = malloc(len);
	if (!*out)
		return rs_error_set(RS_ERROR, "out of memory");
	snprintf(*out, len, "%s/.ssh/known_hosts", home);
	return 0;
}
