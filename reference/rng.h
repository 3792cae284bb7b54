/* rng.h — the CPU side of the deterministic inputs (the GPU side runs the same portable.h code).
 *
 * A problem's inputs under a seed: x from stream PORT_STREAM_X with the requested distribution and
 * scale 1; w and b from their streams with the same distribution, scaled like nn.Conv2d's default
 * initialisation (bound 1/sqrt(c_in/groups*kh*kw)) except in exact mode, where the scale is 1.
 * Storage is the problem's dtype: float, or the 16-bit patterns of float16/bfloat16. */
#ifndef KGRADE_RNG_H
#define KGRADE_RNG_H

#include <stdint.h>

#include "portable.h"
#include "spec.h"

/* The scale of stream's values for spec under dist. */
float rng_scale(const struct conv_spec *s, enum port_stream stream, enum port_dist dist);

/* Fill out[0..count) with elements [first, first+count) of stream, stored as dtype
 * (out holds float for SPEC_F32, uint16_t otherwise). */
void rng_fill(void *out, enum spec_dtype dtype, uint64_t seed, enum port_stream stream, uint64_t first,
              int64_t count, enum port_dist dist, float scale);

/* Convert count elements of dtype storage to float (exact). */
void rng_to_float(const void *in, enum spec_dtype dtype, int64_t count, float *out);

/* Round count floats to dtype storage (round to nearest even). */
void rng_from_float(const float *in, enum spec_dtype dtype, int64_t count, void *out);

/* "uniform", "normal", "exact"; rng_dist_parse returns -1 for an unknown name. */
const char *rng_dist_name(enum port_dist d);
int rng_dist_parse(const char *name);

#endif
