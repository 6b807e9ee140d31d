/* fuzz_base64.c: base64 from docker config.json "auth" fields
 * (rs_base64_decode); what decodes must encode and decode to the same bytes. */
#include "fuzz.h"

#include "base/base64.h"
#include "net/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *plain = NULL, *again = NULL;
	size_t len = 0;

	if (rs_base64_decode(&plain, &len, text) == 0) {
		FUZZ_ASSERT(plain != NULL);
		FUZZ_ASSERT(plain[len] == '\0');
		FUZZ_ASSERT(rs_base64_encode(&again, plain, len) == 0);
		{
			char *round = NULL;
			size_t round_len = 0;

			FUZZ_ASSERT(rs_base64_decode(&round, &round_len, again) == 0);
			FUZZ_ASSERT(round_len == len && memcmp(round, plain, len) == 0);
			free(round);
		}
		free(again);
	} else {
		FUZZ_ASSERT(plain == NULL);
	}
	free(plain);
	free(text);
	return 0;
}
