/* stats.c — order statistics and moments of a sample (see stats.h).
 * Percentiles interpolate linearly between order statistics (the "type 7" rule of R and NumPy), so
 * p10/p90 of ten samples are well defined. The standard deviation is the sample one (n - 1). */
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
    s->rse = n > 1 && s->mean > 0 ? s->stdev / sqrt((double)n) / s->mean : INFINITY;
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
