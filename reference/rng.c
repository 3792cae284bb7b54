/* rng.c — the CPU side of the deterministic inputs (see rng.h and portable.h).
 *
 * The one idea: every input element is port_sample(seed, stream, index, dist, scale), the same
 * function the GPU runs, so this file only chooses the scale of each stream and moves values
 * between float and the 16-bit storage formats. Nothing here is random in the library sense:
 * there is no state, and filling [first, first+count) gives the same values whether done in one
 * call or in many.
 *
 * Invariants:
 *   - the float path and the 16-bit paths agree: a float16/bfloat16 element is exactly the
 *     port_f32_to_f16 / port_f32_to_bf16 rounding of the float element;
 *   - this file is compiled with -ffp-contract=off so that the host compiler cannot fuse the
 *     multiply-adds of portable.h into FMAs and round differently from the documented formula.
 *
 * What it does not do: allocate, validate specs (callers pass a valid spec), or use any other
 * generator. */
#include "rng.h"

#include <math.h>
#include <string.h>

float rng_scale(const struct conv_spec *s, enum port_stream stream, enum port_dist dist)
{
    if (stream == PORT_STREAM_X || dist == PORT_EXACT)
        return 1.0f;
    /* nn.Conv2d's default initialisation: weight and bias uniform in +-1/sqrt(fan_in), where
     * fan_in = c_in/groups * kh * kw (the reduction length). */
    double fan_in = (double)(s->c_in / s->groups) * (double)s->kh * (double)s->kw;
    return (float)(1.0 / sqrt(fan_in));
}

void rng_fill(void *out, enum spec_dtype dtype, uint64_t seed, enum port_stream stream, uint64_t first,
              int64_t count, enum port_dist dist, float scale)
{
    if (dtype == SPEC_F32) {
        float *o = out;
        for (int64_t i = 0; i < count; i++)
            o[i] = port_sample(seed, (port_u32)stream, first + (uint64_t)i, (int)dist, scale);
    } else if (dtype == SPEC_F16) {
        uint16_t *o = out;
        for (int64_t i = 0; i < count; i++)
            o[i] = port_f32_to_f16(port_sample(seed, (port_u32)stream, first + (uint64_t)i, (int)dist, scale));
    } else {
        uint16_t *o = out;
        for (int64_t i = 0; i < count; i++)
            o[i] = port_f32_to_bf16(port_sample(seed, (port_u32)stream, first + (uint64_t)i, (int)dist, scale));
    }
}

void rng_to_float(const void *in, enum spec_dtype dtype, int64_t count, float *out)
{
    if (dtype == SPEC_F32) {
        if (count > 0 && (const void *)out != in)
            memmove(out, in, (size_t)count * sizeof(float));
    } else if (dtype == SPEC_F16) {
        const uint16_t *h = in;
        for (int64_t i = 0; i < count; i++)
            out[i] = port_f16_to_f32(h[i]);
    } else {
        const uint16_t *h = in;
        for (int64_t i = 0; i < count; i++)
            out[i] = port_bf16_to_f32(h[i]);
    }
}

void rng_from_float(const float *in, enum spec_dtype dtype, int64_t count, void *out)
{
    if (dtype == SPEC_F32) {
        if (count > 0 && out != (const void *)in)
            memmove(out, in, (size_t)count * sizeof(float));
    } else if (dtype == SPEC_F16) {
        uint16_t *h = out;
        for (int64_t i = 0; i < count; i++)
            h[i] = port_f32_to_f16(in[i]);
    } else {
        uint16_t *h = out;
        for (int64_t i = 0; i < count; i++)
            h[i] = port_f32_to_bf16(in[i]);
    }
}

static const char *const dist_names[] = {
    [PORT_UNIFORM] = "uniform",
    [PORT_NORMAL] = "normal",
    [PORT_EXACT] = "exact",
};

const char *rng_dist_name(enum port_dist d)
{
    if ((int)d < 0 || (size_t)d >= sizeof dist_names / sizeof dist_names[0])
        return "unknown";
    return dist_names[d];
}

int rng_dist_parse(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof dist_names / sizeof dist_names[0]; i++)
        if (strcmp(name, dist_names[i]) == 0)
            return (int)i;
    return -1;
}
