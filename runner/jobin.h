/* jobin.h — the job of a pre-started worker (`kgrade-worker eval --job-stdin`), read from its stdin.
 *
 * A pre-started worker starts its Python harness and its CUDA context, seals itself, and only then
 * learns what to evaluate: its stdin brings one line, a JSON array of strings (the arguments of
 * `eval` that the daemon would otherwise have put on the command line), then the candidate's
 * source until EOF. This module reads and checks that line; the arguments are then parsed by the
 * command line's own parser (main.c), so a job means exactly what the same command line means. */
#ifndef KGRADE_JOBIN_H
#define KGRADE_JOBIN_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "err.h"

#define JOBIN_LINE_MAX 65536    /* bytes of the job line, its newline excluded */
#define JOBIN_ARGS_MAX 128      /* arguments in it */

struct jobin {
    cJSON *json;                /* the parsed line; argv points into it */
    char **argv;                /* argc strings, then NULL */
    int argc;
};

/* Read the first line of f (blocking until it is there) into j; what follows the newline is left
 * in f for the source. Returns 0, or ERR_INVALID with a message naming what is wrong with the line
 * (too long, no newline before EOF, not JSON, not an array of strings, too many, a string with a
 * NUL), or ERR_NOMEM. Release with jobin_free. */
int jobin_read(FILE *f, struct jobin *j, struct err *e);

/* Free what jobin_read kept; safe on a zeroed or freed struct. */
void jobin_free(struct jobin *j);

#endif
