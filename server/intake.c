/* intake.c — a request's candidate to what its job stores and hashes (see intake.h).
 *
 * DESIGN
 *   The ingest library does the reading (forms, extraction, language, the prompt); this module
 *   only decides what of it the daemon keeps:
 *     - the code that runs is the extracted code, so the cache key hashes it and the same code in
 *       different prose is one evaluation; a candidate without code runs the empty source (the
 *       scheduler finishes it as no_code without starting a worker);
 *     - the ingest JSON keeps what was read for the record (the candidate's form, language and
 *       extraction, the parsed prompt); it is stored with the job, never hashed whole (the
 *       extraction report names prose lines, which must not split the cache);
 *     - the ingest line holds the few things that change the result besides the code, the
 *       problem and the options: the prompt's autotune limit (lint), the baseline's code, the
 *       no-code message. A request without them has no line, and its key is the key of a plain
 *       {"source"} request of schema 1;
 *     - the baseline is the prompt's [CURRENT CODE] when its language is one we run.
 *
 * Does not: decide whether the baseline runs (full mode only: request.c), or touch the store. */
#include "intake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sha256.h"

int intake_autotune(const cJSON *prompt)
{
    const cJSON *stage = cJSON_GetObjectItemCaseSensitive(prompt, "stage");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stage, "autotune_max_configs");
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 1 || v->valuedouble > 1e6)
        return 0;
    return (int)v->valuedouble;
}

/* {"candidate": info, "prompt": prompt|null[, "no_code": msg]} as text; NULL when out of memory. */
static char *ingest_text(const struct ingest *in)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    cJSON *info = in->info ? cJSON_Duplicate(in->info, 1) : cJSON_CreateObject();
    cJSON *prompt = in->prompt ? cJSON_Duplicate(in->prompt, 1) : cJSON_CreateNull();
    if (o && info && cJSON_AddItemToObject(o, "candidate", info)) {
        info = NULL;
        if (prompt && cJSON_AddItemToObject(o, "prompt", prompt)) {
            prompt = NULL;
            if (in->lang != INGEST_NONE || cJSON_AddStringToObject(o, "no_code", in->no_code))
                text = cJSON_PrintUnformatted(o);
        }
    }
    cJSON_Delete(info);
    cJSON_Delete(prompt);
    cJSON_Delete(o);
    return text;
}

/* The baseline job's ingest JSON: the current code taken as a plain source. */
static char *baseline_text(const struct ingest *in, const char *lang)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(o, "candidate");
    cJSON *x = cJSON_AddObjectToObject(c, "extraction");
    char *text = NULL;
    if (x && cJSON_AddStringToObject(c, "form", "source") && cJSON_AddStringToObject(c, "language", lang) &&
        cJSON_AddStringToObject(c, "language_from", "prompt") &&
        cJSON_AddStringToObject(x, "from", "prompt.current_code") &&
        cJSON_AddNumberToObject(x, "bytes", (double)in->current_code_len) && cJSON_AddNullToObject(o, "prompt"))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int intake_read(const cJSON *cand, size_t max_source, size_t max_text, struct intake *out,
                struct ingest_err *ie)
{
    memset(out, 0, sizeof *out);
    int rc = ingest_candidate(cand, max_source, max_text, &out->in, ie);
    if (rc) {
        memset(&out->in, 0, sizeof out->in);
        return rc;
    }
    const struct ingest *in = &out->in;
    out->language = ingest_lang_name(in->lang);   /* "none" when no code was found */
    out->source = in->lang != INGEST_NONE && in->source ? in->source : "";
    out->source_len = in->lang != INGEST_NONE && in->source ? in->source_len : 0;
    out->autotune_max = intake_autotune(in->prompt);
    if (in->current_code && in->current_code_len && in->current_lang != INGEST_NONE) {
        out->base_language = ingest_lang_name(in->current_lang);
        if (!(out->base_ingest_json = baseline_text(in, out->base_language)))
            goto nomem;
    }
    if (!(out->ingest_json = ingest_text(in)))
        goto nomem;
    return 0;
nomem:
    intake_free(out);
    snprintf(ie->code, sizeof ie->code, "internal");
    snprintf(ie->field, sizeof ie->field, "%s", "");
    snprintf(ie->msg, sizeof ie->msg, "out of memory");
    return ERR_NOMEM;
}

void intake_free(struct intake *t)
{
    if (!t)
        return;
    ingest_free(&t->in);
    free(t->ingest_json);
    free(t->base_ingest_json);
    memset(t, 0, sizeof *t);
}

char *intake_key_line(const struct intake *t, int with_baseline, int *nomem)
{
    *nomem = 0;
    int base = with_baseline && t->base_language;
    if (!t->autotune_max && !base && t->in.lang != INGEST_NONE)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    int bad = !o;
    if (!bad && t->autotune_max)
        bad = !cJSON_AddNumberToObject(o, "autotune_max_configs", t->autotune_max);
    if (!bad && base) {
        char sha[65], ref[80];
        sha256_hex(t->in.current_code, t->in.current_code_len, sha);
        snprintf(ref, sizeof ref, "%s:%s", t->base_language, sha);
        bad = !cJSON_AddStringToObject(o, "baseline", ref);
    }
    if (!bad && t->in.lang == INGEST_NONE)
        bad = !cJSON_AddStringToObject(o, "no_code", t->in.no_code);
    if (!bad)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *nomem = !text;
    return text;
}
