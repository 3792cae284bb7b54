/* workcmd.c — the command line of a worker run (see workcmd.h).
 *
 * DESIGN
 *   The canonical options JSON (request.c) is the only input besides the claim: every value was
 *   validated at submission, and each is read here with its default should a row of an older
 *   schema lack it. options.lint becomes one --lint argument, its rules in the options' (sorted)
 *   order; options.metrics one --metrics argument (GPU lane only: the CPU step collects nothing);
 *   the autotune limit comes from the prompt the job's ingest JSON holds. The CUDA lines
 *   are exactly what they were before Triton candidates existed.
 *
 * Does not: run anything or decide the sandbox's binds and wall clock (sched.c does). */
#include "workcmd.h"

#include <stdio.h>
#include <string.h>

#include "intake.h"

static int opt_int(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

static int opt_bool(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* options.metrics as the worker's --metrics value into buf: "a,b,c", "none" for [] (and for false,
 * the option's earlier form, in rows stored before it was a list); 0 when no flag is wanted (null,
 * absent, true: the worker's default list). */
static int metrics_arg(const cJSON *o, char *buf, size_t cap)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metrics"), *v;
    size_t n = 0;
    if (!cJSON_IsArray(m) && !cJSON_IsFalse(m))
        return 0;
    buf[0] = '\0';
    for (v = cJSON_IsArray(m) ? m->child : NULL; v; v = v->next) {
        int k = cJSON_IsString(v) ? snprintf(buf + n, cap - n, "%s%s", n ? "," : "", v->valuestring) : 0;
        if (k < 0 || (size_t)k >= cap - n) {
            buf[n] = '\0';   /* cannot happen within request.h's bounds; cut before the name */
            break;
        }
        n += (size_t)k;
    }
    if (n == 0)
        snprintf(buf, cap, "none");
    return 1;
}

static void add(struct workcmd *w, const char *s)
{
    if (w->n < (int)(sizeof w->v / sizeof w->v[0]) - 1)
        w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

/* --language triton, --python, --lint and --autotune-max, for either step. */
static void add_triton(const struct workcmd_ctx *x, struct workcmd *w, const cJSON *options, const cJSON *ingest)
{
    add(w, "--language"), add(w, "triton");
    if (x->python && x->python[0])
        add(w, "--python"), add(w, x->python);
    size_t n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(options, "lint")) {
        if (!cJSON_IsString(r) || n >= sizeof w->lint)
            continue;
        int k = snprintf(w->lint + n, sizeof w->lint - n, "%s%s=%s", n ? "," : "", r->string, r->valuestring);
        n = k > 0 ? n + (size_t)k : n;
    }
    if (n > 0 && n < sizeof w->lint)
        add(w, "--lint"), add(w, w->lint);
    int max = intake_autotune(cJSON_GetObjectItemCaseSensitive(ingest, "prompt"));
    if (max > 0) {
        snprintf(w->autotune, sizeof w->autotune, "%d", max);
        add(w, "--autotune-max"), add(w, w->autotune);
    }
}

void workcmd_build(const struct workcmd_ctx *x, const struct store_claim *c, const cJSON *opts,
                   const cJSON *ingest, struct workcmd *w)
{
    const char *problem = c->problem[0] && strcmp(c->problem, "inline") ? c->problem : c->spec_json;
    memset(w, 0, sizeof *w);
    w->python = strcmp(c->language, "triton") == 0;
    w->profile = w->python ? "python" : NULL;
    add(w, x->worker);
    if (x->device < 0 && w->python) {   /* lint and syntax: no GPU, no problem, no cache */
        add(w, "compile");
        add_triton(x, w, opts, ingest);
        add(w, "--record-fd"), add(w, "3");
        add(w, "--compact");
        add(w, "-");
        return;
    }
    if (x->device < 0) {
        snprintf(w->arch, sizeof w->arch, "sm_%d", x->arch);
        add(w, "compile"), add(w, "--arch"), add(w, w->arch);
    } else {
        snprintf(w->dev, sizeof w->dev, "%d", x->device);
        add(w, "eval"), add(w, "--device"), add(w, w->dev);
        if (w->python)
            add_triton(x, w, opts, ingest);
        snprintf(w->trials, sizeof w->trials, "%d", opt_int(opts, "trials", 3));
        add(w, "--trials"), add(w, w->trials);
        if (!opt_bool(opts, "exact", 1))
            add(w, "--no-exact");
        const char *prec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(opts, "precision"));
        if (prec && (!strcmp(prec, "tf32") || !strcmp(prec, "fp32") || !strcmp(prec, "exact"))) {
            snprintf(w->precision, sizeof w->precision, "%s", prec);
            add(w, "--precision"), add(w, w->precision);
        }
        if (!opt_bool(opts, "timing", 1))
            add(w, "--no-timing");
        if (!opt_bool(opts, "baselines", 1))
            add(w, "--no-baselines");
        snprintf(w->budget, sizeof w->budget, "%d", opt_int(opts, "timing_budget_ms", 2000));
        add(w, "--budget-ms"), add(w, w->budget);
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(opts, "seed");
        if (cJSON_IsNumber(seed)) {
            snprintf(w->seed, sizeof w->seed, "%.0f", seed->valuedouble);
            add(w, "--seed"), add(w, w->seed);
        }
        if (metrics_arg(opts, w->metrics, sizeof w->metrics))
            add(w, "--metrics"), add(w, w->metrics);
    }
    add(w, "--problem"), add(w, problem);
    add(w, "--cache"), add(w, x->shared);
    add(w, "--candidate-cache"), add(w, x->cand);
    add(w, "--record-fd"), add(w, "3");
    if (x->sandboxed)
        add(w, "--seal");
    add(w, "--compact");
    if (x->device >= 0)
        add(w, "--source");
    add(w, "-");                /* the source comes on stdin */
}
