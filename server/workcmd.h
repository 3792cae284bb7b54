/* workcmd.h — the command line of one worker run for a claimed job, and what its sandbox needs
 * that depends on the candidate's language (docs/daemon.md, "The scheduler").
 *
 *   CUDA, CPU lane    kgrade-worker compile --arch sm_NN --problem P --cache C --candidate-cache D
 *                     --record-fd 3 [--seal] --compact -
 *   CUDA, GPU lane    kgrade-worker eval --device N <options> --problem P --cache C
 *                     --candidate-cache D --record-fd 3 [--seal] --compact --source -
 *                     (<options> ends with --metrics a,b,c or --metrics none when the request's
 *                     options.metrics is a list; without it, null: the worker's default list)
 *   Triton, CPU lane  kgrade-worker compile --language triton [--python P] [--lint ID=ACTION,...]
 *                     [--autotune-max N] --record-fd 3 --compact -      (no --seal: it runs python3)
 *   Triton, GPU lane  the CUDA eval line plus --language triton [--python P] [--lint ...]
 *                     [--autotune-max N]
 *                     (--seal stays: the worker starts python3 before it seals itself)
 *
 * A Triton run's sandbox has the python profile and --sandbox-memory-python. Thread-safe: no
 * state. */
#ifndef KGRADE_WORKCMD_H
#define KGRADE_WORKCMD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "store.h"

/* Where and how the run happens. */
struct workcmd_ctx {
    const char *worker;         /* the kgrade-worker executable */
    int sandboxed;              /* 1: the worker runs in kgrade-sandbox (--seal where allowed) */
    int arch;                   /* CPU lane: the architecture to compile for (89 -> sm_89) */
    int device;                 /* GPU lane: the device ordinal as the worker sees it; -1: CPU lane */
    const char *shared, *cand;  /* the shared and the candidate's cache directories, as seen inside */
    const char *python;         /* the interpreter for Triton candidates */
};

/* The argv (NULL-terminated v) and the sandbox's profile and memory; the strings live in here. */
struct workcmd {
    const char *v[56];
    int n;
    const char *profile;        /* NULL (the sandbox's default) or "python" */
    int python;                 /* 1: a Triton candidate */
    char arch[16], dev[16], seed[24], trials[16], budget[24], precision[8], autotune[16];
    char lint[4096];            /* "ID=ACTION,...": 64 rules of at most 48 + 7 bytes */
    char metrics[64 * 129];     /* "a,b,c" or "none": 64 names of at most 128 bytes (request.h) */
};

/* Build w for claim c: options is c's options JSON parsed (NULL: the defaults), ingest its ingest
 * JSON parsed (NULL: none; the prompt's autotune limit is read from it). */
void workcmd_build(const struct workcmd_ctx *x, const struct store_claim *c, const cJSON *options,
                   const cJSON *ingest, struct workcmd *w);

#endif
