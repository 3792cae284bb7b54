/* test_directive.c - launch directives and their expressions against two tables in the data dir
 * (argv[1]):
 *   expr.tsv        <expression> \t <expected> [\t check]
 *   directives.tsv  <source> \t <problem id> \t <expected> [\t limit]
 * Cells are unescaped first (\n, \r, \t, \\). In expr.tsv <expected> is a decimal value, "ok" (any
 * value) or "error:<message substring>"; a third column "check" evaluates with check_only and the
 * variables of kb1-55. In directives.tsv the source is parsed, then bound to the registry problem
 * with 132 SMs, 48 KiB of shared memory and 1 GiB of workspace; <expected> is "ok:<plan>" with the
 * plan as render() writes it, or "error:<line>:<message substring>"; a fourth column "limit" wants
 * ERR_LIMIT instead of ERR_INVALID. Then hand-written cases: line lengths, accessors, JSON, the
 * environment, a source that is not NUL-terminated. A failing row prints its file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "directive.h"
#include "nvopt.h"
#include "expr.h"
#include "registry.h"

#define MAX_COLS 4
#define TEST_SMS 132

static const struct directive_limits limits = { 48 << 10, 1ll << 30 };

/* Decode \n \r \t \\ in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static void check_msg(const char *msg, const char *want)
{
    if (strstr(msg, want))
        check_passed++;
    else {
        check_failed++;
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", msg, want);
    }
}

static void env_for(const char *id, struct directive_env *env)
{
    const struct registry_entry *r = registry_find(id);
    CHECK(r != NULL);
    directive_env_from_spec(&(r ? r : registry_find("kb1-55"))->spec, TEST_SMS, env);
}

/* "ws=B [opts=a,b] | kernel@line grid=x,y,z block=x,y,z smem=S args=a,b | ..." */
static void render(const struct directives *d, const struct directive_plan *p, char *buf, size_t cap)
{
    static const char *const ptr[] = { "x", "w", "bias", "y", "workspace" };
    size_t n = (size_t)snprintf(buf, cap, "ws=%lld", (long long)p->workspace_bytes);
    for (int i = 0; i < directive_count_options(d) && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : " opts=", directive_option(d, i));
    for (int i = 0; i < p->nlaunch && n < cap; i++) {
        const struct directive_launch_plan *L = &p->launch[i];
        n += (size_t)snprintf(buf + n, cap - n, " | %s@%d grid=%u,%u,%u block=%u,%u,%u smem=%u args=",
                              L->kernel, L->line, L->grid[0], L->grid[1], L->grid[2], L->block[0],
                              L->block[1], L->block[2], L->smem);
        for (int k = 0; k < L->nargs && n < cap; k++) {
            const struct directive_arg *a = &L->args[k];
            if (a->kind == DIRECTIVE_ARG_I32 || a->kind == DIRECTIVE_ARG_I64)
                n += (size_t)snprintf(buf + n, cap - n, "%s%lld:%s", k ? "," : "", (long long)a->value,
                                      a->kind == DIRECTIVE_ARG_I32 ? "i32" : "i64");
            else
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", k ? "," : "", ptr[a->kind]);
        }
    }
}

static int run_expr(const char *dir)
{
    struct check_table t;
    if (!check_table_open(&t, dir, "expr.tsv"))
        return 0;
    struct directive_env env;
    env_for("kb1-55", &env);
    int cases = 0, ncols;
    char *cols[MAX_COLS];
    while ((ncols = check_table_next(&t, cols, MAX_COLS)) >= 0) {
        CHECK(ncols >= 2);
        if (ncols < 2) {
            check_table_where(&t);
            continue;
        }
        cases++;
        unescape(cols[0]);
        bool check_only = ncols >= 3 && strcmp(cols[2], "check") == 0;
        CHECK(ncols < 3 || check_only);
        struct err e;
        err_clear(&e);
        int64_t v = 0;
        int rc = expr_eval(cols[0], strlen(cols[0]), env.vars, env.nvars, check_only, &v, &e);
        if (strncmp(cols[1], "error:", 6) == 0) {
            CHECK_INT(rc, ERR_INVALID);
            CHECK_INT(e.code, ERR_INVALID);
            CHECK_STR(e.field, "expression");
            check_msg(e.msg, cols[1] + 6);
            CHECK(strchr(e.msg, '\n') == NULL);
            CHECK_INT(expr_eval(cols[0], strlen(cols[0]), env.vars, env.nvars, check_only, &v, NULL),
                      ERR_INVALID);
        } else {
            CHECK_INT(rc, 0);
            if (rc)
                fprintf(stderr, "  %s\n", e.msg);
            else if (strcmp(cols[1], "ok") != 0)
                CHECK_INT(v, strtoll(cols[1], NULL, 10));
        }
        check_table_where(&t);
    }
    check_table_close(&t);
    return cases;
}

static int run_directives(const char *dir)
{
    struct check_table t;
    if (!check_table_open(&t, dir, "directives.tsv"))
        return 0;
    int cases = 0, ncols;
    char *cols[MAX_COLS];
    while ((ncols = check_table_next(&t, cols, MAX_COLS)) >= 0) {
        CHECK(ncols >= 3);
        if (ncols < 3) {
            check_table_where(&t);
            continue;
        }
        cases++;
        unescape(cols[0]);
        int want = ncols >= 4 && strcmp(cols[3], "limit") == 0 ? ERR_LIMIT : ERR_INVALID;
        struct directives *d = NULL;
        struct directive_plan plan;
        struct directive_env env;
        struct err e;
        err_clear(&e);
        int eline = -1;
        int rc = directive_parse(cols[0], strlen(cols[0]), &d, &eline, &e);
        CHECK((rc == 0) == (d != NULL));
        if (!rc) {
            env_for(cols[1], &env);
            rc = directive_bind(d, &env, &limits, &plan, &eline, &e);
        }
        if (strncmp(cols[2], "ok:", 3) == 0) {
            CHECK_INT(rc, 0);
            if (rc) {
                fprintf(stderr, "  %s\n", e.msg);
            } else {
                char got[4096];
                render(d, &plan, got, sizeof got);
                CHECK_STR(got, cols[2] + 3);
                CHECK_INT(eline, 0);
            }
        } else {
            char *colon = strncmp(cols[2], "error:", 6) == 0 ? strchr(cols[2] + 6, ':') : NULL;
            CHECK(colon != NULL);
            if (colon) {
                int wline = atoi(cols[2] + 6);
                char prefix[32];
                snprintf(prefix, sizeof prefix, "line %d: ", wline);
                CHECK_INT(rc, want);
                CHECK_INT(e.code, want);
                CHECK_INT(eline, wline);
                CHECK_STR(e.field, "directive");
                CHECK(wline == 0 ? strncmp(e.msg, "line ", 5) != 0
                                 : strncmp(e.msg, prefix, strlen(prefix)) == 0);
                check_msg(e.msg, colon + 1);
                CHECK(strchr(e.msg, '\n') == NULL);
            }
        }
        check_table_where(&t);
        directive_free(d);
    }
    check_table_close(&t);
    return cases;
}

/* A directive line of exactly DIRECTIVE_MAX_LINE characters passes, one more does not; a long
 * line that is not a directive is no concern. */
static void test_line_length(void)
{
    static char src[8192];
    size_t n = (size_t)snprintf(src, sizeof src, "int a;\n// @kgrade launch k grid(1) block(1) args()");
    size_t start = strlen("int a;\n");
    memset(src + n, ' ', start + DIRECTIVE_MAX_LINE - n);   /* trailing blanks are fine */
    n = start + DIRECTIVE_MAX_LINE;
    src[n] = '\0';
    struct directives *d;
    struct err e;
    int line;
    CHECK_INT(directive_parse(src, n, &d, &line, &e), 0);
    directive_free(d);
    src[n] = ' ';
    CHECK_INT(directive_parse(src, n + 1, &d, &line, &e), ERR_LIMIT);
    CHECK(d == NULL);
    CHECK_INT(line, 2);
    check_msg(e.msg, "line 2: a directive line of 1025 characters, at most 1024");

    /* 6000 characters of code on line 1, the directive on line 2. */
    memset(src, 'x', 6000);
    n = 6000 + (size_t)snprintf(src + 6000, sizeof src - 6000, "\n// @kgrade launch k grid(1) block(1) args()\n");
    CHECK_INT(directive_parse(src, n, &d, &line, &e), 0);
    CHECK_INT(directive_launch_line(d, 0), 2);
    directive_free(d);
}

static void test_accessors_and_json(void)
{
    const char *src =
        "// @kgrade option -DTILE=16\n"
        "// @kgrade launch first grid(cdiv(H_out, 8), 2) block(8, 8) args(y, H_out, Y_ELEMS:i64)\n"
        "// @kgrade workspace(4096)\n"
        "\n"
        "// @kgrade option --std=c++17\n"
        "// @kgrade launch second grid(SMS) block(128) smem(1024) args(workspace, bias)\n"
        "// @kgrade launch ignored grid(1) block(1) args()\n";   /* beyond len */
    size_t len = strlen(src) - strlen("// @kgrade launch ignored grid(1) block(1) args()\n");
    struct directives *d = NULL;
    struct err e;
    err_clear(&e);
    CHECK_INT(directive_parse(src, len, &d, NULL, NULL), 0);
    if (!d)
        return;
    CHECK_INT(directive_count_launches(d), 2);
    CHECK_STR(directive_launch_kernel(d, 0), "first");
    CHECK_STR(directive_launch_kernel(d, 1), "second");
    CHECK_INT(directive_launch_line(d, 0), 2);
    CHECK_INT(directive_launch_line(d, 1), 6);
    CHECK_INT(directive_count_options(d), 2);
    CHECK_STR(directive_option(d, 0), "-DTILE=16");
    CHECK_STR(directive_option(d, 1), "--std=c++17");
    CHECK_INT(directive_option_line(d, 1), 5);
    CHECK_INT(directive_workspace_line(d), 3);

    struct directive_env env;
    env_for("edge-bias", &env);   /* 2x8x10x10 -> 16, 3x3: H_out 8, Y_ELEMS 2048 */
    struct directive_plan p;
    CHECK_INT(directive_bind(d, &env, NULL, &p, NULL, NULL), 0);
    CHECK_INT(p.workspace_bytes, 4096);
    CHECK_INT(p.workspace_line, 3);
    CHECK_INT(p.launch[0].args[2].size, 8);
    CHECK_INT(p.launch[0].args[1].size, 4);
    CHECK_INT(p.launch[1].args[0].size, 8);
    cJSON *j = directive_plan_to_json(&p);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    CHECK_STR(text, "[{\"line\":2,\"kernel\":\"first\",\"grid\":[1,2,1],\"block\":[8,8,1],\"smem\":0,"
                    "\"args\":[\"y\",\"8:i32\",\"2048:i64\"]},"
                    "{\"line\":6,\"kernel\":\"second\",\"grid\":[132,1,1],\"block\":[128,1,1],"
                    "\"smem\":1024,\"args\":[\"workspace\",\"bias\"]}]");
    free(text);
    cJSON_Delete(j);

    /* A bind failure zeroes the plan. */
    struct directive_limits tight = { 512, 1 << 20 };
    CHECK_INT(directive_bind(d, &env, &tight, &p, NULL, &e), ERR_INVALID);
    CHECK_INT(p.nlaunch, 0);
    check_msg(e.msg, "line 6: launch second: smem: 1024 bytes, must be 0 to 512");
    directive_free(d);
    directive_free(NULL);

    /* An empty source and a missing source have no launch. */
    int line = -1;
    CHECK_INT(directive_parse("", 0, &d, &line, &e), ERR_INVALID);
    CHECK_INT(line, 0);
    CHECK_INT(directive_parse(NULL, 0, &d, &line, &e), ERR_INVALID);
    CHECK(d == NULL);
}

static void test_env_and_expr(void)
{
    struct directive_env env;
    env_for("kb1-55", &env);
    static const struct { const char *name; int64_t value; } want[] = {
        { "N", 8 }, { "C_in", 64 }, { "H", 512 }, { "W", 1024 }, { "C_out", 128 }, { "KH", 3 },
        { "KW", 3 }, { "SH", 1 }, { "SW", 1 }, { "PH", 0 }, { "PW", 0 }, { "DH", 1 }, { "DW", 1 },
        { "G", 1 }, { "H_out", 510 }, { "W_out", 1022 }, { "HAS_BIAS", 0 }, { "CIN_G", 64 },
        { "COUT_G", 128 }, { "X_ELEMS", 268435456 }, { "W_ELEMS", 73728 },
        { "Y_ELEMS", 533729280 }, { "SMS", TEST_SMS }, { "DTYPE_SIZE", 4 },
    };
    CHECK_INT(env.nvars, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < env.nvars && i < (int)(sizeof want / sizeof want[0]); i++) {
        CHECK_STR(env.vars[i].name, want[i].name);
        CHECK_INT(env.vars[i].value, want[i].value);
    }
    env_for("small-depthwise-bias", &env);   /* 16 channels in 16 groups, with bias */
    int64_t v = 0;
    CHECK_INT(expr_eval("HAS_BIAS * 100 + CIN_G * 10 + COUT_G", 36, env.vars, env.nvars, false, &v, NULL), 0);
    CHECK_INT(v, 111);

    /* Only len characters count: "1+23" read as "1+2". */
    struct err e;
    CHECK_INT(expr_eval("1+23", 3, NULL, 0, false, &v, &e), 0);
    CHECK_INT(v, 3);
    CHECK_INT(expr_eval("N", 1, NULL, 0, false, &v, &e), ERR_INVALID);
    CHECK_STR(e.msg, "unknown name 'N' in 'N'");
    /* A long expression is quoted cut. */
    char big[300];
    memset(big, '1', sizeof big);
    CHECK_INT(expr_eval(big, sizeof big, NULL, 0, false, &v, &e), ERR_INVALID);
    check_msg(e.msg, "literal too large for int64 in '111");
    check_msg(e.msg, "...'");
    CHECK(strlen(e.msg) < 120);

    CHECK_INT(nvopt_check("-DTILE_M=128", NULL), 0);
    CHECK_INT(nvopt_check("--fmad=false", &e), 0);
    CHECK_INT(nvopt_check("--maxrregcount=", &e), ERR_INVALID);
    CHECK_INT(nvopt_check("", &e), ERR_INVALID);
    check_msg(e.msg, "is not on the allow-list");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    int nexpr = run_expr(argv[1]);
    int ndir = run_directives(argv[1]);
    CHECK(nexpr >= 45);
    CHECK(ndir >= 30);
    test_line_length();
    test_accessors_and_json();
    test_env_and_expr();
    printf("test_directive: %d expression and %d directive table rows\n", nexpr, ndir);
    return check_summary("test_directive");
}
