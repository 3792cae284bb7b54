/* selfcheck.c — the GPU reference against the CPU oracle (see selfcheck.h).
 *
 * Every check records a row {name, pass, detail...} in the report and a line on stderr; a failing
 * row never stops the others. Inputs for the small shapes are generated on both sides from the same
 * seed (which also exercises the CPU/GPU generator agreement end to end); for the seed shapes the
 * GPU-generated inputs are copied to the host, since the CPU oracle then only evaluates sampled
 * output points. */
#include "selfcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "cpuref.h"
#include "cudrv.h"
#include "gpucheck.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "registry.h"
#include "rng.h"

struct ctx {
    CUdevice dev;
    int arch;
    CUstream st;
    struct gpuinput gi;
    const struct selfcheck_opts *o;
    cJSON *rows;
    int passed, failed;
};

static void row(struct ctx *c, const char *name, bool pass, cJSON *detail)
{
    cJSON *r = detail ? detail : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(r, "pass");   /* the row's verdict replaces a comparison's */
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddBoolToObject(r, "pass", pass);
    cJSON_AddItemToArray(c->rows, r);
    pass ? c->passed++ : c->failed++;
    char *txt = cJSON_PrintUnformatted(r);
    fprintf(stderr, "%s %s %s\n", pass ? "PASS" : "FAIL", name, txt ? txt : "");
    free(txt);
}

static float ulp_diff(float a, float b)
{
    if (a == b)
        return 0;
    return fabsf(a - b) / fmaxf(nextafterf(fabsf(a), INFINITY) - fabsf(a), 1e-45f);
}

/* Part 1: the generators agree. */
static int check_rng(struct ctx *c, struct err *e)
{
    int rc = 0;
    const long long n = 1 << 20;
    CUdeviceptr d = 0;
    void *host = malloc((size_t)n * 4), *dev = malloc((size_t)n * 4);
    float *hf = malloc((size_t)n * 4), *df = malloc((size_t)n * 4);
    if (!host || !dev || !hf || !df) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    CU_CHECK(cu.cuMemAlloc(&d, (size_t)n * 4));
    for (int dt = 0; dt < 3; dt++)
        for (int dist = 0; dist < 3; dist++) {
            int sz = spec_dtype_size((enum spec_dtype)dt);
            unsigned long long seed = c->o->seed + 0x1000003ull * (unsigned)(dt * 3 + dist);
            if ((rc = gpuinput_fill(&c->gi, d, (enum spec_dtype)dt, seed, PORT_STREAM_X, n, (enum port_dist)dist,
                                    0.75f, c->st, e)))
                goto out;
            CU_CHECK(cu.cuStreamSynchronize(c->st));
            CU_CHECK(cu.cuMemcpyDtoH(dev, d, (size_t)n * (size_t)sz));
            rng_fill(host, (enum spec_dtype)dt, seed, PORT_STREAM_X, 0, n, (enum port_dist)dist, 0.75f);
            rng_to_float(host, (enum spec_dtype)dt, n, hf);
            rng_to_float(dev, (enum spec_dtype)dt, n, df);
            long long unequal = 0;
            float worst = 0;
            for (long long i = 0; i < n; i++) {
                if (memcmp(&hf[i], &df[i], 4)) {
                    unequal++;
                    worst = fmaxf(worst, ulp_diff(hf[i], df[i]));
                }
            }
            bool pass = dist == PORT_NORMAL ? worst <= 1.0f : unequal == 0;
            char name[96];
            snprintf(name, sizeof name, "rng %s %s", spec_dtype_name((enum spec_dtype)dt),
                     rng_dist_name((enum port_dist)dist));
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "elements", (double)n);
            cJSON_AddNumberToObject(r, "unequal", (double)unequal);
            cJSON_AddNumberToObject(r, "max_ulp", worst);
            row(c, name, pass, r);
        }
out:
    if (d)
        cu.cuMemFree(d);
    free(host), free(dev), free(hf), free(df);
    return rc;
}

/* Part 2: the GPU comparator and hash (gpucheck) against the CPU comparator (compare_run), on
 * tensors that hold every case of the element rules: within and outside tolerance, NaN and Inf
 * on either side, zeros of both signs. */
static int check_comparator(struct ctx *c, struct err *e)
{
    int rc = 0;
    const int64_t n = 100003, shape[4] = {1, 1, 1, n};
    float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    void *raw = malloc(n * 4);
    CUdeviceptr dref = 0, dgot = 0;
    struct gpucheck gc;
    memset(&gc, 0, sizeof gc);
    if (!ref || !got || !raw) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    if ((rc = gpucheck_init(&gc, c->dev, c->arch, c->o->cache_dir, e)))
        goto out;
    CU_CHECK(cu.cuMemAlloc(&dref, n * 4));
    CU_CHECK(cu.cuMemAlloc(&dgot, n * 4));
    for (int dt = 0; dt < 3; dt++) {
        enum spec_dtype dtype = (enum spec_dtype)dt;
        size_t sz = (size_t)spec_dtype_size(dtype);
        rng_fill(ref, SPEC_F32, c->o->seed + 77, PORT_STREAM_X, 0, n, PORT_NORMAL, 1.0f);
        rng_fill(got, SPEC_F32, c->o->seed + 78, PORT_STREAM_W, 0, n, PORT_NORMAL, 1.0f);
        for (int64_t i = 0; i < n; i++) {   /* mostly tiny errors, some large, the special cases */
            float noise = got[i] * (i % 97 == 0 ? 0.05f : 1e-4f);
            got[i] = ref[i] + noise;
            if (i % 1009 == 3) got[i] = NAN;
            if (i % 1013 == 5) ref[i] = INFINITY, got[i] = INFINITY;
            if (i % 1019 == 7) ref[i] = INFINITY, got[i] = 1.0f;
            if (i % 1021 == 9) ref[i] = 0.0f, got[i] = -0.0f;
            if (i == 11) ref[i] = NAN;
        }
        struct compare_tol tol = {1e-3, 1e-3, 1e-3};
        struct compare_result cr, gr;
        rng_from_float(ref, dtype, n, raw);
        CU_CHECK(cu.cuMemcpyHtoD(dref, raw, (size_t)n * sz));
        rng_to_float(raw, dtype, n, ref);
        rng_from_float(got, dtype, n, raw);
        CU_CHECK(cu.cuMemcpyHtoD(dgot, raw, (size_t)n * sz));
        rng_to_float(raw, dtype, n, got);
        compare_run(ref, got, n, shape, tol, &cr);
        if ((rc = gpucheck_compare(&gc, dref, dgot, dtype, n, shape, tol, c->st, &gr, e)))
            goto out;
        bool same = cr.pass == gr.pass && cr.mismatches == gr.mismatches && cr.nonfinite == gr.nonfinite &&
                    cr.first_index == gr.first_index && cr.max_abs == gr.max_abs && cr.max_rel == gr.max_rel &&
                    (cr.rel_l2 == gr.rel_l2 || fabs(cr.rel_l2 - gr.rel_l2) <= 1e-12 * cr.rel_l2);
        /* the hash: stable, and any changed element changes it */
        uint64_t h1 = 0, h2 = 0, h3 = 0;
        unsigned char one;
        if ((rc = gpucheck_hash(&gc, dgot, (size_t)n * sz, 42, c->st, &h1, e)) ||
            (rc = gpucheck_hash(&gc, dgot, (size_t)n * sz, 42, c->st, &h2, e)))
            goto out;
        CU_CHECK(cu.cuMemcpyDtoH(&one, dgot + 12345, 1));
        one ^= 1;
        CU_CHECK(cu.cuMemcpyHtoD(dgot + 12345, &one, 1));
        if ((rc = gpucheck_hash(&gc, dgot, (size_t)n * sz, 42, c->st, &h3, e)))
            goto out;
        char name[64];
        snprintf(name, sizeof name, "comparator gpu=cpu %s", spec_dtype_name(dtype));
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "cpu", compare_to_json(&cr, tol, dtype));
        cJSON_AddItemToObject(r, "gpu", compare_to_json(&gr, tol, dtype));
        cJSON_AddBoolToObject(r, "hash_stable", h1 == h2);
        cJSON_AddBoolToObject(r, "hash_sees_one_bit", h1 != h3);
        row(c, name, same && cr.mismatches > 0 && h1 == h2 && h1 != h3, r);
    }
out:
    if (dref)
        cu.cuMemFree(dref);
    if (dgot)
        cu.cuMemFree(dgot);
    gpucheck_free(&gc);
    free(ref), free(got), free(raw);
    return rc;
}

/* Part 3: one shape, full output against the oracle. */
static int check_shape(struct ctx *c, const char *name, const struct conv_spec *s, enum port_dist dist,
                       struct err *e)
{
    int rc = 0;
    struct spec_derived d;
    spec_derive(s, &d);
    int sz = d.dtype_size;
    struct gpuinput_tensors t = {0};
    struct gpuref g;
    memset(&g, 0, sizeof g);
    void *hx = NULL, *hw = NULL, *hb = NULL, *hy = NULL;
    float *fx = NULL, *fw = NULL, *fb = NULL, *fy = NULL, *fo = NULL;
    double *oracle = NULL;
    unsigned long long seed = c->o->seed ^ (unsigned long long)(d.y_elems * 2654435761u);

    if ((rc = gpuinput_tensors_alloc(s, true, &t, e)))
        goto out;
    if ((rc = gpuinput_fill_problem(&c->gi, s, seed, dist, &t, c->st, e)) ||
        (rc = gpuinput_poison(t.y, s->dtype, d.y_elems, c->st, e)) ||
        (rc = gpuref_init(&g, s, NULL, c->arch, c->o->cache_dir, e)))
        goto out;
    if ((rc = gpuref_run(&g, t.x, t.w, t.b, t.y, c->st, e)))
        goto out;
    CU_CHECK(cu.cuStreamSynchronize(c->st));

    hx = malloc((size_t)d.x_elems * sz), hw = malloc((size_t)d.w_elems * sz), hb = malloc((size_t)d.b_elems * sz + 4);
    hy = malloc((size_t)d.y_elems * sz);
    fx = malloc((size_t)d.x_elems * 4), fw = malloc((size_t)d.w_elems * 4), fb = malloc((size_t)d.b_elems * 4 + 4);
    fy = malloc((size_t)d.y_elems * 4), fo = malloc((size_t)d.y_elems * 4);
    oracle = malloc((size_t)d.y_elems * 8);
    if (!hx || !hw || !hb || !hy || !fx || !fw || !fb || !fy || !fo || !oracle) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    CU_CHECK(cu.cuMemcpyDtoH(hy, t.y, (size_t)d.y_elems * sz));
    /* the oracle's inputs come from the CPU generator */
    rng_fill(hx, s->dtype, seed, PORT_STREAM_X, 0, d.x_elems, dist, rng_scale(s, PORT_STREAM_X, dist));
    rng_fill(hw, s->dtype, seed, PORT_STREAM_W, 0, d.w_elems, dist, rng_scale(s, PORT_STREAM_W, dist));
    rng_fill(hb, s->dtype, seed, PORT_STREAM_B, 0, d.b_elems, dist, rng_scale(s, PORT_STREAM_B, dist));
    rng_to_float(hx, s->dtype, d.x_elems, fx);
    rng_to_float(hw, s->dtype, d.w_elems, fw);
    rng_to_float(hb, s->dtype, d.b_elems, fb);
    rng_to_float(hy, s->dtype, d.y_elems, fy);
    cpuref_conv(s, fx, fw, s->bias ? fb : NULL, oracle);
    for (int64_t i = 0; i < d.y_elems; i++)
        fo[i] = (float)oracle[i];
    if (s->dtype != SPEC_F32) {   /* the reference's output is rounded to the dtype: so is the oracle's */
        rng_from_float(fo, s->dtype, d.y_elems, hy);
        rng_to_float(hy, s->dtype, d.y_elems, fo);
    }
    struct compare_tol tol = {0, 0, 0};
    if (dist != PORT_EXACT) {
        /* fp32: relative L2 within 1e-6 and each element within a few FP32 roundings of the sum;
         * 16-bit: one unit of the dtype's rounding (the oracle's rounding may differ by one step) */
        double u = s->dtype == SPEC_F16 ? 0x1p-10 : s->dtype == SPEC_BF16 ? 0x1p-7 : 1e-5;
        tol.atol = s->dtype == SPEC_F32 ? 1e-5 : u;
        tol.rtol = u;
        tol.max_rel_l2 = s->dtype == SPEC_F32 ? 1e-6 : u;
    }
    int64_t shape[4] = {s->n, s->c_out, d.h_out, d.w_out};
    struct compare_result r;
    compare_run(fo, fy, d.y_elems, shape, tol, &r);
    cJSON *detail = compare_to_json(&r, tol, s->dtype);
    char kern[64], full[160];
    gpuref_describe(&g, kern, sizeof kern);
    cJSON_AddStringToObject(detail, "kernel", kern);
    cJSON_AddStringToObject(detail, "dist", rng_dist_name(dist));
    snprintf(full, sizeof full, "shape %s %s", name, rng_dist_name(dist));
    row(c, full, r.pass, detail);
out:
    gpuref_free(&g);
    gpuinput_tensors_free(&t);
    free(hx), free(hw), free(hb), free(hy), free(fx), free(fw), free(fb), free(fy), free(fo), free(oracle);
    return rc;
}

/* Part 4: a large shape on sampled points. */
static int check_large(struct ctx *c, const char *id, struct err *e)
{
    int rc = 0;
    const struct registry_entry *re = registry_find(id);
    const struct conv_spec *s = &re->spec;
    struct spec_derived d;
    spec_derive(s, &d);
    struct gpuinput_tensors t = {0};
    struct gpuref g;
    memset(&g, 0, sizeof g);
    float *fx = NULL, *fw = NULL, *fb = NULL, *fy = NULL;
    const int samples = 4096;
    if ((rc = gpuinput_tensors_alloc(s, true, &t, e)))
        goto out;
    if ((rc = gpuinput_fill_problem(&c->gi, s, c->o->seed, PORT_NORMAL, &t, c->st, e)) ||
        (rc = gpuinput_poison(t.y, s->dtype, d.y_elems, c->st, e)) ||
        (rc = gpuref_init(&g, s, NULL, c->arch, c->o->cache_dir, e)) ||
        (rc = gpuref_run(&g, t.x, t.w, t.b, t.y, c->st, e)))
        goto out;
    CU_CHECK(cu.cuStreamSynchronize(c->st));
    fx = malloc((size_t)d.x_elems * 4), fw = malloc((size_t)d.w_elems * 4), fb = malloc((size_t)d.b_elems * 4 + 4);
    fy = malloc((size_t)d.y_elems * 4);
    if (!fx || !fw || !fb || !fy) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    CU_CHECK(cu.cuMemcpyDtoH(fx, t.x, (size_t)d.x_elems * 4));
    CU_CHECK(cu.cuMemcpyDtoH(fw, t.w, (size_t)d.w_elems * 4));
    CU_CHECK(cu.cuMemcpyDtoH(fy, t.y, (size_t)d.y_elems * 4));
    if (s->bias)
        CU_CHECK(cu.cuMemcpyDtoH(fb, t.b, (size_t)d.b_elems * 4));
    long long nan = 0;
    for (int64_t i = 0; i < d.y_elems; i++)
        nan += !isfinite(fy[i]);
    float *ref = malloc(samples * 4), *got = malloc(samples * 4);
    if (!ref || !got) {
        free(ref), free(got);
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    unsigned long long state = c->o->seed | 1;
    for (int i = 0; i < samples; i++) {
        int64_t idx;
        if (i < 8)   /* the corners of the first and last planes */
            idx = (i & 4 ? d.y_elems - d.h_out * d.w_out : 0) + (i & 1 ? d.w_out - 1 : 0) +
                  (i & 2 ? (d.h_out - 1) * d.w_out : 0);
        else {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            idx = (int64_t)((state >> 17) % (unsigned long long)d.y_elems);
        }
        int64_t ow = idx % d.w_out, oh = idx / d.w_out % d.h_out, co = idx / (d.w_out * d.h_out) % s->c_out,
                n = idx / (d.w_out * d.h_out * s->c_out);
        ref[i] = (float)cpuref_point(s, fx, fw, s->bias ? fb : NULL, n, co, oh, ow);
        got[i] = fy[idx];
    }
    struct compare_tol tol = {1e-5, 1e-5, 1e-6};
    int64_t shape[4] = {1, 1, 1, samples};
    struct compare_result r;
    compare_run(ref, got, samples, shape, tol, &r);
    free(ref), free(got);
    cJSON *detail = compare_to_json(&r, tol, s->dtype);
    cJSON_AddNumberToObject(detail, "nonfinite_outputs", (double)nan);
    char kern[64], name[96];
    gpuref_describe(&g, kern, sizeof kern);
    cJSON_AddStringToObject(detail, "kernel", kern);
    snprintf(name, sizeof name, "large %s sampled", id);
    row(c, name, r.pass && nan == 0, detail);
out:
    gpuref_free(&g);
    gpuinput_tensors_free(&t);
    free(fx), free(fw), free(fb), free(fy);
    return rc;
}

static int check_file(struct ctx *c, const char *path, struct err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_IO, "shapes", "cannot open %s", path);
    char line[1024];
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        cJSON *j = cJSON_ParseWithLengthOpts(line, strlen(line), NULL, 0);
        struct conv_spec s;
        struct err pe;
        char name[48];
        snprintf(name, sizeof name, "%s:%d", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, lineno);
        if (!j || spec_from_json(j, NULL, &s, &pe)) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "error", j ? pe.msg : "malformed JSON");
            row(c, name, false, r);
        } else {
            rc = check_shape(c, name, &s, PORT_NORMAL, e);
            if (!rc)
                rc = check_shape(c, name, &s, PORT_EXACT, e);
        }
        cJSON_Delete(j);
    }
    fclose(f);
    return rc;
}

int selfcheck_run(const struct selfcheck_opts *o, cJSON **report, struct err *e)
{
    int rc;
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    CUcontext ctx = NULL;
    *report = NULL;
    if ((rc = cudrv_open_device(o->device, &c.dev, &ctx, e)))
        return rc;
    if ((rc = gpuref_device_arch(c.dev, &c.arch, e)))
        goto out;
    CU_CHECK(cu.cuStreamCreate(&c.st, CU_STREAM_NON_BLOCKING));
    if ((rc = gpuinput_init(&c.gi, c.dev, c.arch, o->cache_dir, e)))
        goto out;
    c.rows = cJSON_CreateArray();
    if ((rc = check_rng(&c, e)) || (rc = check_comparator(&c, e)))
        goto out;
    for (size_t i = 0; i < registry_count() && !rc; i++) {
        const struct registry_entry *r = registry_at(i);
        if (r->alias_of || strcmp(r->set, "kernelbench") == 0)
            continue;
        rc = check_shape(&c, r->id, &r->spec, PORT_NORMAL, e);
        if (!rc)
            rc = check_shape(&c, r->id, &r->spec, PORT_EXACT, e);
    }
    if (!rc && o->shapes_file)
        rc = check_file(&c, o->shapes_file, e);
    if (!rc && !o->skip_large)
        rc = check_large(&c, "kb1-55", e);
    if (!rc && !o->skip_large)
        rc = check_large(&c, "kb1-56", e);
    if (rc)
        goto out;
    char name[128] = "";
    cu.cuDeviceGetName(name, sizeof name, c.dev);
    *report = cJSON_CreateObject();
    cJSON_AddStringToObject(*report, "device", name);
    cJSON_AddNumberToObject(*report, "arch", c.arch);
    cJSON_AddNumberToObject(*report, "passed", c.passed);
    cJSON_AddNumberToObject(*report, "failed", c.failed);
    cJSON_AddItemToObject(*report, "checks", c.rows);
    c.rows = NULL;
out:
    cJSON_Delete(c.rows);
    gpuinput_free(&c.gi);
    if (c.st)
        cu.cuStreamDestroy(c.st);
    cu.cuDevicePrimaryCtxRelease(c.dev);
    return rc;
}
