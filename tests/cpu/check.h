/* check.h — the assertions of the test programs: each failure prints the expression, both values
 * and the line, counts, and the test goes on; check_summary() prints "N passed, M failed" and
 * gives the exit status. */
#ifndef KGRADE_CHECK_H
#define KGRADE_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (cond) check_passed++;                                                               \
        else { check_failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_INT(a, b)                                                                         \
    do {                                                                                        \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                   \
        if (va_ == vb_) check_passed++;                                                         \
        else { check_failed++; fprintf(stderr, "%s:%d: %s == %s failed: %lld vs %lld\n",        \
                                       __FILE__, __LINE__, #a, #b, va_, vb_); }                 \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                        \
        double va_ = (double)(a), vb_ = (double)(b);                                            \
        if (fabs(va_ - vb_) <= (tol)) check_passed++;                                           \
        else { check_failed++; fprintf(stderr, "%s:%d: %s ~= %s failed: %.17g vs %.17g (tol %g)\n", \
                                       __FILE__, __LINE__, #a, #b, va_, vb_, (double)(tol)); }   \
    } while (0)

#define CHECK_STR(a, b)                                                                         \
    do {                                                                                        \
        const char *va_ = (a), *vb_ = (b);                                                      \
        if (va_ && vb_ && strcmp(va_, vb_) == 0) check_passed++;                                \
        else { check_failed++; fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" vs \"%s\"\n",    \
                                       __FILE__, __LINE__, #a, #b, va_ ? va_ : "(null)",         \
                                       vb_ ? vb_ : "(null)"); }                                 \
    } while (0)

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
