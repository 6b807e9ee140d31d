/* fuzz_challenge.c: WWW-Authenticate challenges (rs_challenges_parse). */
#include "fuzz.h"

#include "net/auth.h"
#include "base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = fuzz_cstr(data, size);
	struct rs_challenge *list = NULL;
	size_t count = 99;
	int rc = rs_challenges_parse(&list, &count, header);

	if (rc < 0) {
		FUZZ_ASSERT(list == NULL && count == 0);
		FUZZ_ASSERT(rs_error_message()[0] != '\0');
	} else {
		FUZZ_ASSERT((list == NULL) == (count == 0));
		for (size_t i = 0; i < count; i++) {
			FUZZ_ASSERT(strlen(list[i].scheme) < sizeof(list[i].scheme));
			for (const char *c = list[i].scheme; *c; c++)
				FUZZ_ASSERT(!(*c >= 'A' && *c <= 'Z'));
			/* every field is a whole string */
			if (list[i].realm)
				(void)strlen(list[i].realm);
			if (list[i].service)
				(void)strlen(list[i].service);
			if (list[i].scope)
				(void)strlen(list[i].scope);
			if (list[i].error)
				(void)strlen(list[i].error);
		}
	}
	rs_challenges_free(list, count);
	free(header);
	return 0;
}
