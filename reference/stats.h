/* stats.h — summary statistics of timing samples (pure C, no allocation beyond a sort copy). */
#ifndef KGRADE_STATS_H
#define KGRADE_STATS_H

#include <cjson/cJSON.h>

struct stats {
    int n;
    double median, mean, stdev, min, max, p10, p90;
    double rse;    /* relative standard error of the median: 1.2533 * 1.4826 * MAD / sqrt(n) / median */
};

/* Summarise v[0..n); v is not modified. n == 0 gives all zeros. Returns ERR_NOMEM on failure. */
int stats_compute(const double *v, int n, struct stats *s);

/* The paired ratio num[i] / den[i] of n pairs (e.g. a baseline's and a candidate's time in the
 * same round): estimate = the geometric mean of the ratios, [lo, hi] its 95 % confidence interval
 * from Student's t on the log ratios. n < 2 gives lo = 0, hi = INFINITY. Pairs with a
 * non-positive member are skipped; r->n receives the number of pairs kept. */
struct stats_ratio {
    int n;
    double estimate, lo, hi;
};
void stats_paired_ratio(const double *num, const double *den, int n, struct stats_ratio *r);

/* The 0.975 quantile of Student's t with df degrees of freedom (df >= 1). */
double stats_t975(int df);

/* {"n","median","mean","stdev","min","max","p10","p90","rse"}; times keep the caller's unit. */
cJSON *stats_to_json(const struct stats *s);

#endif
