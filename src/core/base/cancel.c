/* cancel.c: the interrupt flag (see cancel.h). */
#include "base/cancel.h"

#include <signal.h>

static volatile sig_atomic_t interrupted;

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
