/* ssh.c: SSH sessions with libssh2: the target, the TCP connection with a
 * time limit, the handshake and host key check, authentication, and running
 * a command with its output streamed line by line (see ssh.h). */
#include "ssh_internal.h"
#include "auth.h"
#include "error.h"
#include "http.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 65536
#define KEEPALIVE_SECONDS 30
#define RSA_ADVICE "libssh2 1.10 lacks the rsa-sha2-256/512 signatures that current OpenSSH " \
	"requires for RSA keys"

/* ------------------------------------------------------------ utilities */

int rs_ssh_global_init(void)
{
	static int done;

	if (!done) {
		if (libssh2_init(0) != 0)
			return rs_error_set(RS_ERROR, "cannot initialise libssh2");
		done = 1;
	}
	return 0;
}

const char *rs_ssh_last_error(LIBSSH2_SESSION *session)
{
	char *msg = NULL;

	if (!session)
		return "";
	libssh2_session_last_error(session, &msg, NULL, 0);
	return msg ? msg : "";
}

int rs_ssh_fail(struct rs_ssh *ssh, int code, const char *what)
{
	const char *detail = rs_ssh_last_error(ssh->session);

	switch (code) {
	case LIBSSH2_ERROR_TIMEOUT:
		return rs_error_set(RS_ETIMEOUT, "%s on '%s': no answer within %lds", what,
				    ssh->describe, ssh->timeout_ms / 1000);
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		return rs_error_set(RS_ENET, "%s on '%s': the connection dropped (%s)", what,
				    ssh->describe, detail);
	default:
		return rs_error_set(RS_EPROTO, "%s on '%s': %s (libssh2 error %d)", what,
				    ssh->describe, *detail ? detail : "failed", code);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- target */

static int target_fail(const char *text, const char *why)
{
	return rs_error_set(RS_EUSAGE, "invalid SSH target '%s': %s (use [USER@]HOST[:PORT])",
			    text, why);
}

static int parse_port(int *out, const char *text)
{
	char *end;
	long port;

	if (!*text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	port = strtol(text, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -1;
	*out = (int)port;
	return 0;
}

int rs_ssh_target_parse(struct rs_ssh_target *out, const char *text)
{
	const char *at, *hostpart, *port = NULL;
	size_t hostlen;

	memset(out, 0, sizeof(*out));
	out->port = 22;
	if (!text || !*text)
		return target_fail("", "empty");
	if (strpbrk(text, " \t\r\n/"))
		return target_fail(text, "it contains a space or a slash");
	at = strrchr(text, '@');
	hostpart = at ? at + 1 : text;
	if (at && at == text)
		return target_fail(text, "empty user name");
	if (*hostpart == '[') {
		const char *close = strchr(hostpart, ']');

		if (!close || close == hostpart + 1)
			return target_fail(text, "unbalanced brackets");
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return target_fail(text, "text after ']'");
		hostpart++;
		hostlen = (size_t)(close - hostpart);
	} else {
		const char *colon = strchr(hostpart, ':');

		if (colon && strchr(colon + 1, ':')) {
			/* a bare IPv6 address: no port possible */
			hostlen = strlen(hostpart);
		} else {
			hostlen = colon ? (size_t)(colon - hostpart) : strlen(hostpart);
			if (colon)
				port = colon + 1;
		}
	}
	if (!hostlen)
		return target_fail(text, "empty host");
	if (port && parse_port(&out->port, port) < 0)
		return target_fail(text, "bad port");
	out->host = strndup(hostpart, hostlen);
	if (at)
		out->user = strndup(text, (size_t)(at - text));
	if (!out->host || (at && !out->user)) {
		rs_ssh_target_release(out);
		return rs_error_set(RS_ERROR, "out of memory");
	}
	return 0;
}

void rs_ssh_target_release(struct rs_ssh_target *target)
{
	free(target->user);
	free(target->host);
	target->user = NULL;
	target->host = NULL;
}

static char *current_user(void)
{
	const char *user = getenv("USER");
	struct passwd *pw;

	if (user && *user)
		return strdup(user);
	pw = getpwuid(getuid());
	return pw ? strdup(pw->pw_name) : NULL;
}

/* ------------------------------------------------------------------- TCP */

static int connect_one(int *out, const struct addrinfo *ai, int64_t deadline, int *err)
{
	struct pollfd pfd;
	int fd, rc, soerr = 0, flags;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	while (rc < 0) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			*err = ETIMEDOUT;
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (rc < 0 && errno != EINTR) {
			*err = errno;
			close(fd);
			return -1;
		}
		if (rs_interrupted()) {
			*err = EINTR;
			close(fd);
			return -1;
		}
		if (rc <= 0) {
			rc = -1;
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
			*err = soerr ? soerr : errno;
			close(fd);
			return -1;
		}
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){1}, sizeof(int));
	*out = fd;
	return 0;
}

static int tcp_connect(int *out, const char *host, int port, long timeout_ms)
{
	struct addrinfo hints, *list = NULL;
	char service[16];
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	int rc, err = 0;

	*out = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0)
		return rs_error_set(RS_ENET, "cannot resolve SSH host '%s': %s", host, gai_strerror(rc));
	for (struct addrinfo *ai = list; ai; ai = ai->ai_next)
		if (connect_one(out, ai, deadline, &err) == 0)
			break;
	freeaddrinfo(list);
	if (*out >= 0)
		return 0;
	if (err == EINTR)
		return rs_error_set(RS_ECANCELLED, "interrupted while connecting to '%s'", host);
	if (err == ETIMEDOUT)
		return rs_error_set(RS_ETIMEOUT, "cannot connect to '%s' port %d: no answer within %lds",
				    host, port, timeout_ms / 1000);
	return rs_error_set(RS_ENET, "cannot connect to '%s' port %d: %s", host, port, strerror(err));
}

/* ------------------------------------------------------------- host key */

static int check_host_key(struct rs_ssh *ssh, const struct rs_ssh_target *t,
			  const char *known_hosts, int accept_new)
{
	const unsigned char *blob;
	size_t len = 0;
	int type = 0, rc;
	enum rs_ssh_hostkey_status status;
	char fp[64], name[1100], kind[64];

	blob = (const unsigned char *)libssh2_session_hostkey(ssh->session, &len, &type);
	if (!blob || !len)
		return rs_error_set(RS_EPROTO, "'%s' showed no host key", ssh->describe);
	rc = rs_ssh_fingerprint(fp, sizeof(fp), blob, len);
	if (rc == 0)
		rc = rs_ssh_blob_type(kind, sizeof(kind), blob, len);
	if (rc == 0)
		rc = rs_ssh_known_host_name(name, sizeof(name), t->host, t->port);
	if (rc == 0)
		rc = rs_ssh_known_hosts_check(&status, known_hosts, t->host, t->port, blob, len);
	if (rc < 0)
		return rc;
	switch (status) {
	case RS_SSH_HOSTKEY_MATCH:
		rs_log(RS_LOG_VERBOSE, "ssh: host key of '%s' is known (%s %s)", name, kind, fp);
		return 0;
	case RS_SSH_HOSTKEY_UNKNOWN:
		if (!accept_new)
			return rs_error_set(RS_EHOSTKEY,
					    "the host key of '%s' is unknown: %s %s is not in '%s'; "
					    "check the fingerprint on the host (ssh-keygen -lf "
					    "/etc/ssh/ssh_host_*_key.pub) and run again with "
					    "--ssh-accept-new, or add the key to that file",
					    name, kind, fp, known_hosts);
		rc = rs_ssh_known_hosts_add(known_hosts, t->host, t->port, blob, len);
		if (rc < 0)
			return rc;
		rs_log(RS_LOG_WARN, "warning: added the host key of '%s' (%s %s) to '%s'", name, kind,
		       fp, known_hosts);
		return 0;
	case RS_SSH_HOSTKEY_OTHER_TYPE:
		return rs_error_set(RS_EHOSTKEY,
				    "the host key of '%s' cannot be verified: the server showed %s "
				    "%s, but '%s' holds keys of other types for it; this may be an "
				    "attack: if the host really changed its keys, update that file",
				    name, kind, fp, known_hosts);
	case RS_SSH_HOSTKEY_REVOKED:
		return rs_error_set(RS_EHOSTKEY, "the host key of '%s' (%s %s) is marked @revoked in "
				    "'%s': refusing to connect", name, kind, fp, known_hosts);
	case RS_SSH_HOSTKEY_CHANGED:
	default:
		return rs_error_set(RS_EHOSTKEY,
				    "WARNING: the host key of '%s' has CHANGED: the server showed "
				    "%s %s, which is not the key recorded in '%s'; someone may be "
				    "intercepting the connection; refusing to connect (if the change "
				    "is expected, remove the old key with ssh-keygen -R '%s' -f '%s')",
				    name, kind, fp, known_hosts, name, known_hosts);
	}
}

/* ------------------------------------------------------- authentication */

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

static int authenticate(struct rs_ssh *ssh, const char *user, const struct rs_ssh_options *opts)
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

			for (size_t i = 0; rc == 0 && home && i < 2; i++) {
				char path[4096];

				snprintf(path, sizeof(path), "%s/.ssh/%s", home, defaults[i]);
				rc = auth_key(&st, path, opts->passphrase, 0);
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

/* -------------------------------------------------------------- connect */

static int handshake(struct rs_ssh *ssh, const char *prefs)
{
	int rc;

	if (prefs[0] && libssh2_session_method_pref(ssh->session, LIBSSH2_METHOD_HOSTKEY, prefs) != 0)
		rs_log(RS_LOG_DEBUG, "ssh: host key preference '%s' refused: %s", prefs,
		       rs_ssh_last_error(ssh->session));
	rc = libssh2_session_handshake(ssh->session, ssh->sock);
	if (rc == 0)
		return 0;
	if (rc == LIBSSH2_ERROR_KEX_FAILURE)
		return rs_error_set(RS_EPROTO, "key exchange with '%s' failed (%s): if the host has "
				    "only RSA host keys, " RSA_ADVICE "; give the host an ed25519 "
				    "or ECDSA host key (ssh-keygen -A) and add it to known_hosts",
				    ssh->describe, rs_ssh_last_error(ssh->session));
	return rs_ssh_fail(ssh, rc, "SSH handshake");
}

int rs_ssh_connect(struct rs_ssh **out, const struct rs_ssh_options *opts)
{
	struct rs_ssh_target target;
	struct rs_ssh *ssh = NULL;
	char *known_hosts = NULL, *user = NULL;
	char prefs[256];
	size_t dlen;
	int rc;

	*out = NULL;
	rc = rs_ssh_target_parse(&target, opts->target);
	if (rc < 0)
		return rc;
	rc = rs_ssh_global_init();
	if (rc < 0)
		goto fail;
	user = target.user ? strdup(target.user) : current_user();
	if (opts->known_hosts && *opts->known_hosts)
		known_hosts = strdup(opts->known_hosts);
	else
		rc = rs_ssh_default_known_hosts(&known_hosts);
	if (rc == 0 && (!user || !known_hosts))
		rc = rs_error_set(RS_ERROR, "out of memory");
	if (rc == 0)
		rc = rs_ssh_hostkey_preference(prefs, sizeof(prefs), known_hosts, target.host,
					       target.port);
	if (rc < 0)
		goto fail;
	ssh = calloc(1, sizeof(*ssh));
	dlen = strlen(user) + strlen(target.host) + 16;
	if (!ssh || !(ssh->describe = malloc(dlen))) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	ssh->sock = -1;
	ssh->timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 10000;
	snprintf(ssh->describe, dlen, strchr(target.host, ':') ? "%s@[%s]:%d" : "%s@%s:%d", user,
		 target.host, target.port);
	rs_log(RS_LOG_VERBOSE, "ssh: connecting to '%s' (host keys: %s)", ssh->describe, prefs);
	rc = tcp_connect(&ssh->sock, target.host, target.port, ssh->timeout_ms);
	if (rc < 0)
		goto fail;
	ssh->session = libssh2_session_init();
	if (!ssh->session) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto fail;
	}
	libssh2_session_set_blocking(ssh->session, 1);
	libssh2_session_set_timeout(ssh->session, ssh->timeout_ms);
	rc = handshake(ssh, prefs);
	if (rc == 0)
		rc = check_host_key(ssh, &target, known_hosts, opts->accept_new);
	if (rc == 0)
		rc = authenticate(ssh, user, opts);
	if (rc < 0)
		goto fail;
	libssh2_keepalive_config(ssh->session, 1, KEEPALIVE_SECONDS);
	*out = ssh;
	ssh = NULL;
fail:
	rs_ssh_free(ssh);
	free(known_hosts);
	free(user);
	rs_ssh_target_release(&target);
	return rc;
}

void rs_ssh_free(struct rs_ssh *ssh)
{
	if (!ssh)
		return;
	if (ssh->session) {
		/* a short, blocking goodbye: the connection may be gone already */
		libssh2_session_set_blocking(ssh->session, 1);
		libssh2_session_set_timeout(ssh->session, 2000);
		if (ssh->sftp)
			libssh2_sftp_shutdown(ssh->sftp);
		libssh2_session_disconnect(ssh->session, "regsweep done");
		libssh2_session_free(ssh->session);
	}
	if (ssh->sock >= 0)
		close(ssh->sock);
	free(ssh->describe);
	free(ssh);
}

const char *rs_ssh_describe(const struct rs_ssh *ssh)
{
	return ssh->describe;
}

/* ----------------------------------------------------------------- exec */

struct line_splitter {
	char *data;
	size_t len;
	enum rs_ssh_stream stream;
	rs_ssh_line_fn fn;
	void *userdata;
};

static int splitter_emit(struct line_splitter *ls, size_t len)
{
	size_t n = len;

	if (n && ls->data[n - 1] == '\r')
		n--;
	ls->data[n] = '\0';
	return ls->fn ? ls->fn(ls->stream, ls->data, n, ls->userdata) : 0;
}

static int splitter_feed(struct line_splitter *ls, const char *chunk, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int rc = 0;

		if (chunk[i] == '\n') {
			rc = splitter_emit(ls, ls->len);
			ls->len = 0;
		} else {
			ls->data[ls->len++] = chunk[i];
			if (ls->len == LINE_MAX_BYTES) {
				rc = splitter_emit(ls, ls->len);
				ls->len = 0;
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int splitter_flush(struct line_splitter *ls)
{
	int rc = 0;

	if (ls->len)
		rc = splitter_emit(ls, ls->len);
	ls->len = 0;
	return rc;
}

static int wait_socket(struct rs_ssh *ssh, int64_t deadline)
{
	struct pollfd pfd;
	int dir = libssh2_session_block_directions(ssh->session), next = KEEPALIVE_SECONDS, ms;
	int64_t left;

	if (libssh2_keepalive_send(ssh->session, &next) != 0)
		next = KEEPALIVE_SECONDS;
	ms = (next > 0 ? next : 1) * 1000;
	if (ms > 1000)
		ms = 1000;      /* wake up for signals and the deadline */
	if (deadline) {
		left = deadline - now_ms();
		if (left < ms)
			ms = left > 0 ? (int)left : 0;
	}
	pfd.fd = ssh->sock;
	pfd.events = 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND || !dir)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
		return rs_error_set(RS_ENET, "waiting for '%s': %s", ssh->describe, strerror(errno));
	return 0;
}

static int write_input(struct rs_ssh *ssh, LIBSSH2_CHANNEL *channel, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = libssh2_channel_write(channel, data + off, len - off);

		if (n < 0)
			return rs_ssh_fail(ssh, (int)n, "sending the command's input");
		off += (size_t)n;
	}
	while (1) {
		int rc = libssh2_channel_send_eof(channel);

		if (rc == 0)
			return 0;
		if (rc != LIBSSH2_ERROR_EAGAIN)
			return rs_ssh_fail(ssh, rc, "sending the command's input");
	}
}

/* Read what is there on both streams; *got tells whether anything came. */
static int drain(struct rs_ssh *ssh, LIBSSH2_CHANNEL *channel, struct line_splitter *out,
		 struct line_splitter *err, int *got)
{
	char buf[16384];

	*got = 0;
	for (int stream = 0; stream < 2; stream++) {
		for (;;) {
			ssize_t n = libssh2_channel_read_ex(channel, stream, buf, sizeof(buf));
			int rc;

			if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
				break;
			if (n < 0)
				return rs_ssh_fail(ssh, (int)n, "reading the command's output");
			*got = 1;
			rc = splitter_feed(stream ? err : out, buf, (size_t)n);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void read_exit(LIBSSH2_CHANNEL *channel, struct rs_ssh_exit *exit)
{
	char *sig = NULL;
	size_t siglen = 0;

	exit->status = libssh2_channel_get_exit_status(channel);
	if (libssh2_channel_get_exit_signal(channel, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
	    sig) {
		snprintf(exit->signal, sizeof(exit->signal), "%.*s", (int)siglen, sig);
		exit->status = -1;
	}
	free(sig);
}

static int run_channel(struct rs_ssh *ssh, LIBSSH2_CHANNEL *channel,
		       const struct rs_ssh_exec_options *opts, struct rs_ssh_exit *exit,
		       struct line_splitter *out, struct line_splitter *err)
{
	int64_t deadline = opts->timeout_ms > 0 ? now_ms() + opts->timeout_ms : 0;
	int rc = 0, got;

	libssh2_session_set_blocking(ssh->session, 0);
	while (rc == 0) {
		rc = drain(ssh, channel, out, err, &got);
		if (rc < 0)
			break;
		if (libssh2_channel_eof(channel))
			break;
		if (rs_interrupted()) {
			rc = rs_error_set(RS_ECANCELLED, "interrupted while '%s' ran the command",
					  ssh->describe);
			break;
		}
		if (deadline && now_ms() >= deadline) {
			rc = rs_error_set(RS_ETIMEOUT, "the command on '%s' did not end within %lds "
					  "(--command-timeout)", ssh->describe,
					  opts->timeout_ms / 1000);
			break;
		}
		if (!got)
			rc = wait_socket(ssh, deadline);
	}
	if (rc == 0)
		rc = splitter_flush(out);
	if (rc == 0)
		rc = splitter_flush(err);
	if (rc == 0) {
		/* the exit status comes with or just after EOF */
		int64_t until = now_ms() + 5000;
		int closed;

		while ((closed = libssh2_channel_close(channel)) == LIBSSH2_ERROR_EAGAIN &&
		       now_ms() < until)
			wait_socket(ssh, until);
		while (closed == 0 &&
		       libssh2_channel_wait_closed(channel) == LIBSSH2_ERROR_EAGAIN && now_ms() < until)
			wait_socket(ssh, until);
		read_exit(channel, exit);
	}
	libssh2_session_set_blocking(ssh->session, 1);
	return rc;
}

int rs_ssh_exec(struct rs_ssh *ssh, const char *command, const struct rs_ssh_exec_options *opts,
		struct rs_ssh_exit *exit)
{
	static const struct rs_ssh_exec_options defaults = RS_SSH_EXEC_OPTIONS_INIT;
	struct line_splitter out = {NULL, 0, RS_SSH_STDOUT, NULL, NULL};
	struct line_splitter err = {NULL, 0, RS_SSH_STDERR, NULL, NULL};
	LIBSSH2_CHANNEL *channel;
	int rc;

	if (!opts)
		opts = &defaults;
	exit->status = -1;
	exit->signal[0] = '\0';
	out.fn = err.fn = opts->on_line;
	out.userdata = err.userdata = opts->userdata;
	out.data = malloc(LINE_MAX_BYTES + 1);
	err.data = malloc(LINE_MAX_BYTES + 1);
	if (!out.data || !err.data) {
		rc = rs_error_set(RS_ERROR, "out of memory");
		goto free_buffers;
	}
	libssh2_session_set_blocking(ssh->session, 1);
	libssh2_session_set_timeout(ssh->session, ssh->timeout_ms);
	channel = libssh2_channel_open_session(ssh->session);
	if (!channel) {
		rc = rs_ssh_fail(ssh, libssh2_session_last_errno(ssh->session), "opening a channel");
		goto free_buffers;
	}
	rc = libssh2_channel_exec(channel, command);
	if (rc != 0)
		rc = rs_ssh_fail(ssh, rc, "starting a command");
	if (rc == 0 && opts->input)
		rc = write_input(ssh, channel, opts->input, opts->input_len);
	if (rc == 0)
		rc = run_channel(ssh, channel, opts, exit, &out, &err);
	/* freeing a channel on a live session is quick; on a dead one,
	 * libssh2 gives up at the socket error */
	libssh2_session_set_timeout(ssh->session, 2000);
	libssh2_channel_free(channel);
	libssh2_session_set_timeout(ssh->session, ssh->timeout_ms);
free_buffers:
	free(out.data);
	free(err.data);
	return rc;
}
