/* ssh.c: SSH sessions with libssh2: the target, the TCP connection with a
 * time limit, the handshake and the host key check (see ssh.h);
 * authentication is in ssh_auth.c, running commands in ssh_exec.c. */
#include "host/ssh_internal.h"
#include "base/cancel.h"
#include "base/error.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


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

int64_t rs_ssh_now_ms(void)
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
		int64_t left = deadline - rs_ssh_now_ms();

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
	int64_t deadline = rs_ssh_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
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
		rc = rs_ssh_authenticate(ssh, user, opts);
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
