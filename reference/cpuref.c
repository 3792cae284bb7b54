/* cpuref.c — the test oracle: a direct NCHW convolution on the CPU (see cpuref.h).
 *
 * The one idea: write the textbook definition and nothing else, so that a reader can check it
 * against the formula in one sitting:
 *
 *   y[n][co][oh][ow] = b[co] + sum over ci < c_in/groups, r < kh, t < kw of
 *                      x[n][g*cpg + ci][oh*sh - ph + r*dh][ow*sw - pw + t*dw] * w[co][ci][r][t]
 *
 * where cpg = c_in/groups, g = co / (c_out/groups), and an input position outside the image reads
 * as zero (zero padding). Every product and sum is formed in double; the products of two floats
 * are exact in double, so the only rounding is that of the sums.
 *
 * Invariants: cpuref_conv and cpuref_point run the same loop (point) in the same order, so they
 * agree bit for bit; indices are int64 throughout, so no tensor size can overflow them.
 *
 * What it does not do: validate the spec (callers pass a valid one), round to the dtype, or try to
 * be fast — a large problem is checked element by element with cpuref_point. */
#include "cpuref.h"

#include <stddef.h>

/* One output element. */
static double point(const struct conv_spec *s, const float *x, const float *w, const float *b,
                    int64_t n, int64_t co, int64_t oh, int64_t ow)
{
    int64_t cpg_in = s->c_in / s->groups;     /* input channels per group */
    int64_t cpg_out = s->c_out / s->groups;   /* output channels per group */
    int64_t g = co / cpg_out;
    double acc = 0.0;

    for (int64_t ci = 0; ci < cpg_in; ci++) {
        int64_t c = g * cpg_in + ci;
        for (int64_t r = 0; r < s->kh; r++) {
            int64_t ih = oh * s->stride_h - s->pad_h + r * s->dil_h;
            if (ih < 0 || ih >= s->h)
                continue;
            for (int64_t t = 0; t < s->kw; t++) {
                int64_t iw = ow * s->stride_w - s->pad_w + t * s->dil_w;
                if (iw < 0 || iw >= s->w)
                    continue;
                double xv = x[((n * s->c_in + c) * s->h + ih) * s->w + iw];
                double wv = w[((co * cpg_in + ci) * s->kh + r) * s->kw + t];
                acc += xv * wv;
            }
        }
    }
    if (s->bias && b)
        acc += (double)b[co];
    return acc;
}

void cpuref_conv(const struct conv_spec *s, const float *x, const float *w, const float *b, double *y)
{
    struct spec_derived d;
    spec_derive(s, &d);
    int64_t i = 0;
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t co = 0; co < s->c_out; co++)
            for (int64_t oh = 0; oh < d.h_out; oh++)
                for (int64_t ow = 0; ow < d.w_out; ow++)
                    y[i++] = point(s, x, w, b, n, co, oh, ow);
}

double cpuref_point(const struct conv_spec *s, const float *x, const float *w, const float *b,
                    int64_t n, int64_t co, int64_t oh, int64_t ow)
{
    return point(s, x, w, b, n, co, oh, ow);
}
