/* spec.c — the conv2d problem model: JSON in, validation, derived values, JSON out (see spec.h).
 *
 * The one idea: a spec that passes spec_validate can be handed to any kernel, oracle or allocator
 * without a further check. Every size is bounded before anything is multiplied, every product is
 * computed with overflow checks, and every rejection names the field at fault and says what was
 * expected and what was found ("stride[1] must be a positive integer, got -2").
 *
 * Limits (checked by spec_validate, so they hold for registry entries and hand-built structs too):
 *   n, c_in, h, w, c_out, kernel, stride, dilation, groups   1 .. 2^31-1
 *   padding                                                   0 .. 2^20-1 (may exceed the kernel
 *                                                             extent, as nn.Conv2d allows)
 *   c_in and c_out divisible by groups                        field "groups"
 *   output height and width >= 1                              field "kernel": the dilated kernel is
 *                                                             what no longer fits the padded input
 *   footprint x + w + b + y in the dtype <= the limit         field "footprint", ERR_LIMIT
 *   every tensor at most 2^31 elements                        field "x", "w" (the weight) or "y",
 *                                                             ERR_LIMIT: the largest index,
 *                                                             count - 1, fits in a 32-bit int
 * The footprint is checked before the element counts, so a spec too large for the machine is
 * reported as such rather than as an indexing limit. The element bound is 2^31 rather than
 * INT32_MAX because KernelBench problem 87 has an output of exactly 2^31 elements; code that keeps
 * an element count (as opposed to an index) must hold it in 64 bits.
 *
 * JSON integers must be numbers with an exact integer value (8 and 8.0 are the same number; 3.5,
 * "8", true and null are not integers). Unknown and repeated keys are errors, so a typo never
 * silently means a default. spec_from_json leaves *s untouched when it fails.
 *
 * Not done here: parsing text (the caller parses with cJSON_ParseWithLengthOpts and hands over a
 * cJSON object; with require_null_terminated the length must count the NUL, strlen + 1), allocation
 * of tensors, and any question of whether a GPU can run the problem. */
#include "spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM_MAX ((int64_t)INT32_MAX)
#define PAD_MAX (((int64_t)1 << 20) - 1)
#define ELEMS_MAX ((int64_t)1 << 31)
#define EXACT_INT_MAX 9007199254740992.0   /* 2^53: above it not every integer is a double */

enum key { K_N, K_C_IN, K_H, K_W, K_C_OUT, K_KERNEL, K_STRIDE, K_PADDING, K_DILATION, K_GROUPS,
           K_BIAS, K_DTYPE, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "n", "c_in", "h", "w", "c_out", "kernel", "stride", "padding", "dilation", "groups", "bias",
    "dtype",
};

/* ---- describing what was found ---------------------------------------------------------- */

/* Copy s into out as printable ASCII (other bytes become '?'), at most max characters. */
static void sanitize(const char *s, char *out, size_t len, size_t max)
{
    size_t i = 0;
    for (; s[i] && i < max && i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[i] = '\0';
    if (s[i] && i + 4 <= len)
        strcpy(out + i, "...");
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d. */
static void format_number(double d, char *buf, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void describe(const cJSON *v, char *buf, size_t len)
{
    char text[48];
    if (!v)
        snprintf(buf, len, "nothing");
    else if (cJSON_IsTrue(v))
        snprintf(buf, len, "true");
    else if (cJSON_IsFalse(v))
        snprintf(buf, len, "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, len, "null");
    else if (cJSON_IsNumber(v))
        format_number(v->valuedouble, buf, len);
    else if (cJSON_IsString(v) && v->valuestring) {
        sanitize(v->valuestring, text, sizeof text, 32);
        snprintf(buf, len, "\"%s\"", text);
    } else if (cJSON_IsArray(v))
        snprintf(buf, len, "an array of %d", cJSON_GetArraySize(v));
    else if (cJSON_IsObject(v))
        snprintf(buf, len, "an object");
    else
        snprintf(buf, len, "an invalid value");
}

/* ---- range checks shared by the JSON reader and spec_validate ---------------------------- */

static int check_range(const char *field, int64_t v, int64_t min, int64_t max, struct err *e)
{
    if (v < min)
        return err_set(e, ERR_INVALID, field, "%s must be a %s integer, got %" PRId64, field,
                       min > 0 ? "positive" : "non-negative", v);
    if (v > max)
        return err_set(e, ERR_INVALID, field, "%s must be at most %" PRId64 ", got %" PRId64, field,
                       max, v);
    return 0;
}

/* ---- reading JSON values ------------------------------------------------------------------- */

static int read_int(const cJSON *v, const char *field, int64_t min, int64_t max, int64_t *out,
                    struct err *e)
{
    char found[64];
    const char *kind = min > 0 ? "positive" : "non-negative";
    describe(v, found, sizeof found);
    if (!cJSON_IsNumber(v))
        return err_set(e, ERR_INVALID, field, "%s must be a %s integer, got %s", field, kind,
                       found);
    double d = v->valuedouble;
    if (d > EXACT_INT_MAX)
        return err_set(e, ERR_INVALID, field, "%s must be at most %" PRId64 ", got %s", field, max,
                       found);
    if (!(d >= -EXACT_INT_MAX) || (double)(int64_t)d != d)   /* NaN fails the first test */
        return err_set(e, ERR_INVALID, field, "%s must be a %s integer, got %s", field, kind,
                       found);
    *out = (int64_t)d;
    return check_range(field, *out, min, max, e);
}

/* An integer (both components) or an array [h, w]; elements are named "field[0]", "field[1]". */
static int read_pair(const cJSON *v, const char *field, int64_t min, int64_t max, int64_t *h,
                     int64_t *w, struct err *e)
{
    const char *kind = min > 0 ? "positive" : "non-negative";
    if (cJSON_IsNumber(v)) {
        int rc = read_int(v, field, min, max, h, e);
        if (rc == 0)
            *w = *h;
        return rc;
    }
    char found[64];
    describe(v, found, sizeof found);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
        return err_set(e, ERR_INVALID, field,
                       "%s must be a %s integer or an array of 2 %s integers [h, w], got %s", field,
                       kind, kind, found);
    char name[64];
    int64_t *dst[2] = { h, w };
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s[%d]", field, i);
        int rc = read_int(cJSON_GetArrayItem(v, i), name, min, max, dst[i], e);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_bool(const cJSON *v, const char *field, bool *out, struct err *e)
{
    char found[64];
    if (!cJSON_IsBool(v)) {
        describe(v, found, sizeof found);
        return err_set(e, ERR_INVALID, field, "%s must be true or false, got %s", field, found);
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static int read_dtype(const cJSON *v, const char *field, enum spec_dtype *out, struct err *e)
{
    int t = cJSON_IsString(v) && v->valuestring ? spec_dtype_parse(v->valuestring) : -1;
    if (t < 0) {
        char found[64];
        describe(v, found, sizeof found);
        return err_set(e, ERR_INVALID, field,
                       "%s must be one of \"float32\", \"float16\", \"bfloat16\", got %s", field,
                       found);
    }
    *out = (enum spec_dtype)t;
    return 0;
}

/* Collect the object's members by key: unknown and repeated keys are errors. */
static int collect_keys(const cJSON *obj, const cJSON *items[K_COUNT], struct err *e)
{
    char key[48];
    const cJSON *child;
    cJSON_ArrayForEach(child, obj) {
        const char *name = child->string ? child->string : "";
        int k = 0;
        while (k < K_COUNT && strcmp(name, key_names[k]) != 0)
            k++;
        sanitize(name, key, sizeof key, 40);
        if (k == K_COUNT)
            return err_set(e, ERR_INVALID, key,
                           "unknown field \"%s\"; the fields are n, c_in, h, w, c_out, kernel, "
                           "stride, padding, dilation, groups, bias, dtype", key);
        if (items[k])
            return err_set(e, ERR_INVALID, key, "field \"%s\" appears more than once", key);
        items[k] = child;
    }
    return 0;
}

int spec_from_json(const cJSON *obj, const struct spec_limits *lim, struct conv_spec *s,
                   struct err *e)
{
    char found[64];
    if (!cJSON_IsObject(obj)) {
        describe(obj, found, sizeof found);
        return err_set(e, ERR_INVALID, "", "a spec must be a JSON object, got %s", found);
    }
    const cJSON *items[K_COUNT] = { NULL };
    int rc = collect_keys(obj, items, e);
    if (rc)
        return rc;
    for (int k = K_N; k <= K_KERNEL; k++) {
        if (!items[k])
            return err_set(e, ERR_INVALID, key_names[k], "missing required field \"%s\" (%s)",
                           key_names[k],
                           k == K_KERNEL ? "a positive integer or [h, w]" : "a positive integer");
    }

    struct conv_spec t = {
        .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1,
        .bias = false, .dtype = SPEC_F32,
    };
    int64_t *dims[5] = { &t.n, &t.c_in, &t.h, &t.w, &t.c_out };
    for (int k = K_N; k <= K_C_OUT; k++) {
        rc = read_int(items[k], key_names[k], 1, DIM_MAX, dims[k], e);
        if (rc)
            return rc;
    }
    rc = read_pair(items[K_KERNEL], "kernel", 1, DIM_MAX, &t.kh, &t.kw, e);
    if (rc == 0 && items[K_STRIDE])
        rc = read_pair(items[K_STRIDE], "stride", 1, DIM_MAX, &t.stride_h, &t.stride_w, e);
    if (rc == 0 && items[K_PADDING])
        rc = read_pair(items[K_PADDING], "padding", 0, PAD_MAX, &t.pad_h, &t.pad_w, e);
    if (rc == 0 && items[K_DILATION])
        rc = read_pair(items[K_DILATION], "dilation", 1, DIM_MAX, &t.dil_h, &t.dil_w, e);
    if (rc == 0 && items[K_GROUPS])
        rc = read_int(items[K_GROUPS], "groups", 1, DIM_MAX, &t.groups, e);
    if (rc == 0 && items[K_BIAS])
        rc = read_bool(items[K_BIAS], "bias", &t.bias, e);
    if (rc == 0 && items[K_DTYPE])
        rc = read_dtype(items[K_DTYPE], "dtype", &t.dtype, e);
    if (rc == 0)
        rc = spec_validate(&t, lim, e);
    if (rc == 0)
        *s = t;
    return rc;
}

/* ---- validation ------------------------------------------------------------------------------ */

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t product4(int64_t a, int64_t b, int64_t c, int64_t d)
{
    return mul_sat(mul_sat((uint64_t)a, (uint64_t)b), mul_sat((uint64_t)c, (uint64_t)d));
}

/* One output extent; the inputs are already range-checked, so nothing here can overflow, but the
 * products are checked anyway. Sets *out (0 when the dilated kernel does not fit). */
static int output_extent(const char *axis, int64_t in, int64_t k, int64_t stride, int64_t pad,
                         int64_t dil, int i, int64_t *out, struct err *e)
{
    int64_t span, num;
    if (__builtin_mul_overflow(dil, k - 1, &span) ||
        __builtin_add_overflow(in, 2 * pad - span - 1, &num))
        return err_set(e, ERR_INVALID, "kernel", "output %s overflows", axis);
    if (num < 0) {
        *out = 0;
        return err_set(e, ERR_INVALID, "kernel",
                       "output %s is 0: %s + 2*padding[%d] - dilation[%d]*(kernel[%d]-1) - 1 = "
                       "%" PRId64 " + %" PRId64 " - %" PRId64 "*%" PRId64 " - 1 = %" PRId64 " < 0",
                       axis, i == 0 ? "h" : "w", i, i, i, in, 2 * pad, dil, k - 1, num);
    }
    *out = num / stride + 1;
    return 0;
}

static int check_elems(const char *field, const char *what, uint64_t count, struct err *e)
{
    if (count > (uint64_t)ELEMS_MAX)
        return err_set(e, ERR_LIMIT, field,
                       "%s has %" PRIu64 " elements, more than 2^31 = %" PRId64
                       ": an element index would not fit in a 32-bit int", what, count, ELEMS_MAX);
    return 0;
}

int spec_validate(const struct conv_spec *s, const struct spec_limits *lim, struct err *e)
{
    const struct { const char *name; int64_t v, min, max; } fields[] = {
        { "n", s->n, 1, DIM_MAX },
        { "c_in", s->c_in, 1, DIM_MAX },
        { "h", s->h, 1, DIM_MAX },
        { "w", s->w, 1, DIM_MAX },
        { "c_out", s->c_out, 1, DIM_MAX },
        { "kernel[0]", s->kh, 1, DIM_MAX },
        { "kernel[1]", s->kw, 1, DIM_MAX },
        { "stride[0]", s->stride_h, 1, DIM_MAX },
        { "stride[1]", s->stride_w, 1, DIM_MAX },
        { "padding[0]", s->pad_h, 0, PAD_MAX },
        { "padding[1]", s->pad_w, 0, PAD_MAX },
        { "dilation[0]", s->dil_h, 1, DIM_MAX },
        { "dilation[1]", s->dil_w, 1, DIM_MAX },
        { "groups", s->groups, 1, DIM_MAX },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int rc = check_range(fields[i].name, fields[i].v, fields[i].min, fields[i].max, e);
        if (rc)
            return rc;
    }
    if (spec_dtype_size(s->dtype) == 0)
        return err_set(e, ERR_INVALID, "dtype",
                       "dtype must be float32, float16 or bfloat16, got %d", (int)s->dtype);
    if (s->c_in % s->groups != 0)
        return err_set(e, ERR_INVALID, "groups",
                       "c_in (%" PRId64 ") is not divisible by groups (%" PRId64 ")", s->c_in,
                       s->groups);
    if (s->c_out % s->groups != 0)
        return err_set(e, ERR_INVALID, "groups",
                       "c_out (%" PRId64 ") is not divisible by groups (%" PRId64 ")", s->c_out,
                       s->groups);

    int64_t h_out, w_out;
    int rc = output_extent("height", s->h, s->kh, s->stride_h, s->pad_h, s->dil_h, 0, &h_out, e);
    if (rc == 0)
        rc = output_extent("width", s->w, s->kw, s->stride_w, s->pad_w, s->dil_w, 1, &w_out, e);
    if (rc)
        return rc;

    uint64_t x = product4(s->n, s->c_in, s->h, s->w);
    uint64_t wt = product4(s->c_out, s->c_in / s->groups, s->kh, s->kw);
    uint64_t b = s->bias ? (uint64_t)s->c_out : 0;
    uint64_t y = product4(s->n, s->c_out, h_out, w_out);
    int size = spec_dtype_size(s->dtype);
    uint64_t bytes = mul_sat(add_sat(add_sat(x, wt), add_sat(b, y)), (uint64_t)size);
    uint64_t max = lim ? lim->max_footprint_bytes : SPEC_DEFAULT_MAX_FOOTPRINT;
    if (bytes > max) {
        /* The message is computed again in double, which cannot overflow. */
        double fb = ((double)s->n * (double)s->c_in * (double)s->h * (double)s->w +
                     (double)s->c_out * (double)(s->c_in / s->groups) * (double)(s->kh * s->kw) +
                     (double)b + (double)s->n * (double)s->c_out * (double)(h_out * w_out)) * size;
        return err_set(e, ERR_LIMIT, "footprint",
                       "footprint (x + w + b + y in %s) is %.0f bytes (%.4g GiB), over the limit "
                       "of %" PRIu64 " bytes (%.4g GiB)", spec_dtype_name(s->dtype), fb,
                       fb / (1u << 30), max, (double)max / (1u << 30));
    }
    rc = check_elems("x", "input x", x, e);
    if (rc == 0)
        rc = check_elems("w", "weight w", wt, e);
    if (rc == 0)
        rc = check_elems("y", "output y", y, e);
    return rc;
}

void spec_derive(const struct conv_spec *s, struct spec_derived *d)
{
    d->h_out = (s->h + 2 * s->pad_h - s->dil_h * (s->kh - 1) - 1) / s->stride_h + 1;
    d->w_out = (s->w + 2 * s->pad_w - s->dil_w * (s->kw - 1) - 1) / s->stride_w + 1;
    d->x_elems = s->n * s->c_in * s->h * s->w;
    d->w_elems = s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
    d->b_elems = s->bias ? s->c_out : 0;
    d->y_elems = s->n * s->c_out * d->h_out * d->w_out;
    d->reduction_len = s->c_in / s->groups * s->kh * s->kw;
    d->flops = 2.0 * (double)d->y_elems * (double)d->reduction_len +
               (s->bias ? (double)d->y_elems : 0.0);
    d->dtype_size = spec_dtype_size(s->dtype);
    d->min_bytes = (double)(d->x_elems + d->w_elems + d->b_elems + d->y_elems) * d->dtype_size;
}

/* ---- printing -------------------------------------------------------------------------------- */

static cJSON *add_pair(cJSON *obj, const char *name, int64_t h, int64_t w)
{
    cJSON *a = cJSON_AddArrayToObject(obj, name);
    if (!a)
        return NULL;
    cJSON *vh = cJSON_CreateNumber((double)h);
    if (!vh || !cJSON_AddItemToArray(a, vh)) {
        cJSON_Delete(vh);
        return NULL;
    }
    cJSON *vw = cJSON_CreateNumber((double)w);
    if (!vw || !cJSON_AddItemToArray(a, vw)) {
        cJSON_Delete(vw);
        return NULL;
    }
    return a;
}

cJSON *spec_to_json(const struct conv_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_AddNumberToObject(o, "n", (double)s->n) ||
        !cJSON_AddNumberToObject(o, "c_in", (double)s->c_in) ||
        !cJSON_AddNumberToObject(o, "h", (double)s->h) ||
        !cJSON_AddNumberToObject(o, "w", (double)s->w) ||
        !cJSON_AddNumberToObject(o, "c_out", (double)s->c_out) ||
        !add_pair(o, "kernel", s->kh, s->kw) ||
        !add_pair(o, "stride", s->stride_h, s->stride_w) ||
        !add_pair(o, "padding", s->pad_h, s->pad_w) ||
        !add_pair(o, "dilation", s->dil_h, s->dil_w) ||
        !cJSON_AddNumberToObject(o, "groups", (double)s->groups) ||
        !cJSON_AddBoolToObject(o, "bias", s->bias) ||
        !cJSON_AddStringToObject(o, "dtype", spec_dtype_name(s->dtype))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Best effort: a member that cannot be allocated is left out. */
void spec_derived_to_json(const struct conv_spec *s, cJSON *obj)
{
    struct spec_derived d;
    spec_derive(s, &d);
    cJSON_AddNumberToObject(obj, "h_out", (double)d.h_out);
    cJSON_AddNumberToObject(obj, "w_out", (double)d.w_out);
    cJSON_AddNumberToObject(obj, "x_elems", (double)d.x_elems);
    cJSON_AddNumberToObject(obj, "w_elems", (double)d.w_elems);
    cJSON_AddNumberToObject(obj, "b_elems", (double)d.b_elems);
    cJSON_AddNumberToObject(obj, "y_elems", (double)d.y_elems);
    cJSON_AddNumberToObject(obj, "reduction_len", (double)d.reduction_len);
    cJSON_AddNumberToObject(obj, "flops", d.flops);
    cJSON_AddNumberToObject(obj, "min_bytes", d.min_bytes);
    cJSON_AddNumberToObject(obj, "gflop", d.flops / 1e9);
    /* The same sum as min_bytes today: what must be resident rather than what must move. */
    cJSON_AddNumberToObject(obj, "footprint_bytes", d.min_bytes);
}

/* ---- dtypes and the one-line description ---------------------------------------------- */

const char *spec_dtype_name(enum spec_dtype t)
{
    switch (t) {
    case SPEC_F32: return "float32";
    case SPEC_F16: return "float16";
    case SPEC_BF16: return "bfloat16";
    }
    return "unknown";
}

int spec_dtype_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "float32") == 0)
        return SPEC_F32;
    if (strcmp(name, "float16") == 0)
        return SPEC_F16;
    if (strcmp(name, "bfloat16") == 0)
        return SPEC_BF16;
    return -1;
}

int spec_dtype_size(enum spec_dtype t)
{
    switch (t) {
    case SPEC_F32: return 4;
    case SPEC_F16: return 2;
    case SPEC_BF16: return 2;
    }
    return 0;
}

/* "3" when both components agree, else "2x3". */
static void format_pair(char *buf, size_t len, int64_t h, int64_t w)
{
    if (h == w)
        snprintf(buf, len, "%" PRId64, h);
    else
        snprintf(buf, len, "%" PRId64 "x%" PRId64, h, w);
}

void spec_describe(const struct conv_spec *s, char *buf, size_t len)
{
    char st[48], pd[48], dl[48];
    if (!buf || len == 0)
        return;
    format_pair(st, sizeof st, s->stride_h, s->stride_w);
    format_pair(pd, sizeof pd, s->pad_h, s->pad_w);
    format_pair(dl, sizeof dl, s->dil_h, s->dil_w);
    snprintf(buf, len,
             "%" PRId64 "x%" PRId64 "x%" PRId64 "x%" PRId64 " -> %" PRId64 ", k%" PRId64 "x%" PRId64
             " s%s p%s d%s g%" PRId64 "%s %s",
             s->n, s->c_in, s->h, s->w, s->c_out, s->kh, s->kw, st, pd, dl, s->groups,
             s->bias ? " bias" : "", spec_dtype_name(s->dtype));
}
