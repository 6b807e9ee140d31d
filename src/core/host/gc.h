/* gc.h: garbage collection on the registry host, as one remote shell script.
 *
 * `garbage-collect` frees the blobs that deletes left behind, but it takes
 * no lock: it must run with the registry read-only or stopped, and the
 * registry must be restarted afterwards (its blob-descriptor cache still
 * answers for removed blobs). So a collection is four steps, run on the
 * host by a POSIX sh script:
 *
 *   before      --before-gc CMD (make the registry read-only or stop it)
 *   gc-dry-run  GC_COMMAND --dry-run   (figures first; a bad config stops here)
 *   gc          GC_COMMAND             (skipped when --dry-run)
 *   after       --after-gc CMD (restore read-write, restart), on EVERY way out
 *
 * With dry_run only the gc-dry-run step runs (no before or after: nothing
 * on the host changes). A failed step skips the steps after it except
 * `after`.
 *
 * How the after step survives a dropped connection: the command sent over
 * SSH is `sh -s`, and the script on its stdin is a small launcher. It
 * writes the real script (the runner) into a fresh private directory
 * (mktemp -d under $TMPDIR or /tmp, mode 0700) and starts it with
 * `setsid nohup sh run.sh DIR`, in a new session, stdin from /dev/null,
 * stdout and stderr to DIR/log, so the runner shares nothing with the SSH
 * session: no terminal, no pipe that breaks, no process group or SIGHUP
 * when sshd goes away. The runner traps EXIT (and INT/TERM, after the
 * current step ends) to run the after step exactly once. The launcher only
 * relays DIR/log to the channel until the runner writes DIR/status, then
 * removes DIR and exits with the runner's status. If the connection drops,
 * the launcher dies or, at its next relay that fails, leaves; the runner
 * finishes on its own and DIR/log stays for the record. (A host whose logind kills a session's processes on
 * logout, KillUserProcesses=yes, defeats setsid: use a user with lingering
 * enabled there.)
 *
 * The runner prints markers that regsweep parses, each with a per-run
 * random id so no other output can forge one:
 *   @@regsweep ID step NAME start | @@regsweep ID step NAME rc=N |
 *   @@regsweep ID step NAME skipped | @@regsweep ID done rc=N
 * and the launcher `@@regsweep ID dir PATH`. The figures come from
 * garbage-collect's line "N blobs marked, M blobs and K manifests eligible
 * for deletion".
 *
 * Recipes (before / gc_command / after), each run by the remote user:
 *  - Debian's docker-registry package (systemd), read-only while collecting,
 *    through a runtime drop-in that a reboot also removes:
 *      before: D=/run/systemd/system/docker-registry.service.d; sudo mkdir -p $D &&
 *              printf '[Service]\nEnvironment=REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}\n'
 *              | sudo tee $D/regsweep.conf >/dev/null && sudo systemctl daemon-reload &&
 *              sudo systemctl restart docker-registry
 *      gc:     sudo docker-registry garbage-collect /etc/docker/registry/config.yml
 *      after:  sudo rm -f /run/systemd/system/docker-registry.service.d/regsweep.conf;
 *              sudo systemctl daemon-reload && sudo systemctl restart docker-registry
 *    (or simply `sudo systemctl stop docker-registry` / `start`: no pulls meanwhile)
 *  - a `docker run` container named registry (stopped while collecting):
 *      before: docker stop registry
 *      gc:     docker run --rm --volumes-from registry registry:2 garbage-collect
 *              /etc/docker/registry/config.yml
 *      after:  docker start registry
 *  - docker compose, read-only while collecting, with the service's
 *    environment holding REGISTRY_STORAGE_MAINTENANCE_READONLY:
 *    ${REGISTRY_READONLY:-{"enabled":false}}:
 *      before: cd /srv/registry && REGISTRY_READONLY='{"enabled":true}' docker compose up -d registry
 *      gc:     cd /srv/registry && docker compose exec -T registry registry garbage-collect
 *              /etc/docker/registry/config.yml
 *      after:  cd /srv/registry && docker compose up -d --force-recreate registry
 *  Never REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED=true: 2.8 panics at start.
 *
 * No injection: nothing read from the registry (repository names, tags,
 * digests) is ever part of the script. The configured commands (before,
 * after, gc_command) are the user's own and are passed as given, each run
 * by the remote user's shell as `$SHELL -c CMD` (sh when SHELL is unset),
 * with stdin from /dev/null; regsweep appends " --dry-run" and, only when
 * asked, " --delete-untagged" to gc_command.
 */
#ifndef RS_GC_H
#define RS_GC_H

#include "base/buf.h"

#include <stdint.h>

struct rs_ssh;

enum rs_gc_step {
	RS_GC_BEFORE = 0,
	RS_GC_DRY_RUN,
	RS_GC_COLLECT,
	RS_GC_AFTER,
	RS_GC_NSTEPS
};

enum rs_gc_step_state {
	RS_GC_NOT_RUN = 0,     /* not reached, or not configured */
	RS_GC_RUNNING,         /* started, no end seen (the connection dropped?) */
	RS_GC_DONE,            /* ended; rc holds its exit status */
	RS_GC_SKIPPED          /* skipped because an earlier step failed */
};

struct rs_gc_figures {
	int64_t marked;        /* blobs marked (in use); -1 unknown */
	int64_t blobs;         /* blobs eligible for deletion; -1 unknown */
	int64_t manifests;     /* manifests eligible for deletion; -1 unknown */
};

struct rs_gc_step_result {
	enum rs_gc_step_state state;
	int rc;
};

struct rs_gc_result {
	struct rs_gc_step_result steps[RS_GC_NSTEPS];
	struct rs_gc_figures dry_run;      /* from the gc-dry-run step */
	struct rs_gc_figures collected;    /* from the gc step */
	int exit_status;                   /* the remote script's, -1 unknown */
	char exit_signal[32];              /* "" unless it was killed by one */
	int done;                          /* saw the runner's final marker */
	int done_rc;                       /* its status (-1 before) */
	int empty_storage;                 /* GC found no repositories at all */
	char remote_dir[512];              /* the runner's directory on the host, "" unknown */
	int has_before;                    /* a before-GC command was configured (and not --dry-run) */
	int has_after;                     /* an after-GC command was configured (and not --dry-run) */
	/* parser state */
	enum rs_gc_step current;           /* step whose output is arriving, RS_GC_NSTEPS: none */
	char id[40];
};

/* Output of the remote script that is not a marker, with the step it
 * belongs to ("" outside any step). */
typedef void (*rs_gc_output_fn)(const char *step, const char *line, void *userdata);

struct rs_gc_options {
	const char *before;        /* NULL or "": none */
	const char *gc_command;    /* required */
	const char *after;         /* NULL or "": none; required when before is set */
	int dry_run;               /* run only the gc-dry-run step */
	int delete_untagged;       /* append --delete-untagged (see rs_collect_check_delete_untagged in job/collect.h) */
	long timeout_ms;           /* for the whole script, 0: none */
	rs_gc_output_fn on_output; /* may be NULL */
	void *userdata;
};

#define RS_GC_OPTIONS_INIT { NULL, NULL, NULL, 0, 0, 0, NULL, NULL }

/* Name of a step as in the markers ("before", "gc-dry-run", "gc", "after"). */
const char *rs_gc_step_name(enum rs_gc_step step);

/* Check the options: gc_command set; a before command needs an after
 * command (or the registry would stay read-only or down). RS_EUSAGE. */
int rs_gc_validate(const struct rs_gc_options *opts);

/* Build the launcher script for run id `id` (letters and digits) into
 * `out` (appended). Pure: no I/O. */
int rs_gc_build_script(struct rs_buf *out, const struct rs_gc_options *opts, const char *id);

/* Find "N blobs marked, M blobs and K manifests eligible for deletion" in
 * `line`: 0 with *out filled, or RS_ENOTFOUND (no message set). */
int rs_gc_parse_figures(struct rs_gc_figures *out, const char *line);

/* Start parsing the output of run `id`. */
void rs_gc_result_init(struct rs_gc_result *result, const char *id);

/* Feed one line of output. Returns 1 when it was a marker of this run
 * (consumed), 0 for ordinary output (figures are picked up from it). */
int rs_gc_parse_line(struct rs_gc_result *result, const char *line);

/* The first step that failed (ran and exited non-zero), RS_GC_NSTEPS if none. */
enum rs_gc_step rs_gc_failed_step(const struct rs_gc_result *result);

/* Run the collection on the host behind `ssh`. `out` is filled in every
 * case, as far as the run got. Returns 0 when every step that ran
 * succeeded (an empty storage counts as success); RS_ERROR naming the
 * failed step; RS_ENET / RS_ETIMEOUT / RS_ECANCELLED when regsweep lost the
 * script (which then goes on and runs the after step on the host). */
int rs_gc_run(struct rs_gc_result *out, struct rs_ssh *ssh, const struct rs_gc_options *opts);

#endif
