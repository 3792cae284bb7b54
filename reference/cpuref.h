/* cpuref.h — the test oracle: a direct convolution on the CPU, every term accumulated in double.
 * Readable rather than fast; it covers every spec field. Inputs are floats (16-bit inputs are
 * converted exactly beforehand); the caller rounds the double result to the dtype if it needs to. */
#ifndef KGRADE_CPUREF_H
#define KGRADE_CPUREF_H

#include <stdint.h>

#include "spec.h"

/* y[y_elems] = conv(x, w) + b. b may be NULL when the spec has no bias. */
void cpuref_conv(const struct conv_spec *s, const float *x, const float *w, const float *b, double *y);

/* One output element y[n][co][oh][ow] (for spot checks of shapes too large for cpuref_conv). */
double cpuref_point(const struct conv_spec *s, const float *x, const float *w, const float *b,
                    int64_t n, int64_t co, int64_t oh, int64_t ow);

#endif
