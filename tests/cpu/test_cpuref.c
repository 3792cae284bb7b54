/* test_cpuref.c — the CPU oracle (cpuref.c).
 *
 * Two kinds of evidence. A table of small convolutions whose outputs were worked out by hand
 * (stride, padding, dilation, groups, bias, batch, several output channels, non-square kernels);
 * and, for a few shapes like the registry's, two properties: cpuref_point equals cpuref_conv at
 * every element, and an independent im2col + matrix-multiply formulation agrees within 1e-12. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpuref.h"
#include "portable.h"

/* The 3x3 image 1..9 used by most cases, and a 2x2 kernel. */
static const float img3[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const float k1234[] = { 1, 2, 3, 4 };
/* Two 2x2 channels: ch0 = 1 2 / 3 4, ch1 = 5 6 / 7 8. */
static const float img2c[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
/* Two 3x3 images: 1..9 and all ones. */
static const float img3n2[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1 };

struct hand_case {
    const char *name;
    int64_t n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw, dh, dw, groups;
    const float *x, *wt, *b;   /* b NULL: no bias */
    int64_t h_out, w_out;
    double y[16];              /* expected, NCHW */
};

static const struct hand_case hand[] = {
    /* out[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1] */
    { "k2 s1 p0", 1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, img3, k1234, NULL, 2, 2,
      { 37, 47, 67, 77 } },
    { "k2 s2 p0", 1, 1, 3, 3, 1, 2, 2, 2, 2, 0, 0, 1, 1, 1, img3, k1234, NULL, 1, 1, { 37 } },
    /* zero border of one: the full 4x4 output */
    { "k2 s1 p1", 1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, img3, k1234, NULL, 4, 4,
      { 4, 11, 18, 9, 18, 37, 47, 21, 36, 67, 77, 33, 14, 23, 26, 9 } },
    /* rows and columns 0 and 2 of the previous output */
    { "k2 s2 p1", 1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, img3, k1234, NULL, 2, 2,
      { 4, 18, 36, 77 } },
    /* the kernel taps land on the four corners: 1 + 2*3 + 3*7 + 4*9 */
    { "k2 d2", 1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 2, 2, 1, img3, k1234, NULL, 1, 1, { 64 } },
    { "k2 d2 p1", 1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, 2, 2, 1, img3, k1234, NULL, 3, 3,
      { 20, 36, 15, 36, 64, 26, 10, 16, 5 } },
    /* stride and padding differ per axis: columns padded, rows not */
    { "k2 s(1,2) p(0,1)", 1, 1, 3, 3, 1, 2, 2, 1, 2, 0, 1, 1, 1, 1, img3, k1234, NULL, 2, 2,
      { 18, 47, 36, 77 } },
    /* a 1x3 kernel 1 -1 2: x[r][0] - x[r][1] + 2 x[r][2] */
    { "k1x3", 1, 1, 3, 3, 1, 1, 3, 1, 1, 0, 0, 1, 1, 1, img3, (const float[]){ 1, -1, 2 }, NULL,
      3, 1, { 5, 11, 17 } },
    /* batch of two with bias 0.25; the second image is all ones: 1+2+3+4 */
    { "n2 bias", 2, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, img3n2, k1234, (const float[]){ 0.25f },
      2, 2, { 37.25, 47.25, 67.25, 77.25, 10.25, 10.25, 10.25, 10.25 } },
    /* two groups of one channel, 1x1 kernels 2 and -1, bias 10 and 100 */
    { "g2 1x1 bias", 1, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, 2, img2c, (const float[]){ 2, -1 },
      (const float[]){ 10, 100 }, 2, 2, { 12, 14, 16, 18, 95, 94, 93, 92 } },
    /* one group, c_out 2: sum and difference of the channels, bias 0.5 and -0.5 */
    { "g1 c_out2 bias", 1, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1, img2c,
      (const float[]){ 1, 1, 1, -1 }, (const float[]){ 0.5f, -0.5f }, 2, 2,
      { 6.5, 8.5, 10.5, 12.5, -4.5, -4.5, -4.5, -4.5 } },
    /* two groups, two outputs per group, 2x2 kernels over the whole 2x2 channel:
     * co0 = x0[0][0], co1 = sum x0, co2 = x1[1][1], co3 = 5 - 6 + 7 - 8 */
    { "g2 c_out4 k2", 1, 2, 2, 2, 4, 2, 2, 1, 1, 0, 0, 1, 1, 2, img2c,
      (const float[]){ 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, -1, 1, -1 }, NULL, 1, 1,
      { 1, 10, 8, -2 } },
    /* one group, two inputs, two outputs: co0 = sum ch0 + 1, co1 = ch0[0][0] + 2 ch1[1][1] - 1 */
    { "g1 c_in2 c_out2 k2 bias", 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, img2c,
      (const float[]){ 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2 },
      (const float[]){ 1, -1 }, 1, 1, { 11, 16 } },
};

static struct conv_spec hand_spec(const struct hand_case *c)
{
    struct conv_spec s = { .n = c->n, .c_in = c->c_in, .h = c->h, .w = c->w, .c_out = c->c_out,
                           .kh = c->kh, .kw = c->kw, .stride_h = c->sh, .stride_w = c->sw,
                           .pad_h = c->ph, .pad_w = c->pw, .dil_h = c->dh, .dil_w = c->dw,
                           .groups = c->groups, .bias = c->b != NULL, .dtype = SPEC_F32 };
    return s;
}

static void test_hand(void)
{
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        const struct hand_case *c = &hand[i];
        struct conv_spec s = hand_spec(c);
        struct spec_derived d;
        spec_derive(&s, &d);
        CHECK_INT(d.h_out, c->h_out);
        CHECK_INT(d.w_out, c->w_out);
        int64_t count = c->n * c->c_out * c->h_out * c->w_out;
        CHECK_INT(d.y_elems, count);
        if (d.y_elems != count || count > 16)
            continue;
        double y[16];
        cpuref_conv(&s, c->x, c->wt, c->b, y);
        for (int64_t k = 0; k < count; k++) {
            if (y[k] != c->y[k])
                fprintf(stderr, "case \"%s\" element %lld: got %g want %g\n", c->name, (long long)k,
                        y[k], c->y[k]);
            CHECK(y[k] == c->y[k]);
        }
    }

    /* a bias array passed for a spec without bias is ignored */
    struct conv_spec s = hand_spec(&hand[0]);
    const float b = 1000.0f;
    double y[4];
    cpuref_conv(&s, img3, k1234, &b, y);
    CHECK(y[0] == 37 && y[3] == 77);
    CHECK(cpuref_point(&s, img3, k1234, &b, 0, 0, 1, 1) == 77);
}

/* Independent formulation: per image and group, unfold the input into columns
 * col[k][p] (k = (ci, r, t), p = (oh, ow)), then y_g = W_g * col (+ bias). */
static void im2col_conv(const struct conv_spec *s, const float *x, const float *w, const float *b,
                        double *y)
{
    struct spec_derived d;
    spec_derive(s, &d);
    int64_t cig = s->c_in / s->groups, cog = s->c_out / s->groups;
    int64_t K = cig * s->kh * s->kw, P = d.h_out * d.w_out;
    double *col = malloc((size_t)(K * P) * sizeof *col);
    if (!col) {
        CHECK(!"out of memory");
        return;
    }
    for (int64_t n = 0; n < s->n; n++) {
        for (int64_t g = 0; g < s->groups; g++) {
            for (int64_t k = 0; k < K; k++) {
                int64_t ci = k / (s->kh * s->kw), r = k / s->kw % s->kh, t = k % s->kw;
                const float *plane = x + (n * s->c_in + g * cig + ci) * s->h * s->w;
                for (int64_t p = 0; p < P; p++) {
                    int64_t ih = p / d.w_out * s->stride_h + r * s->dil_h - s->pad_h;
                    int64_t iw = p % d.w_out * s->stride_w + t * s->dil_w - s->pad_w;
                    bool inside = ih >= 0 && ih < s->h && iw >= 0 && iw < s->w;
                    col[k * P + p] = inside ? (double)plane[ih * s->w + iw] : 0.0;
                }
            }
            for (int64_t m = 0; m < cog; m++) {
                int64_t co = g * cog + m;
                const float *wrow = w + co * K;
                for (int64_t p = 0; p < P; p++) {
                    double acc = s->bias ? (double)b[co] : 0.0;
                    for (int64_t k = 0; k < K; k++)
                        acc += (double)wrow[k] * col[k * P + p];
                    y[(n * s->c_out + co) * P + p] = acc;
                }
            }
        }
    }
    free(col);
}

/* Registry-like shapes, scaled down so that the full convolution is cheap. */
static const struct conv_spec shapes[] = {
    { .n = 2, .c_in = 8, .h = 10, .w = 12, .c_out = 6, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
      .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1, .bias = true },
    { .n = 1, .c_in = 6, .h = 9, .w = 7, .c_out = 9, .kh = 3, .kw = 2, .stride_h = 2, .stride_w = 1,
      .pad_h = 1, .pad_w = 0, .dil_h = 1, .dil_w = 2, .groups = 3, .bias = true },
    { .n = 2, .c_in = 8, .h = 11, .w = 11, .c_out = 8, .kh = 5, .kw = 5, .stride_h = 2, .stride_w = 2,
      .pad_h = 2, .pad_w = 2, .dil_h = 1, .dil_w = 1, .groups = 8, .bias = false },
    { .n = 3, .c_in = 16, .h = 5, .w = 5, .c_out = 4, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1,
      .pad_h = 0, .pad_w = 0, .dil_h = 1, .dil_w = 1, .groups = 1, .bias = false },
    { .n = 1, .c_in = 4, .h = 13, .w = 17, .c_out = 6, .kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
      .pad_h = 2, .pad_w = 2, .dil_h = 2, .dil_w = 2, .groups = 2, .bias = true },
    { .n = 1, .c_in = 3, .h = 16, .w = 16, .c_out = 5, .kh = 7, .kw = 7, .stride_h = 2, .stride_w = 2,
      .pad_h = 3, .pad_w = 3, .dil_h = 1, .dil_w = 1, .groups = 1, .bias = true },
};

static float *random_floats(int64_t count, uint32_t stream, uint64_t seed)
{
    float *p = malloc((size_t)(count > 0 ? count : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (int64_t i = 0; i < count; i++)
        p[i] = port_sample(seed, stream, (uint64_t)i, PORT_UNIFORM, 1.0f);
    return p;
}

static void test_properties(void)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct conv_spec *s = &shapes[i];
        struct spec_derived d;
        spec_derive(s, &d);
        float *x = random_floats(d.x_elems, PORT_STREAM_X, 100 + i);
        float *w = random_floats(d.w_elems, PORT_STREAM_W, 100 + i);
        float *b = random_floats(s->c_out, PORT_STREAM_B, 100 + i);
        double *y = malloc((size_t)d.y_elems * sizeof *y);
        double *y2 = malloc((size_t)d.y_elems * sizeof *y2);
        if (!x || !w || !b || !y || !y2) {
            CHECK(!"out of memory");
            goto next;
        }
        cpuref_conv(s, x, w, s->bias ? b : NULL, y);
        im2col_conv(s, x, w, b, y2);

        int64_t point_diff = 0, im2col_diff = 0, i_el = 0;
        double ymax = 0;
        for (int64_t k = 0; k < d.y_elems; k++)
            ymax = fmax(ymax, fabs(y2[k]));
        for (int64_t n = 0; n < s->n; n++)
            for (int64_t co = 0; co < s->c_out; co++)
                for (int64_t oh = 0; oh < d.h_out; oh++)
                    for (int64_t ow = 0; ow < d.w_out; ow++, i_el++) {
                        double p = cpuref_point(s, x, w, s->bias ? b : NULL, n, co, oh, ow);
                        if (memcmp(&p, &y[i_el], sizeof p) != 0)
                            point_diff++;
                        if (!(fabs(y[i_el] - y2[i_el]) <= 1e-12 * ymax))
                            im2col_diff++;
                    }
        CHECK_INT(i_el, d.y_elems);
        CHECK_INT(point_diff, 0);
        CHECK_INT(im2col_diff, 0);
        CHECK(ymax > 0.1);   /* the comparison is not vacuous */
    next:
        free(x);
        free(w);
        free(b);
        free(y);
        free(y2);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_hand();
    test_properties();
    return check_summary("test_cpuref");
}
