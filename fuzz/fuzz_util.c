/* fuzz_util.c: durations, sizes and timestamps from options, config files
 * and registries (util.c). The first byte picks the parser. What parses
 * must format and parse back to the same value. */
#include "fuzz.h"

#include "base/error.h"
#include "model/manifest.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, out[128];
	int rc;

	if (size < 1)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: {
		int64_t secs = -1, again = -1;

		rc = rs_duration_parse(&secs, text);
		FUZZ_ASSERT(rc < 0 ? secs == 0 : secs >= 0);
		if (rc == 0) {
			rs_duration_format(out, sizeof(out), secs);
			FUZZ_ASSERT(rs_duration_parse(&again, out) == 0);
			FUZZ_ASSERT(again == secs);
		}
		break;
	}
	case 1: {
		uint64_t bytes = 1;

		rc = rs_size_parse(&bytes, text);
		FUZZ_ASSERT(rc == 0 || bytes == 0);
		rs_size_format(out, sizeof(out), bytes);
		break;
	}
	case 2: {
		int64_t when = 0, again = 0;

		rc = rs_time_parse(&when, text);
		FUZZ_ASSERT(rc < 0 ? when == RS_TIME_UNKNOWN : when != RS_TIME_UNKNOWN);
		/* whatever parses formats, as four-digit years, and parses back */
		if (rc == 0) {
			rs_time_format(out, sizeof(out), when);
			FUZZ_ASSERT(rs_time_parse(&again, out) == 0);
			FUZZ_ASSERT(again == when);
		}
		break;
	}
	default:
		/* repository names and tags are checked before they go into URLs */
		if (rs_valid_repo_name(text)) {
			FUZZ_ASSERT(strlen(text) <= 255);
			FUZZ_ASSERT(!strstr(text, "..") && !strstr(text, "//") && text[0] != '/');
		}
		if (rs_valid_tag(text))
			FUZZ_ASSERT(strlen(text) <= 128 && !strchr(text, '/'));
		break;
	}
	free(text);
	return 0;
}
