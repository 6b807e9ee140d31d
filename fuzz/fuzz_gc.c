/* fuzz_gc.c: the output of a garbage collection run over SSH, line by line
 * (rs_gc_parse_line, rs_gc_parse_figures): the remote side may print
 * anything, markers of another run included. */
#include "fuzz.h"

#include "host/gc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_gc_result result;
	char *text = fuzz_cstr(data, size), *line, *next;

	rs_gc_result_init(&result, "f00dfeed");
	for (line = text; line; line = next) {
		struct rs_gc_figures figures;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		(void)rs_gc_parse_line(&result, line);
		if (rs_gc_parse_figures(&figures, line) == 0)
			FUZZ_ASSERT(figures.marked >= -1 && figures.blobs >= -1 && figures.manifests >= -1);
	}
	FUZZ_ASSERT(strlen(result.remote_dir) < sizeof(result.remote_dir));
	FUZZ_ASSERT(strlen(result.exit_signal) < sizeof(result.exit_signal));
	(void)rs_gc_failed_step(&result);
	free(text);
	return 0;
}
