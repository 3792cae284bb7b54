/* cli.c — kgrade-worker's command line, the part that only reports: the usage text, the exit
 * codes, JSON on stdout, and the subcommands that answer a question without evaluating a candidate
 * (problems, compile --reference, selfcheck, bench, info, metrics-check, canary). Each parses its
 * own options, calls its module and prints; main.c keeps the candidate's path (eval, compile, the
 * pre-started job, --seal) and the dispatch. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "canary.h"
#include "cudnn.h"
#include "cudrv.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "jit.h"
#include "metricname.h"
#include "registry.h"
#include "selfcheck.h"

const char cli_usage[] =
    "usage: kgrade-worker <command> [options]\n"
    "\n"
    "commands:\n"
    "  problems [ID]            the problem registry as JSON, or one problem with derived values\n"
    "  eval --problem ID|JSON CANDIDATE [eval options]\n"
    "                           evaluate a candidate (CUDA C or Triton): compile or load, check, time;\n"
    "                           the result record (docs/result.md) on stdout\n"
    "  compile [--arch sm_N] [--problem ID|JSON] [--log-cap B] [--max-workspace-mb MB] CANDIDATE\n"
    "                           no GPU needed: CUDA C is compiled with NVRTC (default arch: the GPU's,\n"
    "                           else sm_89), Triton gets its syntax and static checks; the same record\n"
    "                           up to that stage\n"
    "  compile --reference [--arch N] [ID]\n"
    "                           compile the GPU reference for sm_N (default 89 and 90) with NVRTC;\n"
    "                           needs no GPU; ID defaults to every registry problem\n"
    "  selfcheck [--shapes FILE] [--skip-large] [--seed N]\n"
    "                           GPU reference vs the CPU oracle on this machine's GPU\n"
    "  bench [ID...] [--budget-ms MS]\n"
    "                           reference vs cuDNN strict FP32 and TF32 (default: KernelBench set)\n"
    "  info                     driver, device, NVRTC and cuDNN versions; every device (ordinal,\n"
    "                           name, arch, SMs, memory) as \"devices\"\n"
    "  metrics-check [--chip NAME | --arch N] NAME...\n"
    "                           are these metric names known for the chip (default: the GPU's), and\n"
    "                           how many replay passes do their counters need? No GPU needed with\n"
    "                           --chip or --arch (docs/metrics.md). JSON {\"chip\", \"passes\", \"names\"};\n"
    "                           exit 1 with {\"error\", \"unknown\", \"index\"} for a name at fault\n"
    "\n"
    "eval options: --seed N, --trials N (3), --no-exact, --precision tf32|fp32|exact (tf32),\n"
    "  --no-timing, --no-baselines, --budget-ms MS (2000), --min-samples N (10), --max-samples N (10000),\n"
    "  --target-rse F (0.005), --warmup N (2), --throttle F (0.75), --tie-margin F (0.005),\n"
    "  --launch-timeout-ms MS (10000), --compile-timeout-ms MS (60000), --max-workspace-mb MB (1024),\n"
    "  --log-cap BYTES (65536), --format json|kernelbench, --compact, --job-stdin (pre-started: the\n"
    "  harness and the CUDA context start, the worker seals itself, then reads its job on stdin: a line\n"
    "  with a JSON array of eval's other arguments, then the source until EOF; Triton only),\n"
    "  --metrics LIST (per-kernel metrics: comma-separated names, or none; default: docs/metrics.md)\n"
    "\n"
    "CANDIDATE (docs/candidates.md): --source FILE|- (code; also a bare FILE for compile), or\n"
    "  --response FILE|- [--prompt FILE] (a model's answer: the code block is extracted), or\n"
    "  --candidate FILE|- (a JSON request form); --language auto|cuda|triton (auto)\n"
    "Triton options: --lint ID=reject|warn|off[,...] (docs/lint.md), --autotune-max N (default: the\n"
    "  prompt's), --python PATH (python3)\n"
    "\n"
    "  canary                   a small kernel on --device N with a known answer: is this GPU healthy\n"
    "                           (and usable from here)? JSON on stdout, exit 0 healthy, 3 not, 77 none\n"
    "  seal-check               --seal, then try fork and exec: the filter must end the process (159)\n"
    "\n"
    "options: --device N (default 0), --cache DIR (default $KGRADE_CACHE_DIR, $XDG_CACHE_HOME/kgrade,\n"
    "         ~/.cache/kgrade), --no-cache, --candidate-cache DIR (the candidate's cubin; default: --cache),\n"
    "         --record-fd N (the record on fd N instead of stdout), --seal (no exec or fork after\n"
    "         startup: a try ends the worker with a sandbox_violation record, exit 159), -h/--help\n"
    "exit: 0 ok (eval/compile: a record with a job verdict, e.g. wrong_answer), 1 check failed or\n"
    "      invalid input, 2 usage, 3 system failure (record: internal_error), 77 no usable GPU\n"
    "      (record: no_device)\n";

void cli_print_json(cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s)
        puts(s);
    free(s);
}

void cli_print_line(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        puts(s);
    free(s);
}

int cli_exit_for(int rc)
{
    if (rc == ERR_UNSUPPORTED)
        return CLI_EXIT_NOGPU;
    return err_is_system(rc) ? CLI_EXIT_SYSTEM : CLI_EXIT_CHECK;
}

int cli_problems(int argc, char **argv)
{
    cJSON *j;
    if (argc > 0) {
        const struct registry_entry *r = registry_find(argv[0]);
        if (!r) {
            fprintf(stderr, "kgrade-worker: unknown problem '%s' (try: kgrade-worker problems)\n", argv[0]);
            return CLI_EXIT_CHECK;
        }
        j = registry_entry_to_json(r);
    } else {
        j = registry_to_json();
    }
    cli_print_json(j);
    cJSON_Delete(j);
    return 0;
}

int cli_compile_reference(int argc, char **argv, const char *cache)
{
    int archs[4] = {89, 90}, narch = 2, rc = 0;
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            archs[0] = atoi(argv[++i]), narch = 1;
        else if (argv[i][0] != '-')
            only = argv[i];
        else {
            fprintf(stderr, "kgrade-worker compile: unknown option %s\n%s", argv[i], cli_usage);
            return CLI_EXIT_USAGE;
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
    cli_print_json(out);
    cJSON_Delete(out);
    if (rc && rc != ERR_NOTFOUND)
        fprintf(stderr, "kgrade-worker compile: %s\n", e.msg);
    return rc ? cli_exit_for(rc) : 0;
}

int cli_selfcheck(int argc, char **argv, const char *cache, int device)
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
            fprintf(stderr, "kgrade-worker selfcheck: unknown option %s\n%s", argv[i], cli_usage);
            return CLI_EXIT_USAGE;
        }
    }
    cJSON *rep = NULL;
    struct err e;
    int rc = selfcheck_run(&o, &rep, &e);
    if (rc) {
        fprintf(stderr, "kgrade-worker selfcheck: %s\n", e.msg);
        return cli_exit_for(rc);
    }
    cli_print_json(rep);
    int failed = cJSON_GetObjectItemCaseSensitive(rep, "failed")->valueint;
    int passed = cJSON_GetObjectItemCaseSensitive(rep, "passed")->valueint;
    fprintf(stderr, "selfcheck: %d passed, %d failed\n", passed, failed);
    cJSON_Delete(rep);
    return failed ? CLI_EXIT_CHECK : 0;
}

int cli_bench(int argc, char **argv, const char *cache, int device)
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
            fprintf(stderr, "kgrade-worker bench: unknown option %s\n%s", argv[i], cli_usage);
            free(ids);
            return CLI_EXIT_USAGE;
        }
    }
    for (int i = 0; i < o.n_ids; i++)
        if (!registry_find(ids[i])) {
            fprintf(stderr, "kgrade-worker bench: unknown problem '%s'\n", ids[i]);
            free(ids);
            return CLI_EXIT_CHECK;
        }
    o.ids = ids;
    cJSON *rep = NULL;
    struct err e;
    int rc = bench_run(&o, &rep, &e);
    free(ids);
    if (rc) {
        fprintf(stderr, "kgrade-worker bench: %s\n", e.msg);
        return cli_exit_for(rc);
    }
    cli_print_json(rep);
    cJSON_Delete(rep);
    return 0;
}

/* One device's properties for "devices"; a nonzero CUresult when one cannot be read. */
static CUresult device_props(int ordinal, char *name, int cap, int *arch, int *sms, size_t *mem)
{
    CUdevice dev;
    int major = 0, minor = 0;
    CUresult r = cu.cuDeviceGet(&dev, ordinal);
    if (!r)
        r = cu.cuDeviceGetName(name, cap, dev);
    if (!r)
        r = cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
    if (!r)
        r = cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
    if (!r)
        r = cu.cuDeviceGetAttribute(sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
    if (!r)
        r = cu.cuDeviceTotalMem(mem, dev);
    *arch = major * 10 + minor;
    return r;
}

/* "devices": every device the driver reports, [] without a driver or a device. Needs cuInit only,
 * no context; a device whose properties cannot be read is left out. */
static void info_devices(cJSON *j)
{
    cJSON *list = cJSON_AddArrayToObject(j, "devices");
    int n = 0;
    if (cudrv_load(NULL) || cu.cuInit(0) != CUDA_SUCCESS || cu.cuDeviceGetCount(&n) != CUDA_SUCCESS)
        return;
    for (int i = 0; i < n; i++) {
        char name[128] = "";
        int arch = 0, sms = 0;
        size_t mem = 0;
        if (device_props(i, name, (int)sizeof name, &arch, &sms, &mem) != CUDA_SUCCESS)
            continue;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "ordinal", i);
        cJSON_AddStringToObject(d, "name", name);
        cJSON_AddNumberToObject(d, "arch", arch);
        cJSON_AddNumberToObject(d, "sms", sms);
        cJSON_AddNumberToObject(d, "memory_bytes", (double)mem);
        cJSON_AddItemToArray(list, d);
    }
}

int cli_info(int device)
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
    info_devices(j);
    cli_print_json(j);
    cJSON_Delete(j);
    return rc ? cli_exit_for(rc) : 0;
}

/* metrics-check: whether the names are known for the chip (--chip, --arch, else device's) and the
 * replay passes of their counters. One JSON line on stdout; exit 0 all known, 1 a name at fault
 * ("unknown", "index") or an architecture without a chip, 2 usage (no GPU to ask for its chip),
 * 3 the check could not run (no CUPTI). */
int cli_metrics_check(int argc, char **argv, int device)
{
    const char *chip = NULL;
    char found[64];
    size_t n = 0;
    struct err e;
    struct metricname_check r = {.index = -1};
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--chip") && i + 1 < argc)
            chip = argv[++i];
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
            const char *a = argv[++i];
            if ((rc = metricname_chip(atoi(!strncmp(a, "sm_", 3) ? a + 3 : a), &chip, &e)))
                goto out;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "kgrade-worker metrics-check: unknown option %s\n%s", argv[i], cli_usage);
            return CLI_EXIT_USAGE;
        } else
            argv[n++] = argv[i];   /* the names, in place */
    }
    if (!chip && metricname_device_chip(device, found, sizeof found, &e)) {
        fprintf(stderr, "kgrade-worker metrics-check: %s: give --chip NAME or --arch N\n", e.msg);
        return CLI_EXIT_USAGE;
    }
    if (!chip)
        chip = found;
    rc = metricname_check(chip, NULL, (const char *const *)argv, n, &r, &e);
out:;
    cJSON *j = cJSON_CreateObject();
    if (chip)
        cJSON_AddStringToObject(j, "chip", chip);
    if (rc == 0) {
        cJSON_AddNumberToObject(j, "passes", (double)r.passes);
        cJSON_AddItemToObject(j, "names", cJSON_CreateStringArray((const char *const *)argv, (int)n));
    } else {
        cJSON_AddStringToObject(j, "error", e.msg);
        if (r.index >= 0 && (size_t)r.index < n) {
            cJSON_AddStringToObject(j, "unknown", argv[r.index]);
            cJSON_AddNumberToObject(j, "index", r.index);
        }
    }
    cli_print_line(j);
    cJSON_Delete(j);
    return rc == 0 ? 0 : r.index >= 0 || rc == ERR_NOTFOUND ? CLI_EXIT_CHECK : CLI_EXIT_SYSTEM;
}

/* canary: {"healthy": bool, ...} on stdout; exit 0 healthy, 77 no GPU, 3 unhealthy. */
int cli_canary(int device)
{
    struct canary_result r;
    struct err e;
    int rc = canary_run(device, &r, &e);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "healthy", rc == 0);
    cJSON_AddNumberToObject(j, "device", device);
    if (r.device[0])
        cJSON_AddStringToObject(j, "name", r.device);
    if (rc == 0) {
        cJSON_AddNumberToObject(j, "ms", r.ms);
        cJSON_AddNumberToObject(j, "memory_free_bytes", (double)r.mem_free);
        cJSON_AddNumberToObject(j, "memory_total_bytes", (double)r.mem_total);
    } else {
        cJSON_AddStringToObject(j, "error", e.msg);
    }
    cli_print_line(j);
    cJSON_Delete(j);
    return rc == 0 ? 0 : rc == ERR_UNSUPPORTED ? CLI_EXIT_NOGPU : CLI_EXIT_SYSTEM;
}
