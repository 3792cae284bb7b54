/* registry.c — the built-in problems (see registry.h).
 *
 * The one idea: a problem id is a name for a struct conv_spec, kept in one static const table that
 * is the single source of truth; everything else (lookup, JSON listing) reads that table.
 *
 * Invariants (tests/cpu/test_registry.c checks them):
 *   - every entry, aliases included, passes spec_validate with the default limits;
 *   - ids are unique; an alias names a problem (never another alias) and carries a copy of its
 *     target's set and spec, so code that walks registry_at() never meets an empty spec;
 *   - problems come first, in set order (kernelbench, small, edge), aliases last;
 *   - "small" shapes are under 10 MFLOP and "edge" shapes under 50 MFLOP, so the CPU oracle checks
 *     any of them in well under a second.
 *
 * The kernelbench entries are KernelBench level-1 conv2d problems in their current sizes; kb1-87's
 * output has exactly 2^31 elements, the largest spec_validate admits.
 *
 * Not done here: user-defined problems (inline specs go through spec_from_json) and any state. */
#include "registry.h"

#include <string.h>

#define SHAPE(n_, ci_, h_, w_, co_) .n = (n_), .c_in = (ci_), .h = (h_), .w = (w_), .c_out = (co_)
#define KERNEL(h_, w_) .kh = (h_), .kw = (w_)
#define STRIDE(h_, w_) .stride_h = (h_), .stride_w = (w_)
#define PAD(h_, w_) .pad_h = (h_), .pad_w = (w_)
#define DIL(h_, w_) .dil_h = (h_), .dil_w = (w_)
#define PLAIN STRIDE(1, 1), PAD(0, 0), DIL(1, 1)

/* The two problems the seed prompts use, shared by the problem and its alias. */
#define KB55_SPEC { SHAPE(8, 64, 512, 1024, 128), KERNEL(3, 3), PLAIN, \
                    .groups = 1, .bias = false, .dtype = SPEC_F32 }
#define KB56_SPEC { SHAPE(8, 64, 512, 256, 128), KERNEL(5, 7), PLAIN, \
                    .groups = 1, .bias = false, .dtype = SPEC_F32 }
#define KB55_TITLE "KernelBench L1 #55: standard conv, asymmetric input, square kernel"
#define KB56_TITLE "KernelBench L1 #56: standard conv, asymmetric input, asymmetric kernel"

static const struct registry_entry entries[] = {
    /* ---- KernelBench level 1 ---- */
    { "kb1-50", NULL, "kernelbench",
      "KernelBench L1 #50: standard conv, square input, square kernel (AlexNet conv1)",
      { SHAPE(256, 3, 224, 224, 96), KERNEL(11, 11), STRIDE(4, 4), PAD(2, 2), DIL(1, 1),
        .groups = 1, .bias = true, .dtype = SPEC_F32 } },
    { "kb1-55", NULL, "kernelbench", KB55_TITLE, KB55_SPEC },
    { "kb1-56", NULL, "kernelbench", KB56_TITLE, KB56_SPEC },
    { "kb1-62", NULL, "kernelbench",
      "KernelBench L1 #62: standard conv, square input, asymmetric kernel",
      { SHAPE(8, 32, 512, 512, 64), KERNEL(5, 9), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-63", NULL, "kernelbench",
      "KernelBench L1 #63: standard conv, square input, square kernel",
      { SHAPE(16, 16, 1024, 1024, 128), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-80", NULL, "kernelbench",
      "KernelBench L1 #80: standard conv, square input, asymmetric kernel, dilated and padded",
      { SHAPE(8, 32, 512, 512, 64), KERNEL(5, 9), STRIDE(1, 1), PAD(2, 4), DIL(2, 3),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-82", NULL, "kernelbench",
      "KernelBench L1 #82: depthwise conv, square input, square kernel",
      { SHAPE(16, 64, 512, 512, 64), KERNEL(3, 3), PLAIN,
        .groups = 64, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-83", NULL, "kernelbench",
      "KernelBench L1 #83: depthwise conv, square input, asymmetric kernel",
      { SHAPE(64, 8, 512, 512, 8), KERNEL(3, 1), PLAIN,
        .groups = 8, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-84", NULL, "kernelbench",
      "KernelBench L1 #84: depthwise conv, asymmetric input, square kernel",
      { SHAPE(64, 128, 256, 512, 128), KERNEL(3, 3), PLAIN,
        .groups = 128, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-85", NULL, "kernelbench",
      "KernelBench L1 #85: depthwise conv, asymmetric input, asymmetric kernel",
      { SHAPE(32, 128, 128, 256, 128), KERNEL(3, 7), PLAIN,
        .groups = 128, .bias = false, .dtype = SPEC_F32 } },
    { "kb1-87", NULL, "kernelbench",
      "KernelBench L1 #87: pointwise conv",
      { SHAPE(16, 64, 1024, 1024, 128), KERNEL(1, 1), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },

    /* ---- small: each under 10 MFLOP ---- */
    { "small-3x3", NULL, "small", "small plain 3x3 conv",
      { SHAPE(2, 8, 16, 16, 8), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "small-5x7", NULL, "small", "small conv with a 5x7 kernel on a non-square input",
      { SHAPE(2, 4, 20, 24, 8), KERNEL(5, 7), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "small-stride2-pad1", NULL, "small", "small 3x3 conv, stride 2, padding 1",
      { SHAPE(2, 8, 32, 32, 16), KERNEL(3, 3), STRIDE(2, 2), PAD(1, 1), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "small-dilation2", NULL, "small", "small 3x3 conv, dilation 2",
      { SHAPE(2, 8, 24, 24, 8), KERNEL(3, 3), STRIDE(1, 1), PAD(0, 0), DIL(2, 2),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "small-groups4", NULL, "small", "small grouped 3x3 conv, 4 groups",
      { SHAPE(2, 16, 16, 16, 32), KERNEL(3, 3), PLAIN,
        .groups = 4, .bias = false, .dtype = SPEC_F32 } },
    { "small-depthwise-bias", NULL, "small", "small depthwise 3x3 conv, padding 1, with bias",
      { SHAPE(2, 16, 32, 32, 16), KERNEL(3, 3), STRIDE(1, 1), PAD(1, 1), DIL(1, 1),
        .groups = 16, .bias = true, .dtype = SPEC_F32 } },

    /* ---- edge: corner cases, each under 50 MFLOP ---- */
    { "edge-1x1", NULL, "edge", "1x1 kernel",
      { SHAPE(2, 16, 16, 16, 32), KERNEL(1, 1), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-stride2", NULL, "edge", "stride 2 on an odd input (the last row and column unused)",
      { SHAPE(2, 8, 17, 17, 16), KERNEL(3, 3), STRIDE(2, 2), PAD(0, 0), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-stride2x3", NULL, "edge", "stride (2, 3)",
      { SHAPE(2, 8, 20, 23, 8), KERNEL(3, 3), STRIDE(2, 3), PAD(0, 0), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-dilation2x3", NULL, "edge", "dilation (2, 3)",
      { SHAPE(2, 4, 20, 20, 8), KERNEL(3, 3), STRIDE(1, 1), PAD(0, 0), DIL(2, 3),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-bigpad", NULL, "edge", "padding 4 around a 3x3 kernel: borders of pure padding",
      { SHAPE(1, 4, 8, 8, 4), KERNEL(3, 3), STRIDE(1, 1), PAD(4, 4), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-groups4", NULL, "edge", "grouped conv, 4 groups",
      { SHAPE(2, 16, 12, 12, 32), KERNEL(3, 3), PLAIN,
        .groups = 4, .bias = false, .dtype = SPEC_F32 } },
    { "edge-depthwise", NULL, "edge", "depthwise 5x5 conv, padding 2, odd input",
      { SHAPE(2, 8, 15, 15, 8), KERNEL(5, 5), STRIDE(1, 1), PAD(2, 2), DIL(1, 1),
        .groups = 8, .bias = false, .dtype = SPEC_F32 } },
    { "edge-depthwise-x2", NULL, "edge", "depthwise with channel multiplier 2 (c_out = 2 c_in)",
      { SHAPE(2, 4, 12, 12, 8), KERNEL(3, 3), PLAIN,
        .groups = 4, .bias = false, .dtype = SPEC_F32 } },
    { "edge-bias", NULL, "edge", "3x3 conv with bias",
      { SHAPE(2, 8, 10, 10, 16), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = true, .dtype = SPEC_F32 } },
    { "edge-odd", NULL, "edge", "odd sizes: 5 -> 7 channels, 17x31 input",
      { SHAPE(3, 5, 17, 31, 7), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-nonsquare", NULL, "edge", "non-square input and a 1x5 kernel",
      { SHAPE(2, 4, 9, 40, 8), KERNEL(1, 5), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-full-kernel", NULL, "edge", "7x9 kernel as large as the input: 1x1 output",
      { SHAPE(2, 4, 7, 9, 8), KERNEL(7, 9), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-stride-1x1-out", NULL, "edge", "stride 3 on a 5x5 input: 1x1 output",
      { SHAPE(2, 4, 5, 5, 8), KERNEL(3, 3), STRIDE(3, 3), PAD(0, 0), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-n1", NULL, "edge", "batch of one",
      { SHAPE(1, 16, 16, 16, 16), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-cin1", NULL, "edge", "one input channel",
      { SHAPE(2, 1, 16, 16, 8), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-deep", NULL, "edge", "long reduction: 256 input channels, 3x3 (2304 terms)",
      { SHAPE(1, 256, 8, 8, 16), KERNEL(3, 3), PLAIN,
        .groups = 1, .bias = false, .dtype = SPEC_F32 } },
    { "edge-f16", NULL, "edge", "float16, padding 1",
      { SHAPE(2, 8, 16, 16, 16), KERNEL(3, 3), STRIDE(1, 1), PAD(1, 1), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_F16 } },
    { "edge-bf16", NULL, "edge", "bfloat16, padding 1",
      { SHAPE(2, 8, 16, 16, 16), KERNEL(3, 3), STRIDE(1, 1), PAD(1, 1), DIL(1, 1),
        .groups = 1, .bias = false, .dtype = SPEC_BF16 } },
    { "edge-f16-groups-bias", NULL, "edge", "float16, 2 groups, with bias",
      { SHAPE(2, 16, 14, 14, 16), KERNEL(3, 3), PLAIN,
        .groups = 2, .bias = true, .dtype = SPEC_F16 } },

    /* ---- aliases: the problems of the seed prompts ---- */
    { "seed-002", "kb1-56", "kernelbench", KB56_TITLE, KB56_SPEC },
    { "seed-003", "kb1-55", "kernelbench", KB55_TITLE, KB55_SPEC },
};

#define ENTRY_COUNT (sizeof entries / sizeof entries[0])

size_t registry_count(void)
{
    return ENTRY_COUNT;
}

const struct registry_entry *registry_at(size_t i)
{
    return i < ENTRY_COUNT ? &entries[i] : NULL;
}

static const struct registry_entry *find_exact(const char *id)
{
    for (size_t i = 0; i < ENTRY_COUNT; i++) {
        if (strcmp(entries[i].id, id) == 0)
            return &entries[i];
    }
    return NULL;
}

const struct registry_entry *registry_find(const char *id)
{
    if (!id)
        return NULL;
    const struct registry_entry *r = find_exact(id);
    if (r && r->alias_of)
        r = find_exact(r->alias_of);
    return r;
}

/* {id, set, title, spec, derived, aliases?}; an alias entry is shown as its target. */
cJSON *registry_entry_to_json(const struct registry_entry *r)
{
    if (r && r->alias_of)
        r = find_exact(r->alias_of);
    if (!r)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *spec = spec_to_json(&r->spec);
    cJSON *derived = cJSON_CreateObject();
    cJSON *aliases = NULL;
    if (!o || !spec || !derived)
        goto fail;
    if (!cJSON_AddStringToObject(o, "id", r->id) || !cJSON_AddStringToObject(o, "set", r->set) ||
        !cJSON_AddStringToObject(o, "title", r->title))
        goto fail;
    if (!cJSON_AddItemToObject(o, "spec", spec))
        goto fail;
    spec = NULL;
    spec_derived_to_json(&r->spec, derived);
    if (!cJSON_AddItemToObject(o, "derived", derived))
        goto fail;
    derived = NULL;
    for (size_t i = 0; i < ENTRY_COUNT; i++) {
        if (!entries[i].alias_of || strcmp(entries[i].alias_of, r->id) != 0)
            continue;
        if (!aliases && !(aliases = cJSON_AddArrayToObject(o, "aliases")))
            goto fail;
        cJSON *name = cJSON_CreateString(entries[i].id);
        if (!name || !cJSON_AddItemToArray(aliases, name)) {
            cJSON_Delete(name);
            goto fail;
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    cJSON_Delete(spec);
    cJSON_Delete(derived);
    return NULL;
}

cJSON *registry_to_json(void)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    for (size_t i = 0; i < ENTRY_COUNT; i++) {
        if (entries[i].alias_of)
            continue;
        cJSON *o = registry_entry_to_json(&entries[i]);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}
