/* fuzz_token.c: what a token server answers (rs_token_response_parse), the
 * claims of a JWT read without verifying it (rs_token_grants) and auth
 * scopes (rs_scope_split). The first byte picks the parser. */
#include "fuzz.h"

#include "net/auth.h"
#include "base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = fuzz_bytes(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: {
		char *token = (char *)1, *refresh = (char *)1;
		int64_t expires = -5;
		int rc;

		rs_error_clear();
		rc = rs_token_response_parse(&token, &expires, &refresh, text, size - 1,
					     "https://auth.example/token");

		if (rc < 0) {
			FUZZ_ASSERT(token == NULL && refresh == NULL);
		} else {
			FUZZ_ASSERT(token && *token);
			FUZZ_ASSERT(expires >= 1);
			FUZZ_ASSERT(!refresh || *refresh);
			/* success leaves no message that could carry the token */
			FUZZ_ASSERT(rs_error_message()[0] == '\0');
		}
		free(token);
		free(refresh);
		break;
	}
	case 1: {
		char *jwt = fuzz_cstr(data + 1, size - 1);
		static const char *const scopes[] = {
			"repository:app:pull", "repository:app:pull,delete", "registry:catalog:*",
			"repository:a/b/c:push,pull", ""
		};
		int g = rs_token_grants(jwt, scopes[size % 5]);

		FUZZ_ASSERT(g == -1 || g == 0 || g == 1);
		free(jwt);
		break;
	}
	default: {
		char *scope = fuzz_cstr(data + 1, size - 1);
		char type[32], name[256], actions[64];

		if (rs_scope_split(scope, type, sizeof(type), name, sizeof(name), actions,
				   sizeof(actions)) == 0)
			FUZZ_ASSERT(strlen(type) < sizeof(type) && strlen(name) < sizeof(name) &&
				    strlen(actions) < sizeof(actions));
		free(scope);
		break;
	}
	}
	free(text);
	return 0;
}
