/* main.c — kgrade-worker: one process, one GPU. Subcommands only parse arguments and print; the
 * work is in the runner/ and reference/ modules.
 *
 * Exit status: 0 success (for eval and compile: a record with a job verdict was written, whatever
 * the candidate did), 1 a check failed or the input was invalid, 2 usage error, 3 system failure
 * (eval and compile still write a record, verdict internal_error), 77 no usable GPU (eval writes a
 * record with verdict no_device; for tests: "skipped"). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "canary.h"
#include "candidate.h"
#include "cudnn.h"
#include "cudrv.h"
#include "eval.h"
#include "filter.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "jit.h"
#include "jobin.h"
#include "kernelbench.h"
#include "metricname.h"
#include "registry.h"
#include "selfcheck.h"
#include "source.h"
#include "triton.h"

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_SYSTEM 3
#define EXIT_NOGPU 77

static const char usage[] =
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

static int cmd_compile_reference(int argc, char **argv, const char *cache)
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

static bool compact_output, kernelbench_output, seal_requested;
static bool seal_in_place;                  /* the filter is in place (--seal, done) */
static struct {                             /* eval --job-stdin: a pre-started worker (eval_job) */
    bool requested, in_job;                 /* --job-stdin seen; its job is being parsed or run */
    int device, record_fd;                  /* what it was started with: a job may not change them */
    const char *python;
    struct pyharness *py;                   /* the harness started before the job */
    double wait_ms;                         /* how long it waited for its job */
} prestart;
static struct source_args cli_src;          /* the candidate's files (source.h) */
static const char *python_path;             /* --python */
static char lint_policy[1024];              /* --lint as kglint's JSON policy */
static int autotune_max = -1;               /* --autotune-max; -1: the prompt's */
static int record_fd = 1;                   /* --record-fd */
static const char *candidate_cache;         /* --candidate-cache */

/* The record goes to --record-fd (the daemon's record pipe) or stdout; whole, with one newline. */
static void emit_record(const cJSON *rec)
{
    cJSON *kb = kernelbench_output ? kernelbench_from_record(rec) : NULL;
    const cJSON *j = kb ? kb : rec;
    char *s = compact_output ? cJSON_PrintUnformatted(j) : cJSON_Print(j);
    fflush(stdout);
    if (s) {
        size_t n = strlen(s), off = 0;
        s[n] = '\n';   /* replaces the terminator: written as n + 1 bytes, never read as a string */
        while (off <= n) {
            ssize_t w = write(record_fd, s + off, n + 1 - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    free(s);
    cJSON_Delete(kb);
}

/* A registry id, or an inline spec when arg starts with '{'. */
static int parse_problem(const char *arg, struct eval_opts *o)
{
    struct err e;
    if (arg[0] == '{') {
        cJSON *j = cJSON_ParseWithLengthOpts(arg, strlen(arg) + 1, NULL, 1);
        int rc = j ? spec_from_json(j, NULL, &o->spec, &e) : err_set(&e, ERR_INVALID, "", "malformed JSON");
        cJSON_Delete(j);
        if (rc) {
            fprintf(stderr, "kgrade-worker: invalid problem spec%s%s: %s\n", e.field[0] ? " field " : "", e.field,
                    e.msg);
            return EXIT_CHECK;
        }
        return 0;
    }
    const struct registry_entry *r = registry_find(arg);
    if (!r) {
        fprintf(stderr, "kgrade-worker: unknown problem '%s' (try: kgrade-worker problems)\n", arg);
        return EXIT_CHECK;
    }
    o->spec = r->spec;
    o->problem_id = r->alias_of ? r->alias_of : r->id;
    return 0;
}

static bool num_arg(int argc, char **argv, int *i, const char *name, double *v)
{
    if (strcmp(argv[*i], name) || *i + 1 >= argc)
        return false;
    char *end;
    *v = strtod(argv[++*i], &end);
    if (*end || end == argv[*i]) {
        fprintf(stderr, "kgrade-worker: %s needs a number, got '%s'\n", name, argv[*i]);
        exit(EXIT_USAGE);
    }
    return true;
}

/* Options shared by eval and compile; returns 1 when argv[*i] was one of them. */
static int common_arg(int argc, char **argv, int *i, struct eval_opts *o, const char **src, int *rc)
{
    if (!strcmp(argv[*i], "--problem") && *i + 1 < argc)
        *rc = parse_problem(argv[++*i], o);
    else if (!strcmp(argv[*i], "--source") && *i + 1 < argc)
        *src = cli_src.source = argv[++*i];
    else if (!strcmp(argv[*i], "--response") && *i + 1 < argc)
        *src = cli_src.response = argv[++*i];
    else if (!strcmp(argv[*i], "--candidate") && *i + 1 < argc)
        *src = cli_src.candidate = argv[++*i];
    else if (!strcmp(argv[*i], "--prompt") && *i + 1 < argc)
        cli_src.prompt = argv[++*i];
    else if (!strcmp(argv[*i], "--language") && *i + 1 < argc)
        cli_src.language = argv[++*i];
    else if (!strcmp(argv[*i], "--python") && *i + 1 < argc)
        python_path = argv[++*i];
    else if (!strcmp(argv[*i], "--lint") && *i + 1 < argc)
        *rc = source_lint_policy(argv[++*i], lint_policy, sizeof lint_policy) ? EXIT_USAGE : 0;
    else if (!strcmp(argv[*i], "--autotune-max") && *i + 1 < argc) {
        double v;
        num_arg(argc, argv, i, "--autotune-max", &v);
        autotune_max = (int)v;
    }
    else if (!strcmp(argv[*i], "--compact"))
        compact_output = true;
    else if (num_arg(argc, argv, i, "--compile-timeout-ms", &o->compile_timeout_ms))
        ;
    else if (!strcmp(argv[*i], "--max-workspace-mb") && *i + 1 < argc) {
        double v;
        num_arg(argc, argv, i, "--max-workspace-mb", &v);
        o->max_workspace = (int64_t)(v * (1 << 20));
    } else if (!strcmp(argv[*i], "--log-cap") && *i + 1 < argc) {
        double v;
        num_arg(argc, argv, i, "--log-cap", &v);
        o->log_cap = (size_t)v;
    }
    else if (!strcmp(argv[*i], "--format") && *i + 1 < argc) {
        const char *f = argv[++*i];
        if (strcmp(f, "json") && strcmp(f, "kernelbench")) {
            fprintf(stderr, "kgrade-worker: --format is json or kernelbench, not '%s'\n", f);
            *rc = EXIT_USAGE;
        }
        kernelbench_output = !strcmp(f, "kernelbench");
    } else
        return 0;
    return 1;
}

/* The filter of --seal: from here on no exec, no fork. */
static int seal_now(void)
{
    struct err e;
    if (seal_requested && !seal_in_place && filter_seal(record_fd, &e)) {
        fprintf(stderr, "kgrade-worker: --seal: %s\n", e.msg);
        return EXIT_SYSTEM;
    }
    seal_in_place = seal_in_place || seal_requested;
    seal_requested = false;
    return 0;
}

/* Read the candidate, evaluate it (compile only for arch > 0), print the record; the exit status.
 * A Triton evaluation starts its python3 harness first, then seals. */
static int run_on_source(struct eval_opts *o, const char *src, int arch)
{
    struct ingest in;
    struct pyharness own = {.pid = 0, .cmd_fd = -1, .reply_fd = -1}, *py = prestart.py ? prestart.py : &own;
    cJSON *rec = NULL;
    int rc = 0;
    if (!cli_src.source && !cli_src.response && !cli_src.candidate)
        cli_src.source = src;
    if (source_read(&cli_src, &in))
        return EXIT_CHECK;
    if (in.lang == INGEST_NONE) {
        rec = source_no_code_record(&in);
        goto out;
    }
    o->source = in.source;
    o->source_len = in.source_len;
    o->source_name = src;
    o->triton = in.lang == INGEST_TRITON;
    o->ingest_info = in.info;
    o->prompt = in.prompt;
    o->lint_policy = lint_policy[0] ? lint_policy : NULL;
    o->autotune_max = autotune_max >= 0 ? autotune_max
                      : (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(in.prompt, "stage"), "autotune_max_configs"));
    if (o->autotune_max < 0)
        o->autotune_max = 0;
    struct err e;
    if (arch > 0 && o->triton) {
        rc = triton_check(o, python_path, &rec);
        goto out;
    }
    o->prestart_wait_ms = prestart.wait_ms;
    if (o->triton && !arch && py->pid <= 0 && pyharness_start(py, python_path, &e)) {
        fprintf(stderr, "kgrade-worker: %s\n", e.msg);
        rc = ERR_IO;
        goto out;
    }
    o->py = py;
    if ((rc = seal_now()))
        goto done;
    rc = arch > 0 ? eval_compile(o, arch, &rec) : eval_run(o, &rec);
out:
    if (rec)
        emit_record(rec);
    rc = rc == 0 ? 0 : rc == ERR_UNSUPPORTED ? EXIT_NOGPU : EXIT_SYSTEM;
done:
    cJSON_Delete(rec);
    pyharness_stop(py);
    ingest_free(&in);
    return rc;
}

static int cmd_compile(int argc, char **argv, const char *cache, int device)
{
    struct eval_opts o;
    eval_opts_default(&o);
    o.cache_dir = cache;
    o.candidate_cache_dir = candidate_cache;
    o.no_problem = true;
    const char *src = NULL;
    int arch = 0, rc = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--reference"))
            return cmd_compile_reference(argc - i - 1, argv + i + 1, cache);
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
            const char *a = argv[++i];
            arch = atoi(!strncmp(a, "sm_", 3) ? a + 3 : a);
            if (arch < 50) {
                fprintf(stderr, "kgrade-worker compile: --arch takes sm_NN or NN (e.g. sm_89), not '%s'\n", a);
                return EXIT_USAGE;
            }
        } else if (common_arg(argc, argv, &i, &o, &src, &rc)) {
            if (rc)
                return rc;
            if (!strcmp(argv[i - 1], "--problem"))
                o.no_problem = false;
        } else if (argv[i][0] != '-' || !strcmp(argv[i], "-"))
            src = argv[i];
        else {
            fprintf(stderr, "kgrade-worker compile: unknown option %s\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    if (!src) {
        fprintf(stderr, "kgrade-worker compile: no source file (or --reference)\n%s", usage);
        return EXIT_USAGE;
    }
    if (!arch) {   /* the GPU's architecture when there is one, else the users' sm_89 */
        CUdevice dev;
        CUcontext ctx;
        struct err e;
        arch = 89;
        if (cudrv_open_device(device, &dev, &ctx, &e) == 0) {
            gpuref_device_arch(dev, &arch, &e);
            cu.cuDevicePrimaryCtxRelease(dev);
        }
    }
    return run_on_source(&o, src, arch);
}

/* The global options, which may appear anywhere: taken out of argv[0..*argc), the rest kept in
 * order at its front (*argc becomes their count). 0; 1 when --help printed the usage; EXIT_USAGE
 * after saying what is wrong. A pre-started worker's job line is parsed here too. */
static int global_args(int *argc, char **argv, const char **cache, int *device)
{
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strcmp(argv[i], "--cache") && i + 1 < *argc)
            *cache = argv[++i];
        else if (!strcmp(argv[i], "--no-cache"))
            *cache = NULL;
        else if (!strcmp(argv[i], "--device") && i + 1 < *argc)
            *device = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--candidate-cache") && i + 1 < *argc)
            candidate_cache = argv[++i];
        else if (!strcmp(argv[i], "--record-fd") && i + 1 < *argc) {
            record_fd = atoi(argv[++i]);
            if (record_fd < 1 || fcntl(record_fd, F_GETFD) < 0) {
                fprintf(stderr, "kgrade-worker: --record-fd %s is not an open descriptor\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--seal"))
            seal_requested = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 1;
        } else
            argv[n++] = argv[i];
    }
    *argc = n;
    return 0;
}

/* What a pre-started worker's job asks that the process cannot give it: the device, the record's
 * descriptor and the interpreter are those it started with, and it runs Triton only. NULL: none. */
static const char *job_mismatch(int device)
{
    const char *py = python_path ? python_path : "python3", *py0 = prestart.python ? prestart.python : "python3";
    return prestart.requested ? "the job line holds --job-stdin"
           : device != prestart.device ? "the job's --device is not the one the worker started with"
           : record_fd != prestart.record_fd ? "the job's --record-fd is not the one the worker started with"
           : strcmp(py, py0) ? "the job's --python is not the interpreter the harness started with"
           : !cli_src.language || strcmp(cli_src.language, "triton") ? "--job-stdin evaluates Triton candidates "
                                                                       "only (--language triton)"
           : NULL;
}

static int cmd_eval(int argc, char **argv, const char *cache, int device);

/* eval --job-stdin: a pre-started worker (docs/daemon.md, "Pre-started workers"). The harness and
 * the CUDA context start now and the process seals itself; then it waits for its job on stdin: one
 * line, a JSON array of eval's arguments (jobin.h), parsed by the command line's own parsers
 * (global_args, then cmd_eval), then the source until EOF. The evaluation, its stages and its
 * watchdog start when the job is there; stages_ms.prestart_wait_ms says how long it waited. */
static int eval_job(const char *cache, int device)
{
    struct pyharness py = {.pid = 0, .cmd_fd = -1, .reply_fd = -1};
    struct jobin j = {0};
    struct err e;
    struct timespec t0, t1;
    CUdevice dev;
    CUcontext ctx;
    bool have_ctx = false;
    int rc = 0, n;
    prestart.device = device;
    prestart.record_fd = record_fd;
    prestart.python = python_path;
    prestart.requested = false;
    const char *bad = job_mismatch(device);
    if (bad) {
        fprintf(stderr, "kgrade-worker eval: %s\n", bad);
        return EXIT_USAGE;
    }
    if (pyharness_start(&py, python_path, &e)) {
        fprintf(stderr, "kgrade-worker: %s\n", e.msg);
        rc = EXIT_SYSTEM;
        goto out;
    }
    prestart.py = &py;
    /* held until the exit; should it fail, the evaluation's context stage says why */
    have_ctx = cudrv_open_device(device, &dev, &ctx, &e) == 0;
    if ((rc = seal_now()))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (jobin_read(stdin, &j, &e)) {
        fprintf(stderr, "kgrade-worker eval --job-stdin: %s\n", e.msg);
        rc = e.code == ERR_NOMEM ? EXIT_SYSTEM : EXIT_USAGE;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    prestart.wait_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    n = j.argc;
    if ((rc = global_args(&n, j.argv, &cache, &device)) == 1) {
        fprintf(stderr, "kgrade-worker eval --job-stdin: the job line holds --help\n");
        rc = EXIT_USAGE;
    }
    if (!rc) {
        prestart.in_job = true;
        rc = cmd_eval(n, j.argv, cache, device);
    }
out:
    pyharness_stop(&py);
    prestart.py = NULL;
    jobin_free(&j);
    if (have_ctx)
        cu.cuDevicePrimaryCtxRelease(dev);
    return rc;
}

static int cmd_eval(int argc, char **argv, const char *cache, int device)
{
    struct eval_opts o;
    eval_opts_default(&o);
    o.cache_dir = cache;
    o.candidate_cache_dir = candidate_cache;
    o.device = device;
    o.emit = emit_record;
    const char *src = NULL, *prob = NULL;
    int rc = 0;
    double v;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--problem") && i + 1 < argc)
            prob = argv[i + 1];
        if (common_arg(argc, argv, &i, &o, &src, &rc)) {
            if (rc)
                return rc;
        } else if (num_arg(argc, argv, &i, "--seed", &v))
            o.seed = (uint64_t)v, o.seed_given = true;
        else if (num_arg(argc, argv, &i, "--trials", &v))
            o.trials = (int)v;
        else if (!strcmp(argv[i], "--no-exact"))
            o.exact_trial = false;
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            int p = compare_policy_parse(argv[++i]);
            if (p < 0) {
                fprintf(stderr, "kgrade-worker eval: --precision is tf32, fp32 or exact, not '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
            o.policy = (enum compare_policy)p;
        } else if (!strcmp(argv[i], "--metrics") && i + 1 < argc)
            o.metrics = argv[++i];
        else if (!strcmp(argv[i], "--no-timing"))
            o.timing = false;
        else if (!strcmp(argv[i], "--no-baselines"))
            o.baselines = false;
        else if (!strcmp(argv[i], "--job-stdin"))
            prestart.requested = true;
        else if (num_arg(argc, argv, &i, "--budget-ms", &o.budget_ms) ||
                 num_arg(argc, argv, &i, "--target-rse", &o.target_rse) ||
                 num_arg(argc, argv, &i, "--throttle", &o.throttle_fraction) ||
                 num_arg(argc, argv, &i, "--tie-margin", &o.tie_margin) ||
                 num_arg(argc, argv, &i, "--launch-timeout-ms", &o.launch_timeout_ms))
            ;
        else if (num_arg(argc, argv, &i, "--min-samples", &v))
            o.min_samples = (int)v;
        else if (num_arg(argc, argv, &i, "--max-samples", &v))
            o.max_samples = (int)v;
        else if (num_arg(argc, argv, &i, "--warmup", &v))
            o.warmup = (int)v;
        else {
            fprintf(stderr, "kgrade-worker eval: unknown option %s\n%s", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    if (prestart.requested && !prestart.in_job)
        return eval_job(cache, device);
    const char *bad = !prob ? "--problem is required"
                      : !src ? "--source is required"
                      : o.trials < 1 || o.trials > 100 ? "--trials must be 1..100"
                      : o.min_samples < 2 || o.max_samples < o.min_samples || o.max_samples > 1000000
                          ? "--min-samples must be >= 2 and <= --max-samples (<= 1000000)"
                      : o.budget_ms < 0 || o.target_rse <= 0 ? "--budget-ms must be >= 0 and --target-rse > 0"
                      : o.warmup < 0 || o.warmup > 1000 ? "--warmup must be 0..1000"
                      : o.launch_timeout_ms <= 0 || o.compile_timeout_ms <= 0 ? "timeouts must be positive"
                      : o.throttle_fraction < 0 || o.throttle_fraction >= 1 ? "--throttle must be in [0, 1)"
                      : NULL;
    if (!bad && prestart.in_job)
        bad = job_mismatch(device);
    if (bad) {
        fprintf(stderr, "kgrade-worker eval: %s\n%s", bad, usage);
        return EXIT_USAGE;
    }
    return run_on_source(&o, src, 0);
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
    info_devices(j);
    print_json(j);
    cJSON_Delete(j);
    return rc ? exit_for(rc) : 0;
}

/* metrics-check: whether the names are known for the chip (--chip, --arch, else device's) and the
 * replay passes of their counters. One JSON line on stdout; exit 0 all known, 1 a name at fault
 * ("unknown", "index") or an architecture without a chip, 2 usage (no GPU to ask for its chip),
 * 3 the check could not run (no CUPTI). */
static int cmd_metrics_check(int argc, char **argv, int device)
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
            fprintf(stderr, "kgrade-worker metrics-check: unknown option %s\n%s", argv[i], usage);
            return EXIT_USAGE;
        } else
            argv[n++] = argv[i];   /* the names, in place */
    }
    if (!chip && metricname_device_chip(device, found, sizeof found, &e)) {
        fprintf(stderr, "kgrade-worker metrics-check: %s: give --chip NAME or --arch N\n", e.msg);
        return EXIT_USAGE;
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
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        puts(s);
    free(s);
    cJSON_Delete(j);
    return rc == 0 ? 0 : r.index >= 0 || rc == ERR_NOTFOUND ? EXIT_CHECK : EXIT_SYSTEM;
}

/* canary: {"healthy": bool, ...} on stdout; exit 0 healthy, 77 no GPU, 3 unhealthy. */
static int cmd_canary(int device)
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
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        puts(s);
    free(s);
    cJSON_Delete(j);
    return rc == 0 ? 0 : rc == ERR_UNSUPPORTED ? EXIT_NOGPU : EXIT_SYSTEM;
}

/* seal-check: proof that --seal holds. The filter ends the process at the fork (exit 159, with a
 * sandbox_violation record); reaching the lines after it is the failure. */
static int cmd_seal_check(bool sealed)
{
    if (!sealed) {
        fprintf(stderr, "kgrade-worker seal-check: needs --seal\n");
        return EXIT_USAGE;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    fprintf(stderr, "kgrade-worker seal-check: fork was not stopped (returned %d)\n", (int)pid);
    static char name[] = "true";
    char *const argv[] = {name, NULL};
    execv("/bin/true", argv);
    fprintf(stderr, "kgrade-worker seal-check: exec was not stopped\n");
    return EXIT_CHECK;
}

int main(int argc, char **argv)
{
    char cache_buf[4096];
    const char *cache = cache_buf;
    int device = 0;
    jit_default_cache_dir(cache_buf, sizeof cache_buf);
    /* global options may appear anywhere; strip them */
    int n = argc - 1, g = global_args(&n, argv + 1, &cache, &device);
    if (g)
        return g == 1 ? 0 : g;
    if (n == 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    bool seal = seal_requested;
    /* before any library can start a process; eval seals itself once its harness runs */
    if (strcmp(cmd, "eval") && seal_now())
        return EXIT_SYSTEM;
    char **rest = argv + 2;
    int nrest = n - 1;
    if (!strcmp(cmd, "problems"))
        return cmd_problems(nrest, rest);
    if (!strcmp(cmd, "compile"))
        return cmd_compile(nrest, rest, cache, device);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(nrest, rest, cache, device);
    if (!strcmp(cmd, "selfcheck"))
        return cmd_selfcheck(nrest, rest, cache, device);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(nrest, rest, cache, device);
    if (!strcmp(cmd, "info"))
        return cmd_info(device);
    if (!strcmp(cmd, "canary"))
        return cmd_canary(device);
    if (!strcmp(cmd, "metrics-check"))
        return cmd_metrics_check(nrest, rest, device);
    if (!strcmp(cmd, "seal-check"))
        return cmd_seal_check(seal);
    fprintf(stderr, "kgrade-worker: unknown command '%s'\n%s", cmd, usage);
    return EXIT_USAGE;
}
