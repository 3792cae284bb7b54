/* test_request.c — the daemon's request intake without a daemon:
 *   requests.tsv   evaluation requests through request_parse (server/request.c): the canonical
 *                  job of a valid one (problem, mode, priority, options JSON), the status, code and
 *                  field of an invalid one, with and without a batch prefix;
 *   in this file   bodies through jsonin_parse (bad UTF-8, depth, malformed JSON and the byte
 *                  offsets), the JSONL splitter (line numbers, blank lines, CRLF), media types,
 *                  cache keys (the documented formula; aliases and inline specs resolve to one
 *                  key; priority and force are not part of it) and the error body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonin.h"
#include "registry.h"
#include "request.h"
#include "sha256.h"

#define MAX_COLS 8
#define MAX_SOURCE 64

static cJSON *parse(const char *text)
{
    struct jsonin_err je;
    cJSON *v = NULL;
    int rc = jsonin_parse(text, strlen(text), &v, &je);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  %s: %s\n", je.code, je.msg);
    return v;
}

static void run_table(const char *dir)
{
    struct check_table t;
    if (!check_table_open(&t, dir, "requests.tsv"))
        return;
    char *c[MAX_COLS];
    int n, rows = 0;
    while ((n = check_table_next(&t, c, MAX_COLS)) >= 0) {
        rows++;
        int ok = strcmp(c[0], "ok") == 0;
        CHECK(n == (ok ? 7 : 6));
        if (n != (ok ? 7 : 6)) {
            check_table_where(&t);
            continue;
        }
        const char *prefix = strcmp(c[1], "-") == 0 ? "" : c[1];
        cJSON *req = parse(c[2]);
        struct request_job j;
        struct request_err re;
        memset(&re, 0, sizeof re);
        int rc = req ? request_parse(req, MAX_SOURCE, prefix, 5, &j, &re) : -99;
        if (ok) {
            CHECK_INT(rc, 0);
            if (rc == 0) {
                CHECK_STR(j.job.problem, c[3]);
                CHECK_STR(j.job.mode, c[4]);
                CHECK_INT(j.job.priority, atoi(c[5]));
                CHECK_STR(j.job.options_json, c[6]);
                /* the job's metric names are the canonical options' (NULL for null) */
                cJSON *want = cJSON_Parse(c[6]);
                const cJSON *wm = cJSON_GetObjectItemCaseSensitive(want, "metrics");
                CHECK(cJSON_IsNull(wm) ? j.metrics == NULL : cJSON_Compare(wm, j.metrics, 1));
                cJSON_Delete(want);
                CHECK_STR(j.job.language, "cuda");
                CHECK_INT(strlen(j.job.cache_key), 64);
            } else {
                fprintf(stderr, "  %u %s %s: %s\n", re.status, re.code, re.field, re.msg);
            }
        } else {
            CHECK_INT(rc, ERR_INVALID);
            CHECK_INT(re.status, atoi(c[3]));
            CHECK_STR(re.code, c[4]);
            CHECK_STR(re.field, strcmp(c[5], "-") == 0 ? "" : c[5]);
            CHECK(re.msg[0] != 0);
            CHECK(j.spec_json == NULL && j.options_json == NULL);
        }
        request_job_free(&j);
        cJSON_Delete(req);
        check_table_where(&t);
    }
    CHECK(rows >= 50);
    check_table_close(&t);
}

static const struct body_case {
    const char *body;
    size_t len;          /* 0: strlen */
    const char *code;    /* NULL: parses */
    long offset;         /* -1: not checked */
} bodies[] = {
    {"{}", 0, NULL, 0},
    {"  [1, 2]\r\n", 0, NULL, 0},
    {"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", 0, NULL, 0},   /* é € U+1F600 */
    {"\"\\ud83d\\ude00\"", 0, NULL, 0},                       /* an escaped surrogate pair */
    {"{\"a\":\"\\\"[[[[{{\"}", 0, NULL, 0},                   /* brackets in a string */
    {"", 0, "malformed_json", 0},
    {" \n\t ", 0, "malformed_json", 4},
    {"{} x", 0, "malformed_json", 3},
    {"{\"a\":", 0, "malformed_json", 5},
    {"{\"a\":1,}", 0, "malformed_json", 7},                    /* a trailing comma */
    {"[1,]", 0, "malformed_json", 3},
    {"[\"\\ud800\"]", 0, "malformed_json", 2},                /* a lone surrogate escape */
    {"[\"\\udc00\"]", 0, "malformed_json", 2},
    {"[\"\\ud800\\u0041\"]", 0, "malformed_json", 2},
    {"\"\\u12G4\"", 0, "malformed_json", 5},
    {"\"\\q\"", 0, "malformed_json", 1},                      /* an invalid escape */
    {"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", 0, NULL, 0},      /* every valid escape */
    {"{'a':1}", 0, "malformed_json", 1},                       /* single quotes */
    {"{a:1}", 0, "malformed_json", 1},                         /* an unquoted key */
    {"{/* c */}", 0, "malformed_json", 1},                     /* a comment */
    {"// c\n{}", 0, "malformed_json", 0},
    {"{\"a\" 1}", 0, "malformed_json", 5},                      /* no colon */
    {"[1 2]", 0, "malformed_json", 3},
    {"[03]", 0, "malformed_json", 2},                          /* a leading zero */
    {"[-03]", 0, "malformed_json", 3},
    {"[0, -0, 0.5, -1.5e+3, 2E-2, 10, 1e400]", 0, NULL, 0},
    {"[1.]", 0, "malformed_json", 3},
    {"[.5]", 0, "malformed_json", 1},
    {"[1e]", 0, "malformed_json", 3},
    {"[-]", 0, "malformed_json", 2},
    {"[+1]", 0, "malformed_json", 1},
    {"[0x3]", 0, "malformed_json", 2},
    {"[NaN]", 0, "malformed_json", 1},
    {"[Infinity]", 0, "malformed_json", 1},
    {"[ture]", 0, "malformed_json", 2},                        /* a misspelt literal */
    {"[nul]", 0, "malformed_json", 4},
    {"[true, false, null]", 0, NULL, 0},
    {"\xef\xbb\xbf{}", 0, NULL, 0},                             /* a byte order mark */
    {"\"abc", 0, "malformed_json", 4},                          /* an unterminated string */
    {"{\"a\":{}}}", 0, "malformed_json", 8},
    {"\"a\\u0000b\"", 0, "malformed_json", 2},
    {"\"a\tb\"", 0, "malformed_json", 2},                     /* a raw control character */
    {"{\"a\":1}\x01", 0, "malformed_json", 7},
    {"{}\0{}", 5, "malformed_json", 2},                       /* a NUL byte */
    {"\"\xc0\xaf\"", 0, "bad_utf8", 1},                       /* overlong '/' */
    {"\"\xe0\x80\xaf\"", 0, "bad_utf8", 1},                   /* overlong, 3 bytes */
    {"\"\xf0\x80\x80\xaf\"", 0, "bad_utf8", 1},               /* overlong, 4 bytes */
    {"\"\xed\xa0\x80\"", 0, "bad_utf8", 1},                   /* a UTF-16 surrogate */
    {"\"\xf4\x90\x80\x80\"", 0, "bad_utf8", 1},               /* above U+10FFFF */
    {"\"\xf5\x80\x80\x80\"", 0, "bad_utf8", 1},
    {"\"ab\x80\"", 0, "bad_utf8", 3},                         /* a lone continuation byte */
    {"\"\xe2\x82\"", 0, "bad_utf8", 1},                       /* cut short */
    {"\"\xe2\x82", 0, "bad_utf8", 1},                         /* cut short at the end */
    {"\xff", 0, "bad_utf8", 0},
};

static void run_bodies(void)
{
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const struct body_case *b = &bodies[i];
        size_t len = b->len ? b->len : strlen(b->body);
        struct jsonin_err je = {0};
        cJSON *v = NULL;
        int rc = jsonin_parse(b->body, len, &v, &je);
        int failed = check_failed;
        if (!b->code) {
            CHECK_INT(rc, 0);
            CHECK(v != NULL);
        } else {
            CHECK_INT(rc, ERR_INVALID);
            CHECK(v == NULL);
            CHECK_STR(je.code, b->code);
            if (b->offset >= 0)
                CHECK_INT(je.offset, b->offset);
            CHECK(strstr(je.msg, "byte") != NULL || strstr(je.msg, "empty") != NULL);
        }
        if (check_failed != failed)
            fprintf(stderr, "  ^ body case %zu (%s)\n", i, je.msg);
        cJSON_Delete(v);
    }
    /* depth: 32 levels parse, 33 are too deep (at the 33rd bracket); objects count too */
    char deep[512];
    for (int d = 32; d <= 33; d++)
        for (int obj = 0; obj <= 1; obj++) {
            size_t k = 0;   /* d levels: arrays, or arrays and objects {"k": ...} alternating */
            for (int i = 0; i < d; i++)
                k += (size_t)sprintf(deep + k, obj && i % 2 ? "{\"k\":" : "[");
            if (obj && (d - 1) % 2)
                deep[k++] = '0';
            for (int i = d - 1; i >= 0; i--)
                deep[k++] = obj && i % 2 ? '}' : ']';
            deep[k] = 0;
            struct jsonin_err je = {0};
            cJSON *v = NULL;
            int rc = jsonin_parse(deep, k, &v, &je);
            if (d <= JSONIN_MAX_DEPTH) {
                CHECK_INT(rc, 0);
            } else {
                CHECK_INT(rc, ERR_INVALID);
                CHECK_STR(je.code, "too_deep");
            }
            cJSON_Delete(v);
        }
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = 0;
    struct jsonin_err je = {0};
    cJSON *v = NULL;
    CHECK_INT(jsonin_parse(deep, 66, &v, &je), ERR_INVALID);
    CHECK_INT(je.offset, 32);
}

static void run_lines(void)
{
    static const char text[] = "{\"a\":1}\n\n  \r\n[2]\r\n{\"b\":\n3\n";
    struct jsonin_lines it;
    struct jsonin_err je = {0};
    cJSON *v = NULL;
    long line = 0;
    jsonin_lines_init(&it, text, strlen(text));
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 1);
    CHECK_INT(line, 1);
    CHECK(cJSON_IsObject(v));
    cJSON_Delete(v);
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 1);
    CHECK_INT(line, 4);
    CHECK(cJSON_IsArray(v));
    cJSON_Delete(v);
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), ERR_INVALID);
    CHECK_STR(je.code, "malformed_json");
    CHECK_INT(je.line, 5);
    CHECK_INT(je.offset, 23);   /* the end of line 5 ({"b": at 18..22), in the whole text */
    CHECK(strncmp(je.msg, "line 5: ", 8) == 0);

    static const char two[] = "1\n 2 ";   /* no final line break */
    jsonin_lines_init(&it, two, strlen(two));
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 1);
    cJSON_Delete(v);
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 1);
    CHECK_INT(line, 2);
    CHECK(cJSON_IsNumber(v) && v->valueint == 2);
    cJSON_Delete(v);
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 0);

    static const char utf[] = "1\n2\n\"\xff\"\n";
    jsonin_lines_init(&it, utf, strlen(utf));
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), ERR_INVALID);
    CHECK_STR(je.code, "bad_utf8");
    CHECK_INT(je.line, 3);
    CHECK_INT(je.offset, 5);

    static const char trailing[] = "{} {}\n";
    jsonin_lines_init(&it, trailing, strlen(trailing));
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), ERR_INVALID);
    CHECK_INT(je.offset, 3);

    jsonin_lines_init(&it, "\n \n", 3);
    CHECK_INT(jsonin_lines_next(&it, &v, &line, &je), 0);
}

static void run_media(void)
{
    CHECK_INT(jsonin_media(NULL), JSONIN_JSON);
    CHECK_INT(jsonin_media("application/json"), JSONIN_JSON);
    CHECK_INT(jsonin_media("Application/JSON; charset=utf-8"), JSONIN_JSON);
    CHECK_INT(jsonin_media(" application/json ;x=y"), JSONIN_JSON);
    CHECK_INT(jsonin_media("application/x-ndjson"), JSONIN_JSONL);
    CHECK_INT(jsonin_media("application/jsonl;charset=utf-8"), JSONIN_JSONL);
    CHECK_INT(jsonin_media("text/plain"), JSONIN_OTHER);
    CHECK_INT(jsonin_media("application/json5"), JSONIN_OTHER);
    CHECK_INT(jsonin_media("application/x-www-form-urlencoded"), JSONIN_OTHER);
    CHECK_INT(jsonin_media(""), JSONIN_OTHER);
}

/* The cache key of a request given as JSON text ("" when it does not validate). */
static void key_of(const char *text, int default_priority, char key[65])
{
    cJSON *req = parse(text);
    struct request_job j;
    struct request_err re;
    key[0] = 0;
    if (req && request_parse(req, MAX_SOURCE, "", default_priority, &j, &re) == 0) {
        memcpy(key, j.cache_key, 65);
        request_job_free(&j);
    }
    cJSON_Delete(req);
}

static void run_cache_keys(void)
{
    char a[65], b[65];
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"}}", 5, a);
    CHECK_INT(strlen(a), 64);
    key_of("{\"problem\":\"seed-003\",\"candidate\":{\"source\":\"x\",\"language\":\"cuda\"},"
           "\"options\":{\"priority\":2,\"trials\":3},\"force\":true}", 1, b);
    CHECK_STR(a, b);
    key_of("{\"problem\":{\"n\":8,\"c_in\":64,\"h\":512,\"w\":1024,\"c_out\":128,\"kernel\":[3,3],"
           "\"dtype\":\"float32\"},\"candidate\":{\"source\":\"x\"}}", 5, b);
    CHECK_STR(a, b);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"y\"}}", 5, b);
    CHECK(strcmp(a, b) != 0);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"trials\":4}}", 5, b);
    CHECK(strcmp(a, b) != 0);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"seed\":0}}", 5, b);
    CHECK(strcmp(a, b) != 0);
    key_of("{\"problem\":\"kb1-56\",\"candidate\":{\"source\":\"x\"}}", 5, b);
    CHECK(strcmp(a, b) != 0);
    /* options.metrics: null, absent and true are the default list; [] and false none; a list's
     * order counts (it is the result's order) */
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":null}}", 5, b);
    CHECK_STR(a, b);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":true}}", 5, b);
    CHECK_STR(a, b);
    char none[65], ab[65], ba[65];
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":[]}}", 5, none);
    CHECK(strlen(none) == 64 && strcmp(a, none) != 0);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":false}}", 5, b);
    CHECK_STR(none, b);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":"
           "[\"a__b\",\"c__d\"]}}", 5, ab);
    key_of("{\"problem\":\"kb1-55\",\"candidate\":{\"source\":\"x\"},\"options\":{\"metrics\":"
           "[\"c__d\",\"a__b\"]}}", 5, ba);
    CHECK(strlen(ab) == 64 && strlen(ba) == 64);
    CHECK(strcmp(ab, ba) != 0 && strcmp(ab, a) != 0 && strcmp(ab, none) != 0);

    /* the documented formula, and the job's other fields */
    cJSON *req = parse("{\"problem\":\"seed-003\",\"candidate\":{\"source\":\"abc\"}}");
    struct request_job j;
    struct request_err re;
    CHECK_INT(request_parse(req, MAX_SOURCE, "", 1, &j, &re), 0);
    char src[65], want[65];
    sha256_hex("abc", 3, src);
    CHECK_STR(j.job.source_sha256, src);
    CHECK_INT(j.job.source_len, 3);
    CHECK_INT(j.job.priority, 1);
    CHECK_INT(j.job.force, 0);
    CHECK(j.metrics == NULL);   /* the default list */
    cJSON *spec = spec_to_json(&registry_find("kb1-55")->spec);
    char *spec_text = cJSON_PrintUnformatted(spec);
    CHECK_STR(j.job.spec_json, spec_text);
    char *pre = NULL;
    if (asprintf(&pre, "kgrade-cache/1\ncuda\n%s\n%s\n%s\n%s", src, spec_text, j.job.options_json,
                 KGRADE_VERSION) > 0) {
        sha256_hex(pre, strlen(pre), want);
        CHECK_STR(j.job.cache_key, want);
    }
    free(pre);
    free(spec_text);
    cJSON_Delete(spec);
    request_job_free(&j);
    request_job_free(&j);   /* a freed job is a no-op */
    cJSON_Delete(req);
}

static void run_error_body(void)
{
    struct request_err re;
    struct jsonin_err je = {"malformed_json", 17, 0, "malformed JSON at byte 17"};
    request_err_from_json(&re, &je);
    CHECK_INT(re.status, 400);
    cJSON *b = request_err_body(&re);
    char *text = cJSON_PrintUnformatted(b);
    CHECK_STR(text, "{\"error\":{\"code\":\"malformed_json\",\"message\":\"malformed JSON at byte "
                    "17\",\"offset\":17}}");
    free(text);
    cJSON_Delete(b);
    request_err_set(&re, 422, "invalid_field", "[3].options.trials", "[3].options.trials: no");
    b = request_err_body(&re);
    text = cJSON_PrintUnformatted(b);
    CHECK_STR(text, "{\"error\":{\"code\":\"invalid_field\",\"message\":\"[3].options.trials: no\","
                    "\"field\":\"[3].options.trials\"}}");
    free(text);
    cJSON_Delete(b);
}

int main(int argc, char **argv)
{
    run_table(argc > 1 ? argv[1] : "tests/data");
    run_bodies();
    run_lines();
    run_media();
    run_cache_keys();
    run_error_body();
    return check_summary("test_request");
}
