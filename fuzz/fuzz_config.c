/* fuzz_config.c: the `created` date of an image config blob
 * (rs_config_parse_created). An unknown or epoch date must stay unknown:
 * the policy keeps images of unknown age. */
#include "fuzz.h"

#include "model/manifest.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_bytes(data, size);
	int64_t created = 12345;
	int rc = rs_config_parse_created(&created, body, size);

	FUZZ_ASSERT(created == RS_TIME_UNKNOWN || (rc == 0 && created > 86400));
	free(body);
	return 0;
}
