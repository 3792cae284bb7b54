/* prompt.h — an agent's prompt in the seed format read into JSON (docs/candidates.md, "Prompt
 * parsing"): the target GPU, the optimisation stage (focus, metrics with thresholds, rules, other
 * sections, the autotune budget), the [CURRENT CODE] block, the [NCU PROFILING METRICS] JSON, the
 * CRITICAL rules and the OUTPUT FORMAT (items, forbidden things, the language its fence names).
 *
 * Any text is a prompt: what it lacks is null, never an error. Lists keep at most
 * PROMPT_MAX_ITEMS items of at most PROMPT_MAX_ITEM bytes each (cut at a character boundary), the
 * stage at most PROMPT_MAX_SECTIONS named sections. Pure C, no state. */
#ifndef KGRADE_PROMPT_H
#define KGRADE_PROMPT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ingest.h"

#define PROMPT_MAX_ITEMS 64
#define PROMPT_MAX_ITEM 1024
#define PROMPT_MAX_SECTIONS 16

struct prompt {
    cJSON *json;               /* owned: {"target_gpu", "stage", "current_code", "ncu_metrics",
                                  ["ncu_metrics_error",] "critical_rules", "output_format"} */
    char *current_code;        /* owned: the [CURRENT CODE] block (as extract_copy_lines copies
                                  it), NULL when the prompt has none or it is blank */
    size_t current_code_len;
    enum ingest_lang current_lang;   /* its fence's language, else detected; may be INGEST_NONE */
    enum ingest_lang asked;    /* the language the OUTPUT FORMAT fence names; INGEST_NONE: none */
};

/* Parse text[0..len) (normal form: extract_normalize; NUL-terminated at len) into p. Returns 0
 * (release p with prompt_free) or ERR_NOMEM (p left empty). */
int prompt_parse(const char *text, size_t len, struct prompt *p);

void prompt_free(struct prompt *p);   /* a zeroed or freed struct is a no-op */

#endif
