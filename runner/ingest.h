/* ingest.h — a candidate in any of the accepted request forms, to the code that will run.
 *
 * Forms (docs/candidates.md, "Request forms"), as a JSON object:
 *   {"prompt": TEXT, "response": TEXT}     the agent's prompt and the model's answer
 *   {"messages": [{role, content}, ...]}    OpenAI chat format: the last assistant message is the
 *                                           response, the last user message before it the prompt
 *   {"response": TEXT}                      a model's answer without its prompt
 *   {"source": CODE}                        code as is, no extraction
 * Each form may add "language": "auto" (default), "triton" or "cuda" to override detection.
 *
 * The code is the block the prompt asked for (extract.h has the rule); with a prompt, the prompt is
 * parsed too (prompt.h) and its [CURRENT CODE] is kept for a baseline evaluation. A response that
 * holds no code is not an error: lang is INGEST_NONE and no_code says what was found, so the caller
 * can give the verdict no_code.
 *
 * Pure C (cJSON only): the daemon and the worker both use it. Thread-safe: no state. */
#ifndef KGRADE_INGEST_H
#define KGRADE_INGEST_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum ingest_lang { INGEST_NONE = 0, INGEST_CUDA, INGEST_TRITON };

/* "none", "cuda", "triton". */
const char *ingest_lang_name(enum ingest_lang l);
/* "cuda" or "triton" (also "python", "py", "cu", "c++", "cpp") to a language; INGEST_NONE otherwise. */
enum ingest_lang ingest_lang_parse(const char *name);

/* A request error: a stable code ("missing_field", "invalid_field", "source_too_large"), the field
 * path relative to the candidate object ("messages[2].content", "" for the object itself), and
 * a one-line message that names the field. */
struct ingest_err {
    char code[32];
    char field[128];
    char msg[320];
};

struct ingest {
    const char *form;         /* "prompt_response", "messages", "response" or "source" (static) */
    enum ingest_lang lang;    /* the code's language; INGEST_NONE: no code was found */
    char *source;             /* owned, NUL-terminated, LF line ends: the code that runs; NULL if none */
    size_t source_len;
    char no_code[320];        /* lang == INGEST_NONE: what the response held instead, one line */
    cJSON *info;              /* owned: {"form", "language", "language_from": "given"|"fence"|"detected"
                                 |"default" (a source with no marker: CUDA C)|null (no code),
                                 "extraction": {...}|null (source)} (docs/candidates.md) */
    cJSON *prompt;            /* owned: the parsed prompt (prompt.h), NULL without a prompt */
    char *current_code;       /* owned: the prompt's [CURRENT CODE] block, NULL when it has none */
    size_t current_code_len;
    enum ingest_lang current_lang;
};

/* Read the candidate object cand. max_source bounds the extracted code (and the current code);
 * max_text bounds each prompt and response text. Returns 0 (out filled; release with ingest_free),
 * or ERR_INVALID with ie filled for a malformed request (wrong type, missing or unknown field,
 * more than one form, a text over its bound: code "source_too_large"), or ERR_NOMEM. */
int ingest_candidate(const cJSON *cand, size_t max_source, size_t max_text, struct ingest *out,
                     struct ingest_err *ie);

/* The same from plain texts (the worker CLI): prompt may be NULL; language NULL means "auto". */
int ingest_texts(const char *prompt, size_t prompt_len, const char *response, size_t response_len,
                 const char *language, size_t max_source, struct ingest *out, struct ingest_err *ie);

void ingest_free(struct ingest *in);   /* a zeroed or freed struct is a no-op */

#endif
