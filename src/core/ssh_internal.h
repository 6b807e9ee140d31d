/* ssh_internal.h: what the files of the SSH module (ssh.c, ssh_hostkey.c,
 * ssh_sftp.c) share. Only they include it, and with it libssh2. */
#ifndef RS_SSH_INTERNAL_H
#define RS_SSH_INTERNAL_H

#include "ssh.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

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

#endif
