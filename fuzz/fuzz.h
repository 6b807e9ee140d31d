/* fuzz.h: helpers shared by the libFuzzer targets.
 *
 * Each target feeds one parser of outside input and checks, beyond "no
 * crash, no leak, no undefined behaviour", the promises its header makes:
 * what comes back on success is valid, *out is NULL on failure.
 */
#ifndef RS_FUZZ_H
#define RS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (parsers of headers and options take
 * C strings); an embedded NUL simply ends the string early. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An exact-size heap copy, so that reading one byte past the end is caught. */
static inline char *fuzz_bytes(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	return s;
}

/* A broken promise: report it and abort so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

#endif
