/* log.c: the log sink and the secret redactor. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rs_log_handler log_handler;
static void *log_userdata;
static enum rs_log_level log_level = RS_LOG_INFO;

static char **secrets;
static size_t nsecrets;

void rs_log_set_handler(rs_log_handler handler, void *userdata)
{
	log_handler = handler;
	log_userdata = userdata;
}

void rs_log_set_level(enum rs_log_level level)
{
	log_level = level;
}

enum rs_log_level rs_log_get_level(void)
{
	return log_level;
}

void rs_log(enum rs_log_level level, const char *fmt, ...)
{
	char line[4096], clean[4096];
	va_list ap;

	if (!log_handler || level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_handler(level, rs_redact(line, clean, sizeof(clean)), log_userdata);
}

void rs_secret_register(const char *secret)
{
	char **grown;
	char *copy;

	/* A secret of one or two characters would turn every matching letter
	 * of every line into "***": such a secret is never formatted anyway,
	 * and masking it would make the output unreadable. */
	if (!secret || strlen(secret) < RS_SECRET_MIN_MASK)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			return;
	copy = strdup(secret);
	grown = realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
	if (!copy || !grown) {
		free(copy);
		if (grown)
			secrets = grown;
		return;
	}
	secrets = grown;
	secrets[nsecrets++] = copy;
}

void rs_secret_clear(void)
{
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
}

int rs_contains_secret(const char *text)
{
	for (size_t i = 0; i < nsecrets; i++)
		if (strstr(text, secrets[i]))
			return 1;
	return 0;
}

char *rs_redact(const char *text, char *out, unsigned long outsize)
{
	size_t o = 0;

	if (!outsize)
		return out;
	while (*text && o + 1 < outsize) {
		size_t hit = 0;

		for (size_t i = 0; i < nsecrets; i++) {
			size_t n = strlen(secrets[i]);

			if (strncmp(text, secrets[i], n) == 0) {
				hit = n;
				break;
			}
		}
		if (hit) {
			for (const char *m = "***"; *m && o + 1 < outsize; m++)
				out[o++] = *m;
			text += hit;
		} else {
			out[o++] = *text++;
		}
	}
	out[o] = '\0';
	return out;
}
