/* main.c — kgrade-worker: one process, one GPU. Subcommands only parse arguments and print; the
 * work is in the runner/ and reference/ modules.
 *
 * Exit status: 0 success, 1 a check failed or the input was invalid, 2 usage error,
 * 3 system failure, 77 no usable GPU (for tests: "skipped"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cudnn.h"
#include "cudrv.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "jit.h"
#include "registry.h"
#include "selfcheck.h"

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_SYSTEM 3
#define EXIT_NOGPU 77

static const char usage[] =
    "usage: kgrade-worker <command> [options]\n"
    "\n"
    "commands:\n"
    "  problems [ID]            the problem registry as JSON, or one problem with derived values\n"
    "  compile [--arch N] [ID]  compile the GPU reference for sm_N (default 89 and 90) with NVRTC;\n"
    "                           needs no GPU; ID defaults to every registry problem\n"
    "  selfcheck [--shapes FILE] [--skip-large] [--seed N]\n"
    "                           GPU reference vs the CPU oracle on this machine's GPU\n"
    "  bench [ID...] [--budget-ms MS]\n"
    "                           reference vs cuDNN strict FP32 and TF32 (default: KernelBench set)\n"
    "  info                     driver, device, NVRTC and cuDNN versions\n"
    "\n"
    "options: --device N (default 0), --cache DIR (default $KGRADE_CACHE_DIR, $XDG_CACHE_HOME/kgrade,\n"
    "         ~/.cache/kgrade), --no-cache, -h/--help\n"
    "exit: 0 ok, 1 check failed or invalid input, 2 usage, 3 system failure, 77 no usable GPU\n";

static void print_json(cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s)
        puts(s);
    free(s);
}

static int exit_for(int rc)
{
    if (rc == ERR_UNSUPPORTED)
        return EXIT_NOGPU;
    return err_is_system(rc) ? EXIT_SYSTEM : EXIT_CHECK;
}

static int cmd_problems(int argc, char **argv)
{
    cJSON *j;
    if (argc > 0) {
        const struct registry_entry *r = registry_find(argv[0]);
        if (!r) {
            fprintf(stderr, "kgrade-worker: unknown problem '%s' (try: kgrade-worker problems)\n", argv[0]);
            return EXIT_CHECK;
        }
        j = registry_entry_to_json(r);
    } else {
        j = registry_to_json();
    }
    print_json(j);
    cJSON_Delete(j);
    return 0;
}

static int cmd_compile(int argc, char **argv, const char *cache)
{
    int archs[4] = {89, 90}, narch = 2, rc = 0;
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            archs[0] = atoi(argv[++i]), narch = 1;
        else if (argv[i][0] != '-')
            only = argv[i];
        else {
            fprintf(stderr, "kgrade-worker compile: unknown option %s\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "programs");
    cJSON_AddNumberToObject(out, "nvrtc", jit_nvrtc_version());
    struct err e;
    for (int a = 0; a < narch && !rc; a++) {
        struct jit_program p;
        struct jit_result r;
        gpuinput_program(&p);
        rc = jit_compile(&p, archs[a], cache, 16 << 10, &r, &e);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "program", "inputs");
        cJSON_AddNumberToObject(j, "arch", archs[a]);
        cJSON_AddNumberToObject(j, "cubin_bytes", (double)r.size);
        cJSON_AddItemToArray(list, j);
        jit_result_free(&r);
        for (size_t i = 0; i < registry_count() && !rc; i++) {
            const struct registry_entry *re = registry_at(i);
            if (re->alias_of || (only && strcmp(only, re->id)))
                continue;
            struct gpuref_config cfg = {.kind = -1};
            const char *opts[32];
            char storage[32 * 32];
            int n = gpuref_options(&re->spec, &cfg, opts, storage);
            gpuref_program(&p, n, opts);
            rc = jit_compile(&p, archs[a], cache, 64 << 10, &r, &e);
            j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "program", re->id);
            cJSON_AddNumberToObject(j, "arch", archs[a]);
            cJSON_AddStringToObject(j, "kernel", cfg.kind == GPUREF_IGEMM ? "igemm" : "direct");
            cJSON_AddNumberToObject(j, "cubin_bytes", (double)r.size);
            cJSON_AddNumberToObject(j, "compile_ms", r.compile_ms);
            cJSON_AddBoolToObject(j, "cached", r.cached);
            if (rc)
                cJSON_AddStringToObject(j, "log", r.log ? r.log : "");
            cJSON_AddItemToArray(list, j);
            jit_result_free(&r);
        }
        if (only && !registry_find(only)) {
            fprintf(stderr, "kgrade-worker compile: unknown problem '%s'\n", only);
            rc = ERR_NOTFOUND;
        }
    }
    print_json(out);
    cJSON_Delete(out);
    if (rc && rc != ERR_NOTFOUND)
        fprintf(stderr, "kgrade-worker compile: %s\n", e.msg);
    return rc ? exit_for(rc) : 0;
}

static int cmd_selfcheck(int argc, char **argv, const char *cache, int device)
{
    struct selfcheck_opts o = {.seed = 20261121, .cache_dir = cache, .device = device};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--shapes") && i + 1 < argc)
            o.shapes_file = argv[++i];
        else if (!strcmp(argv[i], "--skip-large"))
            o.skip_large = true;
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "kgrade-worker selfcheck: unknown option %s\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    cJSON *rep = NULL;
    struct err e;
    int rc = selfcheck_run(&o, &rep, &e);
    if (rc) {
        fprintf(stderr, "kgrade-worker selfcheck: %s\n", e.msg);
        return exit_for(rc);
    }
    print_json(rep);
    int failed = cJSON_GetObjectItemCaseSensitive(rep, "failed")->valueint;
    int passed = cJSON_GetObjectItemCaseSensitive(rep, "passed")->valueint;
    fprintf(stderr, "selfcheck: %d passed, %d failed\n", passed, failed);
    cJSON_Delete(rep);
    return failed ? EXIT_CHECK : 0;
}

static int cmd_bench(int argc, char **argv, const char *cache, int device)
{
    struct bench_opts o = {.budget_ms = 3000, .min_samples = 10, .target_rse = 0.005, .cache_dir = cache,
                           .device = device};
    const char **ids = calloc((size_t)argc + 1, sizeof *ids);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc)
            o.budget_ms = atof(argv[++i]);
        else if (argv[i][0] != '-')
            ids[o.n_ids++] = argv[i];
        else {
            fprintf(stderr, "kgrade-worker bench: unknown option %s\n%s", argv[i], usage);
            free(ids);
            return EXIT_USAGE;
        }
    }
    for (int i = 0; i < o.n_ids; i++)
        if (!registry_find(ids[i])) {
            fprintf(stderr, "kgrade-worker bench: unknown problem '%s'\n", ids[i]);
            free(ids);
            return EXIT_CHECK;
        }
    o.ids = ids;
    cJSON *rep = NULL;
    struct err e;
    int rc = bench_run(&o, &rep, &e);
    free(ids);
    if (rc) {
        fprintf(stderr, "kgrade-worker bench: %s\n", e.msg);
        return exit_for(rc);
    }
    print_json(rep);
    cJSON_Delete(rep);
    return 0;
}

static int cmd_info(int device)
{
    cJSON *j = cJSON_CreateObject();
    struct err e;
    cJSON_AddNumberToObject(j, "nvrtc", jit_nvrtc_version());
    int v = 0;
    if (cudnn_load(&v, &e) == 0)
        cJSON_AddNumberToObject(j, "cudnn", v);
    else
        cJSON_AddStringToObject(j, "cudnn", e.msg);
    CUdevice dev;
    CUcontext ctx;
    int rc = cudrv_open_device(device, &dev, &ctx, &e);
    if (rc == 0) {
        char name[128] = "";
        int arch = 0;
        cu.cuDeviceGetName(name, sizeof name, dev);
        gpuref_device_arch(dev, &arch, &e);
        cJSON_AddNumberToObject(j, "driver", cu.driver_version);
        cJSON_AddStringToObject(j, "device", name);
        cJSON_AddNumberToObject(j, "arch", arch);
        cu.cuDevicePrimaryCtxRelease(dev);
    } else {
        cJSON_AddStringToObject(j, "device", e.msg);
    }
    print_json(j);
    cJSON_Delete(j);
    return rc ? exit_for(rc) : 0;
}

int main(int argc, char **argv)
{
    char cache_buf[4096];
    const char *cache = cache_buf;
    int device = 0;
    jit_default_cache_dir(cache_buf, sizeof cache_buf);
    /* global options may appear anywhere; strip them */
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cache") && i + 1 < argc)
            cache = argv[++i];
        else if (!strcmp(argv[i], "--no-cache"))
            cache = NULL;
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        } else
            argv[1 + n++] = argv[i];
    }
    if (n == 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    char **rest = argv + 2;
    int nrest = n - 1;
    if (!strcmp(cmd, "problems"))
        return cmd_problems(nrest, rest);
    if (!strcmp(cmd, "compile"))
        return cmd_compile(nrest, rest, cache);
    if (!strcmp(cmd, "selfcheck"))
        return cmd_selfcheck(nrest, rest, cache, device);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(nrest, rest, cache, device);
    if (!strcmp(cmd, "info"))
        return cmd_info(device);
    fprintf(stderr, "kgrade-worker: unknown command '%s'\n%s", cmd, usage);
    return EXIT_USAGE;
}
