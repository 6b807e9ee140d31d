/* fuzz_storage_find.c: the output of the one `find` the storage view runs on
 * the registry host over SSH (find.c's line parser, and the rules of
 * view.c). The host may print anything: the input is fed line by line
 * exactly as the SSH module would, one NUL-terminated line at a time
 * without its newline. */
#include "fuzz_view.h"

#include "base/log.h"
#include "storage/backend.h"

struct input {
	const char *text;
};

static int lines_read(void *impl, unsigned what, struct rs_storage_sink *sink)
{
	const struct input *in = impl;
	enum rs_storage_find_state state = RS_STORAGE_FIND_RUNNING;
	const char *line, *next;
	int rc = 0;

	(void)what;
	for (line = in->text; rc == 0 && line && *line; line = next) {
		size_t len;
		char *copy;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		copy = fuzz_bytes((const uint8_t *)line, len + 1);
		copy[len] = '\0';
		rc = rs_storage_find_line(sink, copy, len, &state);
		free(copy);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { fuzz_cstr(data, size) };
	struct rs_storage_view *view = (struct rs_storage_view *)1;

	if (rs_storage_view_build(&view, "'fuzz'", RS_STORAGE_MANIFESTS | RS_STORAGE_TAG_LINKS |
				  RS_STORAGE_BLOBS, 100000, lines_read, &in) == 0) {
		FUZZ_ASSERT(view != NULL);
		fuzz_check_view(view);
		rs_storage_view_free(view);
	} else {
		FUZZ_ASSERT(view == NULL);
	}
	rs_secret_clear();
	free((char *)in.text);
	return 0;
}
