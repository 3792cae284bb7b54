/* test_interleave.c — the timing rounds' stop for a target out of reach, as a table: the records of
 * small-3x3 (a 0.06 ms Triton forward: rse about 2 % after the whole 2 s budget) stop after a
 * quarter of it, the records of kb1-56 (13.5 ms: 13-49 rounds, rse at most 0.6 %) and every
 * implementation that converges never do. */
#include "check.h"
#include "interleave.h"

static const struct {
    double rse;
    int rounds;
    double elapsed_ms, budget_ms, target;
    bool want;
    const char *why;
} cases[] = {
    {0.039, 520, 500, 2000, 0.005, true, "small-3x3 at a quarter of the budget: 3.9 % -> 1.95 % at its end"},
    {0.020, 2000, 1999, 2000, 0.005, true, "at the budget's end, still 4x the target"},
    {0.039, 520, 499, 2000, 0.005, false, "before a quarter of the budget: never"},
    {0.039, 99, 600, 2000, 0.005, false, "fewer than 100 rounds: never"},
    {0.0084, 25, 1000, 2000, 0.005, false, "kb1-56, cuDNN TF32 at 25 rounds: too few rounds"},
    {0.0060, 200, 1000, 2000, 0.005, false, "0.6 % -> 0.42 % at the end: reachable"},
    {0.0141, 200, 500, 2000, 0.005, false, "1.41 % -> 0.71 % at the end: within twice the target, go on"},
    {0.0201, 200, 500, 2000, 0.005, true, "2.01 % -> 1.005 %: more than twice the target"},
    {0.0007, 2000, 1500, 2000, 0.005, false, "the reference's 0.07 %: converged long ago"},
    {0.05, 500, 5000, 20000, 0.005, true, "a 20 s budget: the same rule at 5 s"},
    {0.05, 500, 4000, 20000, 0.005, false, "... not before"},
    {0.05, 500, 600, 0, 0.005, false, "no budget: never"},
    {INFINITY, 500, 600, 2000, 0.005, false, "no spread known (a single sample's rse): never"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_failed;
        CHECK_INT(interleave_out_of_reach(cases[i].rse, cases[i].rounds, cases[i].elapsed_ms, cases[i].budget_ms,
                                          cases[i].target),
                  cases[i].want);
        if (check_failed != before)
            fprintf(stderr, "  ^ case %zu: %s\n", i, cases[i].why);
    }
    return check_summary("test_interleave");
}
