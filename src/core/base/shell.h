/* shell.h: building POSIX sh scripts safely. Everything regsweep runs on a
 * host is a script fed to `sh -s` (never a command line for the login
 * shell, which may be fish or csh); the values it needs (paths, the user's
 * commands) are quoted here and set as the script's positional parameters
 * or variables, so nothing read from a registry is ever part of a command.
 */
#ifndef RS_SHELL_H
#define RS_SHELL_H

#include "base/buf.h"

#include <stddef.h>

/* Append `text` quoted for a POSIX shell (single quotes; a quote inside
 * becomes '\''), so that sh reads it back as exactly `text`. */
int rs_shell_quote(struct rs_buf *out, const char *text);

/* Append "set -- 'ARG1' 'ARG2' ...\n": the script's positional parameters,
 * what `sh -s -- ARGS` would give it, without the login shell parsing them. */
int rs_shell_set_args(struct rs_buf *out, const char *const *argv, size_t argc);

#endif
