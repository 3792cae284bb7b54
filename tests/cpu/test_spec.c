/* test_spec.c — the conv2d problem model against two tables in the data dir (argv[1]):
 *   spec_invalid.tsv  <spec JSON> \t <err field> \t <message substring> [\t <err_name of the code>]
 *   spec_valid.tsv    <spec JSON> \t <h_out> \t <w_out> \t <flops>
 * plus JSON round trips, a configurable footprint limit, validation of hand-built structs, the
 * dtype helpers and spec_describe. A failing table row prints its file and line after the check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spec.h"

#define MAX_COLS 4

static int spec_equal(const struct conv_spec *a, const struct conv_spec *b)
{
    return a->n == b->n && a->c_in == b->c_in && a->h == b->h && a->w == b->w &&
           a->c_out == b->c_out && a->kh == b->kh && a->kw == b->kw &&
           a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->pad_h == b->pad_h &&
           a->pad_w == b->pad_w && a->dil_h == b->dil_h && a->dil_w == b->dil_w &&
           a->groups == b->groups && a->bias == b->bias && a->dtype == b->dtype;
}

/* The length counts the terminating NUL: cJSON requires it inside the buffer when asked to check
 * that nothing follows the value. */
static cJSON *parse(const char *text)
{
    return cJSON_ParseWithLengthOpts(text, strlen(text) + 1, NULL, 1);
}

/* The spec round-trips through spec_to_json, as an object and as text. */
static void check_round_trip(const struct conv_spec *s)
{
    struct conv_spec back;
    struct err e;
    cJSON *j = spec_to_json(s);
    CHECK(j != NULL);
    CHECK_INT(spec_from_json(j, NULL, &back, &e), 0);
    CHECK(spec_equal(s, &back));
    char *text = cJSON_PrintUnformatted(j);
    cJSON *again = text ? parse(text) : NULL;
    CHECK(again != NULL);
    memset(&back, 0, sizeof back);
    CHECK_INT(spec_from_json(again, NULL, &back, &e), 0);
    CHECK(spec_equal(s, &back));
    cJSON_Delete(again);
    free(text);
    cJSON_Delete(j);
}

static int run_invalid(const char *dir)
{
    struct check_table t;
    if (!check_table_open(&t, dir, "spec_invalid.tsv"))
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
        int want = ncols >= 4 && strcmp(cols[3], "limit") == 0 ? ERR_LIMIT : ERR_INVALID;
        CHECK(ncols < 4 || strcmp(cols[3], err_name(want)) == 0);
        cJSON *j = parse(cols[0]);
        CHECK(j != NULL);   /* the table holds valid JSON that is an invalid spec */
        struct conv_spec s;
        memset(&s, 0x5a, sizeof s);
        struct conv_spec untouched = s;
        struct err e;
        err_clear(&e);
        int rc = spec_from_json(j, NULL, &s, &e);
        CHECK_INT(rc, want);
        CHECK_INT(e.code, rc);
        CHECK_STR(e.field, cols[1]);
        if (strstr(e.msg, cols[2]))
            check_passed++;
        else {
            check_failed++;
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, cols[2]);
        }
        CHECK(memcmp(&s, &untouched, sizeof s) == 0);
        CHECK(strchr(e.msg, '\n') == NULL);
        /* With no err to fill, the code is the same. */
        CHECK_INT(spec_from_json(j, NULL, &s, NULL), want);
        check_table_where(&t);
        cJSON_Delete(j);
    }
    check_table_close(&t);
    return cases;
}

static int run_valid(const char *dir)
{
    struct check_table t;
    if (!check_table_open(&t, dir, "spec_valid.tsv"))
        return 0;
    int cases = 0, ncols;
    char *cols[MAX_COLS];
    while ((ncols = check_table_next(&t, cols, MAX_COLS)) >= 0) {
        CHECK_INT(ncols, 4);
        if (ncols != 4) {
            check_table_where(&t);
            continue;
        }
        cases++;
        cJSON *j = parse(cols[0]);
        CHECK(j != NULL);
        struct conv_spec s;
        struct err e;
        err_clear(&e);
        int rc = spec_from_json(j, NULL, &s, &e);
        CHECK_INT(rc, 0);
        if (rc) {
            fprintf(stderr, "  %s: %s\n", e.field, e.msg);
        } else {
            struct spec_derived d;
            spec_derive(&s, &d);
            CHECK_INT(d.h_out, strtoll(cols[1], NULL, 10));
            CHECK_INT(d.w_out, strtoll(cols[2], NULL, 10));
            CHECK_NEAR(d.flops, strtod(cols[3], NULL), 0.5);
            CHECK_INT(spec_validate(&s, NULL, &e), 0);
            check_round_trip(&s);
        }
        check_table_where(&t);
        cJSON_Delete(j);
    }
    check_table_close(&t);
    return cases;
}

static struct conv_spec kb55(void)
{
    struct conv_spec s = {
        .n = 8, .c_in = 64, .h = 512, .w = 1024, .c_out = 128, .kh = 3, .kw = 3,
        .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0, .dil_h = 1, .dil_w = 1,
        .groups = 1, .bias = false, .dtype = SPEC_F32,
    };
    return s;
}

static void test_footprint_limit(void)
{
    struct conv_spec s = kb55();
    struct spec_derived d;
    struct err e;
    spec_derive(&s, &d);
    CHECK_INT(d.x_elems + d.w_elems + d.y_elems, 268435456 + 73728 + 533729280);
    CHECK_NEAR(d.min_bytes, 4.0 * (268435456 + 73728 + 533729280), 0);
    CHECK_INT(spec_validate(&s, NULL, &e), 0);

    struct spec_limits lim = { .max_footprint_bytes = (uint64_t)d.min_bytes };
    CHECK_INT(spec_validate(&s, &lim, &e), 0);             /* exactly at the limit */
    lim.max_footprint_bytes -= 1;
    CHECK_INT(spec_validate(&s, &lim, &e), ERR_LIMIT);
    CHECK_STR(e.field, "footprint");
    lim.max_footprint_bytes = 1000;
    cJSON *j = spec_to_json(&s);
    struct conv_spec t;
    CHECK_INT(spec_from_json(j, &lim, &t, &e), ERR_LIMIT);
    CHECK_STR(e.field, "footprint");
    CHECK(strstr(e.msg, "over the limit of 1000 bytes") != NULL);
    CHECK_INT(spec_from_json(j, NULL, &t, &e), 0);
    cJSON_Delete(j);

    s.dtype = SPEC_F16;   /* half the bytes: fits a limit the float32 spec does not */
    lim.max_footprint_bytes = (uint64_t)d.min_bytes / 2;
    CHECK_INT(spec_validate(&s, &lim, &e), 0);
    lim.max_footprint_bytes = UINT64_MAX;
    CHECK_INT(spec_validate(&s, &lim, &e), 0);
}

/* Hand-built structs: spec_validate names the component at fault. */
static void test_validate_struct(void)
{
    struct conv_spec s;
    struct err e;

    s = kb55(); s.stride_w = 0;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "stride[1]");
    CHECK_STR(e.msg, "stride[1] must be a positive integer, got 0");
    s = kb55(); s.pad_h = -1;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "padding[0]");
    s = kb55(); s.kw = 0;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "kernel[1]");
    s = kb55(); s.dil_h = INT64_MAX;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "dilation[0]");
    s = kb55(); s.n = INT64_MIN;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "n");
    s = kb55(); s.dtype = (enum spec_dtype)7;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "dtype");
    s = kb55(); s.groups = 3;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.msg, "c_in (64) is not divisible by groups (3)");
    s = kb55(); s.n = 1; s.c_in = 1; s.c_out = 1; s.h = 1; s.w = 1; s.kh = 1; s.kw = 1;
    s.pad_h = (1 << 20) - 1;                    /* the largest padding: 2^21-1 rows of output */
    CHECK_INT(spec_validate(&s, NULL, &e), 0);
    s.pad_h++;
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.msg, "padding[0] must be at most 1048575, got 1048576");
    s = kb55(); s.h = 1; s.pad_h = 1;           /* padding makes room for the kernel */
    CHECK_INT(spec_validate(&s, NULL, &e), 0);
    s = kb55(); s.kh = 2147483647; s.dil_h = 2147483647;   /* the largest span: no overflow */
    CHECK_INT(spec_validate(&s, NULL, &e), ERR_INVALID);
    CHECK_STR(e.field, "kernel");
    CHECK(strstr(e.msg, "output height is 0") != NULL);
    CHECK_INT(spec_validate(&s, NULL, NULL), ERR_INVALID);
}

static void test_from_json_misc(void)
{
    struct conv_spec s;
    struct err e;
    CHECK_INT(spec_from_json(NULL, NULL, &s, &e), ERR_INVALID);
    CHECK_STR(e.field, "");
    CHECK_STR(e.msg, "a spec must be a JSON object, got nothing");

    /* Defaults for absent optional keys. */
    cJSON *j = parse("{\"n\":8,\"c_in\":64,\"h\":512,\"w\":1024,\"c_out\":128,\"kernel\":3}");
    CHECK_INT(spec_from_json(j, NULL, &s, &e), 0);
    struct conv_spec want = kb55();
    CHECK(spec_equal(&s, &want));
    cJSON_Delete(j);

    /* A long unknown key is cut, and the message stays one line within its buffer. */
    char text[600];
    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    snprintf(text, sizeof text, "{\"%s\":1}", key);
    j = parse(text);
    CHECK_INT(spec_from_json(j, NULL, &s, &e), ERR_INVALID);
    CHECK(strncmp(e.field, "kkkk", 4) == 0);
    CHECK(strstr(e.msg, "...\"") != NULL);
    cJSON_Delete(j);

    /* A long string value is cut in the message. */
    snprintf(text, sizeof text,
             "{\"n\":1,\"c_in\":1,\"h\":3,\"w\":3,\"c_out\":1,\"kernel\":1,\"dtype\":\"%s\"}", key);
    j = parse(text);
    CHECK_INT(spec_from_json(j, NULL, &s, &e), ERR_INVALID);
    CHECK_STR(e.field, "dtype");
    CHECK(strlen(e.msg) < 120);
    cJSON_Delete(j);
}

static void test_derived_json(void)
{
    struct conv_spec s = kb55();
    s.bias = true;
    cJSON *o = cJSON_CreateObject();
    spec_derived_to_json(&s, o);
    static const char *const keys[] = {
        "h_out", "w_out", "x_elems", "w_elems", "b_elems", "y_elems", "reduction_len", "flops",
        "min_bytes", "gflop", "footprint_bytes",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, keys[i]))) {
            fprintf(stderr, "derived key %s missing\n", keys[i]);
            CHECK(0);
        }
    }
    CHECK_INT(cJSON_GetArraySize(o), 11);
    struct spec_derived d;
    spec_derive(&s, &d);
    CHECK_INT(d.b_elems, 128);
    CHECK_NEAR(d.flops, 614856130560.0 + 533729280.0, 0.5);
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(o, "gflop")->valuedouble, d.flops / 1e9, 1e-9);
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(o, "reduction_len")->valuedouble, 576, 0);
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(o, "footprint_bytes")->valuedouble,
               4.0 * (268435456 + 73728 + 128 + 533729280), 0);
    cJSON_Delete(o);

    /* spec_to_json writes pairs as [h, w] and the dtype by name. */
    s.stride_w = 2;
    s.dtype = SPEC_BF16;
    o = spec_to_json(&s);
    char *text = cJSON_PrintUnformatted(o);
    CHECK_STR(text, "{\"n\":8,\"c_in\":64,\"h\":512,\"w\":1024,\"c_out\":128,\"kernel\":[3,3],"
                    "\"stride\":[1,2],\"padding\":[0,0],\"dilation\":[1,1],\"groups\":1,"
                    "\"bias\":true,\"dtype\":\"bfloat16\"}");
    free(text);
    cJSON_Delete(o);
}

static void test_dtype_and_describe(void)
{
    CHECK_STR(spec_dtype_name(SPEC_F32), "float32");
    CHECK_STR(spec_dtype_name(SPEC_F16), "float16");
    CHECK_STR(spec_dtype_name(SPEC_BF16), "bfloat16");
    CHECK_INT(spec_dtype_parse("float32"), SPEC_F32);
    CHECK_INT(spec_dtype_parse("float16"), SPEC_F16);
    CHECK_INT(spec_dtype_parse("bfloat16"), SPEC_BF16);
    CHECK_INT(spec_dtype_parse("float64"), -1);
    CHECK_INT(spec_dtype_parse("Float32"), -1);
    CHECK_INT(spec_dtype_parse(""), -1);
    CHECK_INT(spec_dtype_parse(NULL), -1);
    CHECK_INT(spec_dtype_size(SPEC_F32), 4);
    CHECK_INT(spec_dtype_size(SPEC_F16), 2);
    CHECK_INT(spec_dtype_size(SPEC_BF16), 2);

    char buf[128];
    struct conv_spec s = kb55();
    spec_describe(&s, buf, sizeof buf);
    CHECK_STR(buf, "8x64x512x1024 -> 128, k3x3 s1 p0 d1 g1 float32");
    s.kh = 5; s.kw = 7; s.stride_h = 2; s.stride_w = 3; s.pad_w = 1; s.dil_h = 2;
    s.groups = 4; s.bias = true; s.dtype = SPEC_F16;
    spec_describe(&s, buf, sizeof buf);
    CHECK_STR(buf, "8x64x512x1024 -> 128, k5x7 s2x3 p0x1 d2x1 g4 bias float16");
    spec_describe(&s, buf, 8);
    CHECK_STR(buf, "8x64x51");
    buf[0] = 'z';
    spec_describe(&s, buf, 0);
    CHECK(buf[0] == 'z');
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    int invalid = run_invalid(argv[1]);
    int valid = run_valid(argv[1]);
    CHECK(invalid >= 35);
    CHECK(valid >= 10);
    test_footprint_limit();
    test_validate_struct();
    test_from_json_misc();
    test_derived_json();
    test_dtype_and_describe();
    printf("test_spec: %d invalid and %d valid table rows\n", invalid, valid);
    return check_summary("test_spec");
}
