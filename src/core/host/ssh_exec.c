/* ssh_exec.c: running a command on the host: its input sent, its output
 * streamed line by line, a time limit, keepalives, and how it ended. */
#include "host/ssh_internal.h"
#include "base/cancel.h"
#include "base/error.h"
#include "base/shell.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 65536

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
		left = deadline - rs_ssh_now_ms();
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
	int64_t deadline = opts->timeout_ms > 0 ? rs_ssh_now_ms() + opts->timeout_ms : 0;
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
		if (deadline && rs_ssh_now_ms() >= deadline) {
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
		int64_t until = rs_ssh_now_ms() + 5000;
		int closed;

		while ((closed = libssh2_channel_close(channel)) == LIBSSH2_ERROR_EAGAIN &&
		       rs_ssh_now_ms() < until)
			wait_socket(ssh, until);
		while (closed == 0 &&
		       libssh2_channel_wait_closed(channel) == LIBSSH2_ERROR_EAGAIN && rs_ssh_now_ms() < until)
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

int rs_ssh_script(struct rs_ssh *ssh, const char *script, const char *const *argv, size_t argc,
		  const struct rs_ssh_exec_options *opts, struct rs_ssh_exit *exit)
{
	struct rs_ssh_exec_options xopts = RS_SSH_EXEC_OPTIONS_INIT;
	struct rs_buf input = RS_BUF_INIT;
	int rc;

	exit->status = -1;
	exit->signal[0] = '\0';
	if (opts)
		xopts = *opts;
	rc = rs_shell_set_args(&input, argv, argc);
	if (rc == 0)
		rc = rs_buf_puts(&input, script);
	if (rc == 0) {
		xopts.input = input.ptr;
		xopts.input_len = input.len;
		rc = rs_ssh_exec(ssh, "sh -s", &xopts, exit);
	}
	rs_buf_release(&input);
	return rc;
}
