/* ssh_auth.c: logging in: ssh-agent, a key file (OpenSSH or PEM, with a
 * passphrase) and a password, with one message saying why each failed, and
 * what libssh2 1.10 cannot do with RSA keys. */
#include "host/ssh_internal.h"
#include "base/base64.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a private key file holds, as far as we can tell without libssh2:
 * its type (for the RSA advice) and whether it is encrypted. */
struct key_info {
	char type[64];               /* "" when unknown */
	int encrypted;
};

static void openssh_key_info(struct key_info *info, const char *text)
{
	const char *begin = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----");
	const char *end = begin ? strstr(begin, "-----END OPENSSH PRIVATE KEY-----") : NULL;
	char *b64 = NULL, *raw = NULL;
	size_t n = 0, len = 0, off;
	const unsigned char *p;

	if (!begin || !end)
		return;
	begin += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
	b64 = malloc((size_t)(end - begin) + 1);
	if (!b64)
		return;
	for (const char *c = begin; c < end; c++)
		if (*c != '\n' && *c != '\r' && *c != ' ')
			b64[n++] = *c;
	b64[n] = '\0';
	if (rs_base64_decode(&raw, &len, b64) < 0) {
		rs_error_clear();
		goto done;
	}
	/* "openssh-key-v1\0", string cipher, string kdf, string kdfopts,
	 * uint32 count, string public key */
	p = (const unsigned char *)raw;
	off = sizeof("openssh-key-v1");
	if (len < off || memcmp(p, "openssh-key-v1", off) != 0)
		goto done;
	for (int field = 0; field < 3; field++) {
		uint32_t flen;

		if (len - off < 4)
			goto done;
		flen = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
		       p[off + 3];
		if (flen > len - off - 4)
			goto done;
		if (field == 0)
			info->encrypted = !(flen == 4 && memcmp(p + off + 4, "none", 4) == 0);
		off += 4 + flen;
	}
	if (len - off < 8)
		goto done;
	off += 4;
	if (rs_ssh_blob_type(info->type, sizeof(info->type), p + off + 4, len - off - 4) < 0) {
		rs_error_clear();
		info->type[0] = '\0';
	}
done:
	free(b64);
	free(raw);
}

static void read_key_info(struct key_info *info, const char *path)
{
	char text[32768];
	size_t n;
	FILE *fp;

	memset(info, 0, sizeof(*info));
	fp = fopen(path, "re");
	if (!fp)
		return;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	if (strstr(text, "BEGIN RSA PRIVATE KEY"))
		snprintf(info->type, sizeof(info->type), "ssh-rsa");
	else if (strstr(text, "BEGIN EC PRIVATE KEY"))
		snprintf(info->type, sizeof(info->type), "ecdsa");
	if (strstr(text, "Proc-Type: 4,ENCRYPTED") || strstr(text, "BEGIN ENCRYPTED PRIVATE KEY"))
		info->encrypted = 1;
	openssh_key_info(info, text);
	memset(text, 0, sizeof(text));
}

/* Why each method failed, for one message at the end. */
struct auth_state {
	struct rs_ssh *ssh;
	const char *user;
	const char *methods;          /* offered by the server */
	char why[2048];
	int rsa_seen;
};

static void auth_note(struct auth_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void auth_note(struct auth_state *st, const char *fmt, ...)
{
	size_t used = strlen(st->why);
	char part[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	snprintf(st->why + used, sizeof(st->why) - used, "%s%s", used ? "; " : "", part);
}

static int offered(const struct auth_state *st, const char *method)
{
	size_t n = strlen(method);

	for (const char *p = st->methods; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, method, n) == 0)
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* 1: logged in, 0: not with this method, < 0: an error that ends it all. */
static int auth_agent(struct auth_state *st)
{
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int rc = 0, tried = 0;

	if (!getenv("SSH_AUTH_SOCK") || !*getenv("SSH_AUTH_SOCK"))
		return 0;
	agent = libssh2_agent_init(st->ssh->session);
	if (!agent)
		return 0;
	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
		auth_note(st, "%s", "ssh-agent: cannot reach it");
		goto free_agent;
	}
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		char type[64] = "";

		prev = id;
		tried++;
		if (rs_ssh_blob_type(type, sizeof(type), id->blob, id->blob_len) < 0)
			rs_error_clear();
		if (strcmp(type, "ssh-rsa") == 0)
			st->rsa_seen = 1;
		if (libssh2_agent_userauth(agent, st->user, id) == 0) {
			rs_log(RS_LOG_VERBOSE, "ssh: logged in with ssh-agent key '%s'",
			       id->comment ? id->comment : type);
			rc = 1;
			break;
		}
	}
	if (!rc)
		auth_note(st, "ssh-agent: %s", tried ? "no key accepted" : "holds no keys");
	libssh2_agent_disconnect(agent);
free_agent:
	libssh2_agent_free(agent);
	return rc;
}

static int auth_key(struct auth_state *st, const char *path, const char *passphrase, int explicit)
{
	struct key_info info;
	int rc;

	if (access(path, R_OK) < 0) {
		if (!explicit)
			return 0;
		return rs_error_set(RS_EUSAGE, "cannot read SSH key '%s': %s", path, strerror(errno));
	}
	read_key_info(&info, path);
	if (strcmp(info.type, "ssh-rsa") == 0)
		st->rsa_seen = 1;
	if (info.encrypted && (!passphrase || !*passphrase)) {
		if (explicit)
			return rs_error_set(RS_EUSAGE, "SSH key '%s' is encrypted: give its passphrase "
					    "in REGSWEEP_SSH_PASSPHRASE or with --ssh-passphrase-file",
					    path);
		auth_note(st, "key '%s': encrypted and no passphrase given", path);
		return 0;
	}
	rc = libssh2_userauth_publickey_fromfile_ex(st->ssh->session, st->user,
						    (unsigned)strlen(st->user), NULL, path,
						    passphrase ? passphrase : "");
	if (rc == 0) {
		rs_log(RS_LOG_VERBOSE, "ssh: logged in with key '%s'", path);
		return 1;
	}
	if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT)
		return rs_ssh_fail(st->ssh, rc, "logging in");
	if (rc == LIBSSH2_ERROR_FILE) {
		if (info.encrypted)
			auth_note(st, "key '%s': cannot be decrypted (wrong passphrase?)", path);
		else
			auth_note(st, "key '%s': libssh2 cannot read this key format", path);
	} else if (strcmp(info.type, "ssh-rsa") == 0) {
		auth_note(st, "key '%s': an RSA key, refused", path);
	} else {
		auth_note(st, "key '%s': refused by the server", path);
	}
	return 0;
}

static int auth_password(struct auth_state *st, const char *password)
{
	int rc;

	if (!password || !*password)
		return 0;
	if (!offered(st, "password")) {
		auth_note(st, "%s", "password: the server does not accept passwords");
		return 0;
	}
	rc = libssh2_userauth_password_ex(st->ssh->session, st->user, (unsigned)strlen(st->user),
					  password, (unsigned)strlen(password), NULL);
	if (rc == 0) {
		rs_log(RS_LOG_VERBOSE, "ssh: logged in with a password");
		return 1;
	}
	if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT)
		return rs_ssh_fail(st->ssh, rc, "logging in");
	auth_note(st, "%s", rc == LIBSSH2_ERROR_PASSWORD_EXPIRED ? "password: expired"
		  : "password (REGSWEEP_SSH_PASSWORD): refused");
	return 0;
}

int rs_ssh_authenticate(struct rs_ssh *ssh, const char *user, const struct rs_ssh_options *opts)
{
	struct auth_state st;
	int rc = 0;

	memset(&st, 0, sizeof(st));
	st.ssh = ssh;
	st.user = user;
	st.methods = libssh2_userauth_list(ssh->session, user, (unsigned)strlen(user));
	if (!st.methods) {
		if (libssh2_userauth_authenticated(ssh->session))
			return 0;
		return rs_ssh_fail(ssh, libssh2_session_last_errno(ssh->session), "logging in");
	}
	rs_log(RS_LOG_DEBUG, "ssh: the server accepts %s", st.methods);
	if (offered(&st, "publickey")) {
		if (opts->use_agent)
			rc = auth_agent(&st);
		if (rc == 0 && opts->key_file)
			rc = auth_key(&st, opts->key_file, opts->passphrase, 1);
		if (rc == 0 && !opts->key_file) {
			static const char *const defaults[] = {"id_ed25519", "id_ecdsa"};
			const char *home = getenv("HOME");
			char path[4096];

			for (size_t i = 0; rc == 0 && home && i < 2; i++) {
				snprintf(path, sizeof(path), "%s/.ssh/%s", home, defaults[i]);
				rc = auth_key(&st, path, opts->passphrase, 0);
			}
			/* not tried (it cannot work), but worth a word when nothing did */
			snprintf(path, sizeof(path), "%s/.ssh/id_rsa", home ? home : "");
			if (rc == 0 && home && access(path, R_OK) == 0) {
				st.rsa_seen = 1;
				auth_note(&st, "key '%s': an RSA key, not tried", path);
			}
		}
	} else if (opts->key_file) {
		auth_note(&st, "%s", "keys: the server does not accept public keys");
	}
	if (rc == 0)
		rc = auth_password(&st, opts->password);
	if (rc == 1)
		return 0;
	if (rc < 0)
		return rc;
	if (!st.why[0])
		auth_note(&st, "%s", "no key (--ssh-key), ssh-agent or password "
			  "(REGSWEEP_SSH_PASSWORD) to try");
	return rs_error_set(RS_EAUTH, "cannot log in to '%s' (the server accepts: %s): %s%s",
			    ssh->describe, st.methods, st.why,
			    st.rsa_seen ? "; RSA keys cannot work here: " RSA_ADVICE ", use an "
			    "ed25519 or ECDSA key (ssh-keygen -t ed25519)" : "");
}
