/* log.h: how the core tells the user what it is doing without printing.
 *
 * The core never writes to the terminal. It reports through rs_log(), which
 * hands each line to the handler the program installed (the CLI prints to
 * stderr; tests capture). Every line passes through the redactor first:
 * any string registered with rs_secret_register() is replaced by "***", a
 * second line of defence behind never formatting secrets in the first place.
 */
#ifndef RS_LOG_H
#define RS_LOG_H

enum rs_log_level {
	RS_LOG_ERROR = 0,   /* shown even with -q */
	RS_LOG_WARN = 1,    /* shown by default */
	RS_LOG_INFO = 2,    /* shown by default: what is happening, stage by stage */
	RS_LOG_VERBOSE = 3, /* -v: each request's method, path and status */
	RS_LOG_DEBUG = 4    /* -vv */
};

typedef void (*rs_log_handler)(enum rs_log_level level, const char *line, void *userdata);

/* Install the handler (NULL: drop every line). */
void rs_log_set_handler(rs_log_handler handler, void *userdata);

/* Lines above this level are not even formatted. */
void rs_log_set_level(enum rs_log_level level);
enum rs_log_level rs_log_get_level(void);

void rs_log(enum rs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Secrets shorter than this are not masked (they would mask ordinary text). */
#define RS_SECRET_MIN_MASK 3

/* Remember a secret so that it is masked in every logged line and in
 * rs_redact(). The string is copied; strings shorter than
 * RS_SECRET_MIN_MASK are ignored. */
void rs_secret_register(const char *secret);

/* Copy `text` into `out` (size `outsize`) with every registered secret
 * replaced by "***"; returns `out`. */
char *rs_redact(const char *text, char *out, unsigned long outsize);

/* Does `text` contain any registered secret? */
int rs_contains_secret(const char *text);

/* Forget all registered secrets (tests). */
void rs_secret_clear(void);

#endif
