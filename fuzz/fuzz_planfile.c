/* fuzz_planfile.c: a plan file read back by `regsweep apply PLAN`
 * (rs_planfile_parse). What parses must format (rs_planfile_format) and
 * parse again. */
#include "fuzz.h"

#include "base/error.h"
#include "policy/planfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_plan *plan = (struct rs_plan *)1, *again = NULL;
	char *text = fuzz_bytes(data, size), *out = NULL;
	int rc = rs_planfile_parse(&plan, text, size, "fuzz-plan.json");

	if (rc < 0) {
		FUZZ_ASSERT(plan == NULL);
	} else {
		FUZZ_ASSERT(plan != NULL);
		if (rs_planfile_format(&out, plan) == 0) {
			rc = rs_planfile_parse(&again, out, strlen(out), "formatted");
			if (rc < 0)
				fprintf(stderr, "formatted plan does not parse: %s\n", rs_error_message());
			FUZZ_ASSERT(rc == 0);
			rs_plan_free(again);
			free(out);
		}
		rs_plan_free(plan);
	}
	free(text);
	return 0;
}
