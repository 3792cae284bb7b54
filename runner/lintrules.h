/* lintrules.h — the rule ids of the static checker for Triton candidates (runner/kglint.py).
 *
 * The checker's RULES block is the one source: the build extracts its ids
 * (cmake/lintrules_run.cmake), so the daemon (options.lint) and the worker's command line (--lint)
 * refuse an id the checker would not know, naming it, before any job runs. */
#ifndef KGRADE_LINTRULES_H
#define KGRADE_LINTRULES_H

#include <stddef.h>

/* 1 when id is one of the checker's rules, else 0. */
int lintrules_known(const char *id);

/* The number of rules, and the i-th id in the checker's order (NULL past the end). */
size_t lintrules_count(void);
const char *lintrules_id(size_t i);

#endif
