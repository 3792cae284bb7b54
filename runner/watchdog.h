/* watchdog.h — the worker's own deadlines.
 *
 * A thread sleeps until the armed deadline. When it passes, the handler runs on the watchdog
 * thread with a description of what was running (e.g. "correctness trial 1, launch 2 (line 14,
 * kernel conv)"); the handler writes the timeout record and must end the process with _exit:
 * a kernel that never finishes cannot be stopped otherwise, and process exit frees its context.
 * The main thread never races the handler: watchdog_stop() after the handler has started blocks
 * forever, so exactly one result is written. */
#ifndef KGRADE_WATCHDOG_H
#define KGRADE_WATCHDOG_H

#include "err.h"

typedef void (*watchdog_fn)(void *ctx, const char *what, double limit_ms);

/* Start the thread; nothing is armed yet. */
int watchdog_start(watchdog_fn fn, void *ctx, struct err *e);

/* Arm a deadline ms from now for the step described by what (copied); replaces the previous one. */
void watchdog_arm(double ms, const char *what);

/* No deadline until the next arm. */
void watchdog_disarm(void);

/* Disarm and join the thread; a no-op when not started. */
void watchdog_stop(void);

#endif
