/* ingest.c — a candidate in any accepted request form, to the code that will run (see ingest.h;
 * the forms are in docs/candidates.md, "Request forms").
 *
 * The one idea: every form reduces to (prompt or none, response, language override) or to a
 * source taken as is; one path (take_texts) then normalises the texts, reads the prompt for the
 * language it asks for, and lets extract.c pick the code. Request errors are about the shape of
 * the request (types, keys, forms, sizes); a response without code is not one (lang INGEST_NONE,
 * no_code filled), so the caller can give it the verdict no_code.
 *
 * Invariants: on any error out is left zeroed (nothing to free) and ie names the field, relative
 * to the candidate object; on success every pointer in out is owned by it. Texts are bounded
 * before anything is copied: prompt and response by max_text, the code and the prompt's current
 * code by max_source. A message starts with its field's relative path ("messages[1].content: ...",
 * "language must be ..."), so the caller prefixes both with "candidate." the same way; a message
 * about the object itself has no field and starts with what is wrong.
 *
 * Not done here: reading the request around the candidate, running anything, the cache key. */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "extract.h"
#include "prompt.h"

#define MAX_MESSAGES 4096

static const char *const form_keys[] = {"prompt", "response", "messages", "source", "language"};
enum { K_PROMPT, K_RESPONSE, K_MESSAGES, K_SOURCE, K_LANGUAGE, K_COUNT };

static const char *const roles[] = {"system", "user", "assistant", "tool", "developer", NULL};

/* ---- languages ------------------------------------------------------------------------------- */

const char *ingest_lang_name(enum ingest_lang l)
{
    return l == INGEST_CUDA ? "cuda" : l == INGEST_TRITON ? "triton" : "none";
}

enum ingest_lang ingest_lang_parse(const char *name)
{
    static const char *const py[] = {"triton", "python", "py", NULL};
    static const char *const cu[] = {"cuda", "cu", "c++", "cpp", NULL};
    if (!name)
        return INGEST_NONE;
    for (int i = 0; py[i]; i++)
        if (strcasecmp(name, py[i]) == 0)
            return INGEST_TRITON;
    for (int i = 0; cu[i]; i++)
        if (strcasecmp(name, cu[i]) == 0)
            return INGEST_CUDA;
    return INGEST_NONE;
}

/* ---- errors ---------------------------------------------------------------------------------- */

static int fail(struct ingest_err *ie, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ingest_err *ie, const char *code, const char *field, const char *fmt, ...)
{
    if (ie) {
        snprintf(ie->code, sizeof ie->code, "%s", code);
        snprintf(ie->field, sizeof ie->field, "%s", field);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ie->msg, sizeof ie->msg, fmt, ap);
        va_end(ap);
    }
    return ERR_INVALID;
}

static int nomem(struct ingest_err *ie)
{
    if (ie) {
        snprintf(ie->code, sizeof ie->code, "nomem");
        ie->field[0] = '\0';
        snprintf(ie->msg, sizeof ie->msg, "out of memory");
    }
    return ERR_NOMEM;
}

/* A key from the request, printable ASCII and short, for a message. */
static void key_name(char *out, size_t cap, const char *s)
{
    size_t k = 0;
    for (; s && s[k] && k + 1 < cap && k < 40; k++)
        out[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
    out[k] = '\0';
}

/* "auto" (or absent), "triton", "cuda" */
static int read_language(const char *s, const char *field, enum ingest_lang *out,
                         struct ingest_err *ie)
{
    *out = INGEST_NONE;
    if (!s || strcmp(s, "auto") == 0)
        return 0;
    if (strcmp(s, "triton") == 0 || strcmp(s, "cuda") == 0) {
        *out = s[0] == 't' ? INGEST_TRITON : INGEST_CUDA;
        return 0;
    }
    char v[48];
    key_name(v, sizeof v, s);
    return fail(ie, "invalid_field", field,
                "%s must be \"auto\", \"triton\" or \"cuda\", got \"%s\"", field, v);
}

/* ---- the common path ------------------------------------------------------------------------- */

struct texts {
    const char *prompt, *response;
    size_t prompt_len, response_len;
    const char *prompt_field, *response_field;   /* for messages: where the text came from */
    enum ingest_lang given;
    const char *form;
};

static int normal(const char *s, size_t n, const char *field, char **out, size_t *out_len,
                  int *had_cr, struct ingest_err *ie)
{
    size_t at = 0;
    int rc = extract_normalize(s, n, out, out_len, had_cr, &at);
    if (rc == ERR_INVALID)
        return fail(ie, "invalid_field", field, "%s holds a NUL byte (at byte %zu)", field,
                    at);
    return rc ? nomem(ie) : 0;
}

static int make_info(struct ingest *out, const char *from, cJSON *extraction)
{
    cJSON *i = out->info = cJSON_CreateObject();
    if (!i || !cJSON_AddStringToObject(i, "form", out->form) ||
        !cJSON_AddStringToObject(i, "language", ingest_lang_name(out->lang)) ||
        !(from ? cJSON_AddStringToObject(i, "language_from", from)
               : cJSON_AddNullToObject(i, "language_from"))) {
        cJSON_Delete(extraction);
        return ERR_NOMEM;
    }
    if (!cJSON_AddItemToObject(i, "extraction", extraction ? extraction : cJSON_CreateNull())) {
        cJSON_Delete(extraction);
        return ERR_NOMEM;
    }
    return 0;
}

static int take_texts(const struct texts *tx, size_t max_source, struct ingest *out,
                      struct ingest_err *ie)
{
    char *ptext = NULL, *rtext = NULL;
    size_t plen = 0, rlen = 0;
    int pcr = 0, rcr = 0, rc;
    struct prompt pr;
    struct extract x;
    memset(&pr, 0, sizeof pr);
    memset(&x, 0, sizeof x);
    out->form = tx->form;
    enum ingest_lang asked = INGEST_NONE;

    if (tx->prompt) {
        if ((rc = normal(tx->prompt, tx->prompt_len, tx->prompt_field, &ptext, &plen, &pcr, ie)))
            goto out;
        if (prompt_parse(ptext, plen, &pr)) {
            rc = nomem(ie);
            goto out;
        }
        if (pr.current_code_len > max_source) {
            rc = fail(ie, "source_too_large", tx->prompt_field,
                      "%s: its [CURRENT CODE] is %zu bytes, over the limit of %zu",
                      tx->prompt_field, pr.current_code_len, max_source);
            goto out;
        }
        asked = pr.asked;
    }
    if (asked == INGEST_NONE)
        asked = tx->given;
    if ((rc = normal(tx->response, tx->response_len, tx->response_field, &rtext, &rlen, &rcr, ie)))
        goto out;
    if (extract_code(rtext, rlen, asked, rcr, &x)) {
        rc = nomem(ie);
        goto out;
    }
    if (x.code && x.code_len > max_source) {
        rc = fail(ie, "source_too_large", tx->response_field,
                  "%s: the extracted code is %zu bytes, over the limit of %zu",
                  tx->response_field, x.code_len, max_source);
        goto out;
    }
    const char *from = NULL;
    if (x.code) {
        out->lang = tx->given != INGEST_NONE ? tx->given : x.lang;
        from = tx->given != INGEST_NONE ? "given" : x.lang_from;
        out->source = x.code;
        out->source_len = x.code_len;
        x.code = NULL;
    } else {
        out->lang = INGEST_NONE;
        snprintf(out->no_code, sizeof out->no_code, "%s", x.no_code);
    }
    cJSON *report = x.report;
    x.report = NULL;
    if (make_info(out, from, report)) {
        rc = nomem(ie);
        goto out;
    }
    out->prompt = pr.json;
    out->current_code = pr.current_code;
    out->current_code_len = pr.current_code_len;
    out->current_lang = pr.current_lang;
    memset(&pr, 0, sizeof pr);
    rc = 0;
out:
    free(ptext);
    free(rtext);
    prompt_free(&pr);
    extract_free(&x);
    if (rc)
        ingest_free(out);
    return rc;
}

/* {"source": CODE}: no extraction; the language given, else detected, else CUDA C. */
static int take_source(const char *s, enum ingest_lang given, size_t max_source,
                       struct ingest *out, struct ingest_err *ie)
{
    size_t n = strlen(s);
    int cr = 0;
    if (n > max_source)
        return fail(ie, "source_too_large", "source",
                    "source: %zu bytes, over the limit of %zu", n, max_source);
    size_t i = 0;
    while (i < n && strchr(" \t\r\n\f\v", s[i]))
        i++;
    if (i == n)
        return fail(ie, "invalid_field", "source", "source must not be empty%s",
                    n ? " (it holds only blanks)" : "");
    int rc = normal(s, n, "source", &out->source, &out->source_len, &cr, ie);
    if (rc)
        return rc;
    const char *from = "given";
    out->form = "source";
    out->lang = given;
    if (given == INGEST_NONE) {
        out->lang = extract_detect(out->source, out->source_len);
        from = "detected";
        if (out->lang == INGEST_NONE) {
            out->lang = INGEST_CUDA;
            from = "default";
        }
    }
    if (make_info(out, from, NULL)) {
        ingest_free(out);
        return nomem(ie);
    }
    return 0;
}

/* ---- messages -------------------------------------------------------------------------------- */

/* messages[i].content when it is an array: every part an object with a string "type"; a "text"
 * part has a string "text" (other parts, such as images, are skipped). */
static int check_parts(const cJSON *c, size_t i, struct ingest_err *ie)
{
    char f[128];
    size_t j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, c) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
        snprintf(f, sizeof f, "messages[%zu].content[%zu]", i, j);
        if (j >= MAX_MESSAGES)
            return fail(ie, "invalid_field", f, "%s: more than %d parts", f,
                        MAX_MESSAGES);
        if (!cJSON_IsObject(part) || !cJSON_IsString(type))
            return fail(ie, "invalid_field", f,
                        "%s must be an object {\"type\": \"text\", \"text\": ...}", f);
        snprintf(f, sizeof f, "messages[%zu].content[%zu].text", i, j);
        if (strcmp(type->valuestring, "text") == 0 && !cJSON_IsString(t))
            return fail(ie, t ? "invalid_field" : "missing_field", f,
                        "%s must be a string", f);
        j++;
    }
    return 0;
}

/* The text of messages[i].content (checked already): a string, null, or its text parts
 * concatenated as they are. Returns 0 with *text owned by the caller (NULL and *len 0 for no
 * text), or an error. */
static int content_text(const cJSON *m, size_t i, size_t max_text, char **text, size_t *len,
                        struct ingest_err *ie)
{
    char f[64];
    *text = NULL;
    *len = 0;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content"), *part;
    snprintf(f, sizeof f, "messages[%zu].content", i);
    if (!c || cJSON_IsNull(c))
        return 0;
    const cJSON *parts = cJSON_IsArray(c) ? c : NULL;
    size_t total = 0;
    if (cJSON_IsString(c))
        total = strlen(c->valuestring);
    cJSON_ArrayForEach(part, parts) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (strcmp(type->valuestring, "text") == 0 && total <= max_text)
            total += strlen(cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring);
    }
    if (total > max_text)
        return fail(ie, "source_too_large", f, "%s: %s%zu bytes, over the limit of %zu",
                    f, cJSON_IsArray(c) ? "more than " : "", total, max_text);
    char *o = malloc(total + 1);
    if (!o)
        return nomem(ie);
    size_t k = 0;
    if (cJSON_IsString(c)) {
        memcpy(o, c->valuestring, total);
        k = total;
    }
    cJSON_ArrayForEach(part, parts) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (strcmp(type->valuestring, "text") == 0) {
            const char *t = cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring;
            size_t n = strlen(t);
            memcpy(o + k, t, n);
            k += n;
        }
    }
    o[k] = '\0';
    *text = o;
    *len = k;
    return 0;
}

static int take_messages(const cJSON *msgs, enum ingest_lang given, size_t max_source,
                         size_t max_text, struct ingest *out, struct ingest_err *ie)
{
    char f[128];
    if (!cJSON_IsArray(msgs))
        return fail(ie, "invalid_field", "messages",
                    "messages must be an array of {\"role\", \"content\"} objects");
    const cJSON *m, *answer = NULL, *ask = NULL, *user = NULL;
    size_t i = 0, answer_i = 0, ask_i = 0, user_i = 0;
    cJSON_ArrayForEach(m, msgs) {
        if (i >= MAX_MESSAGES)
            return fail(ie, "invalid_field", "messages",
                        "messages: more than %d messages", MAX_MESSAGES);
        snprintf(f, sizeof f, "messages[%zu]", i);
        if (!cJSON_IsObject(m))
            return fail(ie, "invalid_field", f,
                        "%s must be an object {\"role\", \"content\"}", f);
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        snprintf(f, sizeof f, "messages[%zu].role", i);
        if (!role)
            return fail(ie, "missing_field", f, "%s: required", f);
        int r = 0;
        while (cJSON_IsString(role) && roles[r] && strcmp(role->valuestring, roles[r]) != 0)
            r++;
        if (!cJSON_IsString(role) || !roles[r])
            return fail(ie, "invalid_field", f,
                        "%s must be one of \"system\", \"user\", \"assistant\", "
                        "\"tool\", \"developer\"", f);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        snprintf(f, sizeof f, "messages[%zu].content", i);
        if (c && !cJSON_IsNull(c) && !cJSON_IsString(c) && !cJSON_IsArray(c))
            return fail(ie, "invalid_field", f,
                        "%s must be a string or an array of {\"type\": \"text\", "
                        "\"text\"} parts", f);
        if (cJSON_IsArray(c) && check_parts(c, i, ie))
            return ERR_INVALID;
        if (strcmp(roles[r], "user") == 0) {
            user = m;
            user_i = i;
        } else if (strcmp(roles[r], "assistant") == 0) {
            answer = m;   /* the last one wins, with the last user message before it */
            answer_i = i;
            ask = user;
            ask_i = user_i;
        }
        i++;
    }
    if (!answer)
        return fail(ie, "missing_field", "messages", "messages: no assistant message");
    char *ptext = NULL, *rtext = NULL;
    size_t plen = 0, rlen = 0;
    int rc = content_text(answer, answer_i, max_text, &rtext, &rlen, ie);
    if (!rc && ask)
        rc = content_text(ask, ask_i, max_text, &ptext, &plen, ie);
    if (!rc) {
        char pf[64], rf[64];
        snprintf(pf, sizeof pf, "messages[%zu].content", ask_i);
        snprintf(rf, sizeof rf, "messages[%zu].content", answer_i);
        struct texts tx = {ask ? (ptext ? ptext : "") : NULL, rtext ? rtext : "", plen, rlen, pf,
                           rf, given, "messages"};
        rc = take_texts(&tx, max_source, out, ie);
    }
    free(ptext);
    free(rtext);
    return rc;
}

/* ---- the request forms ----------------------------------------------------------------------- */

int ingest_candidate(const cJSON *cand, size_t max_source, size_t max_text, struct ingest *out,
                     struct ingest_err *ie)
{
    const cJSON *item[K_COUNT] = {NULL};
    char key[48];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(cand))
        return fail(ie, "invalid_field", "",
                    "must be an object: {\"response\"}, {\"prompt\", \"response\"}, "
                    "{\"messages\"} or {\"source\"}, with an optional \"language\"");
    const cJSON *c;
    cJSON_ArrayForEach(c, cand) {
        int k = 0;
        while (k < K_COUNT && strcmp(c->string ? c->string : "", form_keys[k]) != 0)
            k++;
        key_name(key, sizeof key, c->string);
        if (k == K_COUNT)
            return fail(ie, "invalid_field", key,
                        "%s: unknown field; expected prompt, response, messages, source, "
                        "language", key);
        if (item[k])
            return fail(ie, "invalid_field", key, "%s: given twice", key);
        item[k] = c;
    }
    enum ingest_lang given = INGEST_NONE;
    if (item[K_LANGUAGE] && !cJSON_IsString(item[K_LANGUAGE]))
        return fail(ie, "invalid_field", "language",
                    "language must be \"auto\", \"triton\" or \"cuda\"");
    if (item[K_LANGUAGE] && read_language(item[K_LANGUAGE]->valuestring, "language", &given, ie))
        return ERR_INVALID;

    /* exactly one form: source, messages, or response with an optional prompt */
    int forms[3] = {item[K_SOURCE] != NULL, item[K_MESSAGES] != NULL,
                    item[K_PROMPT] || item[K_RESPONSE]};
    const char *form_names[3] = {"source", "messages", item[K_RESPONSE] ? "response" : "prompt"};
    int first = -1;
    for (int k = 0; k < 3; k++) {
        if (!forms[k])
            continue;
        if (first >= 0)
            return fail(ie, "invalid_field", form_names[k],
                        "%s: \"%s\" and \"%s\" are two request forms; give exactly one of "
                        "response, prompt and response, messages, source", form_names[k],
                        form_names[first], form_names[k]);
        first = k;
    }
    if (first < 0)   /* named "source", the one form of the first API */
        return fail(ie, "missing_field", "source",
                    "source: required, or one of the other forms: response, prompt and "
                    "response, messages");
    if (first == 0) {
        if (!cJSON_IsString(item[K_SOURCE]))
            return fail(ie, "invalid_field", "source", "source must be a string");
        return take_source(item[K_SOURCE]->valuestring, given, max_source, out, ie);
    }
    if (first == 1)
        return take_messages(item[K_MESSAGES], given, max_source, max_text, out, ie);
    if (!item[K_RESPONSE])
        return fail(ie, "missing_field", "response",
                    "response: required with prompt");
    const char *names[2] = {"prompt", "response"};
    const cJSON *texts[2] = {item[K_PROMPT], item[K_RESPONSE]};
    size_t lens[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (!texts[k])
            continue;
        if (!cJSON_IsString(texts[k]))
            return fail(ie, "invalid_field", names[k], "%s must be a string", names[k]);
        lens[k] = strlen(texts[k]->valuestring);
        if (lens[k] > max_text)
            return fail(ie, "source_too_large", names[k],
                        "%s: %zu bytes, over the limit of %zu", names[k], lens[k],
                        max_text);
    }
    struct texts tx = {texts[0] ? texts[0]->valuestring : NULL, texts[1]->valuestring, lens[0],
                       lens[1], "prompt", "response", given,
                       texts[0] ? "prompt_response" : "response"};
    return take_texts(&tx, max_source, out, ie);
}

int ingest_texts(const char *prompt, size_t prompt_len, const char *response, size_t response_len,
                 const char *language, size_t max_source, struct ingest *out, struct ingest_err *ie)
{
    memset(out, 0, sizeof *out);
    enum ingest_lang given;
    if (read_language(language, "language", &given, ie))
        return ERR_INVALID;
    if (!response)
        return fail(ie, "missing_field", "response", "response: required");
    struct texts tx = {prompt, response, prompt ? prompt_len : 0, response_len, "prompt",
                       "response", given, prompt ? "prompt_response" : "response"};
    return take_texts(&tx, max_source, out, ie);
}

void ingest_free(struct ingest *in)
{
    if (!in)
        return;
    free(in->source);
    cJSON_Delete(in->info);
    cJSON_Delete(in->prompt);
    free(in->current_code);
    memset(in, 0, sizeof *in);
}
