/* check.h — the assertions of the test programs: each failure prints the expression, both values
 * and the line, counts, and the test goes on; check_summary() prints "N passed, M failed" and
 * gives the exit status. Table files (the .tsv files of tests/data) are read with check_table_*:
 * one row per line, cells separated by tabs, '#' lines and blank lines skipped; a row whose checks
 * failed is named by its file and line. */
#ifndef KGRADE_CHECK_H
#define KGRADE_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

struct check_table {
    FILE *f;
    char path[1024];
    char *line;
    size_t cap;
    int lineno;
    int failed_before;   /* check_failed when the current row began */
};

/* Open dir/name (a failed CHECK when it cannot be opened). */
static inline bool check_table_open(struct check_table *t, const char *dir, const char *name)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s/%s", dir, name);
    t->f = fopen(t->path, "r");
    CHECK(t->f != NULL);
    return t->f != NULL;
}

/* The next row split at tabs into at most max cells (in place); its cell count, or -1 at the end. */
static inline int check_table_next(struct check_table *t, char **cols, int max)
{
    while (getline(&t->line, &t->cap, t->f) >= 0) {
        t->lineno++;
        t->line[strcspn(t->line, "\r\n")] = '\0';
        if (t->line[0] == '#' || t->line[0] == '\0')
            continue;
        t->failed_before = check_failed;
        int n = 0;
        cols[n++] = t->line;
        for (char *p = t->line; *p && n < max; p++)
            if (*p == '\t') {
                *p = '\0';
                cols[n++] = p + 1;
            }
        return n;
    }
    return -1;
}

/* After a row's checks: name the row when any of them failed. */
static inline void check_table_where(const struct check_table *t)
{
    if (check_failed != t->failed_before)
        fprintf(stderr, "  ^ at %s:%d\n", t->path, t->lineno);
}

static inline void check_table_close(struct check_table *t)
{
    free(t->line);
    if (t->f)
        fclose(t->f);
}

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
