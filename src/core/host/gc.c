/* gc.c: the remote garbage-collection script, its output parser and the
 * run over SSH (see gc.h for the design). */
#include "host/gc.h"
#include "base/error.h"
#include "base/shell.h"
#include "base/log.h"
#include "host/ssh.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MARK "@@regsweep "
#define EMPTY_STORAGE_TEXT "Path not found: /docker/registry/v2/repositories"

static const char *const step_names[RS_GC_NSTEPS] = { "before", "gc-dry-run", "gc", "after" };

/* The launcher, read by `sh -s` on the host. @ID@ and @DELIM@ are
 * replaced; the runner goes between the heredoc lines. */
static const char launcher_head[] =
	"# regsweep gc launcher: starts the runner detached from this SSH session\n"
	"# and relays its log here until it is done.\n"
	"umask 077\n"
	"rs_id=@ID@\n"
	"rs_dir=$(mktemp -d \"${TMPDIR:-/tmp}/regsweep-gc.XXXXXXXX\") || {\n"
	"\techo \"@@regsweep $rs_id error cannot create a temporary directory\"\n"
	"\texit 125\n"
	"}\n"
	"echo \"@@regsweep $rs_id dir $rs_dir\"\n"
	"cat >\"$rs_dir/run.sh\" <<'@DELIM@'\n";

static const char launcher_tail[] =
	"@DELIM@\n"
	"if command -v setsid >/dev/null 2>&1; then rs_setsid=setsid; else rs_setsid=; fi\n"
	": >\"$rs_dir/log\"\n"
	"(\n"
	"\ttrap '' HUP INT TERM PIPE\n"
	"\t$rs_setsid nohup sh \"$rs_dir/run.sh\" \"$rs_dir\" >>\"$rs_dir/log\" 2>&1 </dev/null &\n"
	") </dev/null\n"
	"rs_off=0\n"
	"while :; do\n"
	"\trs_done=0\n"
	"\t[ -s \"$rs_dir/status\" ] && rs_done=1\n"
	"\trs_size=$(wc -c <\"$rs_dir/log\")\n"
	"\tif [ \"$rs_size\" -gt \"$rs_off\" ]; then\n"
	"\t\t# a failed relay means regsweep is gone: leave, keeping the log\n"
	"\t\ttail -c +$((rs_off + 1)) \"$rs_dir/log\" | head -c $((rs_size - rs_off)) || exit 124\n"
	"\t\trs_off=$rs_size\n"
	"\tfi\n"
	"\t[ \"$rs_done\" = 1 ] && break\n"
	"\tif [ -s \"$rs_dir/pid\" ] && ! kill -0 \"$(cat \"$rs_dir/pid\")\" 2>/dev/null &&\n"
	"\t   [ ! -s \"$rs_dir/status\" ]; then\n"
	"\t\techo \"@@regsweep $rs_id lost the runner ended without a status\"\n"
	"\t\texit 124\n"
	"\tfi\n"
	"\tsleep 0.2 2>/dev/null || sleep 1\n"
	"done\n"
	"rs_rc=$(cat \"$rs_dir/status\")\n"
	"rm -rf \"$rs_dir\"\n"
	"exit \"$rs_rc\"\n";

/* The runner: the steps, detached; the after step runs on every way out. */
static const char runner_head[] =
	"# regsweep gc runner: before, gc-dry-run, gc, after; detached from the SSH\n"
	"# session. The EXIT trap runs the after-GC command once, however it ends.\n"
	"rs_id=@ID@\n"
	"rs_dir=$1\n"
	"rs_shell=${SHELL:-/bin/sh}\n";

static const char runner_body[] =
	"rs_status=0\n"
	"rs_after_done=0\n"
	"echo $$ >\"$rs_dir/pid\"\n"
	"rs_mark() {\n"
	"\t# a command's last line may lack its newline: a marker starts a line\n"
	"\t[ -z \"$(tail -c 1 \"$rs_dir/log\" 2>/dev/null)\" ] || echo\n"
	"\tprintf '@@regsweep %s %s\\n' \"$rs_id\" \"$*\"\n"
	"}\n"
	"rs_step() {\n"
	"\trs_mark \"step $1 start\"\n"
	"\t\"$rs_shell\" -c \"$2\" </dev/null\n"
	"\trs_rc=$?\n"
	"\trs_mark \"step $1 rc=$rs_rc\"\n"
	"\treturn \"$rs_rc\"\n"
	"}\n"
	"rs_finish() {\n"
	"\ttrap '' HUP INT TERM PIPE\n"
	"\tif [ \"$rs_after_done\" = 0 ] && [ -n \"$rs_after\" ]; then\n"
	"\t\trs_after_done=1\n"
	"\t\trs_step after \"$rs_after\" || [ \"$rs_status\" -ne 0 ] || rs_status=$rs_rc\n"
	"\tfi\n"
	"\trs_mark \"done rc=$rs_status\"\n"
	"\techo \"$rs_status\" >\"$rs_dir/status.tmp\" && mv -f \"$rs_dir/status.tmp\" \"$rs_dir/status\"\n"
	"\ttrap - EXIT\n"
	"\texit \"$rs_status\"\n"
	"}\n"
	"trap rs_finish EXIT\n"
	"trap 'rs_mark \"signal TERM\"; rs_status=143; exit 143' TERM\n"
	"trap 'rs_mark \"signal INT\"; rs_status=130; exit 130' INT\n"
	"trap '' HUP PIPE\n"
	"if [ \"$rs_dry_only\" = 1 ]; then\n"
	"\trs_step gc-dry-run \"$rs_gc --dry-run$rs_flags\" || rs_status=$rs_rc\n"
	"\texit \"$rs_status\"\n"
	"fi\n"
	"if [ -n \"$rs_before\" ] && ! rs_step before \"$rs_before\"; then\n"
	"\trs_status=$rs_rc\n"
	"\trs_mark \"step gc-dry-run skipped\"\n"
	"\trs_mark \"step gc skipped\"\n"
	"\texit \"$rs_status\"\n"
	"fi\n"
	"if ! rs_step gc-dry-run \"$rs_gc --dry-run$rs_flags\"; then\n"
	"\trs_status=$rs_rc\n"
	"\trs_mark \"step gc skipped\"\n"
	"\texit \"$rs_status\"\n"
	"fi\n"
	"rs_step gc \"$rs_gc$rs_flags\" || rs_status=$rs_rc\n"
	"exit \"$rs_status\"\n";

const char *rs_gc_step_name(enum rs_gc_step step)
{
	return step < RS_GC_NSTEPS ? step_names[step] : "";
}

static int is_set(const char *s)
{
	return s && *s;
}

int rs_gc_validate(const struct rs_gc_options *opts)
{
	if (!is_set(opts->gc_command))
		return rs_error_set(RS_EUSAGE, "no garbage-collect command: set --gc-command");
	if (!opts->dry_run && is_set(opts->before) && !is_set(opts->after))
		return rs_error_set(RS_EUSAGE, "--before-gc without --after-gc would leave the "
				    "registry read-only or stopped: give --after-gc CMD to restore it");
	return 0;
}

/* Append `tmpl` with @ID@ and @DELIM@ replaced. */
static int put_template(struct rs_buf *out, const char *tmpl, const char *id, const char *delim)
{
	int rc = 0;

	while (rc == 0 && *tmpl) {
		const char *at = strchr(tmpl, '@');

		if (at && strncmp(at, "@ID@", 4) == 0) {
			rc = rs_buf_put(out, tmpl, (size_t)(at - tmpl));
			if (rc == 0)
				rc = rs_buf_puts(out, id);
			tmpl = at + 4;
		} else if (at && strncmp(at, "@DELIM@", 7) == 0) {
			rc = rs_buf_put(out, tmpl, (size_t)(at - tmpl));
			if (rc == 0)
				rc = rs_buf_puts(out, delim);
			tmpl = at + 7;
		} else if (at) {
			rc = rs_buf_put(out, tmpl, (size_t)(at - tmpl) + 1);
			tmpl = at + 1;
		} else {
			rc = rs_buf_puts(out, tmpl);
			break;
		}
	}
	return rc;
}

static int put_variable(struct rs_buf *out, const char *name, const char *value)
{
	int rc = rs_buf_printf(out, "%s=", name);

	if (rc == 0)
		rc = rs_shell_quote(out, value ? value : "");
	if (rc == 0)
		rc = rs_buf_puts(out, "\n");
	return rc;
}

static int valid_id(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!isalnum((unsigned char)id[n]))
			return 0;
	return n > 0 && n < 40;
}

int rs_gc_build_script(struct rs_buf *out, const struct rs_gc_options *opts, const char *id)
{
	struct rs_buf runner = RS_BUF_INIT;
	char delim[64], line[72];
	int rc;

	if (!valid_id(id))
		return rs_error_set(RS_ERROR, "invalid run id '%s'", id);
	rc = rs_gc_validate(opts);
	if (rc < 0)
		return rc;
	snprintf(delim, sizeof(delim), "REGSWEEP_RUNNER_%s", id);
	rc = put_template(&runner, runner_head, id, delim);
	if (rc == 0)
		rc = put_variable(&runner, "rs_before", opts->dry_run ? "" : opts->before);
	if (rc == 0)
		rc = put_variable(&runner, "rs_gc", opts->gc_command);
	if (rc == 0)
		rc = put_variable(&runner, "rs_after", opts->dry_run ? "" : opts->after);
	if (rc == 0)
		rc = put_variable(&runner, "rs_flags", opts->delete_untagged ? " --delete-untagged" : "");
	if (rc == 0)
		rc = rs_buf_printf(&runner, "rs_dry_only=%d\n", opts->dry_run ? 1 : 0);
	if (rc == 0)
		rc = put_template(&runner, runner_body, id, delim);
	if (rc < 0)
		goto done;
	/* a configured command could, in theory, hold the heredoc's end line */
	snprintf(line, sizeof(line), "\n%s\n", delim);
	if (strstr(rs_buf_cstr(&runner), line) ||
	    strncmp(rs_buf_cstr(&runner), line + 1, strlen(line) - 1) == 0) {
		rc = rs_error_set(RS_EUSAGE, "a configured command contains the line '%s'", delim);
		goto done;
	}
	rc = put_template(out, launcher_head, id, delim);
	if (rc == 0)
		rc = rs_buf_put(out, runner.ptr, runner.len);
	if (rc == 0)
		rc = put_template(out, launcher_tail, id, delim);
done:
	rs_buf_release(&runner);
	return rc;
}

/* ---------------------------------------------------------------- parse */

static int parse_count(int64_t *out, const char **p)
{
	int64_t n = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*s - '0');
		s++;
	}
	*out = n;
	*p = s;
	return 0;
}

static int expect(const char **p, const char *text)
{
	size_t n = strlen(text);

	if (strncmp(*p, text, n) != 0)
		return -1;
	*p += n;
	return 0;
}

int rs_gc_parse_figures(struct rs_gc_figures *out, const char *line)
{
	/* the number starts where " blobs marked, " is preceded by digits */
	for (const char *hit = strstr(line, " blobs marked, "); hit;
	     hit = strstr(hit + 1, " blobs marked, ")) {
		const char *start = hit, *p;
		struct rs_gc_figures f;

		while (start > line && isdigit((unsigned char)start[-1]))
			start--;
		if (start == hit)
			continue;
		p = start;
		if (parse_count(&f.marked, &p) == 0 && expect(&p, " blobs marked, ") == 0 &&
		    parse_count(&f.blobs, &p) == 0 && expect(&p, " blobs and ") == 0 &&
		    parse_count(&f.manifests, &p) == 0 &&
		    expect(&p, " manifests eligible for deletion") == 0) {
			*out = f;
			return 0;
		}
	}
	return RS_ENOTFOUND;
}

void rs_gc_result_init(struct rs_gc_result *result, const char *id)
{
	memset(result, 0, sizeof(*result));
	result->dry_run = (struct rs_gc_figures){-1, -1, -1};
	result->collected = (struct rs_gc_figures){-1, -1, -1};
	result->exit_status = -1;
	result->done_rc = -1;
	result->current = RS_GC_NSTEPS;
	snprintf(result->id, sizeof(result->id), "%s", id);
}

static int step_by_name(const char *name, size_t len)
{
	for (int i = 0; i < RS_GC_NSTEPS; i++)
		if (strlen(step_names[i]) == len && strncmp(step_names[i], name, len) == 0)
			return i;
	return -1;
}

static int parse_rc(const char *text)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > 255)
		return -1;
	return (int)v;
}

static void parse_step_marker(struct rs_gc_result *r, const char *rest)
{
	const char *space = strchr(rest, ' ');
	int step;

	if (!space)
		return;
	step = step_by_name(rest, (size_t)(space - rest));
	if (step < 0)
		return;
	space++;
	if (strcmp(space, "start") == 0) {
		r->steps[step].state = RS_GC_RUNNING;
		r->current = (enum rs_gc_step)step;
	} else if (strcmp(space, "skipped") == 0) {
		r->steps[step].state = RS_GC_SKIPPED;
	} else if (strncmp(space, "rc=", 3) == 0) {
		r->steps[step].state = RS_GC_DONE;
		r->steps[step].rc = parse_rc(space + 3);
		r->current = RS_GC_NSTEPS;
	}
}

/* Where this run's marker starts in `line`, or NULL. */
static const char *find_marker(const struct rs_gc_result *r, const char *line)
{
	size_t idlen = strlen(r->id);

	if (!idlen)
		return NULL;
	for (const char *p = strstr(line, MARK); p; p = strstr(p + 1, MARK))
		if (strncmp(p + sizeof(MARK) - 1, r->id, idlen) == 0 &&
		    p[sizeof(MARK) - 1 + idlen] == ' ')
			return p;
	return NULL;
}

static void parse_output(struct rs_gc_result *r, const char *line)
{
	struct rs_gc_figures f;

	if (r->current != RS_GC_DRY_RUN && r->current != RS_GC_COLLECT)
		return;
	if (rs_gc_parse_figures(&f, line) == 0) {
		if (r->current == RS_GC_DRY_RUN)
			r->dry_run = f;
		else
			r->collected = f;
	}
	if (strstr(line, EMPTY_STORAGE_TEXT))
		r->empty_storage = 1;
}

int rs_gc_parse_line(struct rs_gc_result *r, const char *line)
{
	const char *mark = find_marker(r, line), *rest;

	if (!mark) {
		parse_output(r, line);
		return 0;
	}
	if (mark > line) {
		/* output without its newline, then the marker */
		char *head = strndup(line, (size_t)(mark - line));

		if (head)
			parse_output(r, head);
		free(head);
	}
	rest = mark + sizeof(MARK) + strlen(r->id);
	if (strncmp(rest, "step ", 5) == 0)
		parse_step_marker(r, rest + 5);
	else if (strncmp(rest, "done rc=", 8) == 0) {
		r->done = 1;
		r->done_rc = parse_rc(rest + 8);
	} else if (strncmp(rest, "dir ", 4) == 0)
		snprintf(r->remote_dir, sizeof(r->remote_dir), "%s", rest + 4);
	return 1;
}

enum rs_gc_step rs_gc_failed_step(const struct rs_gc_result *r)
{
	for (int i = 0; i < RS_GC_NSTEPS; i++)
		if (r->steps[i].state == RS_GC_DONE && r->steps[i].rc != 0)
			return (enum rs_gc_step)i;
	return RS_GC_NSTEPS;
}

/* ------------------------------------------------------------------ run */

struct run_state {
	struct rs_gc_result *result;
	const struct rs_gc_options *opts;
};

static int on_line(enum rs_ssh_stream stream, const char *line, size_t len, void *userdata)
{
	struct run_state *st = userdata;
	enum rs_gc_step before = st->result->current;

	(void)stream;
	(void)len;
	if (rs_gc_parse_line(st->result, line)) {
		enum rs_gc_step now = st->result->current;

		if (now != RS_GC_NSTEPS && now != before)
			rs_log(RS_LOG_INFO, "gc: step '%s' started on the host", rs_gc_step_name(now));
		return 0;
	}
	if (st->opts->on_output)
		st->opts->on_output(rs_gc_step_name(st->result->current), line, st->opts->userdata);
	return 0;
}

static int make_id(char *out, size_t outsize)
{
	unsigned char raw[8];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rs_error_set(RS_ERROR, "cannot get random bytes: %s", strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw) && 2 * i + 2 < outsize; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* What the host was doing when regsweep lost the script. */
static const char *running_step(const struct rs_gc_result *r)
{
	if (r->current != RS_GC_NSTEPS)
		return rs_gc_step_name(r->current);
	return "between steps";
}

static int lost_script(const struct rs_gc_result *r, int rc, const char *host)
{
	const char *after = r->steps[RS_GC_AFTER].state == RS_GC_DONE ? "has run" : "will run";

	rs_error_prefix("lost the GC script on '%s' (step: %s); it goes on on the host, and its "
			"after-GC command %s regardless%s%s%s: ", host, running_step(r), after,
			r->remote_dir[0] ? " (log: " : "", r->remote_dir,
			r->remote_dir[0] ? "/log)" : "");
	return rc;
}

static int judge(const struct rs_gc_result *r, const struct rs_gc_options *opts, const char *host)
{
	enum rs_gc_step failed = rs_gc_failed_step(r);
	const struct rs_gc_step_result *after = &r->steps[RS_GC_AFTER];

	if (after->state == RS_GC_DONE && after->rc != 0)
		return rs_error_set(RS_ERROR, "the after-GC command failed on '%s' (exit status %d)%s%s%s: "
				    "the registry may still be read-only or stopped: check it now",
				    host, after->rc, failed != RS_GC_AFTER ? ", and step '" : "",
				    failed != RS_GC_AFTER ? rs_gc_step_name(failed) : "",
				    failed != RS_GC_AFTER ? "' failed before it" : "");
	if (failed == RS_GC_DRY_RUN && r->empty_storage)
		return 0;
	if (failed != RS_GC_NSTEPS)
		return rs_error_set(RS_ERROR, "garbage collection on '%s' failed: step '%s' exited "
				    "with status %d%s", host, rs_gc_step_name(failed),
				    r->steps[failed].rc,
				    opts->dry_run || !is_set(opts->after) ? ""
				    : after->state == RS_GC_DONE ? " (the after-GC command ran and succeeded)"
				    : "");
	if (!r->done)
		return rs_error_set(RS_ERROR, "the GC script on '%s' ended without finishing (exit "
				    "status %d%s%s)", host, r->exit_status,
				    r->exit_signal[0] ? ", signal " : "", r->exit_signal);
	if (r->done_rc != 0 || r->exit_status != 0)
		return rs_error_set(RS_ERROR, "the GC script on '%s' exited with status %d", host,
				    r->exit_status);
	return 0;
}

int rs_gc_run(struct rs_gc_result *out, struct rs_ssh *ssh, const struct rs_gc_options *opts)
{
	struct rs_ssh_exec_options xopts = RS_SSH_EXEC_OPTIONS_INIT;
	struct rs_ssh_exit exit;
	struct rs_buf script = RS_BUF_INIT;
	struct run_state st;
	char id[20];
	int rc;

	rs_gc_result_init(out, "");
	rc = make_id(id, sizeof(id));
	if (rc < 0)
		return rc;
	rs_gc_result_init(out, id);
	out->has_before = !opts->dry_run && is_set(opts->before);
	out->has_after = !opts->dry_run && is_set(opts->after);
	rc = rs_gc_build_script(&script, opts, id);
	if (rc < 0)
		goto done;
	st.result = out;
	st.opts = opts;
	xopts.input = script.ptr;
	xopts.input_len = script.len;
	xopts.timeout_ms = opts->timeout_ms;
	xopts.on_line = on_line;
	xopts.userdata = &st;
	rs_log(RS_LOG_INFO, "gc: running %s on '%s'", opts->dry_run ? "garbage-collect --dry-run"
	       : "the GC script", rs_ssh_describe(ssh));
	rc = rs_ssh_exec(ssh, "sh -s", &xopts, &exit);
	out->exit_status = exit.status;
	snprintf(out->exit_signal, sizeof(out->exit_signal), "%s", exit.signal);
	if (rc < 0) {
		rc = lost_script(out, rc, rs_ssh_describe(ssh));
		goto done;
	}
	rc = judge(out, opts, rs_ssh_describe(ssh));
done:
	rs_buf_release(&script);
	return rc;
}
