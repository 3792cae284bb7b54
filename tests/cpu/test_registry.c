/* test_registry.c — the built-in problems: every entry valid, ids unique, aliases resolving, the
 * sets complete and within their FLOP budgets, the seed problems' derived values, the JSON list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "registry.h"

static int spec_equal(const struct conv_spec *a, const struct conv_spec *b)
{
    return a->n == b->n && a->c_in == b->c_in && a->h == b->h && a->w == b->w &&
           a->c_out == b->c_out && a->kh == b->kh && a->kw == b->kw &&
           a->stride_h == b->stride_h && a->stride_w == b->stride_w && a->pad_h == b->pad_h &&
           a->pad_w == b->pad_w && a->dil_h == b->dil_h && a->dil_w == b->dil_w &&
           a->groups == b->groups && a->bias == b->bias && a->dtype == b->dtype;
}

static int set_rank(const char *set)
{
    if (strcmp(set, "kernelbench") == 0)
        return 0;
    if (strcmp(set, "small") == 0)
        return 1;
    if (strcmp(set, "edge") == 0)
        return 2;
    return -1;
}

static const char *const set_prefix[] = { "kb1-", "small-", "edge-" };

static void test_entries(void)
{
    size_t count = registry_count();
    CHECK(count > 0);
    CHECK(registry_at(count) == NULL);
    int last_rank = 0, seen_alias = 0;
    for (size_t i = 0; i < count; i++) {
        const struct registry_entry *r = registry_at(i);
        int before = check_failed;
        struct err e;
        err_clear(&e);
        CHECK(r && r->id && r->set && r->title && r->title[0]);
        CHECK_INT(spec_validate(&r->spec, NULL, &e), 0);
        if (e.code)
            fprintf(stderr, "  %s: %s: %s\n", r->id, e.field, e.msg);
        int rank = set_rank(r->set);
        CHECK(rank >= 0);
        if (r->alias_of) {
            seen_alias = 1;
            const struct registry_entry *t = registry_find(r->id);
            CHECK(t != NULL && t->alias_of == NULL);
            CHECK(t && strcmp(t->id, r->alias_of) == 0);
            CHECK(t && spec_equal(&t->spec, &r->spec));
            CHECK(t && strcmp(t->set, r->set) == 0);
        } else {
            CHECK(!seen_alias);          /* aliases last */
            CHECK(rank >= last_rank);    /* problems in set order */
            last_rank = rank;
            CHECK(rank >= 0 && strncmp(r->id, set_prefix[rank], strlen(set_prefix[rank])) == 0);
            CHECK(registry_find(r->id) == r);
        }
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(registry_at(j)->id, r->id) != 0);

        struct spec_derived d;
        spec_derive(&r->spec, &d);
        double mflop = 2.0 * (double)d.y_elems * (double)d.reduction_len / 1e6;
        if (!r->alias_of && rank == 1)
            CHECK(mflop < 10);
        if (!r->alias_of && rank == 2)
            CHECK(mflop < 50);
        if (check_failed != before)
            fprintf(stderr, "  ^ entry %s (%.3g MFLOP)\n", r ? r->id : "?", mflop);
    }
}

static void test_sets(void)
{
    static const char *const kb[] = {
        "kb1-50", "kb1-55", "kb1-56", "kb1-62", "kb1-63", "kb1-80", "kb1-82", "kb1-83", "kb1-84",
        "kb1-85", "kb1-87",
    };
    size_t nkb = sizeof kb / sizeof kb[0];
    int in_set[3] = { 0, 0, 0 };
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_entry *r = registry_at(i);
        if (r->alias_of)
            continue;
        int rank = set_rank(r->set);
        if (rank >= 0)
            in_set[rank]++;
        if (rank == 0) {
            int listed = 0;
            for (size_t k = 0; k < nkb; k++)
                listed |= strcmp(kb[k], r->id) == 0;
            CHECK(listed);
        }
    }
    CHECK_INT(in_set[0], nkb);
    for (size_t k = 0; k < nkb; k++) {
        const struct registry_entry *r = registry_find(kb[k]);
        CHECK(r != NULL && strcmp(r->set, "kernelbench") == 0);
    }
    CHECK(in_set[1] >= 6);
    CHECK(in_set[2] >= 14);

    /* The small set covers what the brief asks of it. */
    int dil = 0, grouped = 0, depthwise_bias = 0, strided_padded = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct conv_spec *s = &registry_at(i)->spec;
        if (strcmp(registry_at(i)->set, "small") != 0)
            continue;
        dil |= s->dil_h > 1 || s->dil_w > 1;
        grouped |= s->groups > 1 && s->groups < s->c_in;
        depthwise_bias |= s->groups == s->c_in && s->groups > 1 && s->bias;
        strided_padded |= s->stride_h > 1 && s->pad_h > 0;
    }
    CHECK(dil && grouped && depthwise_bias && strided_padded);

    /* The edge set holds every dtype. */
    int dtypes = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        if (strcmp(registry_at(i)->set, "edge") == 0)
            dtypes |= 1 << registry_at(i)->spec.dtype;
    }
    CHECK_INT(dtypes, 7);
}

static void test_find(void)
{
    const struct registry_entry *k55 = registry_find("kb1-55");
    const struct registry_entry *k56 = registry_find("kb1-56");
    CHECK(k55 != NULL && k56 != NULL);
    if (!k55 || !k56)
        return;
    CHECK(registry_find("seed-003") == k55);
    CHECK(registry_find("seed-002") == k56);
    CHECK(registry_find("kb1-1") == NULL);
    CHECK(registry_find("KB1-55") == NULL);
    CHECK(registry_find("") == NULL);
    CHECK(registry_find(NULL) == NULL);

    struct spec_derived d;
    spec_derive(&k55->spec, &d);
    CHECK_INT(d.h_out, 510);
    CHECK_INT(d.w_out, 1022);
    CHECK_INT(d.reduction_len, 576);
    CHECK_NEAR(d.flops, 614.9e9, 0.05e9);
    CHECK_NEAR(d.flops, 2.0 * 8 * 128 * 510 * 1022 * 64 * 9, 0.5);
    char buf[128];
    spec_describe(&k55->spec, buf, sizeof buf);
    CHECK_STR(buf, "8x64x512x1024 -> 128, k3x3 s1 p0 d1 g1 float32");

    spec_derive(&k56->spec, &d);
    CHECK_INT(d.h_out, 508);
    CHECK_INT(d.w_out, 250);
    CHECK_NEAR(d.flops, 583e9, 0.5e9);
    spec_describe(&k56->spec, buf, sizeof buf);
    CHECK_STR(buf, "8x64x512x256 -> 128, k5x7 s1 p0 d1 g1 float32");

    /* kb1-87: an output of exactly 2^31 elements, the largest admitted. */
    spec_derive(&registry_find("kb1-87")->spec, &d);
    CHECK_INT(d.y_elems, 2147483648LL);
}

static cJSON *find_element(cJSON *array, const char *id)
{
    cJSON *el;
    cJSON_ArrayForEach(el, array) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(el, "id");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return el;
    }
    return NULL;
}

static void check_aliases(cJSON *el, const char *alias)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(el, "aliases");
    CHECK(cJSON_IsArray(a));
    CHECK_INT(cJSON_GetArraySize(a), 1);
    cJSON *first = cJSON_GetArrayItem(a, 0);
    CHECK(cJSON_IsString(first));
    CHECK_STR(cJSON_IsString(first) ? first->valuestring : NULL, alias);
}

static void test_json(void)
{
    cJSON *all = registry_to_json();
    CHECK(cJSON_IsArray(all));
    int problems = 0;
    for (size_t i = 0; i < registry_count(); i++)
        problems += registry_at(i)->alias_of == NULL;
    CHECK_INT(cJSON_GetArraySize(all), problems);

    cJSON *el;
    cJSON_ArrayForEach(el, all) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(el, "id");
        CHECK(cJSON_IsString(id));
        const struct registry_entry *r = cJSON_IsString(id) ? registry_find(id->valuestring) : NULL;
        CHECK(r != NULL && r->alias_of == NULL);
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(el, "set")));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(el, "title")));
        CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(el, "derived"), "flops")));
        struct conv_spec s;
        struct err e;
        CHECK_INT(spec_from_json(cJSON_GetObjectItemCaseSensitive(el, "spec"), NULL, &s, &e), 0);
        CHECK(r && spec_equal(&s, &r->spec));
        int has_alias = 0;
        for (size_t i = 0; r && i < registry_count(); i++)
            has_alias |= registry_at(i)->alias_of && strcmp(registry_at(i)->alias_of, r->id) == 0;
        CHECK(has_alias == cJSON_HasObjectItem(el, "aliases"));
    }
    CHECK(find_element(all, "seed-003") == NULL);
    cJSON *k55 = find_element(all, "kb1-55");
    CHECK(k55 != NULL);
    if (k55)
        check_aliases(k55, "seed-003");
    cJSON *k56 = find_element(all, "kb1-56");
    CHECK(k56 != NULL);
    if (k56)
        check_aliases(k56, "seed-002");

    /* One entry: an alias entry is shown as its target, with the same shape as in the list. */
    const struct registry_entry *alias = NULL;
    for (size_t i = 0; i < registry_count(); i++) {
        if (registry_at(i)->alias_of && strcmp(registry_at(i)->id, "seed-003") == 0)
            alias = registry_at(i);
    }
    CHECK(alias != NULL);
    cJSON *one = registry_entry_to_json(alias);
    CHECK(one != NULL && k55 != NULL && cJSON_Compare(one, k55, 1));
    cJSON_Delete(one);
    one = registry_entry_to_json(registry_find("seed-003"));
    CHECK(one != NULL && k55 != NULL && cJSON_Compare(one, k55, 1));
    cJSON_Delete(one);
    CHECK(registry_entry_to_json(NULL) == NULL);
    cJSON_Delete(all);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_entries();
    test_sets();
    test_find();
    test_json();
    printf("test_registry: %zu entries\n", registry_count());
    return check_summary("test_registry");
}
