/* cancel.c: the interrupt flag and the run's deadline (see cancel.h). */
#include "base/cancel.h"

#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t interrupted;
static int64_t deadline_ms;        /* monotonic; 0: none */
static char deadline_reason[128];

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rs_interrupt(void)
{
	interrupted = 1;
}

int rs_interrupted(void)
{
	return interrupted != 0;
}

void rs_interrupt_reset(void)
{
	interrupted = 0;
}

void rs_deadline_set_ms(int64_t at_ms, const char *what)
{
	deadline_ms = at_ms > 0 ? at_ms : 0;
	snprintf(deadline_reason, sizeof(deadline_reason), "the deadline (%s) passed",
		 what && *what ? what : "--deadline");
}

void rs_deadline_set(int64_t seconds, const char *what)
{
	rs_deadline_set_ms(seconds > 0 ? monotonic_ms() + seconds * 1000 : 0, what);
}

int rs_deadline_passed(void)
{
	return deadline_ms > 0 && monotonic_ms() >= deadline_ms;
}

int64_t rs_deadline_left_ms(void)
{
	int64_t left;

	if (deadline_ms <= 0)
		return -1;
	left = deadline_ms - monotonic_ms();
	return left > 0 ? left : 0;
}

int rs_stopping(void)
{
	return rs_interrupted() || rs_deadline_passed();
}

const char *rs_stop_reason(void)
{
	if (rs_interrupted())
		return "interrupted";
	if (rs_deadline_passed())
		return deadline_reason;
	return "";
}
