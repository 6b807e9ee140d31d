/* cancel.h: stopping a run cleanly: an interrupt flag that a signal handler
 * sets, and a deadline for the whole run (--deadline), which every loop
 * (HTTP, apply, restore) checks before it starts something new, so that
 * what is in flight finishes and nothing is left half done.
 *
 * The two differ only in why and in what the CLI makes of them: an
 * interrupt is a failure (exit 1), a deadline that passed leaves a run done
 * in part (exit 3). Code that must not abandon work in flight for either
 * (the SSH session running GC, whose after-GC command must run) checks
 * rs_interrupted() only.
 */
#ifndef RS_CANCEL_H
#define RS_CANCEL_H

#include <stdint.h>

/* Ask every running loop to stop starting new work. Async-signal-safe:
 * meant for a SIGINT/SIGTERM handler. */
void rs_interrupt(void);

/* Has rs_interrupt() been called (since the last reset)? */
int rs_interrupted(void);

/* Forget an interrupt (tests, and a run that goes on after one). */
void rs_interrupt_reset(void);

/* Set the run's deadline `seconds` from now (`seconds` > 0), on the
 * monotonic clock; 0 or less clears it. `what` names it in messages (the
 * option as the user gave it, e.g. "--deadline 30m"); copied. */
void rs_deadline_set(int64_t seconds, const char *what);

/* Set the deadline as a monotonic time in milliseconds (tests); 0 clears. */
void rs_deadline_set_ms(int64_t monotonic_ms, const char *what);

/* Has the deadline passed? 0 when none is set. */
int rs_deadline_passed(void);

/* Milliseconds left before the deadline: -1 when none is set, 0 when it
 * has passed. */
int64_t rs_deadline_left_ms(void);

/* Stop starting new work: interrupted, or past the deadline. */
int rs_stopping(void);

/* Why rs_stopping() is true, for messages: "interrupted" or "the deadline
 * (--deadline 30m) passed"; "" when it is not. */
const char *rs_stop_reason(void);

#endif
