/* request.h — one evaluation request (the JSON object of docs/api.md, "Submitting an evaluation")
 * to a validated, canonical job for the store, and the error replies of request validation.
 *
 * A request is checked field by field against the API's table: unknown keys (at the top level,
 * in candidate and in options) are refused, every value has its type and range, defaults fill the
 * rest. The candidate, in any of its request forms, is read by intake.h (the ingest library). The
 * job carries the resolved problem (an alias becomes its canonical id), the canonical spec JSON,
 * the canonical options JSON (fixed key order, the scheduler's input), the extracted code, its
 * language and ingest JSON, the cache key, and in full mode the baseline job of a prompt's
 * current code.
 * Thread-safe: no state. */
#ifndef KGRADE_REQUEST_H
#define KGRADE_REQUEST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "intake.h"
#include "jsonin.h"
#include "metricform.h"
#include "store.h"

/* An API error: the HTTP status, the stable code, the field at fault ("" when none), a message,
 * and for a refused JSON body the byte offset (-1 when none). */
struct request_err {
    unsigned status;
    char code[32];
    char field[160];
    char msg[384];
    long long offset;
};

void request_err_set(struct request_err *re, unsigned status, const char *code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A body refused by jsonin (400, its code, its offset, its message). */
void request_err_from_json(struct request_err *re, const struct jsonin_err *je);
/* The reply body {"error": {"code", "message", "field"?, "offset"?}}; the caller deletes it. */
cJSON *request_err_body(const struct request_err *re);

/* Field names of the canonical options, in their fixed order (the scheduler reads these); "lint"
 * is there only when it names a rule. */
#define REQUEST_OPTION_KEYS "mode", "trials", "exact", "precision", "timing", "timing_budget_ms", \
                            "baselines", "metrics", "seed", "lint"

/* options.metrics: at most this many names, each 1..REQUEST_METRIC_LEN bytes (as the worker's
 * METRICNAME_MAX and METRICNAME_LEN). */
#define REQUEST_METRICS_MAX 64
#define REQUEST_METRIC_LEN METRICFORM_LEN

/* options.lint: at most this many rules, each id 1..48 of [a-z0-9-] and one the static checker has
 * (lintrules.h). */
#define REQUEST_LINT_MAX 64

/* What request_parse bounds a candidate's texts by when not told (the default --max-body). */
#define REQUEST_MAX_TEXT ((size_t)4 << 20)

/* A validated request. job's strings, and base's, point into this struct, which must therefore
 * stay where it was parsed (job.baseline points at base). */
struct request_job {
    struct store_newjob job;
    struct store_newjob base;   /* the baseline (the prompt's current code) when job.baseline */
    struct intake cand;         /* the candidate as read (owned) */
    char problem[64];           /* the canonical registry id, or "inline" */
    char *spec_json;            /* owned */
    char *options_json;         /* owned */
    char *key_line;             /* owned: the cache key's ingest line (intake.h), NULL when none */
    cJSON *metrics;             /* owned: options.metrics, an array of well-formed names (whether
                                   they exist is metricset.h's); NULL: the default list */
    char source_sha256[65];
    char cache_key[65];
    char base_sha256[65];
    char base_key[65];
    char mode[8];               /* "full" or "check" */
};

/* Validate req into out. prefix ("" or "[17]") starts every field path ("[17].candidate.source");
 * default_priority applies when options.priority is absent (5 single, 1 batch). The candidate's
 * extracted code is bounded by max_source, each of its texts (prompt, response, message) by
 * max_text (request_parse: REQUEST_MAX_TEXT). Returns 0, or ERR_INVALID with re filled (status 413
 * source_too_large, 422 otherwise) and out left empty. ERR_NOMEM leaves re as a 500. A filled out
 * is released with request_job_free. */
int request_parse(const cJSON *req, size_t max_source, const char *prefix, int default_priority,
                  struct request_job *out, struct request_err *re);
int request_parse_bounded(const cJSON *req, size_t max_source, size_t max_text, const char *prefix,
                          int default_priority, struct request_job *out, struct request_err *re);
void request_job_free(struct request_job *j);   /* a zeroed or freed job is a no-op */

#endif
