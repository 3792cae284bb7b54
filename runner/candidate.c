/* candidate.c — directives, options, NVRTC, kernel symbols (see candidate.h).
 *
 * The order is the order of cost: directive syntax first (microseconds), then binding to the
 * problem, then the compile (milliseconds to seconds), then the cubin's symbol table. Each failure
 * stops the pipeline and is classified for the verdict: the candidate's fault (directive or
 * compile error) or ours (anything else). */
#include "candidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cubin.h"

int64_t candidate_arch_smem(int arch)
{
    if (arch == 90 || arch == 100)
        return 232448;   /* 227 KiB */
    if (arch == 80 || arch == 87)
        return 166912;   /* 163 KiB */
    if (arch == 86 || arch == 89 || arch == 120)
        return 101376;   /* 99 KiB */
    return 49152;
}

int candidate_arch_sms(int arch)
{
    return arch == 90 ? 132 : arch == 80 ? 108 : 128;   /* H100/H200 SXM, A100, RTX 4090 */
}

static int add_opt(struct candidate *c, const char *text, int line, struct err *e)
{
    if (c->nopts >= CANDIDATE_MAX_OPTIONS || strlen(text) >= sizeof c->opt_text[0])
        return err_set(e, ERR_LIMIT, "directive", "line %d: option '%.40s...' is longer than %zu characters", line,
                       text, sizeof c->opt_text[0] - 1);
    memcpy(c->opt_text[c->nopts++], text, strlen(text) + 1);
    return 0;
}

static void problem_defines(struct candidate *c, const struct conv_spec *s)
{
    struct spec_derived d;
    spec_derive(s, &d);
    const struct {
        const char *name;
        long long v;
    } defs[] = {{"N", s->n},       {"C_IN", s->c_in},   {"H", s->h},         {"W", s->w},
                {"C_OUT", s->c_out}, {"KH", s->kh},     {"KW", s->kw},       {"SH", s->stride_h},
                {"SW", s->stride_w}, {"PH", s->pad_h},  {"PW", s->pad_w},    {"DH", s->dil_h},
                {"DW", s->dil_w},  {"G", s->groups},    {"H_OUT", d.h_out},  {"W_OUT", d.w_out},
                {"HAS_BIAS", s->bias}, {"DTYPE", (long long)s->dtype}};
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        snprintf(c->opt_text[c->nopts++], sizeof c->opt_text[0], "-DKG_%s=%lld", defs[i].name, defs[i].v);
}

/* The first line of an NVRTC log that reports an error ("candidate.cu(L): error: ...",
 * "... catastrophic error: ...", a ptxas error), for the one-line message; *line is L when the
 * line names one. */
static void first_error(const char *log, int *line, char *buf, size_t cap)
{
    buf[0] = 0;
    for (const char *p = log; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (memmem(p, n, "error", 5)) {
            if (!strncmp(p, "candidate.cu(", 13))
                *line = atoi(p + 13);
            snprintf(buf, cap, ": %.*s", (int)(n < 200 ? n : 200), p);
            return;
        }
        p = eol ? eol + 1 : NULL;
    }
}

int candidate_build(struct candidate *c, const char *src, size_t len, const struct candidate_opts *o, struct err *e)
{
    int rc;
    memset(c, 0, sizeof *c);
    if ((rc = directive_parse(src, len, &c->dirs, &c->err_line, e))) {
        c->failure = CANDIDATE_DIRECTIVE;
        return rc;
    }
    if (o->spec) {
        struct directive_env env;
        struct directive_limits lim = {o->max_smem ? o->max_smem : candidate_arch_smem(o->arch),
                                       o->max_workspace >= 0 ? o->max_workspace : DIRECTIVE_DEFAULT_MAX_WORKSPACE};
        directive_env_from_spec(o->spec, o->sms ? o->sms : candidate_arch_sms(o->arch), &env);
        if ((rc = directive_bind(c->dirs, &env, &lim, &c->plan, &c->err_line, e))) {
            c->failure = CANDIDATE_DIRECTIVE;
            return rc;
        }
        c->bound = true;
        problem_defines(c, o->spec);
    }
    for (int i = 0; i < directive_count_options(c->dirs); i++)
        if ((rc = add_opt(c, directive_option(c->dirs, i), directive_option_line(c->dirs, i), e))) {
            c->failure = CANDIDATE_DIRECTIVE;
            c->err_line = directive_option_line(c->dirs, i);
            return rc;
        }

    const char *opts[CANDIDATE_MAX_OPTIONS];
    for (int i = 0; i < c->nopts; i++)
        opts[i] = c->opt_text[i];
    struct jit_program p = {.name = "candidate.cu", .source = src, .n_options = c->nopts, .options = opts};
    rc = jit_compile(&p, o->arch, o->cache_dir, o->log_cap ? o->log_cap : 64 << 10, &c->jit, e);
    if (rc == ERR_COMPILE || rc == ERR_INVALID) {   /* ERR_INVALID: NVRTC refused an option */
        char first[256], m[sizeof e->msg];
        c->failure = CANDIDATE_COMPILE;
        first_error(c->jit.log, &c->err_line, first, sizeof first);
        snprintf(m, sizeof m, "%s", e->msg);
        const char *hint = c->jit.log && strstr(c->jit.log, "device-side kernel launch")
                               ? " (dynamic parallelism is refused: the worker is the only host code)"
                               : "";
        return err_set(e, ERR_COMPILE, rc == ERR_INVALID ? "options" : "source", "%s%s%s", m, first, hint);
    }
    if (rc)
        return rc;
    c->compiled = true;
    for (int i = 0; i < directive_count_launches(c->dirs); i++) {
        if ((rc = cubin_find_kernel(c->jit.image, c->jit.size, directive_launch_kernel(c->dirs, i), c->symbols[i],
                                    sizeof c->symbols[i], e))) {
            if (rc == ERR_NOTFOUND || rc == ERR_INVALID || rc == ERR_LIMIT) {
                c->failure = CANDIDATE_DIRECTIVE;
                c->err_line = directive_launch_line(c->dirs, i);
                char m[sizeof e->msg];
                snprintf(m, sizeof m, "%s", e->msg);
                err_set(e, rc, "directive", "line %d: launch %s: %s", c->err_line, directive_launch_kernel(c->dirs, i), m);
            }
            return rc;
        }
    }
    return 0;
}

void candidate_free(struct candidate *c)
{
    if (!c)
        return;
    directive_free(c->dirs);
    jit_result_free(&c->jit);
    memset(c, 0, sizeof *c);
}

cJSON *candidate_compile_json(const struct candidate *c, int arch)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", c->compiled);
    cJSON_AddNumberToObject(o, "arch", arch);
    cJSON_AddBoolToObject(o, "cached", c->jit.cached);
    cJSON_AddNumberToObject(o, "nvrtc_ms", c->jit.compile_ms);
    cJSON *opts = cJSON_AddArrayToObject(o, "options");
    for (int i = 0; i < c->nopts; i++)
        cJSON_AddItemToArray(opts, cJSON_CreateString(c->opt_text[i]));
    cJSON_AddStringToObject(o, "log", c->jit.log ? c->jit.log : "");
    cJSON_AddBoolToObject(o, "log_truncated", c->jit.log_truncated);
    if (c->compiled)
        cJSON_AddNumberToObject(o, "cubin_bytes", (double)c->jit.size);
    return o;
}
