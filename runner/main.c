/* main.c — kgrade-worker: one process, one GPU. The candidate's path lives here: eval and compile
 * (their options, the candidate's files, the record on --record-fd), the pre-started job
 * (--job-stdin), --seal and seal-check, the global options and the dispatch; the subcommands that
 * only report, the usage text and the exit codes are cli.h's. The work is in the runner/ and
 * reference/ modules. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "candidate.h"
#include "cli.h"
#include "cudrv.h"
#include "eval.h"
#include "filter.h"
#include "gpuref.h"
#include "jit.h"
#include "jobin.h"
#include "kernelbench.h"
#include "registry.h"
#include "source.h"
#include "triton.h"




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
            return CLI_EXIT_CHECK;
        }
        return 0;
    }
    const struct registry_entry *r = registry_find(arg);
    if (!r) {
        fprintf(stderr, "kgrade-worker: unknown problem '%s' (try: kgrade-worker problems)\n", arg);
        return CLI_EXIT_CHECK;
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
        exit(CLI_EXIT_USAGE);
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
        *rc = source_lint_policy(argv[++*i], lint_policy, sizeof lint_policy) ? CLI_EXIT_USAGE : 0;
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
            *rc = CLI_EXIT_USAGE;
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
        return CLI_EXIT_SYSTEM;
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
        return CLI_EXIT_CHECK;
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
    rc = rc == 0 ? 0 : rc == ERR_UNSUPPORTED ? CLI_EXIT_NOGPU : CLI_EXIT_SYSTEM;
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
            return cli_compile_reference(argc - i - 1, argv + i + 1, cache);
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
            const char *a = argv[++i];
            arch = atoi(!strncmp(a, "sm_", 3) ? a + 3 : a);
            if (arch < 50) {
                fprintf(stderr, "kgrade-worker compile: --arch takes sm_NN or NN (e.g. sm_89), not '%s'\n", a);
                return CLI_EXIT_USAGE;
            }
        } else if (common_arg(argc, argv, &i, &o, &src, &rc)) {
            if (rc)
                return rc;
            if (!strcmp(argv[i - 1], "--problem"))
                o.no_problem = false;
        } else if (argv[i][0] != '-' || !strcmp(argv[i], "-"))
            src = argv[i];
        else {
            fprintf(stderr, "kgrade-worker compile: unknown option %s\n%s", argv[i], cli_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (!src) {
        fprintf(stderr, "kgrade-worker compile: no source file (or --reference)\n%s", cli_usage);
        return CLI_EXIT_USAGE;
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
 * order at its front (*argc becomes their count). 0; 1 when --help printed the usage; CLI_EXIT_USAGE
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
                return CLI_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--seal"))
            seal_requested = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(cli_usage, stdout);
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
        return CLI_EXIT_USAGE;
    }
    if (pyharness_start(&py, python_path, &e)) {
        fprintf(stderr, "kgrade-worker: %s\n", e.msg);
        rc = CLI_EXIT_SYSTEM;
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
        rc = e.code == ERR_NOMEM ? CLI_EXIT_SYSTEM : CLI_EXIT_USAGE;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    prestart.wait_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    n = j.argc;
    if ((rc = global_args(&n, j.argv, &cache, &device)) == 1) {
        fprintf(stderr, "kgrade-worker eval --job-stdin: the job line holds --help\n");
        rc = CLI_EXIT_USAGE;
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
                return CLI_EXIT_USAGE;
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
            fprintf(stderr, "kgrade-worker eval: unknown option %s\n%s", argv[i], cli_usage);
            return CLI_EXIT_USAGE;
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
        fprintf(stderr, "kgrade-worker eval: %s\n%s", bad, cli_usage);
        return CLI_EXIT_USAGE;
    }
    return run_on_source(&o, src, 0);
}


/* seal-check: proof that --seal holds. The filter ends the process at the fork (exit 159, with a
 * sandbox_violation record); reaching the lines after it is the failure. */
static int cmd_seal_check(bool sealed)
{
    if (!sealed) {
        fprintf(stderr, "kgrade-worker seal-check: needs --seal\n");
        return CLI_EXIT_USAGE;
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
    return CLI_EXIT_CHECK;
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
        fputs(cli_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    bool seal = seal_requested;
    /* before any library can start a process; eval seals itself once its harness runs */
    if (strcmp(cmd, "eval") && seal_now())
        return CLI_EXIT_SYSTEM;
    char **rest = argv + 2;
    int nrest = n - 1;
    if (!strcmp(cmd, "problems"))
        return cli_problems(nrest, rest);
    if (!strcmp(cmd, "compile"))
        return cmd_compile(nrest, rest, cache, device);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(nrest, rest, cache, device);
    if (!strcmp(cmd, "selfcheck"))
        return cli_selfcheck(nrest, rest, cache, device);
    if (!strcmp(cmd, "bench"))
        return cli_bench(nrest, rest, cache, device);
    if (!strcmp(cmd, "info"))
        return cli_info(device);
    if (!strcmp(cmd, "canary"))
        return cli_canary(device);
    if (!strcmp(cmd, "metrics-check"))
        return cli_metrics_check(nrest, rest, device);
    if (!strcmp(cmd, "seal-check"))
        return cmd_seal_check(seal);
    fprintf(stderr, "kgrade-worker: unknown command '%s'\n%s", cmd, cli_usage);
    return CLI_EXIT_USAGE;
}
