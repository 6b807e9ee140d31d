/* progress.c: the scan's progress line (counts and request rate). */
#include "progress.h"

#include <stdio.h>
#include <time.h>

struct progress_state {
	int tty;
	int open;            /* a line is being rewritten */
	double started;
	double last;
};

static struct progress_state state;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_progress_wanted(const struct cli_ctx *ctx)
{
	if (ctx->settings.quiet)
		return 0;
	return ctx->stderr_tty || ctx->settings.progress;
}

static void on_progress(const struct rs_scan_progress *p, void *userdata)
{
	struct progress_state *st = userdata;
	double t = now_s(), elapsed;
	int final = p->stage && p->stage[0] == 'd';   /* "done" */

	if (!final && t - st->last < (st->tty ? 0.2 : 5.0))
		return;
	st->last = t;
	elapsed = t - st->started;
	fprintf(stderr, "%sscan: %llu repositories, %llu tags, %llu manifests, %llu configs, "
		"%llu requests (%.0f/s)%s%s",
		st->tty ? "\r\033[K" : "",
		(unsigned long long)p->repos, (unsigned long long)p->tags,
		(unsigned long long)p->manifests, (unsigned long long)p->configs,
		(unsigned long long)p->requests, elapsed > 0 ? (double)p->requests / elapsed : 0.0,
		p->errors ? ", errors" : "", st->tty && !final ? "" : "\n");
	st->open = st->tty && !final;
	fflush(stderr);
}

void cli_progress_attach(struct cli_ctx *ctx, struct rs_scan_options *opts)
{
	if (!cli_progress_wanted(ctx))
		return;
	state.tty = ctx->stderr_tty;
	state.started = now_s();
	state.last = 0;
	opts->progress = on_progress;
	opts->progress_userdata = &state;
}

void cli_progress_done(struct cli_ctx *ctx)
{
	(void)ctx;
	if (state.open) {
		fputc('\n', stderr);
		state.open = 0;
	}
}
