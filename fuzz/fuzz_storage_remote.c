/* fuzz_storage_remote.c: the output of the one `find` the storage view runs
 * on the registry host over SSH (storage_remote.c's line parser). The host
 * may print anything; the parser is static, so this target includes the
 * module's source to reach it, and feeds it the input line by line exactly
 * as rs_ssh_exec would: one line at a time, NUL-terminated, without its
 * newline. */
#include "fuzz.h"

#include "../src/core/storage/storage_remote.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote_view rv;
	char *text = fuzz_cstr(data, size), *line, *next;
	int rc = 0;

	memset(&rv, 0, sizeof(rv));
	rv.view = calloc(1, sizeof(*rv.view));
	if (!rv.view)
		abort();
	for (line = text; rc == 0 && line && *line; line = next) {
		char *copy;
		size_t len;

		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		copy = fuzz_bytes((const uint8_t *)line, len + 1);
		copy[len] = '\0';
		rc = on_line(RS_SSH_STDOUT, copy, len, &rv);
		free(copy);
	}
	FUZZ_ASSERT(rv.view->blobs >= 0 && rv.view->bytes >= 0);
	for (size_t i = 0; i < rv.view->nmanifests; i++) {
		int known = 0;

		FUZZ_ASSERT(rs_digest_valid(rv.view->manifests[i].digest));
		for (size_t r = 0; r < rv.view->nrepos && !known; r++)
			known = rv.view->manifests[i].repo == rv.view->repos[r];
		FUZZ_ASSERT(known);
	}
	for (size_t r = 0; r < rv.view->nrepos; r++)
		FUZZ_ASSERT(rs_valid_repo_name(rv.view->repos[r]));
	rs_map_release(&rv.repos);
	rs_storage_view_free(rv.view);
	free(text);
	return 0;
}
