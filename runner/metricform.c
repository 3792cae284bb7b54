/* metricform.c — the form of a metric name (see metricform.h). */
#include "metricform.h"

#include <string.h>

const char *metricform_problem(const char *name)
{
    size_t n = name ? strnlen(name, METRICFORM_LEN + 1) : 0;
    if (n == 0)
        return "is empty";
    if (n > METRICFORM_LEN)
        return "is longer than 128 bytes";
    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n)
        return "has a character outside a-z, 0-9, _ and .";
    if (name[0] < 'a' || name[0] > 'z')
        return "does not start with a letter";
    if (!strstr(name, "__"))
        return "is not of the form unit__counter (no \"__\")";
    return NULL;
}
