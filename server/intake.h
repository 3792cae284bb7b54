/* intake.h — the candidate of an evaluation request (any request form of docs/api.md), read by
 * the ingest library (runner/ingest.h), to what its job stores and hashes: the code that runs and
 * its language, the ingest JSON (what was read, merged into the record when the job finishes),
 * the ingest line of the cache key, and the baseline that a prompt's [CURRENT CODE] makes.
 * Thread-safe: no state. */
#ifndef KGRADE_INTAKE_H
#define KGRADE_INTAKE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ingest.h"

struct intake {
    struct ingest in;           /* what ingest_candidate read (owned) */
    const char *language;       /* "cuda", "triton" or "none" (no code found) */
    const char *source;         /* the code that runs, source_len bytes; "" when none */
    size_t source_len;
    char *ingest_json;          /* owned: {"candidate": in.info, "prompt": in.prompt or null}, and
                                   "no_code": in.no_code when no code was found */
    int autotune_max;           /* the prompt's stage.autotune_max_configs; 0: none */
    const char *base_language;  /* the prompt's current code can be a baseline: its language
                                   ("cuda" or "triton"); NULL: it cannot (none, or no code of ours) */
    char *base_ingest_json;     /* owned: the baseline job's ingest JSON; NULL without a baseline */
};

/* Read the candidate object cand (ingest_candidate with max_source and max_text). Returns 0 (out
 * filled; release with intake_free), ERR_INVALID with ie filled (a malformed candidate: ie.field
 * is relative to the candidate object), or ERR_NOMEM. */
int intake_read(const cJSON *cand, size_t max_source, size_t max_text, struct intake *out,
                struct ingest_err *ie);
void intake_free(struct intake *t);   /* a zeroed or freed intake is a no-op */

/* The ingest line of the cache key: canonical JSON of what, besides the code, its language, the
 * problem and the options, changes the evaluation's result — the prompt's autotune limit (it
 * changes the lint outcome), the baseline's code when one is run (with_baseline), the no-code
 * message. NULL (and *nomem 0) when there is none, so a plain {"source"} request keeps the key of
 * a request without any of this; NULL with *nomem 1 when out of memory. The caller frees. */
char *intake_key_line(const struct intake *t, int with_baseline, int *nomem);

/* The prompt's limit on autotune configs (prompt.stage.autotune_max_configs, a positive integer)
 * from a parsed prompt (may be NULL); 0 when it sets none. */
int intake_autotune(const cJSON *prompt);

#endif
