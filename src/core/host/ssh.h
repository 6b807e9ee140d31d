/* ssh.h: one SSH session to the registry host (libssh2): connecting with
 * host key checking, authenticating, running a command with its output
 * streamed line by line, and reading files over SFTP.
 *
 * This is the only module that includes libssh2. What libssh2 1.10 cannot
 * do is said plainly: it lacks the rsa-sha2-256/512 signatures, so a host
 * that offers only RSA host keys and an RSA user key both fail; the messages
 * tell the user to use an ed25519 or ECDSA key instead.
 *
 * Host keys are checked against an OpenSSH known_hosts file (plain and
 * hashed entries; "[host]:port" names for ports other than 22, exactly as
 * OpenSSH writes them). The host key algorithms are offered in the order of
 * the key types that file holds for the host, so the key the server shows
 * is one we can verify. An unknown key is refused with its SHA256
 * fingerprint (RS_EHOSTKEY) unless accept_new is set, which appends it to
 * the file; a key that differs from the recorded one is always refused.
 *
 * Errors: RS_EUSAGE (bad target, unreadable key file), RS_ENET (cannot
 * connect, connection dropped), RS_ETIMEOUT, RS_EHOSTKEY, RS_EAUTH (no
 * method worked), RS_EPROTO (SSH-level failures), RS_ECANCELLED (signal).
 * Messages never contain a passphrase or password.
 */
#ifndef RS_SSH_H
#define RS_SSH_H

#include "base/fs.h"

#include <stddef.h>
#include <stdint.h>

/* "[USER@]HOST[:PORT]", HOST may be an IPv6 address in brackets. */
struct rs_ssh_target {
	char *user;     /* owned; NULL when not given */
	char *host;     /* owned; without brackets */
	int port;       /* 22 when not given */
};

/* Parse `text` into `out` (which the caller releases). A bare IPv6 address
 * without brackets is accepted when no port follows (it has two or more
 * colons). Returns 0 or RS_EUSAGE naming the text. */
int rs_ssh_target_parse(struct rs_ssh_target *out, const char *text);
void rs_ssh_target_release(struct rs_ssh_target *target);

/* The name known_hosts uses for a host: "host" on port 22, else
 * "[host]:port". Returns 0, or RS_ERROR when `outsize` is too small. */
int rs_ssh_known_host_name(char *out, size_t outsize, const char *host, int port);

/* OpenSSH's fingerprint of a public key blob (wire format):
 * "SHA256:" + unpadded base64 of its SHA-256. `outsize` >= 52. */
int rs_ssh_fingerprint(char *out, size_t outsize, const unsigned char *blob, size_t len);

/* The key type named inside a key blob ("ssh-ed25519"...), into `out`. */
int rs_ssh_blob_type(char *out, size_t outsize, const unsigned char *blob, size_t len);

enum rs_ssh_hostkey_status {
	RS_SSH_HOSTKEY_MATCH = 0,     /* recorded for this host: trusted */
	RS_SSH_HOSTKEY_UNKNOWN,       /* no key of any type for this host */
	RS_SSH_HOSTKEY_OTHER_TYPE,    /* keys of other types recorded, not this one */
	RS_SSH_HOSTKEY_CHANGED,       /* a different key of this type is recorded */
	RS_SSH_HOSTKEY_REVOKED        /* listed by a @revoked line */
};

/* Look up the key `blob` for `host`:`port` in known_hosts file `path` (a
 * missing file holds nothing). Lines libssh2 cannot parse (certificate
 * authorities, unknown key types) are skipped. Returns 0 with *status set,
 * or an error when the file cannot be read. */
int rs_ssh_known_hosts_check(enum rs_ssh_hostkey_status *status, const char *path,
			     const char *host, int port, const unsigned char *blob, size_t len);

/* Append a line for `host`:`port` and key `blob` to `path`, creating it
 * (mode 0600) and, for a path ending in ".ssh/known_hosts", its directory
 * (mode 0700). Existing lines are left as they are. */
int rs_ssh_known_hosts_add(const char *path, const char *host, int port,
			   const unsigned char *blob, size_t len);

/* The host key algorithms to offer, comma-separated, into `out`: first the
 * types `path` records for the host (ed25519 before ECDSA), then the rest
 * libssh2 supports. Returns 0 or an error when the file cannot be read. */
int rs_ssh_hostkey_preference(char *out, size_t outsize, const char *path,
			      const char *host, int port);

/* The default known_hosts file, "$HOME/.ssh/known_hosts"; *out is the
 * caller's. */
int rs_ssh_default_known_hosts(char **out);

struct rs_ssh_options {
	const char *target;          /* "[USER@]HOST[:PORT]" */
	const char *known_hosts;     /* NULL: ~/.ssh/known_hosts */
	int accept_new;              /* record an unknown host key and go on */
	const char *key_file;        /* private key, OpenSSH or PEM; NULL: ~/.ssh/id_ed25519, id_ecdsa */
	const char *passphrase;      /* of key_file; borrowed, never copied into messages */
	const char *password;        /* password authentication; borrowed */
	int use_agent;               /* try ssh-agent ($SSH_AUTH_SOCK) */
	long connect_timeout_ms;     /* TCP connect, handshake, authentication, and each
				      * SFTP request */
};

#define RS_SSH_OPTIONS_INIT { NULL, NULL, 0, NULL, NULL, NULL, 1, 10000 }

struct rs_ssh;

/* Connect, check the host key and authenticate (ssh-agent, then the key
 * file, then the password; the first that works wins). *out is the
 * caller's, free with rs_ssh_free(). */
int rs_ssh_connect(struct rs_ssh **out, const struct rs_ssh_options *opts);

/* Disconnect and free; NULL is a no-op. */
void rs_ssh_free(struct rs_ssh *ssh);

/* "user@host:port" as connected, for messages; lives as long as `ssh`. */
const char *rs_ssh_describe(const struct rs_ssh *ssh);

enum rs_ssh_stream {
	RS_SSH_STDOUT = 1,
	RS_SSH_STDERR = 2
};

/* One line of remote output, without its newline (lines longer than the
 * limit arrive in pieces). Return 0 to go on, negative to stop the command
 * (the code is returned by rs_ssh_exec). */
typedef int (*rs_ssh_line_fn)(enum rs_ssh_stream stream, const char *line, size_t len,
			      void *userdata);

struct rs_ssh_exec_options {
	const char *input;           /* sent as the command's stdin, then EOF; may be NULL */
	size_t input_len;
	long timeout_ms;             /* whole command; 0: no limit */
	rs_ssh_line_fn on_line;      /* may be NULL */
	void *userdata;
};

#define RS_SSH_EXEC_OPTIONS_INIT { NULL, 0, 0, NULL, NULL }

/* How a remote command ended. */
struct rs_ssh_exit {
	int status;                  /* exit status, -1 when none was reported */
	char signal[32];             /* signal name ("KILL") when killed by one, else "" */
};

/* Run `command` (interpreted by the remote user's login shell, as with
 * ssh(1)) and wait for it to end. Returns 0 when it ended, whatever its
 * status; RS_ETIMEOUT when the time limit ran out, RS_ENET when the
 * connection dropped, RS_ECANCELLED on a signal, or what on_line returned.
 * `exit` is filled in every case (-1 / "" when unknown). */
int rs_ssh_exec(struct rs_ssh *ssh, const char *command, const struct rs_ssh_exec_options *opts,
		struct rs_ssh_exit *exit);

/* Run `script` with POSIX sh on the host: the command is `sh -s` (so the
 * login shell, which may be fish or csh, only starts sh), the script goes
 * on its standard input after "set -- ARGS" (argv quoted with
 * rs_shell_quote: paths are passed as positional parameters, never spliced
 * into a command). `opts->input` must be NULL. Returns like rs_ssh_exec. */
int rs_ssh_script(struct rs_ssh *ssh, const char *script, const char *const *argv, size_t argc,
		  const struct rs_ssh_exec_options *opts, struct rs_ssh_exit *exit);

/* A filesystem view of the host over SFTP (see base/fs.h), valid while
 * `ssh` lives. The SFTP subsystem starts on first use. */
void rs_ssh_fs(struct rs_fs *out, struct rs_ssh *ssh);

#endif
