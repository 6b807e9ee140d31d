/* test_gc.c: the GC script and its parser. The figures and markers are
 * parsed from real garbage-collect output; the script itself is run here
 * with the local sh (as the host's `sh -s` would), so the order of steps,
 * the quoting of configured commands and the after-GC step surviving a
 * killed launcher are tested without SSH. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/shell.h"
#include "host/gc.h"
#include "job/collect.h"
#include "model/inventory.h"

#define ID "t35t1d"

/* ------------------------------------------------------------- figures */

Test(gc_figures, summary_line)
{
	struct rs_gc_figures f;

	cr_assert_eq(rs_gc_parse_figures(&f, "12 blobs marked, 8 blobs and 3 manifests eligible "
					 "for deletion"), 0);
	cr_assert_eq(f.marked, 12);
	cr_assert_eq(f.blobs, 8);
	cr_assert_eq(f.manifests, 3);
	cr_assert_eq(rs_gc_parse_figures(&f, "0 blobs marked, 0 blobs and 0 manifests eligible "
					 "for deletion"), 0);
	cr_assert_eq(f.marked + f.blobs + f.manifests, 0);
}

Test(gc_figures, inside_a_log_line)
{
	struct rs_gc_figures f;

	cr_assert_eq(rs_gc_parse_figures(&f, "time=\"2024-05-01T10:00:00Z\" msg=\"1234567 blobs "
					 "marked, 99 blobs and 0 manifests eligible for deletion\""), 0);
	cr_assert_eq(f.marked, 1234567);
	cr_assert_eq(f.blobs, 99);
	cr_assert_eq(f.manifests, 0);
	/* a false start before the real one */
	cr_assert_eq(rs_gc_parse_figures(&f, "x blobs marked, 5 blobs marked, 1 blobs and 2 "
					 "manifests eligible for deletion"), 0);
	cr_assert_eq(f.marked, 5);
}

Test(gc_figures, not_figures)
{
	static const char *const lines[] = {
		"", "app: marking manifest sha256:abc", "blob eligible for deletion: sha256:abc",
		"blobs marked, 1 blobs and 2 manifests eligible for deletion",
		"3 blobs marked, 1 blobs and manifests eligible for deletion",
		"3 blobs marked, 1 blobs and 2 manifests",
		"99999999999999999999 blobs marked, 1 blobs and 2 manifests eligible for deletion",
	};
	struct rs_gc_figures f;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert_eq(rs_gc_parse_figures(&f, lines[i]), RS_ENOTFOUND, "'%s'", lines[i]);
}

/* -------------------------------------------------------------- parser */

Test(gc_parse, markers_and_figures_per_step)
{
	struct rs_gc_result r;

	rs_gc_result_init(&r, ID);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " dir /tmp/regsweep-gc.abc"), 1);
	cr_assert_str_eq(r.remote_dir, "/tmp/regsweep-gc.abc");
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step before start"), 1);
	cr_assert_eq(r.steps[RS_GC_BEFORE].state, RS_GC_RUNNING);
	cr_assert_eq(rs_gc_parse_line(&r, "stopping the registry"), 0);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step before rc=0"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step gc-dry-run start"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "app: marking manifest sha256:aa"), 0);
	cr_assert_eq(rs_gc_parse_line(&r, "5 blobs marked, 3 blobs and 0 manifests eligible for "
				      "deletion"), 0);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step gc-dry-run rc=0"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step gc start"), 1);
	/* the registry's last line may lack its newline: the marker is glued on */
	cr_assert_eq(rs_gc_parse_line(&r, "5 blobs marked, 2 blobs and 0 manifests eligible for "
				      "deletion@@regsweep " ID " step gc rc=1"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step after start"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "9 blobs marked, 9 blobs and 9 manifests eligible for "
				      "deletion"), 0, "figures outside GC steps are ignored");
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step after rc=0"), 1);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " done rc=1"), 1);

	cr_assert_eq(r.dry_run.marked, 5);
	cr_assert_eq(r.dry_run.blobs, 3);
	cr_assert_eq(r.collected.blobs, 2);
	cr_assert_eq(r.steps[RS_GC_COLLECT].state, RS_GC_DONE);
	cr_assert_eq(r.steps[RS_GC_COLLECT].rc, 1);
	cr_assert_eq(r.steps[RS_GC_AFTER].rc, 0);
	cr_assert_eq(r.done, 1);
	cr_assert_eq(r.done_rc, 1);
	cr_assert_eq(rs_gc_failed_step(&r), RS_GC_COLLECT);
}

Test(gc_parse, foreign_markers_are_output)
{
	struct rs_gc_result r;

	rs_gc_result_init(&r, ID);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep other step gc rc=0"), 0);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID "x step gc rc=0"), 0);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " done rc=0"), 1);
	cr_assert_eq(r.steps[RS_GC_COLLECT].state, RS_GC_NOT_RUN);
	cr_assert_eq(rs_gc_parse_line(&r, "@@regsweep " ID " step nosuch rc=0"), 1);
	cr_assert_eq(rs_gc_failed_step(&r), RS_GC_NSTEPS);
}

Test(gc_parse, empty_storage)
{
	struct rs_gc_result r;

	rs_gc_result_init(&r, ID);
	rs_gc_parse_line(&r, "@@regsweep " ID " step gc-dry-run start");
	rs_gc_parse_line(&r, "failed to garbage collect: failed to mark: filesystem: Path not "
			 "found: /docker/registry/v2/repositories@@regsweep " ID " step gc-dry-run rc=1");
	cr_assert_eq(r.empty_storage, 1);
	cr_assert_eq(r.steps[RS_GC_DRY_RUN].rc, 1);
}

/* -------------------------------------------------------------- script */

Test(gc_script, validate)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;

	cr_assert_eq(rs_gc_validate(&o), RS_EUSAGE, "a GC command is needed");
	o.gc_command = "registry garbage-collect /etc/docker/registry/config.yml";
	cr_assert_eq(rs_gc_validate(&o), 0);
	o.before = "systemctl stop docker-registry";
	cr_assert_eq(rs_gc_validate(&o), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "--before-gc without --after-gc"));
	o.dry_run = 1;
	cr_assert_eq(rs_gc_validate(&o), 0, "a dry run runs neither");
	o.dry_run = 0;
	o.after = "systemctl start docker-registry";
	cr_assert_eq(rs_gc_validate(&o), 0);
}

Test(gc_script, quoting)
{
	struct rs_buf b = RS_BUF_INIT;

	cr_assert_eq(rs_shell_quote(&b, "it's $HOME `x` \"q\" \\"), 0);
	cr_assert_str_eq(rs_buf_cstr(&b), "'it'\\''s $HOME `x` \"q\" \\'");
	rs_buf_release(&b);
}

Test(gc_script, commands_flags_and_ids)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_buf b = RS_BUF_INIT;

	o.gc_command = "docker exec reg registry garbage-collect /etc/docker/registry/config.yml";
	o.before = "docker stop reg";
	o.after = "docker start reg";
	cr_assert_eq(rs_gc_build_script(&b, &o, ID), 0);
	cr_assert(strstr(b.ptr, "rs_gc='docker exec reg registry garbage-collect "
			 "/etc/docker/registry/config.yml'\n"));
	cr_assert(strstr(b.ptr, "rs_before='docker stop reg'\n"));
	cr_assert(strstr(b.ptr, "rs_after='docker start reg'\n"));
	cr_assert(strstr(b.ptr, "rs_flags=''\n"), "--delete-untagged only when asked");
	cr_assert(strstr(b.ptr, "rs_dry_only=0\n"));
	cr_assert(strstr(b.ptr, "rs_id=" ID "\n"));
	cr_assert(strstr(b.ptr, "<<'REGSWEEP_RUNNER_" ID "'\n"));
	cr_assert(strstr(b.ptr, "\nREGSWEEP_RUNNER_" ID "\n"));
	cr_assert(strstr(b.ptr, "setsid"));
	cr_assert(strstr(b.ptr, "nohup"));
	cr_assert(strstr(b.ptr, "trap rs_finish EXIT"));
	cr_assert_null(strstr(b.ptr, "@ID@"));
	cr_assert_null(strstr(b.ptr, "@DELIM@"));
	rs_buf_reset(&b);

	o.delete_untagged = 1;
	o.dry_run = 1;
	cr_assert_eq(rs_gc_build_script(&b, &o, ID), 0);
	cr_assert(strstr(b.ptr, "rs_flags=' --delete-untagged'\n"));
	cr_assert(strstr(b.ptr, "rs_dry_only=1\n"));
	cr_assert(strstr(b.ptr, "rs_before=''\n"), "a dry run changes nothing on the host");
	cr_assert(strstr(b.ptr, "rs_after=''\n"));
	rs_buf_reset(&b);

	cr_assert_eq(rs_gc_build_script(&b, &o, "bad id"), RS_ERROR);
	o.dry_run = 0;
	o.after = "echo x\nREGSWEEP_RUNNER_" ID "\necho y";
	cr_assert_eq(rs_gc_build_script(&b, &o, ID), RS_EUSAGE);
	rs_buf_release(&b);
}

/* Add a manifest of `type` to `repo`. */
static void add_manifest(struct rs_repo *repo, const char *digest, enum rs_media_type type)
{
	struct rs_manifest *m = NULL;

	cr_assert_eq(rs_manifest_new(&m, digest), 0);
	m->type = type;
	cr_assert_eq(rs_repo_add_manifest(repo, m), 0);
}

Test(gc_script, delete_untagged_refused_with_an_index)
{
	struct rs_inventory *inv = NULL;
	struct rs_repo *a, *b;

	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	cr_assert_eq(rs_inventory_add_repo(&a, inv, "plain"), 0);
	add_manifest(a, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		     RS_MT_DOCKER_MANIFEST);
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 2), 0);
	cr_assert_eq(rs_inventory_add_repo(&b, inv, "multi"), 0);
	add_manifest(b, "sha256:2222222222222222222222222222222222222222222222222222222222222222",
		     RS_MT_OCI_INDEX);
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 2), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "'multi' holds the multi-arch index"));
	cr_assert(strstr(rs_error_message(), "deletes the children of tagged indexes"));
	b->manifests[0]->type = RS_MT_OCI_MANIFEST;
	a->failed = 1;
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 2), RS_EUSAGE, "an incomplete scan proves nothing");
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 0), RS_EUSAGE, "an unknown version is 2.x");
	rs_inventory_free(inv);
}

Test(gc_script, delete_untagged_on_3x_refused_for_an_untagged_referrer_of_a_kept_image)
{
	static const char *const image =
		"sha256:1111111111111111111111111111111111111111111111111111111111111111";
	static const char *const ref =
		"sha256:3333333333333333333333333333333333333333333333333333333333333333";
	struct rs_inventory *inv = NULL;
	struct rs_repo *a;

	cr_assert_eq(rs_inventory_new(&inv, "http://r"), 0);
	cr_assert_eq(rs_inventory_add_repo(&a, inv, "app"), 0);
	add_manifest(a, image, RS_MT_OCI_MANIFEST);
	add_manifest(a, "sha256:2222222222222222222222222222222222222222222222222222222222222222",
		     RS_MT_OCI_INDEX);
	cr_assert_eq(rs_repo_add_tag(NULL, a, "v1", image), 0);
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 3), RS_EUSAGE,
		     "without the storage view untagged referrers cannot be ruled out");
	cr_assert(strstr(rs_error_message(), "only the storage view lists them"), "%s",
		  rs_error_message());
	inv->from_storage = 1;
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 3), 0, "3.x keeps an index's children");
	add_manifest(a, ref, RS_MT_OCI_MANIFEST);
	cr_assert_eq(rs_manifest_set_subject(a->manifests[2], image), 0);
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 3), RS_EUSAGE);
	cr_assert(strstr(rs_error_message(), "holds the untagged referrer"), "%s", rs_error_message());
	cr_assert(strstr(rs_error_message(), ref), "%s", rs_error_message());
	cr_assert_eq(rs_repo_add_tag(NULL, a, "sbom", ref), 0);
	cr_assert_eq(rs_collect_check_delete_untagged(inv, 3), 0, "a tagged referrer is marked by GC");
	rs_inventory_free(inv);
}

/* ------------------------------------------------- the script, run here */

static char tmp[64];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_gc.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

struct local_run {
	pid_t pid;
	FILE *out;
};

/* Start `sh -s` reading the script for `opts`, with TMPDIR in our temporary
 * directory, as sshd would start the command. */
static void start_script(struct local_run *lr, const struct rs_gc_options *opts)
{
	struct rs_buf script = RS_BUF_INIT;
	int in[2], out[2];
	size_t off = 0;

	cr_assert_eq(rs_gc_build_script(&script, opts, ID), 0, "%s", rs_error_message());
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	lr->pid = fork();
	cr_assert_geq(lr->pid, 0);
	if (lr->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		setenv("TMPDIR", tmp, 1);
		setenv("SHELL", "/bin/sh", 1);
		execl("/bin/sh", "sh", "-s", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	while (off < script.len) {
		ssize_t n = write(in[1], script.ptr + off, script.len - off);

		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	close(in[1]);
	rs_buf_release(&script);
	lr->out = fdopen(out[0], "r");
	cr_assert_not_null(lr->out);
}

/* Read lines into the parser (and `text`) until `until` was parsed as a
 * marker or output ends; returns 1 if the marker was seen. */
static int read_until(struct local_run *lr, struct rs_gc_result *r, struct rs_buf *text,
		      const char *until)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int seen = 0;

	while (!seen && (n = getline(&line, &cap, lr->out)) >= 0) {
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		rs_gc_parse_line(r, line);
		rs_buf_printf(text, "%s\n", line);
		if (until && strstr(line, until))
			seen = 1;
	}
	free(line);
	return seen;
}

/* Run to the end; returns the launcher's exit status. */
static int finish(struct local_run *lr, struct rs_gc_result *r, struct rs_buf *text)
{
	int status = 0;

	read_until(lr, r, text, NULL);
	fclose(lr->out);
	cr_assert_eq(waitpid(lr->pid, &status, 0), lr->pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static char *path_in_tmp(const char *name)
{
	static char paths[8][128];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 128, "%s/%s", tmp, name);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *read_text(const char *path)
{
	static char text[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

/* Only our temporary directory's own files should be left. */
static int runner_dirs_left(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "ls -d '%s'/regsweep-gc.* >/dev/null 2>&1", tmp);
	return system(cmd) == 0;
}

TestSuite(gc_local, .init = make_tmp, .fini = remove_tmp, .timeout = 60);

Test(gc_local, steps_in_order)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;
	const char *order;

	/* sh -c '...' gc: the flags regsweep appends arrive as "$@" */
	o.gc_command = "sh -c 'echo \"gc $*\" >>order; printf \"7 blobs marked, 2 blobs and 1 "
		       "manifests eligible for deletion\"' gc";
	o.before = "echo before >>order";
	o.after = "echo after >>order";
	rs_gc_result_init(&r, ID);
	cr_assert_eq(chdir(tmp), 0);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 0, "%s", rs_buf_cstr(&text));
	order = read_text(path_in_tmp("order"));
	cr_assert_str_eq(order, "before\ngc --dry-run\ngc \nafter\n");
	cr_assert_eq(r.steps[RS_GC_BEFORE].state, RS_GC_DONE);
	cr_assert_eq(r.steps[RS_GC_AFTER].state, RS_GC_DONE);
	cr_assert_eq(r.dry_run.marked, 7, "a last line without newline still counts");
	cr_assert_eq(r.collected.manifests, 1);
	cr_assert_eq(r.done, 1);
	cr_assert_eq(r.done_rc, 0);
	cr_assert_neq(r.remote_dir[0], '\0');
	cr_assert(!runner_dirs_left(), "a finished run removes its directory");
	rs_buf_release(&text);
}

Test(gc_local, failing_gc_still_runs_after)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;

	cr_assert_eq(chdir(tmp), 0);
	o.gc_command = "sh -c 'case \"$1\" in --dry-run) exit 0;; *) echo boom; exit 3;; esac' gc";
	o.before = "echo before >>order";
	o.after = "echo after >>order";
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 3, "%s", rs_buf_cstr(&text));
	cr_assert_str_eq(read_text(path_in_tmp("order")), "before\nafter\n");
	cr_assert_eq(rs_gc_failed_step(&r), RS_GC_COLLECT);
	cr_assert_eq(r.steps[RS_GC_COLLECT].rc, 3);
	cr_assert_eq(r.steps[RS_GC_AFTER].rc, 0);
	cr_assert(strstr(rs_buf_cstr(&text), "boom\n"));
	rs_buf_release(&text);
}

Test(gc_local, failing_before_skips_gc_but_not_after)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;

	cr_assert_eq(chdir(tmp), 0);
	o.gc_command = "echo gc >>order";
	o.before = "exit 4";
	o.after = "echo after >>order";
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 4);
	cr_assert_str_eq(read_text(path_in_tmp("order")), "after\n");
	cr_assert_eq(rs_gc_failed_step(&r), RS_GC_BEFORE);
	cr_assert_eq(r.steps[RS_GC_DRY_RUN].state, RS_GC_SKIPPED);
	cr_assert_eq(r.steps[RS_GC_COLLECT].state, RS_GC_SKIPPED);
	rs_buf_release(&text);
}

Test(gc_local, failing_after_fails_the_run)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;

	cr_assert_eq(chdir(tmp), 0);
	o.gc_command = "true";
	o.before = "true";
	o.after = "exit 6";
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 6);
	cr_assert_eq(rs_gc_failed_step(&r), RS_GC_AFTER);
	rs_buf_release(&text);
}

Test(gc_local, dry_run_runs_only_the_dry_run)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;

	cr_assert_eq(chdir(tmp), 0);
	o.gc_command = "sh -c 'echo \"gc $*\" >>order' gc";
	o.before = "echo before >>order";
	o.after = "echo after >>order";
	o.dry_run = 1;
	o.delete_untagged = 1;
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 0);
	cr_assert_str_eq(read_text(path_in_tmp("order")), "gc --dry-run --delete-untagged\n");
	cr_assert_eq(r.steps[RS_GC_BEFORE].state, RS_GC_NOT_RUN);
	cr_assert_eq(r.steps[RS_GC_COLLECT].state, RS_GC_NOT_RUN);
	rs_buf_release(&text);
}

Test(gc_local, commands_reach_the_shell_unchanged)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;

	cr_assert_eq(chdir(tmp), 0);
	o.gc_command = "true";
	o.before = "printf '%s|' \"it's\" '$HOME' \"a\\\"b\" >quoted; printf '%s\\n' `echo x` >>quoted";
	o.after = "true";
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);
	cr_assert_eq(finish(&lr, &r, &text), 0, "%s", rs_buf_cstr(&text));
	cr_assert_str_eq(read_text(path_in_tmp("quoted")), "it's|$HOME|a\"b|x\n");
	rs_buf_release(&text);
}

static int open_fifo(const char *path, int flags)
{
	int fd;

	do
		fd = open(path, flags);
	while (fd < 0 && errno == EINTR);
	cr_assert_geq(fd, 0, "open '%s': %s", path, strerror(errno));
	return fd;
}

/* Wait for process `pid` (not our child) to end, without polling. */
static void wait_gone(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd;

	if (fd < 0 && errno == ENOSYS) {
		/* kernels before 5.3: watch it go, bounded to 30 s */
		struct timespec tick = {0, 10 * 1000 * 1000};

		for (int i = 0; i < 3000 && kill(pid, 0) == 0; i++)
			nanosleep(&tick, NULL);
		cr_assert_neq(kill(pid, 0), 0, "the runner did not end");
		return;
	}
	if (fd < 0) {
		cr_assert_eq(errno, ESRCH, "pidfd_open: %s", strerror(errno));
		return;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "the runner did not end");
	close(fd);
}

Test(gc_local, after_runs_when_the_launcher_dies)
{
	struct rs_gc_options o = RS_GC_OPTIONS_INIT;
	struct rs_gc_result r;
	struct rs_buf text = RS_BUF_INIT;
	struct local_run lr;
	char gc[600], after[300], buf[64], *pid_text, pidfile[700];
	int fd, status;
	ssize_t n;

	cr_assert_eq(chdir(tmp), 0);
	cr_assert_eq(mkfifo("reached", 0600), 0);
	cr_assert_eq(mkfifo("gate", 0600), 0);
	cr_assert_eq(mkfifo("after", 0600), 0);
	write_text(path_in_tmp("gc.sh"),
		   "case \"$1\" in --dry-run) exit 0;; esac\n"
		   "echo reached >reached\n"
		   "read x <gate\n"
		   "echo '4 blobs marked, 1 blobs and 0 manifests eligible for deletion'\n");
	snprintf(gc, sizeof(gc), "cd '%s' && sh gc.sh", tmp);
	snprintf(after, sizeof(after), "cd '%s' && echo after-ran >after", tmp);
	o.gc_command = gc;
	o.before = "true";
	o.after = after;
	rs_gc_result_init(&r, ID);
	start_script(&lr, &o);

	/* GC is running and blocked on the gate: kill the launcher, as a
	 * dropped connection would */
	fd = open_fifo("reached", O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	close(fd);
	cr_assert(read_until(&lr, &r, &text, "step gc start"), "%s", rs_buf_cstr(&text));
	cr_assert_neq(r.remote_dir[0], '\0');
	snprintf(pidfile, sizeof(pidfile), "%s/pid", r.remote_dir);
	pid_text = read_text(pidfile);
	cr_assert_not_null(pid_text);
	cr_assert_eq(kill(lr.pid, SIGKILL), 0);
	fclose(lr.out);
	cr_assert_eq(waitpid(lr.pid, &status, 0), lr.pid);
	cr_assert(WIFSIGNALED(status));

	/* let GC finish: the after-GC command must still run */
	fd = open_fifo("gate", O_WRONLY);
	cr_assert_eq(write(fd, "go\n", 3), 3);
	close(fd);
	fd = open_fifo("after", O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "after-ran\n");
	wait_gone((pid_t)atoi(pid_text));
	/* the runner's log stays for the record */
	snprintf(pidfile, sizeof(pidfile), "%s/log", r.remote_dir);
	cr_assert(strstr(read_text(pidfile), "@@regsweep " ID " step after rc=0"));
	cr_assert(strstr(read_text(pidfile), "@@regsweep " ID " done rc=0"));
	rs_buf_release(&text);
}
