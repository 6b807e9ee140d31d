/* error.c: the last-error slot that every core module writes to. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char last_message[sizeof(((struct rs_error_state *)0)->message)];
static int last_code;

int rs_error_set(int code, const char *fmt, ...)
{
	char message[sizeof(last_message)];
	va_list ap;

	/* format aside first: the arguments may include rs_error_message() */
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	memcpy(last_message, message, sizeof(last_message));
	last_code = code;
	return code;
}

int rs_error_prefix(const char *fmt, ...)
{
	char prefix[1024];
	size_t plen, mlen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	if (plen >= sizeof(last_message))
		plen = sizeof(last_message) - 1;
	mlen = strlen(last_message);
	if (plen + mlen >= sizeof(last_message))
		mlen = sizeof(last_message) - plen - 1;
	memmove(last_message + plen, last_message, mlen);
	memcpy(last_message, prefix, plen);
	last_message[plen + mlen] = '\0';
	return last_code;
}

const char *rs_error_message(void)
{
	return last_message;
}

int rs_error_code(void)
{
	return last_code;
}

void rs_error_clear(void)
{
	last_message[0] = '\0';
	last_code = RS_OK;
}

void rs_error_save(struct rs_error_state *state)
{
	state->code = last_code;
	memcpy(state->message, last_message, sizeof(state->message));
}

int rs_error_restore(const struct rs_error_state *state)
{
	last_code = state->code;
	memcpy(last_message, state->message, sizeof(last_message));
	return last_code;
}

const char *rs_error_name(int code)
{
	switch (code) {
	case RS_OK: return "ok";
	case RS_ENOTFOUND: return "not found";
	case RS_EAUTH: return "authentication";
	case RS_EDENIED: return "permission denied";
	case RS_EUNSUPPORTED: return "unsupported";
	case RS_EREADONLY: return "read-only";
	case RS_ENET: return "network";
	case RS_EPROTO: return "protocol";
	case RS_EUSAGE: return "usage";
	case RS_ECANCELLED: return "cancelled";
	case RS_EPARTIAL: return "partial";
	case RS_EHOSTKEY: return "host key";
	case RS_ETIMEOUT: return "timeout";
	case RS_ECONFLICT: return "conflict";
	default: return "error";
	}
}
