/* stats.h — summary statistics of timing samples (pure C, no allocation beyond a sort copy). */
#ifndef KGRADE_STATS_H
#define KGRADE_STATS_H

#include <cjson/cJSON.h>

struct stats {
    int n;
    double median, mean, stdev, min, max, p10, p90;
    double rse;    /* relative standard error of the mean: stdev / sqrt(n) / mean */
};

/* Summarise v[0..n); v is not modified. n == 0 gives all zeros. Returns ERR_NOMEM on failure. */
int stats_compute(const double *v, int n, struct stats *s);

/* {"n","median","mean","stdev","min","max","p10","p90","rse"}; times keep the caller's unit. */
cJSON *stats_to_json(const struct stats *s);

#endif
