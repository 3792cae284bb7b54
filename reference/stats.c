/* stats.c — order statistics and moments of a sample (see stats.h).
 * Percentiles interpolate linearly between order statistics (the "type 7" rule of R and NumPy), so
 * p10/p90 of ten samples are well defined. The standard deviation is the sample one (n - 1).
 * The relative standard error is the median's, from the median absolute deviation: timing samples
 * carry rare large outliers (a delayed launch), which would keep a mean-based error from converging
 * although the median, which we report, is already stable.
 * Paired ratios are summarised on the log scale, where a ratio and its inverse are symmetric:
 * the interval of 1/r is exactly the inverse of the interval of r. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return sorted[n - 1];
    return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

int stats_compute(const double *v, int n, struct stats *s)
{
    memset(s, 0, sizeof *s);
    if (n <= 0)
        return 0;
    double *t = malloc((size_t)n * sizeof *t);
    if (!t)
        return ERR_NOMEM;
    memcpy(t, v, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += t[i];
    s->n = n;
    s->mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (t[i] - s->mean) * (t[i] - s->mean);
    s->stdev = n > 1 ? sqrt(ss / (n - 1)) : 0;
    s->min = t[0];
    s->max = t[n - 1];
    s->median = quantile(t, n, 0.5);
    s->p10 = quantile(t, n, 0.1);
    s->p90 = quantile(t, n, 0.9);
    /* the median's relative standard error, robust to the outliers of launch latency: sigma from the
     * median absolute deviation (x 1.4826 for normal data), times sqrt(pi/2) for the median */
    for (int i = 0; i < n; i++)
        t[i] = fabs(t[i] - s->median);
    qsort(t, (size_t)n, sizeof *t, cmp);
    double mad = quantile(t, n, 0.5);
    s->rse = n > 1 && s->median > 0 ? 1.2533 * 1.4826 * mad / sqrt((double)n) / s->median : INFINITY;
    free(t);
    return 0;
}

cJSON *stats_to_json(const struct stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s->n);
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "mean", s->mean);
    cJSON_AddNumberToObject(o, "stdev", s->stdev);
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "max", s->max);
    cJSON_AddNumberToObject(o, "p10", s->p10);
    cJSON_AddNumberToObject(o, "p90", s->p90);
    cJSON_AddNumberToObject(o, "rse", isfinite(s->rse) ? s->rse : -1);
    return o;
}

double stats_t975(int df)
{
    /* exact to 4 digits for df <= 30; beyond, the Cornish-Fisher expansion around z = 1.95996 */
    static const double t[31] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074,  2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1)
        return INFINITY;
    if (df <= 30)
        return t[df];
    double z = 1.959964, d = df;
    return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

void stats_paired_ratio(const double *num, const double *den, int n, struct stats_ratio *r)
{
    double sum = 0, ss = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (num[i] > 0 && den[i] > 0) {
            sum += log(num[i] / den[i]);
            k++;
        }
    memset(r, 0, sizeof *r);
    r->n = k;
    r->hi = INFINITY;
    if (k == 0)
        return;
    double mean = sum / k;
    for (int i = 0; i < n; i++)
        if (num[i] > 0 && den[i] > 0)
            ss += (log(num[i] / den[i]) - mean) * (log(num[i] / den[i]) - mean);
    r->estimate = exp(mean);
    if (k < 2)
        return;
    double half = stats_t975(k - 1) * sqrt(ss / (k - 1) / k);
    r->lo = exp(mean - half);
    r->hi = exp(mean + half);
}
