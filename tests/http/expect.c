/* expect.c — judges one answer against the expectation of its block (expect.h).
 *
 * Checks are independent and all run, so a failure report lists every way the answer differs
 * (status, error code, field, JSON values by path, headers, raw body, JSONL lines). Values are
 * compared as text: strings bare, integers without a fraction, other JSON compact, so `.x=null`,
 * `.n=3` and `.s=abc` read as they would be written. Besides the listed checks, every answer with a
 * JSON Content-Type must parse, and every error answer (>= 400, unless raw) must be
 * {"error": {"code", "message"}} — docs/api.md: every error is JSON too.
 *
 * Does not: send requests or decide what is retried (test_http_cases.c). */
#include "expect.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ".a.b[2].c" (or "." for the root) in root; NULL when absent. */
static const cJSON *jpath(const cJSON *root, const char *path, size_t len)
{
    const cJSON *v = root;
    size_t i = 0;
    if (len == 1 && path[0] == '.')
        return root;
    while (i < len && v) {
        if (path[i] == '.') {
            char key[128];
            size_t n = 0;
            i++;
            while (i < len && path[i] != '.' && path[i] != '[' && n < sizeof key - 1)
                key[n++] = path[i++];
            key[n] = '\0';
            v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, key) : NULL;
        } else if (path[i] == '[') {
            long k = strtol(path + i + 1, NULL, 10);
            while (i < len && path[i] != ']')
                i++;
            i++;
            v = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)k) : NULL;
        } else {
            return NULL;
        }
    }
    return v;
}

/* A value as text: strings bare, integers without a fraction, the rest as compact JSON. */
static void jtext(const cJSON *v, char *out, size_t cap)
{
    if (!v) {
        snprintf(out, cap, "(absent)");
    } else if (cJSON_IsString(v)) {
        snprintf(out, cap, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble &&
               v->valuedouble < 1e15 && v->valuedouble > -1e15) {
        snprintf(out, cap, "%lld", (long long)v->valuedouble);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        snprintf(out, cap, "%s", s ? s : "?");
        free(s);
    }
}

void expect_why(struct buf *why, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    buf_printf(why, "    %s\n", line);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0 && !(len == 1 && p[0] == '\r'))
            n++;
        if (!e)
            break;
        p = e + 1;
    }
    return n;
}

/* Compare got against want with op: "=", "!=", "~", "!~", "^", ">=", "<=", ">", "<". */
static int compare(const char *op, const char *got, const char *want)
{
    if (strcmp(op, "=") == 0) {   /* "a|b": either */
        for (const char *w = want;;) {
            size_t n = strcspn(w, "|");
            if (strlen(got) == n && strncmp(got, w, n) == 0)
                return 1;
            if (!w[n])
                return 0;
            w += n + 1;
        }
    }
    if (strcmp(op, "!=") == 0)
        return strcmp(got, want) != 0;
    if (strcmp(op, "~") == 0)
        return strstr(got, want) != NULL;
    if (strcmp(op, "!~") == 0)
        return strstr(got, want) == NULL;
    if (strcmp(op, "^") == 0)
        return strncmp(got, want, strlen(want)) == 0;
    char *e1, *e2;
    double a = strtod(got, &e1), b = strtod(want, &e2);
    if (e1 == got || *e1 || e2 == want || *e2)
        return 0;
    if (strcmp(op, ">=") == 0)
        return a >= b;
    if (strcmp(op, "<=") == 0)
        return a <= b;
    if (strcmp(op, ">") == 0)
        return a > b;
    if (strcmp(op, "<") == 0)
        return a < b;
    return 0;
}

/* The operator at p (longest first); its length, 0 when none. */
static size_t op_at(const char *p, char op[4])
{
    static const char *const ops[] = {"!=", "!~", ">=", "<=", "=", "~", "^", ">", "<", "?", "!", "#"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i]);
        if (strncmp(p, ops[i], n) == 0) {
            snprintf(op, 4, "%s", ops[i]);
            return n;
        }
    }
    return 0;
}

/* One check on a JSON value: path (".a.b[0]") then rest (an operator and the wanted value).
 * 1 when it holds; got describes what was found. */
static int path_check(const cJSON *root, const char *path, const char *rest, char *got, size_t cap)
{
    char op[4] = "";
    size_t ol = op_at(rest, op);
    const char *want = rest + ol;
    const cJSON *v = root ? jpath(root, path, strlen(path)) : NULL;
    char text[4000];
    jtext(v, text, sizeof text);
    snprintf(got, cap, "%s%s%s", cJSON_IsString(v) ? "\"" : "", text, cJSON_IsString(v) ? "\"" : "");
    if (!ol)
        return 0;
    if (strcmp(op, "?") == 0)
        return v != NULL;
    if (strcmp(op, "!") == 0)
        return v == NULL;
    if (strcmp(op, "#") == 0) {
        char op2[4] = "";
        size_t ol2 = op_at(want, op2);
        char cnt[32];
        snprintf(cnt, sizeof cnt, "%d", (cJSON_IsArray(v) || cJSON_IsObject(v)) ? cJSON_GetArraySize(v) : -1);
        snprintf(got, cap, "%s entries", cnt);
        return compare(ol2 ? op2 : "=", cnt, want + ol2);
    }
    return v != NULL && compare(op, text, want);
}

int expect_check(const struct casefile_block *k, const struct hres *r, int raw, struct buf *why)
{
    int fails = 0;
    long want_status = strtol(k->tok[0], NULL, 10);
    if (r->status != want_status) {
        expect_why(why, "status %ld, expected %ld", r->status, want_status);
        fails++;
    }
    cJSON *json = cJSON_ParseWithLength(r->body, r->body_len);
    char ct[256] = "";
    hres_header(r, "Content-Type", ct, sizeof ct);
    if (strstr(ct, "json") && !strstr(ct, "ndjson") && !strstr(ct, "jsonl") && !json) {
        expect_why(why, "Content-Type %s but the body is not JSON", ct);
        fails++;
    }
    if (want_status >= 400 && !raw) {
        const cJSON *code = jpath(json, ".error.code", 11), *msg = jpath(json, ".error.message", 14);
        if (!cJSON_IsString(code) || !cJSON_IsString(msg)) {
            expect_why(why, "an error answer must be {\"error\": {\"code\", \"message\"}}");
            fails++;
        }
    }
    for (int i = 1; i < k->ntok; i++) {
        const char *t = k->tok[i];
        char op[4] = "", got[4096];
        if (strcmp(t, "raw") == 0 || strcmp(t, "cut") == 0 || strncmp(t, "poll=", 5) == 0 || strncmp(t, "timeout=", 8) == 0 ||
            strncmp(t, "save:", 5) == 0)
            continue;
        if (strncmp(t, "H:", 2) == 0) {
            size_t n = strspn(t + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)n, t + 2);
            size_t ol = op_at(t + 2 + n, op);
            const char *want = t + 2 + n + ol;
            const char *v = hres_header(r, name, got, sizeof got);
            int ok;
            if (strcmp(op, "?") == 0)
                ok = v != NULL;
            else if (strcmp(op, "!") == 0)
                ok = v == NULL;
            else
                ok = v && compare(op, v, want);
            if (!ok) {
                expect_why(why, "%s: header %s is %s%s%s", t, name, v ? "\"" : "", v ? v : "absent", v ? "\"" : "");
                fails++;
            }
            continue;
        }
        if (strncmp(t, "body", 4) == 0 && op_at(t + 4, op)) {
            size_t ol = op_at(t + 4, op);
            if (!ol || !compare(op, r->body, t + 4 + ol)) {
                expect_why(why, "%s: body is \"%.300s\"%s", t, r->body, r->body_len > 300 ? "..." : "");
                fails++;
            }
            continue;
        }
        if (strncmp(t, "lines", 5) == 0 && op_at(t + 5, op)) {
            size_t ol = op_at(t + 5, op);
            snprintf(got, sizeof got, "%d", count_lines(r->body));
            if (!ol || !compare(op, got, t + 5 + ol)) {
                expect_why(why, "%s: the body has %s lines: \"%.300s\"", t, got, r->body);
                fails++;
            }
            continue;
        }
        char path[256];
        const char *rest;
        if (strncmp(t, "each.", 5) == 0) {   /* every line of a JSONL body */
            size_t n = strspn(t + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.[]");
            snprintf(path, sizeof path, "%.*s", (int)n, t + 4);
            int nl = 0, bad = 0;
            for (const char *p = r->body; p && *p;) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len > 0 && !(len == 1 && *p == '\r')) {
                    cJSON *lj = cJSON_ParseWithLength(p, len);
                    nl++;
                    if (!lj || !path_check(lj, path, t + 4 + n, got, sizeof got)) {
                        if (!bad)
                            expect_why(why, "%s: line %d: got %.300s (line: %.200s)", t, nl, lj ? got : "not JSON", p);
                        bad++;
                    }
                    cJSON_Delete(lj);
                }
                p = e ? e + 1 : NULL;
            }
            if (nl == 0) {
                expect_why(why, "%s: the body has no lines", t);
                bad++;
            }
            fails += bad != 0;
            continue;
        }
        if (strncmp(t, "field", 5) == 0 && op_at(t + 5, op)) {
            snprintf(path, sizeof path, ".error.field");
            rest = t + 5;
        } else if (t[0] == '.') {
            size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.[]");
            snprintf(path, sizeof path, "%.*s", (int)n, t);
            rest = t + n;
        } else if (islower((unsigned char)t[0]) && strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(t)) {
            const cJSON *code = jpath(json, ".error.code", 11);
            jtext(code, got, sizeof got);
            if (!cJSON_IsString(code) || strcmp(code->valuestring, t) != 0) {
                expect_why(why, "error code \"%s\", expected \"%s\"", got, t);
                fails++;
            }
            continue;
        } else {
            expect_why(why, "%s: not an expectation", t);
            fails++;
            continue;
        }
        if (!path_check(json, path, rest, got, sizeof got)) {
            expect_why(why, "%s: got %.400s", t, got);
            fails++;
        }
    }
    /* saves happen even after a failure, so later blocks fail for their own reasons */
    for (int i = 1; i < k->ntok; i++) {
        const char *t = k->tok[i];
        if (strncmp(t, "save:", 5) != 0)
            continue;
        const char *eq = strchr(t, '=');
        if (!eq)
            continue;
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(eq - t - 5), t + 5);
        const cJSON *v = json ? jpath(json, eq + 1, strlen(eq + 1)) : NULL;
        char val[4096];
        if (v)
            jtext(v, val, sizeof val);
        else
            snprintf(val, sizeof val, "MISSING-%s", name);
        casefile_var_set(name, val);
    }
    cJSON_Delete(json);
    return fails;
}

const char *expect_token(const struct casefile_block *k, const char *key)
{
    size_t n = strlen(key);
    for (int i = 1; i < k->ntok; i++)
        if (strncmp(k->tok[i], key, n) == 0)
            return k->tok[i] + n;
    return NULL;
}
