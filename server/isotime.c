/* isotime.c — RFC 3339 timestamps (see isotime.h).
 *
 * Both directions go through the proleptic Gregorian day count (days_from_civil and its inverse,
 * after H. Hinnant's algorithms), so nothing depends on the process's time zone or on timegm.
 * The parser is strict: every field has its fixed width and range, the day must exist in its month,
 * and nothing may follow the offset. A leap second (:60) is accepted and lands on the next second. */
#include "isotime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void isotime_format(double unix_s, char out[32])
{
    if (!isfinite(unix_s) || fabs(unix_s) > 1e14)
        unix_s = 0;
    int64_t ms = (int64_t)llround(unix_s * 1000.0);
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[128];   /* room for any int the compiler cannot bound; the real text fits out */
    snprintf(tmp, sizeof tmp, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)(ms - secs * 1000));
    size_t n = strnlen(tmp, 31);
    memcpy(out, tmp, n);
    out[n] = '\0';
}

/* n decimal digits at *p into *v, advancing *p; 0 when they are all digits. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* A plain non-negative decimal number: digits, optionally a point and more digits. */
static int parse_number(const char *s, double *out)
{
    const char *p = s;
    int n = 0;
    while (*p >= '0' && *p <= '9')
        p++, n++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            n++;
    if (n == 0 || *p)
        return ERR_INVALID;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return ERR_INVALID;
    *out = v;
    return 0;
}

int isotime_parse(const char *s, double *out)
{
    if (!s || !*s)
        return ERR_INVALID;
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(&p, 4, &y) || *p != '-')
        return parse_number(s, out);
    p++;
    if (digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
        return ERR_INVALID;
    double frac = 0, offset = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return ERR_INVALID;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
            digits(&p, 2, &sec))
            return ERR_INVALID;
        if (h > 23 || mi > 59 || sec > 60)
            return ERR_INVALID;
        if (*p == '.') {
            double scale = 0.1;
            int n = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, n++, scale /= 10)
                frac += (*p - '0') * scale;
            if (n == 0 || n > 9)
                return ERR_INVALID;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
                return ERR_INVALID;
            offset = sign * (oh * 3600.0 + om * 60.0);
        } else {
            return ERR_INVALID;
        }
        if (*p)
            return ERR_INVALID;
    }
    *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac - offset;
    return 0;
}
