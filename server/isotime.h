/* isotime.h — the one time format of the API: RFC 3339 in UTC with milliseconds. */
#ifndef KGRADE_ISOTIME_H
#define KGRADE_ISOTIME_H

/* unix seconds -> "2026-11-21T10:00:00.123Z" (UTC, milliseconds rounded). */
void isotime_format(double unix_s, char out[32]);

/* "2026-11-21T10:00:00Z", "2026-11-21T10:00:00.5+02:00", "2026-11-21" (midnight UTC) or a plain
 * number of unix seconds ("1795255200", "1795255200.25") -> *out. 0, or ERR_INVALID (*out kept). */
int isotime_parse(const char *s, double *out);

#endif
