/* shell.c: quoting for POSIX sh (see shell.h). */
#include "base/shell.h"

int rs_shell_quote(struct rs_buf *out, const char *text)
{
	int rc = rs_buf_puts(out, "'");

	for (const char *p = text; rc == 0 && *p; p++)
		rc = *p == '\'' ? rs_buf_puts(out, "'\\''") : rs_buf_put(out, p, 1);
	if (rc == 0)
		rc = rs_buf_puts(out, "'");
	return rc;
}

int rs_shell_set_args(struct rs_buf *out, const char *const *argv, size_t argc)
{
	int rc = rs_buf_puts(out, "set --");

	for (size_t i = 0; rc == 0 && i < argc; i++) {
		rc = rs_buf_puts(out, " ");
		if (rc == 0)
			rc = rs_shell_quote(out, argv[i] ? argv[i] : "");
	}
	if (rc == 0)
		rc = rs_buf_puts(out, "\n");
	return rc;
}
