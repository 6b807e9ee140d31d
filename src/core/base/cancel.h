/* cancel.h: stopping a run cleanly: an interrupt flag that a signal handler
 * sets and every loop (HTTP, SSH, storage reads) checks before it starts
 * something new, so that what is in flight finishes and nothing is left
 * half done. */
#ifndef RS_CANCEL_H
#define RS_CANCEL_H

/* Ask every running loop to stop starting new work. Async-signal-safe:
 * meant for a SIGINT/SIGTERM handler. */
void rs_interrupt(void);

/* Has rs_interrupt() been called (since the last reset)? */
int rs_interrupted(void);

/* Forget an interrupt (tests, and a run that goes on after one). */
void rs_interrupt_reset(void);

#endif
