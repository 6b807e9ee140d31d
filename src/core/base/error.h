/* error.h: the one way errors are reported in regsweep's core.
 *
 * Every fallible function returns 0 on success or a negative RS_E* code.
 * The function where the failure happens sets a human-readable message with
 * rs_error_set(); callers pass the code up unchanged and the CLI reads the
 * message once, at the top, to print it and map the code to an exit status.
 * Messages follow git's style: lower case, no full stop, the subject quoted.
 * They never contain a secret.
 */
#ifndef RS_ERROR_H
#define RS_ERROR_H

enum rs_error_code {
	RS_OK = 0,
	RS_ERROR = -1,         /* generic failure; the message says what */
	RS_ENOTFOUND = -2,     /* the thing asked for does not exist (404) */
	RS_EAUTH = -3,         /* credentials missing or wrong (401) */
	RS_EDENIED = -4,       /* authenticated but not allowed (403, scope) */
	RS_EUNSUPPORTED = -5,  /* the registry refuses the operation (405) */
	RS_EREADONLY = -6,     /* the registry is in read-only mode */
	RS_ENET = -7,          /* could not reach the server, or it dropped us */
	RS_EPROTO = -8,        /* the server answered something we cannot trust */
	RS_EUSAGE = -9,        /* the user asked for something invalid */
	RS_ECANCELLED = -10,   /* interrupted by a signal */
	RS_EPARTIAL = -11,     /* finished, but some items were skipped or failed */
	RS_EHOSTKEY = -12,     /* SSH host key unknown or changed */
	RS_ETIMEOUT = -13,     /* a time limit ran out */
	RS_ECONFLICT = -14     /* the registry changed under us (a tag moved) */
};

/* Record `code` and a printf-style message as the last error; returns `code`
 * so that `return rs_error_set(RS_EPROTO, "...")` reads naturally. The
 * arguments may include rs_error_message() itself. */
int rs_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message with more context ("scanning 'app': " + old). */
int rs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message set, or "" when none; valid until the next rs_error_set. */
const char *rs_error_message(void);

/* The code recorded with the last message, RS_OK when none. */
int rs_error_code(void);

/* Forget the last error. */
void rs_error_clear(void);

/* The last error kept aside while other code runs (writing a report after a
 * failure, trying a fallback): rs_error_save() copies it into `state`,
 * rs_error_restore() makes it the last error again and returns its code.
 * Callers use these instead of copying messages by hand. */
struct rs_error_state {
	int code;
	char message[2048];
};

void rs_error_save(struct rs_error_state *state);
int rs_error_restore(const struct rs_error_state *state);

/* A short, stable name for a code ("not found", "network"...). */
const char *rs_error_name(int code);

#endif
