/* registry.h — the built-in problems: KernelBench level-1 conv2d problems in their current sizes
 * (ids "kb1-<n>"), the seed aliases ("seed-002" -> kb1-56, "seed-003" -> kb1-55), small fast shapes
 * ("small-*", each under 10 MFLOP) and edge shapes ("edge-*": 1x1, stride 2, dilation, grouped,
 * depthwise, bias, odd and non-square sizes, the three dtypes). Static data: nothing to free. */
#ifndef KGRADE_REGISTRY_H
#define KGRADE_REGISTRY_H

#include <stddef.h>

#include "spec.h"

struct registry_entry {
    const char *id;
    const char *alias_of;   /* NULL for a problem, else the id this alias names */
    const char *set;        /* "kernelbench", "small", "edge" */
    const char *title;      /* one line */
    struct conv_spec spec;
};

/* Entries in a stable order (problems first in set order, aliases last). */
size_t registry_count(void);
const struct registry_entry *registry_at(size_t i);

/* Find by id or alias; an alias resolves to its target entry. NULL when unknown. */
const struct registry_entry *registry_find(const char *id);

/* JSON: the whole registry as an array of {id, set, title, spec, derived, aliases?}, or one entry.
 * The caller deletes the returned object. */
cJSON *registry_to_json(void);
cJSON *registry_entry_to_json(const struct registry_entry *r);

#endif
