/* kname.c — readable kernel names (see kname.h). */
#include "kname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Itanium: _Z <name> <params>, name = <len><id> | N [<len><id>]+ [I...E] E; the last identifier. */
void kname_readable(const char *sym, char *out, size_t len)
{
    if (!len)
        return;
    snprintf(out, len, "%s", sym ? sym : "?");
    if (!sym || strncmp(sym, "_Z", 2))
        return;
    const char *p = sym + 2;
    int nested = *p == 'N';
    if (nested)
        p++;
    while (*p == 'K' || *p == 'V' || *p == 'r')   /* cv-qualifiers of a nested member */
        p++;
    const char *last = NULL;
    size_t last_len = 0;
    for (;;) {
        if (*p == 'L')   /* internal linkage marker */
            p++;
        if (*p < '0' || *p > '9')
            break;
        char *end;
        unsigned long n = strtoul(p, &end, 10);
        if (!n || strlen(end) < n)
            break;
        last = end, last_len = n;
        p = end + n;
        if (!nested)
            break;
        if (*p == 'I') {   /* template arguments: skip to their matching E */
            int depth = 0;
            do {
                depth += *p == 'I';
                depth -= *p == 'E';
                p++;
            } while (*p && depth > 0);
        }
        if (*p == 'E' || !*p)
            break;
    }
    if (last)
        snprintf(out, len, "%.*s", (int)(last_len < len ? last_len : len - 1), last);
}
