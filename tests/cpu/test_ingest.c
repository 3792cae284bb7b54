/* test_ingest.c — the ingest library (runner/ingest.c, extract.c, prompt.c) without a daemon:
 *   ingest/cases.tsv   model answers to the seed prompts through every request form: the form,
 *                      the language and where it came from, the block chosen, the code's first
 *                      line, its hash or a substring, the extraction report, the no_code message;
 *                      every text row runs through ingest_candidate and ingest_texts alike;
 *   in this file       the two seed prompts parsed to exact values and three odd ones (no
 *                      sections, thresholds without %, broken NCU JSON), request form errors with
 *                      their codes and fields, size bounds, fences and the detector, and 1 MB
 *                      responses (generated here) extracted in under 50 ms each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "err.h"
#include "extract.h"
#include "ingest.h"
#include "prompt.h"
#include "sha256.h"

#define MAX_COLS 12
#define MAX_SOURCE (256 * 1024)
#define MAX_TEXT (2 * 1024 * 1024)

static const char *data_dir;

/* dir/ingest/name into a NUL-terminated buffer (the caller frees); NULL and a failed check when
 * it cannot be read. */
static char *slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ingest/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static const cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = path_get(o, a, b);
    return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "null" : "(absent)";
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = path_get(o, a, b);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsNull(v) ? -1 : -2;
}

/* "\n", "\t", "\\" escapes of a table cell, in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : '\\';
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* ---- cases.tsv ------------------------------------------------------------------------------ */

static void check_flags(char *flags, const struct ingest *in)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(in->info, "extraction");
    if (strcmp(flags, "-") == 0)
        flags[0] = '\0';
    int crlf = 0, unterminated = 0, noextraction = 0;
    for (char *f = strtok(flags, ","); f; f = strtok(NULL, ",")) {
        if (strcmp(f, "crlf") == 0)
            crlf = 1;
        else if (strcmp(f, "unterminated") == 0)
            unterminated = 1;
        else if (strcmp(f, "noextraction") == 0)
            noextraction = 1;
        else if (strncmp(f, "blocks=", 7) == 0)
            CHECK_INT(num_at(x, "blocks", NULL), atoi(f + 7));
        else if (strncmp(f, "lines=", 6) == 0)
            CHECK_INT(num_at(x, "lines", NULL), atoi(f + 6));
        else if (strncmp(f, "prose=", 6) == 0)
            CHECK_INT(num_at(x, "prose_bytes", NULL), atoi(f + 6));
        else if (strncmp(f, "rule=", 5) == 0)
            CHECK_STR(str_at(x, "rule", NULL), f + 5);
        else if (strncmp(f, "asked=", 6) == 0)
            CHECK_STR(str_at(x, "asked", NULL), f + 6);
        else if (strncmp(f, "target=", 7) == 0)
            CHECK_STR(str_at(in->prompt, "target_gpu", NULL), f + 7);
        else
            CHECK(!"an unknown flag in cases.tsv");
    }
    if (noextraction) {
        CHECK(cJSON_IsNull(x));
        return;
    }
    CHECK(cJSON_IsObject(x));
    CHECK(cJSON_IsBool(path_get(x, "crlf", NULL)) && cJSON_IsTrue(path_get(x, "crlf", NULL)) == crlf);
    CHECK(cJSON_IsBool(path_get(x, "unterminated", NULL)) &&
          cJSON_IsTrue(path_get(x, "unterminated", NULL)) == unterminated);
    static const char *const keys[] = {"asked", "blocks", "chosen", "rule", "tag", "line",
                                       "lines", "unterminated", "crlf", "prose_bytes"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(cJSON_GetObjectItemCaseSensitive(x, keys[i]) != NULL);
}

/* One table row against what ingest read (rc, in, ie). */
static void check_row(char **c, int rc, const struct ingest *in, const struct ingest_err *ie)
{
    const char *lang = c[4];
    if (strncmp(lang, "error:", 6) == 0) {
        CHECK_INT(rc, ERR_INVALID);
        CHECK_STR(ie->code, lang + 6);
        CHECK_STR(ie->field, c[8]);
        CHECK(strncmp(ie->msg, ie->field, strlen(ie->field)) == 0);
        return;
    }
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "  %s %s: %s\n", ie->code, ie->field, ie->msg);
        return;
    }
    CHECK_STR(in->form, c[1]);
    CHECK_STR(str_at(in->info, "form", NULL), c[1]);
    CHECK_STR(ingest_lang_name(in->lang), lang);
    CHECK_STR(str_at(in->info, "language", NULL), lang);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(in->info, "extraction");
    if (strcmp(lang, "none") == 0) {
        CHECK(in->source == NULL);
        CHECK(strstr(in->no_code, c[8]) != NULL);
        if (!strstr(in->no_code, c[8]))
            fprintf(stderr, "  no_code: \"%s\"\n", in->no_code);
        CHECK(cJSON_IsNull(path_get(x, "chosen", NULL)));
        CHECK_STR(str_at(in->info, "language_from", NULL), "null");
        check_flags(c[10], in);
        return;
    }
    CHECK(in->source != NULL);
    if (!in->source)
        return;
    CHECK_STR(str_at(in->info, "language_from", NULL), c[5]);
    CHECK_INT(strlen(in->source), in->source_len);
    CHECK(strchr(in->source, '\r') == NULL);
    CHECK(in->no_code[0] == '\0');
    if (strcmp(c[6], "-") == 0)
        CHECK(!cJSON_IsNumber(path_get(x, "chosen", NULL)));
    else
        CHECK_INT(num_at(x, "chosen", NULL), atoi(c[6]));
    if (strcmp(c[7], "-") != 0)
        CHECK_INT(num_at(x, "line", NULL), atoi(c[7]));
    size_t fl = strcspn(in->source, "\n");
    CHECK(strlen(c[8]) == fl && strncmp(in->source, c[8], fl) == 0);
    if (strlen(c[8]) != fl || strncmp(in->source, c[8], fl) != 0)
        fprintf(stderr, "  first line: \"%.*s\"\n", (int)fl, in->source);
    if (strncmp(c[9], "sha256:", 7) == 0) {
        char hex[65];
        sha256_hex(in->source, in->source_len, hex);
        CHECK_STR(hex, c[9] + 7);
    } else if (strncmp(c[9], "has:", 4) == 0) {
        CHECK(strstr(in->source, c[9] + 4) != NULL);
    }
    if (x && !cJSON_IsNull(x)) {
        const char *s = in->source;
        size_t lines = 0;
        for (; *s; s++)
            lines += *s == '\n';
        CHECK_INT(num_at(x, "lines", NULL), lines);
        CHECK(in->source_len > 0 && in->source[in->source_len - 1] == '\n');
    }
    check_flags(c[10], in);
}

static void run_cases(void)
{
    struct check_table t;
    if (!check_table_open(&t, data_dir, "ingest/cases.tsv"))
        return;
    char *c[MAX_COLS];
    int n, rows = 0, files = 0;
    while ((n = check_table_next(&t, c, MAX_COLS)) >= 0) {
        rows++;
        CHECK_INT(n, 11);
        if (n != 11) {
            check_table_where(&t);
            continue;
        }
        unescape(c[8]);
        unescape(c[9]);
        size_t len = 0, plen = 0;
        char *text = slurp(c[0], &len), *ptext = NULL;
        int is_json = strstr(c[0], ".json") != NULL;
        if (text && !is_json && strcmp(c[2], "-") != 0)
            ptext = slurp(c[2], &plen);
        if (!text || (!is_json && strcmp(c[2], "-") != 0 && !ptext)) {
            free(text);
            free(ptext);
            check_table_where(&t);
            continue;
        }
        files++;
        cJSON *cand = NULL;
        if (is_json) {
            cand = cJSON_ParseWithLength(text, len);
        } else {
            cand = cJSON_CreateObject();
            if (ptext)
                cJSON_AddStringToObject(cand, "prompt", ptext);
            cJSON_AddStringToObject(cand, "response", text);
            if (strcmp(c[3], "auto") != 0)
                cJSON_AddStringToObject(cand, "language", c[3]);
        }
        CHECK(cand != NULL);
        struct ingest in;
        struct ingest_err ie;
        memset(&ie, 0, sizeof ie);
        int rc = ingest_candidate(cand, MAX_SOURCE, MAX_TEXT, &in, &ie);
        check_row(c, rc, &in, &ie);
        if (!is_json) {   /* the plain-text entry point reads the same */
            struct ingest in2;
            struct ingest_err ie2;
            int rc2 = ingest_texts(ptext, plen, text, len, c[3], MAX_SOURCE, &in2, &ie2);
            CHECK_INT(rc2, rc);
            CHECK_INT(in2.lang, in.lang);
            CHECK((in.source == NULL && in2.source == NULL) ||
                  (in.source && in2.source && strcmp(in.source, in2.source) == 0));
            CHECK_STR(in2.no_code, in.no_code);
            char *a = cJSON_PrintUnformatted(in.info), *b = cJSON_PrintUnformatted(in2.info);
            CHECK_STR(a, b);
            free(a);
            free(b);
            ingest_free(&in2);
        }
        ingest_free(&in);
        cJSON_Delete(cand);
        free(text);
        free(ptext);
        check_table_where(&t);
    }
    CHECK(rows >= 40);
    CHECK_INT(files, rows);
    check_table_close(&t);
}

/* ---- prompts -------------------------------------------------------------------------------- */

static int parse_prompt(const char *name, struct prompt *p)
{
    size_t len, nlen;
    int cr;
    size_t at;
    char *raw = slurp(name, &len), *text = NULL;
    memset(p, 0, sizeof *p);
    if (!raw)
        return -1;
    CHECK_INT(extract_normalize(raw, len, &text, &nlen, &cr, &at), 0);
    int rc = text ? prompt_parse(text, nlen, p) : -1;
    CHECK_INT(rc, 0);
    free(raw);
    free(text);
    return rc;
}

static const char *item(const cJSON *arr, int i)
{
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    return cJSON_IsString(v) ? v->valuestring : "(not a string)";
}

static void check_metric(const cJSON *m, const char *name, const char *op, double value,
                         const char *unit)
{
    CHECK_STR(str_at(m, "name", NULL), name);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "threshold");
    if (!op) {
        CHECK(cJSON_IsNull(t));
        return;
    }
    CHECK_STR(str_at(t, "op", NULL), op);
    CHECK_NEAR(num_at(t, "value", NULL), value, 0);
    CHECK_STR(str_at(t, "unit", NULL), unit ? unit : "null");
}

static void check_common_seed(const cJSON *j)
{
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(j, "critical_rules");
    CHECK_INT(cJSON_GetArraySize(cr), 7);
    CHECK_STR(item(cr, 0), "EVERY kernel function MUST have `@triton.jit` decorator");
    CHECK_STR(item(cr, 6), "mask shape MUST match data shape in tl.load/tl.store");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "output_format");
    CHECK_STR(str_at(of, "language", NULL), "python");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(of, "items");
    CHECK_INT(cJSON_GetArraySize(items), 4);
    CHECK_STR(item(items, 0), "Imports: torch, torch.nn, triton, triton.language as tl");
    CHECK_STR(item(items, 3), "class ModelNew(nn.Module) that calls your kernels");
    const cJSON *fb = cJSON_GetObjectItemCaseSensitive(of, "forbidden");
    CHECK_INT(cJSON_GetArraySize(fb), 4);
    CHECK_STR(item(fb, 0), "testing code");
    CHECK_STR(item(fb, 1), "if __name__");
    CHECK_STR(item(fb, 2), "get_inputs");
    CHECK_STR(item(fb, 3), "get_init_inputs");
    CHECK_STR(str_at(j, "target_gpu", NULL), "4090");
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "ncu_metrics_error") == NULL);
}

static void run_seed_prompts(void)
{
    struct prompt p;
    if (parse_prompt("prompt_002.txt", &p) == 0) {
        const cJSON *j = p.json, *st = cJSON_GetObjectItemCaseSensitive(j, "stage");
        check_common_seed(j);
        CHECK_STR(str_at(st, "focus", NULL), "BLOCK_M/N/K selection.");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "metrics");
        CHECK_INT(cJSON_GetArraySize(m), 1);
        check_metric(cJSON_GetArrayItem(m, 0), "sm__warps_active.avg.pct_of_peak_sustained_active",
                     ">", 50, "%");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(st, "rules");
        CHECK_INT(cJSON_GetArraySize(r), 5);
        CHECK_STR(item(r, 0), "BLOCK_* must be powers of 2");
        CHECK_STR(item(r, 2), "FP32: M/N \xe2\x88\x88 {32,64,128,256}, K \xe2\x88\x88 {16,32,64}");
        const cJSON *secs = cJSON_GetObjectItemCaseSensitive(st, "sections");
        CHECK_INT(cJSON_GetArraySize(secs), 1);
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(secs, "Autotune");
        CHECK_INT(cJSON_GetArraySize(at), 2);
        CHECK_STR(item(at, 0), "Max 2-3 configs to reduce compilation time");
        CHECK_INT(num_at(st, "autotune_max_configs", NULL), 3);
        CHECK_STR(str_at(j, "current_code", "language"), "triton");
        CHECK_INT(num_at(j, "current_code", "lines"), 392);
        CHECK_STR(str_at(j, "current_code", "sha256"),
                  "de29a3a5dba472a5d2086b32e230b0d04a45638308b43c313e8ab9e9f7b9c4a9");
        const cJSON *k = path_get(j, "ncu_metrics", "conv2d_fwd_kernel");
        CHECK_INT(cJSON_GetArraySize(path_get(j, "ncu_metrics", NULL)), 1);
        CHECK_INT(cJSON_GetArraySize(k), 5);
        CHECK_NEAR(num_at(k, "sm__throughput.avg.pct_of_peak_sustained_elapsed", NULL), 55.6, 0);
        CHECK_NEAR(num_at(k, "launch__grid_size", NULL), 63500, 0);
        CHECK_NEAR(num_at(k, "sm__warps_active.avg.pct_of_peak_sustained_active", NULL), 24.93, 0);
        CHECK_NEAR(num_at(k, "lts__t_sector_hit_rate.pct", NULL), 98.67, 0);
        CHECK_INT(p.asked, INGEST_TRITON);
        CHECK_INT(p.current_lang, INGEST_TRITON);
        CHECK(p.current_code && strncmp(p.current_code, "import math\nimport torch\n", 25) == 0);
        CHECK(p.current_code && strstr(p.current_code, "            groups=self.groups,\n        )\n") != NULL);
        /* the object's keys, in their documented order */
        static const char *const order[] = {"target_gpu", "stage", "current_code", "ncu_metrics",
                                            "critical_rules", "output_format"};
        const cJSON *e = j ? j->child : NULL;
        for (size_t i = 0; i < 6; i++, e = e ? e->next : NULL)
            CHECK_STR(e ? e->string : NULL, order[i]);
    }
    prompt_free(&p);

    if (parse_prompt("prompt_003.txt", &p) == 0) {
        const cJSON *j = p.json, *st = cJSON_GetObjectItemCaseSensitive(j, "stage");
        check_common_seed(j);
        CHECK_STR(str_at(st, "focus", NULL), "Grid layout & parallelism.");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "metrics");
        CHECK_INT(cJSON_GetArraySize(m), 2);
        check_metric(cJSON_GetArrayItem(m, 0), "sm__throughput.avg.pct_of_peak_sustained_elapsed",
                     ">", 60, "%");
        check_metric(cJSON_GetArrayItem(m, 1), "launch__grid_size", NULL, 0, NULL);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(st, "rules");
        CHECK_INT(cJSON_GetArraySize(r), 7);
        CHECK_STR(item(r, 0), "1D: (cdiv(N, BLOCK))");
        CHECK_STR(item(r, 3), ">3D: flatten ONLY independent dims");
        CHECK_STR(item(r, 6), "Change grid only if SM utilization is clearly low");
        const cJSON *secs = cJSON_GetObjectItemCaseSensitive(st, "sections");
        CHECK_INT(cJSON_GetArraySize(secs), 2);
        CHECK_STR(secs && secs->child ? secs->child->string : NULL, "Safety");
        const cJSON *sf = cJSON_GetObjectItemCaseSensitive(secs, "Safety");
        CHECK_INT(cJSON_GetArraySize(sf), 4);
        CHECK_STR(item(sf, 1), "grid=(G0,G1,G2) must match tl.program_id(0/1/2)");
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(secs, "Autotune");
        CHECK_INT(cJSON_GetArraySize(at), 4);
        CHECK_STR(item(at, 1), "If autotuning BLOCK_*, use grid=lambda META: (...)");
        CHECK_INT(num_at(st, "autotune_max_configs", NULL), 3);
        CHECK_STR(str_at(j, "current_code", "language"), "triton");
        CHECK_INT(num_at(j, "current_code", "lines"), 259);
        CHECK_STR(str_at(j, "current_code", "sha256"),
                  "dfd11c9ac87e846da8ee990b2616945c62f9c4bf4cfb670feb96988816cb5ede");
        const cJSON *k = path_get(j, "ncu_metrics", "conv2d_nchw_implicit_gemm_kernel");
        CHECK_INT(cJSON_GetArraySize(k), 5);
        CHECK_NEAR(num_at(k, "sm__throughput.avg.pct_of_peak_sustained_elapsed", NULL), 83.17, 0);
        CHECK_NEAR(num_at(k, "launch__grid_size", NULL), 261120, 0);
        CHECK_NEAR(num_at(k, "dram__throughput.avg.pct_of_peak_sustained_elapsed", NULL), 26.29, 0);
        CHECK(p.current_code && strncmp(p.current_code, "import torch, torch.nn as nn, triton", 36) == 0);
    }
    prompt_free(&p);
}

static void run_odd_prompts(void)
{
    struct prompt p;
    /* plain prose: every field null, never an error */
    if (parse_prompt("prompt_nosections.txt", &p) == 0) {
        static const char *const keys[] = {"target_gpu", "stage", "current_code", "ncu_metrics",
                                           "critical_rules", "output_format"};
        for (size_t i = 0; i < 6; i++)
            CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p.json, keys[i])));
        CHECK_INT(cJSON_GetArraySize(p.json), 6);
        CHECK(p.current_code == NULL);
        CHECK_INT(p.asked, INGEST_NONE);
    }
    prompt_free(&p);

    /* thresholds without %, a bold header, ~~~ current code, ```py output fence, no NCU section */
    if (parse_prompt("prompt_nopct.txt", &p) == 0) {
        const cJSON *j = p.json, *st = cJSON_GetObjectItemCaseSensitive(j, "stage");
        CHECK_STR(str_at(j, "target_gpu", NULL), "H100");
        CHECK_STR(str_at(st, "focus", NULL), "Memory coalescing");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "metrics");
        CHECK_INT(cJSON_GetArraySize(m), 4);
        check_metric(cJSON_GetArrayItem(m, 0), "dram__throughput.avg.pct_of_peak_sustained_elapsed",
                     ">=", 0.8, NULL);
        check_metric(cJSON_GetArrayItem(m, 1), "gpu__time_duration.sum", "<", 200, "us");
        check_metric(cJSON_GetArrayItem(m, 2),
                     "smsp__sass_average_data_bytes_per_sector_mem_global_op_ld.pct", "<=", 12.5,
                     NULL);
        check_metric(cJSON_GetArrayItem(m, 3), "launch__registers_per_thread", "<=", 128, NULL);
        CHECK_INT(cJSON_GetArraySize(path_get(st, "rules", NULL)), 1);
        CHECK_INT(num_at(st, "autotune_max_configs", NULL), 4);
        CHECK(cJSON_IsNull(path_get(j, "ncu_metrics", NULL)));
        CHECK(path_get(j, "ncu_metrics_error", NULL) == NULL);
        CHECK(cJSON_IsNull(path_get(j, "critical_rules", NULL)));
        CHECK_STR(str_at(j, "current_code", "language"), "triton");
        CHECK_INT(num_at(j, "current_code", "lines"), 9);
        CHECK_STR(str_at(j, "output_format", "language"), "py");
        CHECK_INT(cJSON_GetArraySize(path_get(j, "output_format", "forbidden")), 0);
        CHECK_INT(p.asked, INGEST_TRITON);
    }
    prompt_free(&p);

    /* NCU JSON cut short: null plus an error; the sections after it still read */
    if (parse_prompt("prompt_badncu.txt", &p) == 0) {
        const cJSON *j = p.json;
        CHECK(cJSON_IsNull(path_get(j, "ncu_metrics", NULL)));
        CHECK(strstr(str_at(j, "ncu_metrics_error", NULL), "does not parse") != NULL);
        CHECK(cJSON_IsNull(path_get(j, "stage", NULL)));
        CHECK_STR(str_at(j, "target_gpu", NULL), "4090");
        CHECK_STR(str_at(j, "current_code", "language"), "triton");   /* untagged: detected */
        CHECK_INT(num_at(j, "current_code", "lines"), 9);
        CHECK_INT(cJSON_GetArraySize(path_get(j, "critical_rules", NULL)), 1);
        CHECK(cJSON_IsNull(path_get(j, "output_format", NULL)));
        const cJSON *e = j ? j->child : NULL;   /* the error follows ncu_metrics */
        while (e && strcmp(e->string, "ncu_metrics") != 0)
            e = e->next;
        CHECK(e && e->next && strcmp(e->next->string, "ncu_metrics_error") == 0);
    }
    prompt_free(&p);

    /* NCU JSON in a fence, the heading after it still read */
    static const char fenced[] = "[NCU PROFILING METRICS]\n```json\n{\"k\": {\"launch__grid_size\": 7}}\n```\n"
                                 "## OUTPUT FORMAT\n```cuda\n```\n";
    CHECK_INT(prompt_parse(fenced, strlen(fenced), &p), 0);
    CHECK_NEAR(num_at(path_get(p.json, "ncu_metrics", "k"), "launch__grid_size", NULL), 7, 0);
    CHECK_STR(str_at(p.json, "output_format", "language"), "cuda");
    CHECK_INT(p.asked, INGEST_CUDA);
    prompt_free(&p);

    /* a prompt asking for CUDA C */
    if (parse_prompt("prompt_cuda.txt", &p) == 0) {
        CHECK_INT(p.asked, INGEST_CUDA);
        CHECK_INT(p.current_lang, INGEST_CUDA);
        CHECK_STR(str_at(p.json, "output_format", "language"), "cuda");
        CHECK_INT(cJSON_GetArraySize(path_get(p.json, "output_format", "forbidden")), 2);
        CHECK(cJSON_IsNull(path_get(p.json, "stage", "autotune_max_configs")));
    }
    prompt_free(&p);

    /* through ingest: the current code comes back with the prompt */
    size_t plen;
    char *pt = slurp("prompt_002.txt", &plen);
    struct ingest in;
    struct ingest_err ie;
    if (pt && ingest_texts(pt, plen, "```python\nimport torch\n```\n", 27, NULL, MAX_SOURCE, &in,
                           &ie) == 0) {
        CHECK_INT(in.current_lang, INGEST_TRITON);
        CHECK(in.current_code != NULL && in.current_code_len == strlen(in.current_code));
        char hex[65];
        sha256_hex(in.current_code, in.current_code_len, hex);
        CHECK_STR(hex, "de29a3a5dba472a5d2086b32e230b0d04a45638308b43c313e8ab9e9f7b9c4a9");
        CHECK_STR(str_at(in.prompt, "target_gpu", NULL), "4090");
        ingest_free(&in);
    } else {
        CHECK(!"ingest_texts with the seed prompt");
    }
    /* the current code over max_source */
    CHECK_INT(ingest_texts(pt, plen, "x", 1, NULL, 4096, &in, &ie), ERR_INVALID);
    CHECK_STR(ie.code, "source_too_large");
    CHECK_STR(ie.field, "prompt");
    free(pt);
}

/* ---- request forms ---------------------------------------------------------------------------- */

static const struct form_case {
    const char *json;
    const char *code;    /* NULL: accepted */
    const char *field;   /* accepted: the form */
    const char *msg;     /* a substring of the message (accepted: of no_code, or NULL) */
} forms[] = {
    {"{\"foo\":1,\"response\":\"x\"}", "invalid_field", "foo",
     "foo: unknown field; expected prompt, response, messages, source, language"},
    {"{\"response\":\"a\",\"response\":\"b\"}", "invalid_field", "response", "given twice"},
    {"[]", "invalid_field", "", "must be an object"},
    {"{}", "missing_field", "source", "source: required, or one of the other forms: response, prompt and response, messages"},
    {"{\"language\":\"cuda\"}", "missing_field", "source", "required"},
    {"{\"prompt\":\"p\"}", "missing_field", "response", "required with prompt"},
    {"{\"source\":\"x\",\"response\":\"y\"}", "invalid_field", "response", "two request forms"},
    {"{\"messages\":[],\"prompt\":\"y\"}", "invalid_field", "prompt", "two request forms"},
    {"{\"source\":\"x\",\"messages\":[]}", "invalid_field", "messages", "two request forms"},
    {"{\"source\":\"\"}", "invalid_field", "source", "must not be empty"},
    {"{\"source\":\" \\n\\t\"}", "invalid_field", "source", "only blanks"},
    {"{\"source\":5}", "invalid_field", "source", "must be a string"},
    {"{\"response\":5}", "invalid_field", "response", "must be a string"},
    {"{\"prompt\":[],\"response\":\"x\"}", "invalid_field", "prompt", "must be a string"},
    {"{\"response\":\"x\",\"language\":\"rust\"}", "invalid_field", "language", "\"rust\""},
    {"{\"response\":\"x\",\"language\":3}", "invalid_field", "language", "\"auto\", \"triton\" or \"cuda\""},
    {"{\"messages\":{}}", "invalid_field", "messages", "must be an array"},
    {"{\"messages\":[]}", "missing_field", "messages", "messages: no assistant message"},
    {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "missing_field", "messages",
     "no assistant message"},
    {"{\"messages\":[5]}", "invalid_field", "messages[0]", "must be an object"},
    {"{\"messages\":[{\"content\":\"x\"}]}", "missing_field", "messages[0].role", "required"},
    {"{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", "invalid_field", "messages[0].role",
     "\"developer\""},
    {"{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":7}]}",
     "invalid_field", "messages[1].content", "a string or an array"},
    {"{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"text\"}]}]}",
     "missing_field", "messages[1].content[0].text", "must be a string"},
    {"{\"messages\":[{\"role\":\"user\",\"content\":[\"x\"]},{\"role\":\"assistant\",\"content\":\"a\"}]}",
     "invalid_field", "messages[0].content[0]", "must be an object"},
    {"{\"messages\":[{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]}",
     "invalid_field", "messages[1].content[0].text", "must be a string"},
    /* accepted */
    {"{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]}]}", NULL, "messages",
     "empty response"},
    {"{\"messages\":[{\"role\":\"tool\",\"content\":\"ok\"},{\"role\":\"assistant\"}]}", NULL,
     "messages", "empty response"},
    {"{\"response\":\"\"}", NULL, "response", "empty response"},
    {"{\"response\":\"x\",\"language\":\"auto\"}", NULL, "response", "only prose (1 words"},
    {"{\"source\":\"__global__ void k() {}\"}", NULL, "source", NULL},
    {"{\"source\":\"x\"}", NULL, "source", NULL},
    {"{\"prompt\":\"\",\"response\":\"```cuda\\n__global__ void k() {}\\n```\"}", NULL,
     "prompt_response", NULL},
};

static void run_forms(void)
{
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const struct form_case *f = &forms[i];
        int failed = check_failed;
        cJSON *cand = cJSON_Parse(f->json);
        CHECK(cand != NULL);
        struct ingest in;
        struct ingest_err ie;
        memset(&ie, 0, sizeof ie);
        int rc = ingest_candidate(cand, 64, 4096, &in, &ie);
        if (f->code) {
            CHECK_INT(rc, ERR_INVALID);
            CHECK_STR(ie.code, f->code);
            CHECK_STR(ie.field, f->field);
            CHECK(strstr(ie.msg, f->msg) != NULL);
            CHECK(strncmp(ie.msg, ie.field, strlen(ie.field)) == 0);   /* it names its field */
            CHECK(in.source == NULL && in.info == NULL && in.prompt == NULL);
        } else {
            CHECK_INT(rc, 0);
            CHECK_STR(in.form, f->field);
            if (f->msg)
                CHECK(strstr(in.no_code, f->msg) != NULL);
            else
                CHECK(in.source != NULL && in.lang == INGEST_CUDA);
        }
        if (check_failed != failed)
            fprintf(stderr, "  ^ form case %zu: %s -> %s %s: %s (no_code \"%s\")\n", i, f->json,
                    ie.code, ie.field, ie.msg, in.no_code);
        ingest_free(&in);
        cJSON_Delete(cand);
    }

    /* a source without any marker is CUDA C by default; the given language wins */
    cJSON *cand = cJSON_Parse("{\"source\":\"x\\r\\ny\"}");
    struct ingest in;
    struct ingest_err ie;
    CHECK_INT(ingest_candidate(cand, 64, 64, &in, &ie), 0);
    CHECK_STR(str_at(in.info, "language_from", NULL), "default");
    CHECK(cJSON_IsNull(path_get(in.info, "extraction", NULL)));
    CHECK_STR(in.source, "x\ny");
    ingest_free(&in);
    ingest_free(&in);   /* a freed struct is a no-op */
    cJSON_Delete(cand);

    /* bounds: each text by max_text, the code by max_source */
    static const struct {
        const char *json;
        size_t max_source, max_text;
        const char *field;
    } sizes[] = {
        {"{\"response\":\"0123456789\"}", 64, 9, "response"},
        {"{\"prompt\":\"0123456789\",\"response\":\"x\"}", 64, 9, "prompt"},
        {"{\"source\":\"0123456789\"}", 9, 64, "source"},
        {"{\"response\":\"```cuda\\n__global__ void k() {}\\n```\"}", 16, 64, "response"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"0123456789\"}]}",
         64, 9, "messages[1].content"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"01234\"},{\"type\":\"text\",\"text\":\"56789\"}]},{\"role\":\"assistant\",\"content\":\"x\"}]}",
         64, 9, "messages[0].content"},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cand = cJSON_Parse(sizes[i].json);
        CHECK_INT(ingest_candidate(cand, sizes[i].max_source, sizes[i].max_text, &in, &ie),
                  ERR_INVALID);
        CHECK_STR(ie.code, "source_too_large");
        CHECK_STR(ie.field, sizes[i].field);
        CHECK(strstr(ie.msg, "over the limit") != NULL);
        cJSON_Delete(cand);
    }
    /* exactly at the bounds */
    cand = cJSON_Parse("{\"response\":\"```cuda\\n__global__ void k() {}\\n```\"}");
    CHECK_INT(ingest_candidate(cand, 23, 36, &in, &ie), 0);   /* 22 bytes of code and its LF */
    CHECK_INT(in.source_len, 23);
    ingest_free(&in);
    cJSON_Delete(cand);

    /* plain texts: a NUL byte, a bad language, the prompt's language beats the override */
    CHECK_INT(ingest_texts(NULL, 0, "ab\0c", 4, NULL, 64, &in, &ie), ERR_INVALID);
    CHECK_STR(ie.code, "invalid_field");
    CHECK_STR(ie.field, "response");
    CHECK(strstr(ie.msg, "NUL byte (at byte 2)") != NULL);
    CHECK_INT(ingest_texts("p\0", 2, "x", 1, NULL, 64, &in, &ie), ERR_INVALID);
    CHECK_STR(ie.field, "prompt");
    CHECK_INT(ingest_texts(NULL, 0, "x", 1, "python", 64, &in, &ie), ERR_INVALID);
    CHECK_STR(ie.field, "language");
    CHECK_INT(ingest_texts(NULL, 0, NULL, 0, NULL, 64, &in, &ie), ERR_INVALID);
    CHECK_STR(ie.code, "missing_field");
    static const char two[] = "```python\nimport torch\nclass ModelNew:\n    pass\n```\n"
                              "```cuda\n__global__ void k() {}\n```\n";
    static const char ask_py[] = "## OUTPUT FORMAT\n```python\n# code\n```\n";
    CHECK_INT(ingest_texts(ask_py, strlen(ask_py), two, strlen(two), "cuda", 4096, &in, &ie), 0);
    CHECK_STR(str_at(path_get(in.info, "extraction", NULL), "asked", NULL), "python");
    CHECK_INT(num_at(path_get(in.info, "extraction", NULL), "chosen", NULL), 1);
    CHECK_INT(in.lang, INGEST_CUDA);   /* as given */
    CHECK_STR(str_at(in.info, "language_from", NULL), "given");
    ingest_free(&in);
    CHECK_INT(ingest_texts(NULL, 0, two, strlen(two), "triton", 4096, &in, &ie), 0);
    CHECK_INT(num_at(path_get(in.info, "extraction", NULL), "chosen", NULL), 1);
    ingest_free(&in);
    CHECK_INT(ingest_texts(NULL, 0, two, strlen(two), "auto", 4096, &in, &ie), 0);
    CHECK_INT(num_at(path_get(in.info, "extraction", NULL), "chosen", NULL), 2);
    CHECK_INT(in.lang, INGEST_CUDA);
    ingest_free(&in);
}

/* ---- fences, the detector, names --------------------------------------------------------------- */

static void run_units(void)
{
    static const struct {
        const char *line;
        int opens;
        const char *tag;
    } opens[] = {
        {"```python", 1, "python"}, {"```", 1, ""}, {"   ```cuda", 1, "cuda"},
        {"    ```python", 0, NULL}, {"``", 0, NULL}, {"```a`b", 0, NULL},
        {"~~~ `x`", 1, "`x`"}, {"``` Python title=\"m.py\"", 1, "Python"}, {"```{.python}", 1, "python"},
        {"~~~~~c++ ", 1, "c++"}, {"\t```py", 0, NULL}, {"x```py", 0, NULL},
    };
    for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++) {
        struct extract_fence f;
        int r = extract_fence_open(opens[i].line, strlen(opens[i].line), &f);
        CHECK_INT(r, opens[i].opens);
        if (r && opens[i].tag) {
            CHECK_INT(f.tag_len, strlen(opens[i].tag));
            CHECK(strncmp(f.tag, opens[i].tag, f.tag_len) == 0);
        }
    }
    struct extract_fence f3, f4, ft;
    extract_fence_open("```", 3, &f3);
    extract_fence_open("````", 4, &f4);
    extract_fence_open("~~~", 3, &ft);
    CHECK_INT(extract_fence_close("```", 3, &f3), 1);
    CHECK_INT(extract_fence_close("````  ", 6, &f3), 1);
    CHECK_INT(extract_fence_close("   ```", 6, &f3), 1);
    CHECK_INT(extract_fence_close("    ```", 7, &f3), 0);
    CHECK_INT(extract_fence_close("```", 3, &f4), 0);
    CHECK_INT(extract_fence_close("```python", 9, &f3), 0);
    CHECK_INT(extract_fence_close("~~~", 3, &f3), 0);
    CHECK_INT(extract_fence_close("```", 3, &ft), 0);

    static const struct {
        const char *code;
        enum ingest_lang lang;
    } det[] = {
        {"import triton\n", INGEST_TRITON}, {"  from triton import cdiv\n", INGEST_TRITON},
        {"@triton.jit\ndef k(): pass\n", INGEST_TRITON}, {"x = triton.language.arange\n", INGEST_TRITON},
        {"import torch.nn as nn\n", INGEST_TRITON}, {"class ModelNew(nn.Module):\n", INGEST_TRITON},
        {"import tritonx\n", INGEST_NONE}, {"class ModelNewer:\n", INGEST_NONE},
        {"__global__ void k() {}\n", INGEST_CUDA}, {"__device__ float f();\n", INGEST_CUDA},
        {"extern \"C\" void k();\n", INGEST_CUDA}, {"#include <cuda_fp16.h>\n", INGEST_CUDA},
        {"//   @kgrade launch k grid(1) block(1) args()\n", INGEST_CUDA},
        {"src = '__global__ void k() {}'\nimport torch\n", INGEST_TRITON},
        {"{\"a\": 1}\n", INGEST_NONE}, {"", INGEST_NONE}, {"pip install triton\n", INGEST_NONE},
    };
    for (size_t i = 0; i < sizeof det / sizeof det[0]; i++) {
        int failed = check_failed;
        CHECK_INT(extract_detect(det[i].code, strlen(det[i].code)), det[i].lang);
        if (failed != check_failed)
            fprintf(stderr, "  ^ detect case %zu\n", i);
    }

    enum ingest_lang l;
    CHECK_INT(extract_tag_lang("PY", 2, &l), 1);
    CHECK_INT(l, INGEST_TRITON);
    CHECK_INT(extract_tag_lang("cu", 2, &l), 1);
    CHECK_INT(l, INGEST_CUDA);
    CHECK_INT(extract_tag_lang("text", 4, &l), 0);
    CHECK_INT(extract_tag_lang("json", 4, &l), -1);
    CHECK_INT(extract_tag_lang("pythonic", 8, &l), -1);
    CHECK_STR(ingest_lang_name(INGEST_TRITON), "triton");
    CHECK_STR(ingest_lang_name(INGEST_NONE), "none");
    CHECK_INT(ingest_lang_parse("c++"), INGEST_CUDA);
    CHECK_INT(ingest_lang_parse("Python"), INGEST_TRITON);
    CHECK_INT(ingest_lang_parse("rust"), INGEST_NONE);
    CHECK_INT(ingest_lang_parse(NULL), INGEST_NONE);

    /* normal form */
    char *o;
    size_t n, at;
    int cr;
    CHECK_INT(extract_normalize("\xef\xbb\xbf" "a\r\nb\rc\n\r\n", 12, &o, &n, &cr, &at), 0);
    CHECK_STR(o, "a\nb\nc\n\n");
    CHECK_INT(n, 7);
    CHECK_INT(cr, 1);
    free(o);
    CHECK_INT(extract_normalize("x\xef\xbb\xbf", 4, &o, &n, &cr, &at), 0);   /* only a leading BOM */
    CHECK_INT(n, 4);
    CHECK_INT(cr, 0);
    free(o);
    CHECK_INT(extract_normalize("a\0b", 3, &o, &n, &cr, &at), ERR_INVALID);
    CHECK_INT(at, 1);
    CHECK(o == NULL);

    /* the unfenced tail: a line that is not clearly prose keeps what is before it */
    static const char tail[] = "import torch\nx = 1\nSee above.\nfoo\n\nThanks for reading this.\n";
    struct extract x;
    CHECK_INT(extract_code(tail, strlen(tail), INGEST_NONE, 0, &x), 0);
    CHECK_STR(x.code, "import torch\nx = 1\nSee above.\nfoo\n");
    extract_free(&x);
    static const char lead[] = "Text first.\n# a comment\n\n# directly before\nimport torch\n"
                               "y = torch.zeros(3)\n- a bullet (with a call())\n";
    CHECK_INT(extract_code(lead, strlen(lead), INGEST_NONE, 0, &x), 0);
    CHECK_STR(x.code, "# directly before\nimport torch\ny = torch.zeros(3)\n");
    CHECK_INT(num_at(x.report, "line", NULL), 4);
    extract_free(&x);
    static const char other[] = "Use this:\n\n#include <cstdio>\n__global__ void k() {}\n";
    CHECK_INT(extract_code(other, strlen(other), INGEST_TRITON, 0, &x), 0);
    CHECK(x.code == NULL);
    CHECK_STR(x.no_code, "no code block; unfenced cuda code (line 3), none in python");
    extract_free(&x);
    static const char empties[] = "```python\n```\n```py\n \n```\n";
    CHECK_INT(extract_code(empties, strlen(empties), INGEST_TRITON, 0, &x), 0);
    CHECK_STR(x.no_code, "2 code blocks in python but they are empty");
    extract_free(&x);
    static const char many[] = "```sh\n1\n```\n```json\n2\n```\n```yaml\n3\n```\n```toml\n4\n```\n"
                               "```ini\n5\n```\n```diff\n6\n```\n```html\n7\n```\n";
    CHECK_INT(extract_code(many, strlen(many), INGEST_CUDA, 0, &x), 0);
    CHECK_STR(x.no_code, "7 code blocks, none in cuda: sh (line 1), json (line 4), yaml (line 7), "
                         "toml (line 10), ini (line 13), diff (line 16), ...");
    extract_free(&x);
    extract_free(&x);   /* a freed struct is a no-op */
}

/* ---- size ------------------------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Extract from a generated text of about 1 MB, timed; the checks are the caller's. */
static double timed(const char *text, size_t len, const char *prompt, size_t max_source,
                    struct ingest *in)
{
    struct ingest_err ie;
    double t0 = now_ms();
    int rc = ingest_texts(prompt, prompt ? strlen(prompt) : 0, text, len, NULL, max_source, in, &ie);
    double ms = now_ms() - t0;
    CHECK_INT(rc, 0);
    printf("  %zu bytes in %.2f ms\n", len, ms);
    return ms;
}

static void run_large(void)
{
    static const char para[] = "The kernel is latency bound, so larger tiles and more warps per SM "
                               "should help; see the `tl.dot` call and BLOCK_K below.\n\n";
    static const char block[] = "```python\ny = x + 1  # a snippet\n```\n\n";
    static const char code[] = "```python\nimport torch\nimport triton\n\nclass ModelNew(torch.nn.Module):\n"
                               "    def forward(self, x):\n        return x\n```\n";
    const size_t cap = (1u << 20) + 4096;
#ifdef __SANITIZE_ADDRESS__
    const double limit = 500;   /* the sanitizers slow every byte access */
#else
    const double limit = 50;
#endif
    char *t = malloc(cap);
    CHECK(t != NULL);
    if (!t)
        return;
    size_t len = 0, nblocks = 0;
    /* prose and snippets, the code last */
    while (len + sizeof para + sizeof block + sizeof code < cap - 4096) {
        memcpy(t + len, para, sizeof para - 1);
        len += sizeof para - 1;
        if (len % 7 == 0 || nblocks < 1000) {
            memcpy(t + len, block, sizeof block - 1);
            len += sizeof block - 1;
            nblocks++;
        }
    }
    memcpy(t + len, code, sizeof code - 1);
    len += sizeof code - 1;
    t[len] = '\0';
    CHECK(len >= 1000000);
    size_t plen;
    char *prompt = slurp("prompt_002.txt", &plen);
    struct ingest in;
    CHECK(timed(t, len, prompt, MAX_SOURCE, &in) < limit);
    CHECK_INT(num_at(path_get(in.info, "extraction", NULL), "blocks", NULL), nblocks + 1);
    CHECK_INT(num_at(path_get(in.info, "extraction", NULL), "chosen", NULL), nblocks + 1);
    CHECK(in.source && strncmp(in.source, "import torch\nimport triton\n", 27) == 0);
    ingest_free(&in);

    /* the same without fences: 1 MB of prose after the code, every line judged */
    size_t k = 0;
    static const char head[] = "import torch\nclass ModelNew(torch.nn.Module):\n    pass\n";
    memcpy(t, head, sizeof head - 1);
    k = sizeof head - 1;
    while (k + sizeof para < cap - 4096) {
        memcpy(t + k, para, sizeof para - 1);
        k += sizeof para - 1;
    }
    t[k] = '\0';
    CHECK(timed(t, k, NULL, MAX_SOURCE, &in) < limit);
    CHECK_STR(in.source, head);
    ingest_free(&in);

    /* 1 MB of fence lines, and 1 MB on one line with an unterminated fence */
    for (k = 0; k + 4 < cap - 4096; k += 4)
        memcpy(t + k, k % 8 ? "~~~\n" : "```\n", 4);
    t[k] = '\0';
    CHECK(timed(t, k, NULL, MAX_SOURCE, &in) < limit);
    CHECK_INT(in.lang, INGEST_NONE);
    CHECK(strstr(in.no_code, "code blocks, none in python or cuda") != NULL);
    ingest_free(&in);
    memcpy(t, "```python\n", 10);
    memset(t + 10, 'x', cap - 4096 - 10);
    t[cap - 4096] = '\0';
    CHECK(timed(t, cap - 4096, NULL, MAX_TEXT, &in) < limit);
    CHECK_INT(in.lang, INGEST_TRITON);
    CHECK_INT(in.source_len, cap - 4096 - 10 + 1);
    CHECK(cJSON_IsTrue(path_get(path_get(in.info, "extraction", NULL), "unterminated", NULL)));
    ingest_free(&in);

    /* a 1 MB prompt of list items: bounded lists */
    for (k = 0; k + 8 < cap - 4096; k += 8)
        memcpy(t + k, k ? "- rule \n" : "Rules:\n\n", 8);
    memcpy(t, "[OPTIMIZATION STAGE]\nRules:\n", 28);
    t[k] = '\0';
    struct prompt p;
    double t0 = now_ms();
    CHECK_INT(prompt_parse(t, k, &p), 0);
    double ms = now_ms() - t0;
    printf("  a %zu-byte prompt in %.2f ms\n", k, ms);
    CHECK(ms < limit);
    CHECK_INT(cJSON_GetArraySize(path_get(path_get(p.json, "stage", NULL), "rules", NULL)),
              PROMPT_MAX_ITEMS);
    prompt_free(&p);
    free(prompt);
    free(t);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    run_cases();
    run_seed_prompts();
    run_odd_prompts();
    run_forms();
    run_units();
    run_large();
    return check_summary("test_ingest");
}
