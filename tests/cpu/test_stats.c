/* test_stats — summary statistics against values computed by hand. */
#include <math.h>

#include "check.h"
#include "stats.h"

int main(void)
{
    const double v[] = {5, 1, 4, 2, 3};   /* sorted 1..5 */
    struct stats s;
    CHECK_INT(stats_compute(v, 5, &s), 0);
    CHECK_INT(s.n, 5);
    CHECK_NEAR(s.median, 3, 1e-12);
    CHECK_NEAR(s.mean, 3, 1e-12);
    CHECK_NEAR(s.stdev, sqrt(2.5), 1e-12);       /* sum of squares 10 over n-1 = 4 */
    CHECK_NEAR(s.min, 1, 0);
    CHECK_NEAR(s.max, 5, 0);
    CHECK_NEAR(s.p10, 1.4, 1e-12);                /* 1 + 0.4 * (2 - 1) */
    CHECK_NEAR(s.p90, 4.6, 1e-12);
    CHECK_NEAR(s.rse, 1.2533 * 1.4826 * 1 / sqrt(5) / 3, 1e-12);   /* MAD of 1..5 is 1 */
    CHECK_NEAR(v[0], 5, 0);                       /* input untouched */

    const double even[] = {10, 20, 30, 40};
    CHECK_INT(stats_compute(even, 4, &s), 0);
    CHECK_NEAR(s.median, 25, 1e-12);

    /* one wild outlier barely moves the median's error, unlike the mean's */
    const double spiky[] = {10, 10.1, 9.9, 10, 10.05, 9.95, 10, 10.1, 9.9, 60};
    CHECK_INT(stats_compute(spiky, 10, &s), 0);
    CHECK(s.rse < 0.01);
    CHECK(s.stdev / sqrt(10) / s.mean > 0.1);

    const double one[] = {7};
    CHECK_INT(stats_compute(one, 1, &s), 0);
    CHECK_NEAR(s.median, 7, 0);
    CHECK_NEAR(s.stdev, 0, 0);
    CHECK(isinf(s.rse));

    CHECK_INT(stats_compute(one, 0, &s), 0);
    CHECK_INT(s.n, 0);

    /* Student's t: table values and the expansion beyond the table (t(60) = 2.0003, t(120) = 1.9799) */
    CHECK_NEAR(stats_t975(1), 12.706, 1e-3);
    CHECK_NEAR(stats_t975(10), 2.228, 1e-3);
    CHECK_NEAR(stats_t975(60), 2.0003, 2e-3);
    CHECK_NEAR(stats_t975(120), 1.9799, 1e-3);
    CHECK(isinf(stats_t975(0)));

    /* paired ratios: ratios 2, 2, 2 -> estimate 2 with a zero-width interval */
    const double base[] = {4, 6, 8}, cand[] = {2, 3, 4};
    struct stats_ratio r;
    stats_paired_ratio(base, cand, 3, &r);
    CHECK_INT(r.n, 3);
    CHECK_NEAR(r.estimate, 2, 1e-12);
    CHECK_NEAR(r.lo, 2, 1e-12);
    CHECK_NEAR(r.hi, 2, 1e-12);
    /* ratios 1.1 and 0.9: log mean m, half width t(1) * sd / sqrt(2) computed by hand */
    const double b2[] = {1.1, 0.9, -1}, c2[] = {1, 1, 1};
    stats_paired_ratio(b2, c2, 3, &r);
    CHECK_INT(r.n, 2);                            /* the pair with a negative time is skipped */
    double l1 = log(1.1), l2 = log(0.9), m = (l1 + l2) / 2;
    double sd = sqrt(((l1 - m) * (l1 - m) + (l2 - m) * (l2 - m)) / 1);
    CHECK_NEAR(r.estimate, exp(m), 1e-12);
    CHECK_NEAR(r.lo, exp(m - 12.706 * sd / sqrt(2)), 1e-9);
    CHECK_NEAR(r.hi, exp(m + 12.706 * sd / sqrt(2)), 1e-9);
    /* swapping numerator and denominator inverts the interval */
    struct stats_ratio inv;
    stats_paired_ratio(c2, b2, 3, &inv);
    CHECK_NEAR(inv.lo, 1 / r.hi, 1e-12);
    CHECK_NEAR(inv.hi, 1 / r.lo, 1e-12);
    stats_paired_ratio(b2, c2, 1, &r);
    CHECK_INT(r.n, 1);
    CHECK(isinf(r.hi));
    return check_summary("test_stats");
}
