/* spec.h — the conv2d problem model: one NCHW convolution, its JSON form, validation, derived values.
 *
 * JSON form (every key optional except n, c_in, h, w, c_out, kernel):
 *   {"n":8, "c_in":64, "h":512, "w":1024, "c_out":128,
 *    "kernel":[3,3], "stride":[1,1], "padding":[0,0], "dilation":[1,1],   (int or [h,w])
 *    "groups":1, "bias":false, "dtype":"float32"}                         (float32|float16|bfloat16)
 * Unknown keys are rejected so that a typo never silently means a default. */
#ifndef KGRADE_SPEC_H
#define KGRADE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

enum spec_dtype { SPEC_F32 = 0, SPEC_F16 = 1, SPEC_BF16 = 2 };

struct conv_spec {
    int64_t n, c_in, h, w, c_out;
    int64_t kh, kw;
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;
    int64_t dil_h, dil_w;
    int64_t groups;
    bool bias;
    enum spec_dtype dtype;
};

/* Values that follow from a valid spec. Tensors: x [n][c_in][h][w], w [c_out][c_in/groups][kh][kw],
 * b [c_out], y [n][c_out][h_out][w_out]. */
struct spec_derived {
    int64_t h_out, w_out;
    int64_t x_elems, w_elems, b_elems, y_elems;
    int64_t reduction_len;   /* c_in/groups * kh * kw: terms summed per output element */
    double flops;            /* 2 * y_elems * reduction_len (+ y_elems when bias) */
    double min_bytes;        /* x + w + b read once, y written once, in the dtype */
    int dtype_size;          /* bytes per element */
};

struct spec_limits {
    uint64_t max_footprint_bytes;  /* x + w + b + y in the dtype; default SPEC_DEFAULT_MAX_FOOTPRINT */
};
#define SPEC_DEFAULT_MAX_FOOTPRINT (32ull << 30)

/* Parsing and printing. spec_from_json fills s (defaults for absent optional keys), then validates;
 * on failure e names the JSON field. spec_to_json returns a new object; the caller deletes it.
 * spec_derived_to_json adds the derived values under their names to obj. */
int spec_from_json(const cJSON *obj, const struct spec_limits *lim, struct conv_spec *s, struct err *e);
cJSON *spec_to_json(const struct conv_spec *s);
void spec_derived_to_json(const struct conv_spec *s, cJSON *obj);

/* Validation and derived values. spec_validate checks every field and the derived sizes: positive
 * sizes, c_in and c_out divisible by groups, a positive output size, every tensor's element count
 * at most 2^31, so every index fits in a 32-bit int (counts themselves need 64 bits), the footprint within lim (NULL = defaults).
 * spec_derive assumes a valid spec. */
int spec_validate(const struct conv_spec *s, const struct spec_limits *lim, struct err *e);
void spec_derive(const struct conv_spec *s, struct spec_derived *d);

/* dtype names: "float32", "float16", "bfloat16". spec_dtype_parse returns -1 for an unknown name. */
const char *spec_dtype_name(enum spec_dtype t);
int spec_dtype_parse(const char *name);
int spec_dtype_size(enum spec_dtype t);

/* A one-line human description, e.g. "8x64x512x1024 -> 128, k3x3 s1 p0 d1 g1 float32". */
void spec_describe(const struct conv_spec *s, char *buf, size_t len);

#endif
