/* test_proc.c — proc_run with /bin/sh children: exit codes and signals, bounded output with
 * large stdin, deadlines, grandchildren, cancel from another thread, the fds and signal state the
 * child starts with, exec failures, and many threads spawning at once; proc_start with the input
 * handed over later (the deadline counted from the hand-over, output written while waiting, a
 * child that died while waiting) and proc_abort (the group killed, the child reaped). Timing bounds are loose
 * (a sanitizer build on a busy machine) but far below the 30 s the children would otherwise run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proc.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Run `/bin/sh -c script` with the given input and limits. */
static int sh(const char *script, const char *in, size_t in_len, size_t out_max, long deadline_ms,
              atomic_int *cancel, atomic_int *pid_out, struct proc_result *r, struct err *e)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct proc_opts o = {.argv = argv, .in = in, .in_len = in_len, .out_max = out_max,
                           .err_max = 4096, .deadline_ms = deadline_ms, .cancel = cancel,
                           .pid_out = pid_out};
    return proc_run(&o, r, e);
}

/* 1 when pid is gone or a zombie (dead, waiting for init to reap it), within a second. */
static int dead_soon(long pid)
{
    char path[64], st[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    for (int i = 0; i < 100; i++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        size_t n = fread(st, 1, sizeof st - 1, f);
        fclose(f);
        st[n] = 0;
        const char *p = strrchr(st, ')');
        if (p && p[1] == ' ' && p[2] == 'Z')
            return 1;
        usleep(10000);
    }
    return 0;
}

static void test_fates(void)
{
    static const struct {
        const char *script;
        int exited, code, sig;
        const char *name;
    } t[] = {
        {"exit 0", 1, 0, 0, NULL},
        {"exit 3", 1, 3, 0, NULL},
        {"exit 77", 1, 77, 0, NULL},
        {"kill -SEGV $$", 0, 0, SIGSEGV, "SIGSEGV"},
        {"kill -ABRT $$", 0, 0, SIGABRT, "SIGABRT"},
        {"kill -KILL $$", 0, 0, SIGKILL, "SIGKILL"},
        {"kill -TERM $$", 0, 0, SIGTERM, "SIGTERM"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int failed_before = check_failed;
        struct proc_result r;
        struct err e;
        int rc = sh(t[i].script, NULL, 0, 1024, 10000, NULL, NULL, &r, &e);
        CHECK_INT(rc, 0);
        CHECK_INT(r.exited, t[i].exited);
        CHECK_INT(r.code, t[i].code);
        CHECK_INT(r.signal, t[i].sig);
        CHECK_INT(r.timed_out, 0);
        CHECK_INT(r.cancelled, 0);
        CHECK(r.out && r.err && r.out_len == 0);
        if (t[i].name)
            CHECK_STR(proc_signal_name(r.signal), t[i].name);
        if (check_failed != failed_before)
            fprintf(stderr, "  ^ script: %s\n", t[i].script);
        proc_result_free(&r);
    }
}

static void test_signal_names(void)
{
    CHECK_STR(proc_signal_name(SIGSEGV), "SIGSEGV");
    CHECK_STR(proc_signal_name(SIGBUS), "SIGBUS");
    CHECK_STR(proc_signal_name(SIGFPE), "SIGFPE");
    CHECK_STR(proc_signal_name(SIGILL), "SIGILL");
    CHECK_STR(proc_signal_name(SIGXCPU), "SIGXCPU");
    CHECK_STR(proc_signal_name(SIGPIPE), "SIGPIPE");
    CHECK_STR(proc_signal_name(0), "signal 0");
    char want[32];
    snprintf(want, sizeof want, "signal %d", SIGRTMIN + 1);
    CHECK_STR(proc_signal_name(SIGRTMIN + 1), want);
}

static void test_io(void)
{
    struct proc_result r;
    struct err e;
    /* 1 MiB through cat, 64 KiB kept: no deadlock, the kept prefix intact */
    size_t n = 1 << 20;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    CHECK_INT(sh("cat", in, n, 65536, 20000, NULL, NULL, &r, &e), 0);
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 0);
    CHECK_INT(r.out_len, 65536);
    CHECK_INT(r.out_truncated, 1);
    CHECK_INT(r.err_truncated, 0);
    CHECK(r.out && memcmp(r.out, in, 65536) == 0 && r.out[65536] == 0);
    proc_result_free(&r);

    /* the whole 1 MiB when it fits */
    CHECK_INT(sh("cat", in, n, n, 20000, NULL, NULL, &r, &e), 0);
    CHECK_INT(r.out_len, n);
    CHECK_INT(r.out_truncated, 0);
    CHECK(r.out && memcmp(r.out, in, n) == 0);
    proc_result_free(&r);

    /* a child that never reads its stdin: EPIPE ends the input, no SIGPIPE here */
    CHECK_INT(sh("exit 5", in, n, 1024, 20000, NULL, NULL, &r, &e), 0);
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 5);
    proc_result_free(&r);
    free(in);

    /* stdout and stderr kept apart; stdin without input is at EOF */
    CHECK_INT(sh("echo out; echo err >&2; cat", NULL, 0, 1024, 10000, NULL, NULL, &r, &e), 0);
    CHECK_STR(r.out, "out\n");
    CHECK_STR(r.err, "err\n");
    CHECK_INT(r.err_len, 4);
    proc_result_free(&r);

    /* much output and no input: read and dropped past the cap */
    CHECK_INT(sh("head -c 5000000 /dev/zero; head -c 100000 /dev/zero >&2", NULL, 0, 100, 20000,
                 NULL, NULL, &r, &e), 0);
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 0);
    CHECK_INT(r.out_len, 100);
    CHECK_INT(r.err_len, 4096);
    CHECK_INT(r.out_truncated, 1);
    CHECK_INT(r.err_truncated, 1);
    proc_result_free(&r);

    /* envp replaces the environment */
    const char *argv[] = {"/bin/sh", "-c", "echo \"[$FOO][$HOME]\"", NULL};
    const char *envp[] = {"FOO=bar", NULL};
    struct proc_opts o = {.argv = argv, .envp = envp, .out_max = 100, .err_max = 100};
    CHECK_INT(proc_run(&o, &r, &e), 0);
    CHECK_STR(r.out, "[bar][]\n");
    proc_result_free(&r);
}

static void test_deadline(void)
{
    struct proc_result r;
    struct err e;
    static const char *const scripts[] = {"sleep 30", "sleep 30 & echo $!; sleep 30",
                                          "sleep 30 & echo $!; exec sleep 30"};
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        double t0 = now_ms();
        CHECK_INT(sh(scripts[i], NULL, 0, 1024, 300, NULL, NULL, &r, &e), 0);
        double dt = now_ms() - t0;
        CHECK(dt >= 290 && dt < 800);
        CHECK_INT(r.timed_out, 1);
        CHECK_INT(r.cancelled, 0);
        CHECK_INT(r.exited, 0);
        CHECK_INT(r.signal, SIGKILL);
        CHECK(r.wall_ms >= 290 && r.wall_ms < 800);
        if (r.out_len)   /* the grandchild's pid: killed with its group */
            CHECK(dead_soon(atol(r.out)));
        CHECK_INT(r.out_len > 0, i > 0);
        proc_result_free(&r);
    }

    /* the child exits and leaves a grandchild holding the pipes: killed, no waiting for it */
    double t0 = now_ms();
    CHECK_INT(sh("sleep 30 & echo $!; exit 4", NULL, 0, 1024, 0, NULL, NULL, &r, &e), 0);
    CHECK(now_ms() - t0 < 1000);
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 4);
    CHECK_INT(r.timed_out, 0);
    CHECK(r.out_len > 0 && dead_soon(atol(r.out)));
    proc_result_free(&r);

    /* a grandchild that left the group (own session) and holds the pipes: the grace ends it */
    if (access("/usr/bin/setsid", X_OK) == 0) {
        t0 = now_ms();
        CHECK_INT(sh("/usr/bin/setsid sleep 3 & echo hi; exit 0", NULL, 0, 1024, 0, NULL, NULL, &r, &e), 0);
        CHECK(now_ms() - t0 < 1000);
        CHECK_INT(r.exited, 1);
        CHECK_STR(r.out, "hi\n");
        proc_result_free(&r);
    }
}

struct canceller {
    atomic_int cancel, pid;
    int saw_pid, own_group;
};

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    for (int i = 0; i < 500 && !atomic_load(&c->pid); i++)
        usleep(2000);
    int pid = atomic_load(&c->pid);
    c->saw_pid = pid > 0;
    c->own_group = pid > 0 && getpgid(pid) == pid;
    usleep(200000);
    atomic_store(&c->cancel, 1);
    return NULL;
}

static void test_cancel(void)
{
    struct canceller c = {.cancel = 0, .pid = 0};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &c);
    struct proc_result r;
    struct err e;
    double t0 = now_ms();
    CHECK_INT(sh("sleep 30", NULL, 0, 1024, 0, &c.cancel, &c.pid, &r, &e), 0);
    double dt = now_ms() - t0;
    pthread_join(th, NULL);
    CHECK(dt >= 190 && dt < 1000);
    CHECK_INT(r.cancelled, 1);
    CHECK_INT(r.timed_out, 0);
    CHECK_INT(r.signal, SIGKILL);
    CHECK_INT(c.saw_pid, 1);
    CHECK_INT(c.own_group, 1);
    CHECK_INT(atomic_load(&c.pid), 0);
    proc_result_free(&r);

    /* already cancelled: killed at once */
    atomic_int set = 1;
    CHECK_INT(sh("sleep 30", NULL, 0, 1024, 0, &set, NULL, &r, &e), 0);
    CHECK_INT(r.cancelled, 1);
    CHECK(r.wall_ms < 500);
    proc_result_free(&r);
}

static void test_child_state(void)
{
    /* fds of this process that are not close-on-exec, and a blocked and an ignored signal */
    int fd = open("/dev/null", O_RDONLY);
    int hi = dup2(fd, 40);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    signal(SIGINT, SIG_IGN);

    struct proc_result r;
    struct err e;
    /* exec: the listing is ls's own fds; 3 is the directory ls reads */
    CHECK_INT(sh("exec ls /proc/self/fd", NULL, 0, 1024, 10000, NULL, NULL, &r, &e), 0);
    CHECK_STR(r.out, "0\n1\n2\n3\n");
    proc_result_free(&r);
    CHECK_INT(sh("exec grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL, 0, 1024, 10000, NULL, NULL,
                 &r, &e), 0);
    /* glibc's posix_spawn leaves its two internal signals (32, 33: not in sigfillset) ignored */
    unsigned long long blk = 1, ign = 1;
    CHECK_INT(r.out ? sscanf(r.out, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &ign) : 0, 2);
    CHECK_INT(blk, 0);
    CHECK_INT(ign & 0x7fffffffULL, 0);
    proc_result_free(&r);
    CHECK_INT(sh("ps -o pid=,pgid= -p $$ | awk '{print ($1 == $2)}'", NULL, 0, 1024, 10000, NULL,
                 NULL, &r, &e), 0);
    if (r.out_len)   /* ps may be missing */
        CHECK_STR(r.out, "1\n");
    proc_result_free(&r);

    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(hi);
    close(fd);
}

/* fds 3 and 4 on request: each its own bounded pipe, nothing else open in the child */
static void test_extra_fds(void)
{
    const char *argv[] = {"/bin/sh", "-c",
                          "echo rec >&3; head -c 100000 /dev/zero | tr '\\0' m >&4; echo out; ls /proc/self/fd "
                          ">&2; exec 3>&- 4>&-; echo late",
                          NULL};
    struct proc_opts o = {.argv = argv, .out_max = 1024, .err_max = 1024, .extra_max = {64, 1000},
                          .deadline_ms = 10000};
    struct proc_result r;
    struct err e;
    CHECK_INT(proc_run(&o, &r, &e), 0);
    CHECK_STR(r.extra[0], "rec\n");
    CHECK_INT(r.extra_truncated[0], 0);
    CHECK_INT((long)r.extra_seen[1], 100000);    /* read to the end, counted */
    CHECK_INT(r.extra_truncated[1], 1);
    CHECK_INT((long)r.extra_len[1], 1000);       /* but only the bound kept */
    CHECK_INT((long)strlen(r.extra[1]), 1000);
    CHECK_STR(r.out, "out\nlate\n");
    CHECK_STR(r.err, "0\n1\n2\n3\n4\n5\n");   /* 5: the directory ls reads */
    proc_result_free(&r);
    /* not asked for: fds 3 and 4 stay closed, and no extra buffers come back */
    const char *argv2[] = {"/bin/sh", "-c", "ls /proc/self/fd", NULL};
    struct proc_opts o2 = {.argv = argv2, .out_max = 1024, .err_max = 1024, .deadline_ms = 10000};
    CHECK_INT(proc_run(&o2, &r, &e), 0);
    CHECK_STR(r.out, "0\n1\n2\n3\n");
    CHECK(r.extra[0] == NULL && r.extra[1] == NULL);
    proc_result_free(&r);
}

static void test_exec_fail(void)
{
    static const char *const paths[] = {"/nonexistent/kgrade-worker", "/etc/passwd", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *argv[] = {paths[i], "info", NULL};
        struct proc_opts o = {.argv = argv, .out_max = 100, .err_max = 100};
        struct proc_result r;
        struct err e;
        err_clear(&e);
        CHECK_INT(proc_run(&o, &r, &e), ERR_IO);
        CHECK_INT(e.code, ERR_IO);
        CHECK(strstr(e.msg, paths[i]) != NULL);
        CHECK(r.out == NULL && r.err == NULL);
        proc_result_free(&r);
    }
    const char *none[] = {NULL};
    struct proc_opts o = {.argv = none};
    struct proc_result r;
    CHECK_INT(proc_run(&o, &r, NULL), ERR_INVALID);
}

/* Start `/bin/sh -c script` now (its input comes with proc_finish). */
static int sh_start(const char *script, atomic_int *pid_out, struct proc **p, struct err *e)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    struct proc_opts o = {.argv = argv, .out_max = 1 << 20, .err_max = 4096, .pid_out = pid_out};
    return proc_start(&o, p, e);
}

static void test_start_finish(void)
{
    struct proc *p = NULL;
    struct proc_result r;
    struct err e;
    /* fed later: what it wrote while waiting, then what the input made it write */
    CHECK_INT(sh_start("echo early; echo early-err >&2; IFS= read -r l; echo \"got:$l\"; cat", NULL, &p, &e), 0);
    CHECK(p != NULL);
    usleep(300000);
    CHECK_INT(proc_exited(p), 0);
    CHECK_INT(proc_finish(p, "hello\nrest", 10, 5000, NULL, &r, &e), 0);
    CHECK_STR(r.out, "early\ngot:hello\nrest");
    CHECK_STR(r.err, "early-err\n");
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 0);
    CHECK_INT((long)r.in_fed, 10);
    CHECK(r.waited_ms >= 290 && r.waited_ms < 5000);
    CHECK(r.wall_ms >= 0 && r.wall_ms < 1000);
    proc_result_free(&r);

    /* the deadline counts from the hand-over, not from the start: it waited 400 ms, then had 300 */
    CHECK_INT(sh_start("sleep 30", NULL, &p, &e), 0);
    usleep(400000);
    double t0 = now_ms();
    CHECK_INT(proc_finish(p, NULL, 0, 300, NULL, &r, &e), 0);
    double dt = now_ms() - t0;
    CHECK(dt >= 290 && dt < 800);
    CHECK_INT(r.timed_out, 1);
    CHECK_INT(r.signal, SIGKILL);
    CHECK(r.wall_ms >= 290 && r.wall_ms < 800);
    CHECK(r.waited_ms >= 390);
    proc_result_free(&r);

    /* more than a pipe's buffer while waiting: the child blocks, nothing is lost at the hand-over */
    CHECK_INT(sh_start("head -c 200000 /dev/zero; echo done >&2", NULL, &p, &e), 0);
    usleep(300000);
    CHECK_INT(proc_exited(p), 0);
    CHECK_INT(proc_finish(p, NULL, 0, 10000, NULL, &r, &e), 0);
    CHECK_INT((long)r.out_seen, 200000);
    CHECK_INT((long)r.out_len, 200000);
    CHECK_STR(r.err, "done\n");
    proc_result_free(&r);

    /* died while waiting: proc_exited says so; the hand-over feeds nothing and reports its death */
    CHECK_INT(sh_start("exit 7", NULL, &p, &e), 0);
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = proc_exited(p);
        if (!gone)
            usleep(5000);
    }
    CHECK_INT(gone, 1);
    CHECK_INT(proc_exited(p), 1);   /* peeking does not reap: still exited */
    CHECK_INT(proc_finish(p, "job\n", 4, 5000, NULL, &r, &e), 0);
    CHECK_INT(r.exited, 1);
    CHECK_INT(r.code, 7);
    CHECK_INT((long)r.in_fed, 0);
    proc_result_free(&r);

    /* cancelled before the hand-over: killed at once when it comes */
    atomic_int set = 1;
    CHECK_INT(sh_start("sleep 30", NULL, &p, &e), 0);
    CHECK_INT(proc_finish(p, NULL, 0, 0, &set, &r, &e), 0);
    CHECK_INT(r.cancelled, 1);
    CHECK(r.wall_ms < 500);
    proc_result_free(&r);

    /* an exec failure: an error, no child to end */
    const char *bad[] = {"/nonexistent/kgrade-worker", NULL};
    struct proc_opts o = {.argv = bad, .out_max = 10, .err_max = 10};
    p = (struct proc *)(uintptr_t)1;   /* garbage: proc_start must clear it */
    CHECK_INT(proc_start(&o, &p, &e), ERR_IO);
    CHECK(p == NULL);
}

static void test_abort(void)
{
    char file[] = "/tmp/kgrade-test-proc-XXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    char script[200];
    snprintf(script, sizeof script, "sleep 30 & echo $! >%s; exec sleep 30", file);
    atomic_int pid = 0;
    struct proc *p = NULL;
    struct err e;
    CHECK_INT(sh_start(script, &pid, &p, &e), 0);
    long child = atomic_load(&pid);
    CHECK(child > 0);
    long grandchild = 0;
    for (int i = 0; i < 200 && !grandchild; i++) {
        FILE *f = fopen(file, "r");
        if (f && fscanf(f, "%ld", &grandchild) != 1)
            grandchild = 0;
        if (f)
            fclose(f);
        if (!grandchild)
            usleep(5000);
    }
    CHECK(grandchild > 0);
    double t0 = now_ms();
    proc_abort(p);
    CHECK(now_ms() - t0 < 500);
    CHECK_INT(atomic_load(&pid), 0);
    /* reaped: no zombie left, the pid is gone (not merely dead); the grandchild killed with the group */
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld", child);
    CHECK(access(path, F_OK) != 0);
    CHECK(grandchild > 0 && dead_soon(grandchild));
    unlink(file);
    proc_abort(NULL);   /* a no-op */
}

#define THREADS 16
#define ROUNDS 4

struct worker {
    int n, ok, failed;
};

static void *spawn_many(void *arg)
{
    struct worker *w = arg;
    char num[16], want[20];
    snprintf(num, sizeof num, "%d", w->n);
    snprintf(want, sizeof want, "%d\n", w->n);
    for (int i = 0; i < ROUNDS; i++) {
        const char *argv[] = {"/bin/sh", "-c", "echo \"$1\"; echo \"e$1\" >&2", "sh", num, NULL};
        struct proc_opts o = {.argv = argv, .in = "x", .in_len = 1, .out_max = 64, .err_max = 64,
                               .deadline_ms = 20000};
        struct proc_result r;
        struct err e;
        if (proc_run(&o, &r, &e) == 0 && r.exited && r.code == 0 && strcmp(r.out, want) == 0
            && r.err[0] == 'e' && strcmp(r.err + 1, want) == 0)
            w->ok++;
        else
            w->failed++;
        proc_result_free(&r);
    }
    return NULL;
}

static void test_concurrent(void)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.n = 1000 + i};
        pthread_create(&th[i], NULL, spawn_many, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].ok, ROUNDS);
        CHECK_INT(w[i].failed, 0);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);   /* proc.h: the caller ignores SIGPIPE */
    test_signal_names();
    test_fates();
    test_io();
    test_deadline();
    test_cancel();
    test_child_state();
    test_extra_fds();
    test_exec_fail();
    test_start_finish();
    test_abort();
    test_concurrent();
    return check_summary("test_proc");
}
