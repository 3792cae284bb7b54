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
    CHECK_NEAR(s.rse, sqrt(2.5) / sqrt(5) / 3, 1e-12);
    CHECK_NEAR(v[0], 5, 0);                       /* input untouched */

    const double even[] = {10, 20, 30, 40};
    CHECK_INT(stats_compute(even, 4, &s), 0);
    CHECK_NEAR(s.median, 25, 1e-12);

    const double one[] = {7};
    CHECK_INT(stats_compute(one, 1, &s), 0);
    CHECK_NEAR(s.median, 7, 0);
    CHECK_NEAR(s.stdev, 0, 0);
    CHECK(isinf(s.rse));

    CHECK_INT(stats_compute(one, 0, &s), 0);
    CHECK_INT(s.n, 0);
    return check_summary("test_stats");
}
