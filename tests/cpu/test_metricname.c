/* test_metricname.c — runner/metricname.h against tests/data/metricnames.tsv (argv[1]; its header
 * describes the rows: syntax, launch, chip, flag, check), then hand-written cases: the default list
 * (order, every name well formed and either a launch metric or a counter), 64 names accepted and 65
 * refused (check and flag), a flag longer than the list's text, every chip of the map among CUPTI's
 * supported chips, and the device's chip (none without a driver).
 *
 * Rows that need libcupti (a check of counter names) are skipped when its host API cannot be used
 * (not installed, or a build with AddressSanitizer), after checking that metricname_check then
 * says ERR_UNSUPPORTED; the test exits 77 (ctest SKIP) when
 * everything else passed, so a host without CUPTI never passes silently. No GPU is needed. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cupti.h"
#include "metricname.h"

#define MAX_COLS 4

static int have_cupti, skipped;

/* Decode \n \t \\ in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* "(null)" is NULL, "(empty)" the empty string. */
static const char *cell(char *s)
{
    return !strcmp(s, "(null)") ? NULL : !strcmp(s, "(empty)") ? "" : s;
}

static void check_msg(const char *msg, const char *want)
{
    if (strstr(msg, want))
        check_passed++;
    else {
        check_failed++;
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", msg, want);
    }
}

static int code_of(const char *name)
{
    return !strcmp(name, "invalid") ? ERR_INVALID : !strcmp(name, "limit") ? ERR_LIMIT
           : !strcmp(name, "notfound") ? ERR_NOTFOUND : 1;
}

static void row_syntax(const char *name, const char *want)
{
    struct err e;
    err_clear(&e);
    int rc = metricname_syntax(name, &e);
    if (!strcmp(want, "ok")) {
        CHECK_INT(rc, 0);
        return;
    }
    CHECK_INT(rc, ERR_INVALID);
    check_msg(e.msg, want + strlen("error:"));
}

static void row_chip(const char *arch, const char *want)
{
    const char *chip = NULL;
    struct err e;
    err_clear(&e);
    int rc = metricname_chip(atoi(arch), &chip, &e);
    if (strncmp(want, "error:", 6)) {
        CHECK_INT(rc, 0);
        CHECK_STR(chip, want);
        return;
    }
    CHECK_INT(rc, ERR_NOTFOUND);
    check_msg(e.msg, want + 6);
}

/* ok:<n>:<a|b|...> or error:<code>:<substring> */
static void row_flag(const char *arg, char *want)
{
    struct metricname_list l;
    struct err e;
    err_clear(&e);
    int rc = metricname_parse_list(arg, &l, &e);
    char *kind = strtok(want, ":"), *a = strtok(NULL, ":"), *b = strtok(NULL, "");
    if (!strcmp(kind, "ok")) {
        CHECK_INT(rc, 0);
        CHECK_INT(l.n, atoi(a));
        char joined[METRICNAME_MAX * (METRICNAME_LEN + 1)] = "";
        for (size_t i = 0; i < l.n; i++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "|" : "",
                     l.names[i]);
        CHECK_STR(joined, b ? b : "");
        return;
    }
    CHECK_INT(rc, code_of(a));
    CHECK_INT(l.n, 0);
    check_msg(e.msg, b ? b : "");
}

/* NAMES into names[] (pointing into text or at the default list); their count. */
static size_t split_names(char *text, const char **names, size_t cap)
{
    size_t n = 0;
    if (!strcmp(text, "-"))
        return 0;
    if (!strcmp(text, "@default")) {
        for (; n < metricname_default_count && n < cap; n++)
            names[n] = metricname_default[n];
        return n;
    }
    for (char *save = NULL, *t = strtok_r(text, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save))
        names[n++] = t;
    return n;
}

/* ok:<passes>:<counters> or error:<code>:<index>:<substring> */
static void row_check(const char *chip, char *list, char *want)
{
    const char *names[METRICNAME_MAX + 8];
    size_t n = split_names(list, names, sizeof names / sizeof names[0]);
    char *kind = strtok(want, ":"), *a = strtok(NULL, ":"), *b = strtok(NULL, ":"), *c = strtok(NULL, "");
    int code = strcmp(kind, "ok") ? code_of(a) : 0;
    int counters = 0;
    for (size_t i = 0; i < n; i++)
        counters += !metricname_is_launch(names[i]);
    struct metricname_check r;
    struct err e;
    err_clear(&e);
    int rc = metricname_check(chip, NULL, names, n, &r, &e);
    if (!have_cupti && counters && code != ERR_INVALID && code != ERR_LIMIT) {
        CHECK_INT(rc, ERR_UNSUPPORTED);   /* what the row would need is missing: say so, skip it */
        CHECK_INT(r.index, -1);
        skipped++;
        return;
    }
    if (!code) {
        if (rc)
            fprintf(stderr, "check failed: %s\n", e.msg);
        CHECK_INT(rc, 0);
        CHECK_INT(r.index, -1);
        CHECK_INT(r.passes, atoi(a));
        CHECK_INT(r.counters, atoi(b));
        return;
    }
    CHECK_INT(rc, code);
    CHECK_INT(r.index, atoi(b));
    check_msg(e.msg, c ? c : "");
}

static void table(const char *dir)
{
    struct check_table t;
    char *cols[MAX_COLS];
    if (!check_table_open(&t, dir, "metricnames.tsv"))
        return;
    int n, rows = 0;
    while ((n = check_table_next(&t, cols, MAX_COLS)) >= 0) {
        for (int i = 0; i < n; i++)
            unescape(cols[i]);
        rows++;
        if (!strcmp(cols[0], "syntax") && n == 3)
            row_syntax(cell(cols[1]), cols[2]);
        else if (!strcmp(cols[0], "launch") && n == 3)
            CHECK_INT(metricname_is_launch(cell(cols[1])), atoi(cols[2]));
        else if (!strcmp(cols[0], "chip") && n == 3)
            row_chip(cols[1], cols[2]);
        else if (!strcmp(cols[0], "flag") && n == 3)
            row_flag(cell(cols[1]), cols[2]);
        else if (!strcmp(cols[0], "check") && n == 4)
            row_check(cols[1], cols[2], cols[3]);
        else {
            fprintf(stderr, "a malformed row (%d cells)\n", n);
            CHECK(0);
        }
        check_table_where(&t);
    }
    check_table_close(&t);
    CHECK(rows >= 90);
}

/* The default list: its order and size, each name well formed, launch metrics from the table. */
static void default_list(void)
{
    static const char *const prompt[] = {
        "sm__throughput.avg.pct_of_peak_sustained_elapsed", "launch__grid_size",
        "sm__warps_active.avg.pct_of_peak_sustained_active",
        "dram__throughput.avg.pct_of_peak_sustained_elapsed", "lts__t_sector_hit_rate.pct"};
    CHECK_INT(metricname_default_count, 15);
    for (size_t i = 0; i < 5; i++)
        CHECK_STR(metricname_default[i], prompt[i]);
    CHECK_STR(metricname_default[5], "gpu__time_duration.sum");
    CHECK_STR(metricname_default[14], "sm__maximum_warps_per_active_cycle_pct");
    size_t launch = 0;
    for (size_t i = 0; i < metricname_default_count; i++) {
        CHECK_INT(metricname_syntax(metricname_default[i], NULL), 0);
        launch += metricname_is_launch(metricname_default[i]);
    }
    CHECK_INT(launch, 10);
    CHECK_INT(metricname_launch_count, 15);
    for (size_t i = 0; i < metricname_launch_count; i++) {
        CHECK_INT(metricname_syntax(metricname_launch[i], NULL), 0);
        CHECK(metricname_is_launch(metricname_launch[i]));
    }
}

/* 64 names pass the count, 65 do not: in a check (before any CUPTI) and in a flag. */
static void bounds(void)
{
    static char store[METRICNAME_MAX + 1][16];
    const char *names[METRICNAME_MAX + 1];
    char flag[(METRICNAME_MAX + 1) * 16] = "";
    for (int i = 0; i <= METRICNAME_MAX; i++) {
        snprintf(store[i], sizeof store[i], "x__n%d", i);
        names[i] = store[i];
    }
    struct metricname_check r;
    struct err e;
    CHECK_INT(metricname_check("GH100", NULL, names, METRICNAME_MAX + 1, &r, &e), ERR_LIMIT);
    CHECK_INT(r.index, -1);
    check_msg(e.msg, "more than 64");
    int rc = metricname_check("GH100", NULL, names, METRICNAME_MAX, &r, &e);   /* unknown, not too many */
    CHECK_INT(rc, have_cupti ? ERR_NOTFOUND : ERR_UNSUPPORTED);
    CHECK_INT(r.index, have_cupti ? 0 : -1);

    struct metricname_list l;
    for (int i = 0; i < METRICNAME_MAX; i++)
        snprintf(flag + strlen(flag), sizeof flag - strlen(flag), "%s%s", i ? "," : "", names[i]);
    CHECK_INT(metricname_parse_list(flag, &l, &e), 0);
    CHECK_INT(l.n, METRICNAME_MAX);
    CHECK_STR(l.names[63], "x__n63");
    snprintf(flag + strlen(flag), sizeof flag - strlen(flag), ",%s", names[METRICNAME_MAX]);
    CHECK_INT(metricname_parse_list(flag, &l, &e), ERR_LIMIT);
    CHECK_INT(l.n, 0);
    check_msg(e.msg, "more than 64");

    static char big[sizeof l.text + 16];
    memset(big, 'a', sizeof big - 1);
    CHECK_INT(metricname_parse_list(big, &l, &e), ERR_LIMIT);
    check_msg(e.msg, "longer than");
    /* the longest names that fit: 64 of 128 bytes */
    static char longest[sizeof l.text];
    size_t at = 0;
    for (int i = 0; i < METRICNAME_MAX; i++) {
        int k = snprintf(longest + at, sizeof longest - at, "%sx__%03d", i ? "," : "", i);
        at += (size_t)k;
        memset(longest + at, 'y', METRICNAME_LEN - 6);
        at += METRICNAME_LEN - 6;
    }
    longest[at] = '\0';
    CHECK_INT(at, sizeof l.text - 1);
    CHECK_INT(metricname_parse_list(longest, &l, &e), 0);
    CHECK_INT(l.n, METRICNAME_MAX);
    CHECK_INT(strlen(l.names[5]), METRICNAME_LEN);
}

/* Every chip of the map is one CUPTI's host API supports (needs libcupti). */
static void chips_supported(void)
{
    __typeof__(&cuptiProfilerHostGetSupportedChips) supported;
    *(void **)&supported = dlsym(cupti.lib, "cuptiProfilerHostGetSupportedChips");   /* not in the table */
    CHECK(supported != NULL);
    if (!supported)
        return;
    CUpti_Profiler_Host_GetSupportedChips_Params p = {
        .structSize = CUpti_Profiler_Host_GetSupportedChips_Params_STRUCT_SIZE};
    CHECK_INT(supported(&p), CUPTI_SUCCESS);
    static const int archs[] = {80, 86, 87, 89, 90, 100, 120};
    for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        const char *chip = NULL;
        CHECK_INT(metricname_chip(archs[a], &chip, NULL), 0);
        int found = 0;
        for (size_t i = 0; chip && i < p.numChips; i++)
            found |= !strcmp(p.ppChipNames[i], chip);
        if (!found)
            fprintf(stderr, "sm_%d: CUPTI does not list chip %s\n", archs[a], chip ? chip : "(none)");
        CHECK(found);
    }
}

/* The device's chip: a name with a GPU, ERR_UNSUPPORTED without a driver or a device. */
static void device_chip(void)
{
    char chip[64] = "";
    struct err e;
    int rc = metricname_device_chip(0, chip, sizeof chip, &e);
    CHECK(rc == 0 || rc == ERR_UNSUPPORTED);
    if (rc == 0)
        CHECK(chip[0] != '\0');
    CHECK_INT(metricname_device_chip(-1, chip, sizeof chip, &e) != 0, 1);
}

int main(int argc, char **argv)
{
    struct err e;
    const char *dir = argc > 1 ? argv[1] : "tests/data";
    /* usable: libcupti loads and its host API answers (it cannot under AddressSanitizer) */
    static const char *const probe[] = {"gpu__time_duration.sum"};
    struct metricname_check r;
    have_cupti = metricname_check("GH100", NULL, probe, 1, &r, &e) == 0;
    if (!have_cupti)
        fprintf(stderr, "no CUPTI (%s): the rows that need it are skipped\n", e.msg);
    table(dir);
    default_list();
    bounds();
    if (have_cupti)
        chips_supported();
    device_chip();
    int rc = check_summary("test_metricname");
    if (rc == 0 && !have_cupti) {
        printf("test_metricname: SKIP: %d table rows and the chip check need CUPTI's host API, which "
               "cannot be used here\n", skipped);
        return 77;
    }
    return rc;
}
