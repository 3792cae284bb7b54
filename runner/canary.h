/* canary.h — is this GPU healthy, as seen from this process?
 *
 * A fresh context on the device, a small kernel whose every output word is known, a copy back and a
 * check of every word. Run after a candidate that timed out, died by a signal or hit a sticky CUDA
 * error, before the next candidate may use the GPU; and once per GPU at daemon start, inside the
 * sandbox, so a sandbox that hides the GPU is found before any candidate is blamed for it. */
#ifndef KGRADE_CANARY_H
#define KGRADE_CANARY_H

#include <stddef.h>

#include "err.h"

struct canary_result {
    char device[128];
    int arch;
    double ms;                  /* context + compile + launch + check */
    size_t mem_free, mem_total; /* device memory as the driver reports it after the check */
};

/* 0 when the kernel ran and every word was right. ERR_UNSUPPORTED: no driver or no such device.
 * ERR_CUDA: a driver call failed (message names it). ERR_INTERNAL: the kernel ran but wrote wrong
 * words (message: how many and the first). */
int canary_run(int ordinal, struct canary_result *r, struct err *e);

#endif
