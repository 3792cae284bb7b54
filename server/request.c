/* request.c — one evaluation request to a canonical job (see request.h).
 *
 * DESIGN
 *   Each object of the request (top level, candidate, options) is first checked for its keys:
 *   an unknown key is unknown_field, a repeated one invalid_field, so a misspelt option never
 *   passes silently and a key never means two things. Then each field is read in the table's
 *   order with its type and range (missing_field for a required one, invalid_field for a wrong
 *   type or range). Integers are JSON numbers with an integral value.
 *
 *   Canonical forms make equal evaluations byte-equal: the spec is spec_to_json of the resolved
 *   spec (a registry id or alias and the same spec written inline give the same text), the options
 *   are printed with every key in a fixed order, the defaults filled in and seed null when not
 *   given; priority is not an option of the evaluation (it is the queue's business) and stays out.
 *   options.metrics is null (the default list) or the names in the order given (the order of the
 *   result's metrics). options.lint is printed last and only when it names a rule, keys sorted.
 *   The cache key hashes, one per line: "kgrade-cache/1", the language, the sha256 of the code that
 *   runs (the extracted code: the same code in other prose is the same evaluation), the spec JSON,
 *   the options JSON, the daemon's version (a new version evaluates again), and the ingest line
 *   when there is one (intake.h: the prompt's autotune limit, the baseline's code, the no-code
 *   message). The baseline job's key is the key of a plain {"source"} request of its code.
 *
 * Does not: look at the store or the scheduler (no GPU check, no queue limit: the handlers do), or
 * know which metric names exist (only their form: metricset.c asks the worker about the rest). */
#include "request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lintrules.h"
#include "metricform.h"
#include "registry.h"
#include "sha256.h"
#include "spec.h"

#ifndef KGRADE_VERSION
#define KGRADE_VERSION "unknown"
#endif

void request_err_set(struct request_err *re, unsigned status, const char *code, const char *field,
                     const char *fmt, ...)
{
    re->status = status;
    snprintf(re->code, sizeof re->code, "%s", code);
    snprintf(re->field, sizeof re->field, "%s", field ? field : "");
    re->offset = -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(re->msg, sizeof re->msg, fmt, ap);
    va_end(ap);
}

void request_err_from_json(struct request_err *re, const struct jsonin_err *je)
{
    request_err_set(re, 400, je->code, NULL, "%s", je->msg);
    re->offset = (long long)je->offset;
}

cJSON *request_err_body(const struct request_err *re)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(body, "error");
    if (!e) {
        cJSON_Delete(body);
        return NULL;
    }
    cJSON_AddStringToObject(e, "code", re->code);
    cJSON_AddStringToObject(e, "message", re->msg);
    if (re->field[0])
        cJSON_AddStringToObject(e, "field", re->field);
    if (re->offset >= 0)
        cJSON_AddNumberToObject(e, "offset", (double)re->offset);
    return body;
}

/* The path of a field: prefix "." sub, or sub alone when prefix is empty. */
static void fpath(char out[160], const char *prefix, const char *sub)
{
    size_t n = 0;
    const char *parts[] = {prefix, prefix[0] && sub[0] ? "." : "", sub};
    for (size_t i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p && n < 159; p++)
            out[n++] = *p;
    out[n] = 0;
}

/* Every key of obj is one of keys[0..n) and appears once; where is obj's own path ("" top). */
static int check_keys(const cJSON *obj, const char *const *keys, size_t n, const char *prefix,
                      const char *where, struct request_err *re)
{
    char base[160], f[160];
    fpath(base, prefix, where);
    for (const cJSON *c = obj->child; c; c = c->next) {
        size_t k = 0;
        while (k < n && strcmp(c->string, keys[k]) != 0)
            k++;
        fpath(f, base, c->string);
        if (k == n) {
            char list[200] = "";
            for (size_t i = 0; i < n; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         keys[i]);
            request_err_set(re, 422, "unknown_field", f, "%s: unknown field (the fields%s%s are %s)",
                            f, base[0] ? " of " : "", base, list);
            return ERR_INVALID;
        }
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0) {
                request_err_set(re, 422, "invalid_field", f, "%s: appears more than once", f);
                return ERR_INVALID;
            }
    }
    return 0;
}

static int bad(struct request_err *re, const char *prefix, const char *sub, const char *what)
{
    char f[160];
    fpath(f, prefix, sub);
    request_err_set(re, 422, "invalid_field", f, "%s: must be %s", f, what);
    return ERR_INVALID;
}

/* An optional boolean member (absent: *out kept). */
static int opt_bool(const cJSON *o, const char *key, const char *prefix, const char *sub, int *out,
                    struct request_err *re)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return bad(re, prefix, sub, "true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int opt_int(const cJSON *o, const char *key, const char *prefix, const char *sub, long min,
                   long max, long *out, struct request_err *re)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v)
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
        char what[64];
        snprintf(what, sizeof what, "an integer %ld..%ld", min, max);
        return bad(re, prefix, sub, what);
    }
    *out = (long)d;
    return 0;
}

/* An optional string member that must be one of names (NULL-terminated). */
static int opt_enum(const cJSON *o, const char *key, const char *prefix, const char *sub,
                    const char *const *names, const char **out, struct request_err *re)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v)
        return 0;
    for (size_t i = 0; cJSON_IsString(v) && names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = names[i];
            return 0;
        }
    char what[96] = "one of";
    for (size_t i = 0; names[i]; i++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s \"%s\"", i ? "," : "",
                 names[i]);
    return bad(re, prefix, sub, what);
}

/* problem: a registry id or alias, or an inline spec. */
static int read_problem(const cJSON *req, const char *prefix, struct request_job *out,
                        struct conv_spec *spec, struct request_err *re)
{
    char f[160];
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "problem");
    fpath(f, prefix, "problem");
    if (!p) {
        request_err_set(re, 422, "missing_field", f, "%s: required (a registry id or a spec)", f);
        return ERR_INVALID;
    }
    if (cJSON_IsString(p)) {
        const struct registry_entry *r = registry_find(p->valuestring);
        if (!r) {
            request_err_set(re, 422, "unknown_problem", f,
                            "%s: \"%.64s\" is not a registry id (GET /v1/problems lists them)", f,
                            p->valuestring);
            return ERR_INVALID;
        }
        snprintf(out->problem, sizeof out->problem, "%s", r->id);
        *spec = r->spec;
        return 0;
    }
    if (!cJSON_IsObject(p))
        return bad(re, prefix, "problem", "a registry id (string) or a spec (object)");
    struct err e;
    struct spec_limits lim = {SPEC_DEFAULT_MAX_FOOTPRINT};
    err_clear(&e);
    if (spec_from_json(p, &lim, spec, &e)) {
        char sf[160];
        fpath(sf, f, e.field);
        request_err_set(re, 422, "invalid_spec", sf, "%s: %s", f, e.msg);
        return ERR_INVALID;
    }
    snprintf(out->problem, sizeof out->problem, "inline");
    return 0;
}

/* candidate: any request form, through the ingest library; its keys are checked here like every
 * object's, its errors get the field path and status of ours (413 for a text or code over its
 * bound). */
static int read_candidate(const cJSON *req, const char *prefix, size_t max_source, size_t max_text,
                          struct intake *t, struct request_err *re)
{
    static const char *const keys[] = {"prompt", "response", "messages", "source", "language"};
    char f[160], sub[160];
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "candidate");
    fpath(f, prefix, "candidate");
    if (!c) {
        request_err_set(re, 422, "missing_field", f, "%s: required ({\"prompt\", \"response\"}, "
                        "{\"messages\"}, {\"response\"} or {\"source\"})", f);
        return ERR_INVALID;
    }
    if (!cJSON_IsObject(c))
        return bad(re, prefix, "candidate", "an object ({\"prompt\", \"response\"}, {\"messages\"}, "
                   "{\"response\"} or {\"source\"})");
    if (check_keys(c, keys, sizeof keys / sizeof keys[0], prefix, "candidate", re))
        return ERR_INVALID;
    struct ingest_err ie;
    memset(&ie, 0, sizeof ie);
    int rc = intake_read(c, max_source, max_text, t, &ie);
    if (rc == ERR_NOMEM) {
        request_err_set(re, 500, "internal", NULL, "out of memory");
        return rc;
    }
    if (rc == 0)
        return 0;
    fpath(sub, f, ie.field);
    size_t fl = strlen(ie.field);
    unsigned status = strcmp(ie.code, "source_too_large") == 0 ? 413 : 422;
    if (fl && strncmp(ie.msg, ie.field, fl) == 0)   /* the message names the field: give its full path */
        request_err_set(re, status, ie.code[0] ? ie.code : "invalid_field", sub, "%s.%s", f, ie.msg);
    else
        request_err_set(re, status, ie.code[0] ? ie.code : "invalid_field", sub, "%s: %s", sub, ie.msg);
    return ERR_INVALID;
}

struct opts {
    const char *mode, *precision;
    int exact, timing, baselines;
    long trials, budget, seed, priority;   /* seed -1: not given */
    cJSON *lint;                /* owned: the rules given, keys sorted; NULL when none */
    cJSON *metrics;             /* owned: the metric names given, in order; NULL: the default list */
};

static int valid_rule(const char *id)
{
    size_t n = strlen(id);
    return n >= 1 && n <= 48 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* options.lint: {"RULE": "reject" | "warn" | "off"}, into o->lint with its keys sorted (the
 * canonical form); an empty object is no rule at all. */
static int read_lint(const cJSON *op, const char *prefix, struct opts *o, struct request_err *re)
{
    static const char *const actions[] = {"reject", "warn", "off", NULL};
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(op, "lint");
    const cJSON *rules[REQUEST_LINT_MAX];
    size_t n = 0;
    char f[160], sub[160];
    if (!l)
        return 0;
    if (!cJSON_IsObject(l))
        return bad(re, prefix, "options.lint", "an object {\"RULE\": \"reject\" | \"warn\" | \"off\"}");
    fpath(f, prefix, "options.lint");
    for (const cJSON *r = l->child; r; r = r->next) {
        if (!valid_rule(r->string)) {
            request_err_set(re, 422, "invalid_field", f, "%s: \"%.60s\" is not a rule id (1 to 48 of a-z, "
                            "0-9 and -; docs/lint.md lists them)", f, r->string);
            return ERR_INVALID;
        }
        snprintf(sub, sizeof sub, "options.lint.%s", r->string);
        if (!lintrules_known(r->string)) {
            fpath(f, prefix, sub);
            request_err_set(re, 422, "unknown_rule", f, "%s: the static checker has no rule \"%s\" (docs/lint.md "
                            "lists them)", f, r->string);
            return ERR_INVALID;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(rules[i]->string, r->string) == 0) {
                fpath(f, prefix, sub);
                request_err_set(re, 422, "invalid_field", f, "%s: appears more than once", f);
                return ERR_INVALID;
            }
        const char *act = NULL;
        if (opt_enum(l, r->string, prefix, sub, actions, &act, re))
            return ERR_INVALID;
        if (n == REQUEST_LINT_MAX) {
            request_err_set(re, 422, "invalid_field", f, "%s: more than %d rules", f, REQUEST_LINT_MAX);
            return ERR_INVALID;
        }
        rules[n++] = r;
    }
    if (n == 0)
        return 0;
    qsort(rules, n, sizeof rules[0], by_key);
    if (!(o->lint = cJSON_CreateObject()))
        goto nomem;
    for (size_t i = 0; i < n; i++)
        if (!cJSON_AddStringToObject(o->lint, rules[i]->string, rules[i]->valuestring))
            goto nomem;
    return 0;
nomem:
    request_err_set(re, 500, "internal", NULL, "out of memory");
    return ERR_NOMEM;
}

/* options.metrics: null or absent (the default list: o->metrics stays NULL), or an array of at most
 * REQUEST_METRICS_MAX distinct metric names, kept in their order ([]: no metrics). true and false,
 * the option's earlier boolean form, are read as null and []. */
static int read_metrics(const cJSON *op, const char *prefix, struct opts *o, struct request_err *re)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(op, "metrics");
    char base[160], f[160], sub[64];
    int n = 0;
    if (!m || cJSON_IsNull(m) || cJSON_IsTrue(m))
        return 0;
    if (!cJSON_IsArray(m) && !cJSON_IsFalse(m))
        return bad(re, prefix, "options.metrics", "an array of metric names (docs/metrics.md), or null for "
                   "the default list");
    fpath(base, prefix, "options.metrics");
    for (const cJSON *v = m->child; v; v = v->next, n++) {
        snprintf(sub, sizeof sub, "options.metrics[%d]", n);
        if (n == REQUEST_METRICS_MAX) {
            request_err_set(re, 422, "invalid_field", base, "%s: more than %d metric names", base,
                            REQUEST_METRICS_MAX);
            return ERR_INVALID;
        }
        if (!cJSON_IsString(v))
            return bad(re, prefix, sub, "a metric name (a string)");
        fpath(f, prefix, sub);
        const char *why = metricform_problem(v->valuestring);
        if (why) {
            request_err_set(re, 422, "invalid_field", f, "%s: '%.140s' is not a metric name: it %s (1 to %d of a-z, "
                            "0-9, _ and ., a letter first, with \"__\"; docs/metrics.md)", f, v->valuestring, why,
                            REQUEST_METRIC_LEN);
            return ERR_INVALID;
        }
        for (const cJSON *w = m->child; w != v; w = w->next)
            if (strcmp(w->valuestring, v->valuestring) == 0) {
                request_err_set(re, 422, "invalid_field", f, "%s: '%s' appears more than once", f,
                                v->valuestring);
                return ERR_INVALID;
            }
    }
    o->metrics = cJSON_IsFalse(m) ? cJSON_CreateArray() : cJSON_Duplicate(m, 1);
    if (!o->metrics) {
        request_err_set(re, 500, "internal", NULL, "out of memory");
        return ERR_NOMEM;
    }
    return 0;
}

static int read_options(const cJSON *req, const char *prefix, struct opts *o, struct request_err *re)
{
    static const char *const keys[] = {REQUEST_OPTION_KEYS, "priority"};
    static const char *const modes[] = {"full", "check", NULL};
    static const char *const precisions[] = {"tf32", "fp32", "exact", NULL};
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "options");
    if (!op)
        return 0;
    if (!cJSON_IsObject(op))
        return bad(re, prefix, "options", "an object");
    if (check_keys(op, keys, sizeof keys / sizeof keys[0], prefix, "options", re))
        return ERR_INVALID;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(op, "seed");
    if (opt_enum(op, "mode", prefix, "options.mode", modes, &o->mode, re) ||
        opt_int(op, "trials", prefix, "options.trials", 1, 20, &o->trials, re) ||
        opt_bool(op, "exact", prefix, "options.exact", &o->exact, re) ||
        opt_enum(op, "precision", prefix, "options.precision", precisions, &o->precision, re) ||
        opt_bool(op, "timing", prefix, "options.timing", &o->timing, re) ||
        opt_int(op, "timing_budget_ms", prefix, "options.timing_budget_ms", 100, 60000, &o->budget,
                re) ||
        opt_bool(op, "baselines", prefix, "options.baselines", &o->baselines, re) ||
        /* null is how the canonical options show "not given": it round-trips */
        (!cJSON_IsNull(seed) &&
         opt_int(op, "seed", prefix, "options.seed", 0, (1L << 30) - 1, &o->seed, re)) ||
        opt_int(op, "priority", prefix, "options.priority", 0, 9, &o->priority, re))
        return ERR_INVALID;
    int rc = read_metrics(op, prefix, o, re);
    return rc ? rc : read_lint(op, prefix, o, re);
}

/* j[key] = a copy of v, or null when v is NULL; the added item, NULL when out of memory. */
static cJSON *add_copy(cJSON *j, const char *key, const cJSON *v)
{
    if (!v)
        return cJSON_AddNullToObject(j, key);
    cJSON *c = cJSON_Duplicate(v, 1);
    if (c && cJSON_AddItemToObject(j, key, c))
        return c;
    cJSON_Delete(c);
    return NULL;
}

static char *options_json(const struct opts *o)
{
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (!j || !cJSON_AddStringToObject(j, "mode", o->mode) ||
        !cJSON_AddNumberToObject(j, "trials", (double)o->trials) ||
        !cJSON_AddBoolToObject(j, "exact", o->exact) ||
        !cJSON_AddStringToObject(j, "precision", o->precision) ||
        !cJSON_AddBoolToObject(j, "timing", o->timing) ||
        !cJSON_AddNumberToObject(j, "timing_budget_ms", (double)o->budget) ||
        !cJSON_AddBoolToObject(j, "baselines", o->baselines) ||
        !add_copy(j, "metrics", o->metrics) ||
        !(o->seed < 0 ? cJSON_AddNullToObject(j, "seed")
                      : cJSON_AddNumberToObject(j, "seed", (double)o->seed)))
        goto out;
    cJSON *lint = o->lint ? cJSON_Duplicate(o->lint, 1) : NULL;
    if (o->lint && (!lint || !cJSON_AddItemToObject(j, "lint", lint))) {
        cJSON_Delete(lint);
        goto out;
    }
    text = cJSON_PrintUnformatted(j);
out:
    cJSON_Delete(j);
    return text;
}

/* The cache key: one part per line, the ingest line last when there is one. */
static void cache_key(const char *language, const char *sha, const struct request_job *j,
                      const char *line, char hex[65])
{
    struct sha256 c;
    sha256_init(&c);
    const char *parts[] = {"kgrade-cache/1", language, sha, j->spec_json, j->options_json,
                           KGRADE_VERSION, line};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && parts[i]; i++) {
        if (i)
            sha256_update(&c, "\n", 1);
        sha256_update(&c, parts[i], strlen(parts[i]));
    }
    sha256_final_hex(&c, hex);
}

int request_parse(const cJSON *req, size_t max_source, const char *prefix, int default_priority,
                  struct request_job *out, struct request_err *re)
{
    return request_parse_bounded(req, max_source, REQUEST_MAX_TEXT, prefix, default_priority, out, re);
}

int request_parse_bounded(const cJSON *req, size_t max_source, size_t max_text, const char *prefix,
                          int default_priority, struct request_job *out, struct request_err *re)
{
    static const char *const keys[] = {"problem", "candidate", "options", "force"};
    struct conv_spec spec;
    struct opts o = {.mode = "full", .precision = "tf32", .exact = 1, .timing = 1, .baselines = 1,
                     .metrics = NULL, .trials = 3, .budget = 2000, .seed = -1,
                     .priority = default_priority};
    int force = 0, nomem = 0;
    cJSON *sj = NULL;
    int rc = ERR_INVALID;

    memset(out, 0, sizeof *out);
    if (!prefix)
        prefix = "";
    if (!cJSON_IsObject(req)) {
        request_err_set(re, 422, "invalid_field", prefix, "%s%sthe request must be a JSON object",
                        prefix, prefix[0] ? ": " : "");
        goto out;
    }
    if (check_keys(req, keys, sizeof keys / sizeof keys[0], prefix, "", re) ||
        read_problem(req, prefix, out, &spec, re) ||
        (rc = read_candidate(req, prefix, max_source, max_text, &out->cand, re)) ||
        (rc = read_options(req, prefix, &o, re)) ||
        (rc = opt_bool(req, "force", prefix, "force", &force, re)))
        goto out;

    rc = ERR_NOMEM;
    request_err_set(re, 500, "internal", NULL, "out of memory");
    snprintf(out->mode, sizeof out->mode, "%s", o.mode);
    const struct intake *t = &out->cand;
    /* the baseline runs beside a full evaluation of a candidate that has code */
    int with_base = !strcmp(o.mode, "full") && t->base_language && strcmp(t->language, "none") != 0;
    sj = spec_to_json(&spec);
    out->spec_json = sj ? cJSON_PrintUnformatted(sj) : NULL;
    out->options_json = options_json(&o);
    out->key_line = intake_key_line(t, with_base, &nomem);
    if (!out->spec_json || !out->options_json || nomem)
        goto out;
    out->metrics = o.metrics;
    o.metrics = NULL;
    sha256_hex(t->source, t->source_len, out->source_sha256);

    struct store_newjob *j = &out->job;
    j->problem = out->problem;
    j->spec_json = out->spec_json;
    j->source = t->source;
    j->source_len = t->source_len;
    j->source_sha256 = out->source_sha256;
    j->language = t->language;
    j->options_json = out->options_json;
    j->mode = out->mode;
    j->priority = (int)o.priority;
    j->force = force;
    j->ingest_json = t->ingest_json;
    cache_key(j->language, out->source_sha256, out, out->key_line, out->cache_key);
    j->cache_key = out->cache_key;
    if (with_base) {
        struct store_newjob *b = &out->base;
        *b = *j;
        b->source = t->in.current_code;
        b->source_len = t->in.current_code_len;
        sha256_hex(b->source, b->source_len, out->base_sha256);
        b->source_sha256 = out->base_sha256;
        b->language = t->base_language;
        b->priority = j->priority + 1;   /* claimed before the candidate */
        b->ingest_json = t->base_ingest_json;
        cache_key(b->language, out->base_sha256, out, NULL, out->base_key);
        b->cache_key = out->base_key;
        j->baseline = b;
    }
    rc = 0;
out:
    cJSON_Delete(sj);
    cJSON_Delete(o.lint);
    cJSON_Delete(o.metrics);
    if (rc)
        request_job_free(out);
    return rc;
}

void request_job_free(struct request_job *j)
{
    free(j->spec_json);
    free(j->options_json);
    free(j->key_line);
    cJSON_Delete(j->metrics);
    intake_free(&j->cand);
    memset(j, 0, sizeof *j);
}
