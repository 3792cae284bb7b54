/* lintrules.c — the static checker's rule ids, as the build extracted them from runner/kglint.py. */
#include "lintrules.h"

#include <string.h>

static const char *const ids[] = {
#include "lintrules_ids.inc"
};

size_t lintrules_count(void)
{
    return sizeof ids / sizeof *ids;
}

const char *lintrules_id(size_t i)
{
    return i < lintrules_count() ? ids[i] : NULL;
}

int lintrules_known(const char *id)
{
    for (size_t i = 0; i < lintrules_count(); i++)
        if (!strcmp(ids[i], id))
            return 1;
    return 0;
}
