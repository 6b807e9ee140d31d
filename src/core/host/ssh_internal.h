/* ssh_internal.h: what the files of the SSH module (ssh.c, ssh_auth.c,
 * ssh_exec.c, ssh_hostkey.c, ssh_sftp.c) share. Only they include it, and
 * with it libssh2. */
#ifndef RS_SSH_INTERNAL_H
#define RS_SSH_INTERNAL_H

#include "host/ssh.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <stdint.h>

#define KEEPALIVE_SECONDS 30
#define RSA_ADVICE "libssh2 1.10 lacks the rsa-sha2-256/512 signatures that current OpenSSH " \
	"requires for RSA keys"

struct rs_ssh {
	int sock;
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp;            /* started on first SFTP use */
	long timeout_ms;               /* for blocking operations */
	char *describe;                /* "user@host:port" */
};

/* libssh2_init() once per process. */
int rs_ssh_global_init(void);

/* The session's last libssh2 error message ("" if none). */
const char *rs_ssh_last_error(LIBSSH2_SESSION *session);

/* Map a libssh2 error code met while talking to `ssh` to an RS_E* code and
 * set the message "`what` on 'user@host:port': ...". */
int rs_ssh_fail(struct rs_ssh *ssh, int code, const char *what);

/* Monotonic milliseconds. */
int64_t rs_ssh_now_ms(void);

/* Log in as `user` with what `opts` offers (ssh-agent, key file, password),
 * after the host key was checked. RS_EAUTH says why each method failed. */
int rs_ssh_authenticate(struct rs_ssh *ssh, const char *user, const struct rs_ssh_options *opts);

#endif
