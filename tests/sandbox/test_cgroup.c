/* test_cgroup.c — cgroup.c on this host's real hierarchy (v2 or v1), as root: the parent prepared
 * twice to the same result, the spec string round trip, a job's memory limit ending in an OOM kill
 * that the figures count, its pids limit stopping a fork bomb, the kill of a whole job, a stale
 * slot killed and replaced, the startup sweep, destroy twice, and the cost of an empty job's
 * create + destroy. Children enter the job the way the keeper does it: clone3(CLONE_INTO_CGROUP) on
 * v2, cgroup_job_enter before the child goes on in v1. Exit 77 when not root or with no usable
 * cgroup here. */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define SLOT 4080       /* this test's slots: 4080..4085 */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void hog(void)
{
    for (int i = 0; i < 64; i++) {
        char *p = malloc((size_t)16 << 20);
        if (!p)
            _exit(3);
        memset(p, 1, (size_t)16 << 20);
    }
    _exit(0);
}

static void bomb(int out)
{
    int n = 0;
    while (n < 1000) {
        pid_t p = fork();
        if (p == 0)
            for (;;)
                pause();
        if (p < 0)
            break;
        n++;
    }
    if (write(out, &n, sizeof n) < 0)
        _exit(1);
    for (;;)
        pause();
}

static void sleeper(void)
{
    for (;;)
        pause();
}

/* A child in job j running fn(arg). -1 on failure. */
static pid_t spawn_in(const struct cgroup_job *j, void (*fn)(int), int arg)
{
    int go[2];
    if (pipe(go))
        return -1;
    pid_t pid;
    if (j->kind == CGROUP_V2) {
        struct clone_args a;
        memset(&a, 0, sizeof a);
        a.flags = CLONE_INTO_CGROUP;
        a.exit_signal = SIGCHLD;
        a.cgroup = (uint64_t)j->dirfd;
        pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
    } else {
        pid = fork();
    }
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0)
            _exit(1);
        fn(arg);
        _exit(0);
    }
    close(go[0]);
    struct err e;
    if (pid > 0 && cgroup_job_enter(j, pid, &e)) {
        fprintf(stderr, "enter: %s\n", e.msg);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    close(go[1]);
    return pid;
}

static void run_hog(int unused)
{
    (void)unused;
    hog();
}

static void run_bomb(int fd)
{
    bomb(fd);
}

static void run_sleeper(int unused)
{
    (void)unused;
    sleeper();
}

static int gone(const char *dir)
{
    return dir[0] && access(dir, F_OK) != 0 && errno == ENOENT;
}

static const char *job_dir(const struct cgroup_job *j)
{
    return j->kind == CGROUP_V2 ? j->v2 : j->mem;
}

/* Reap everything that was ours (orphaned grandchildren come to us: we are a subreaper). */
static void reap_all(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skipped: not root\n");
        return 77;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct cgroup_root r, r2, r3;
    struct err e;
    char spec[1200], spec2[1200], spec3[1200];
    CHECK_INT(cgroup_prepare("auto", &r, &e), 0);
    if (r.kind == CGROUP_NONE) {
        printf("skipped: no usable cgroup: %s\n", r.why);
        return 77;
    }
    CHECK_INT(cgroup_root_format(&r, spec, sizeof spec), 0);
    printf("parent: %s (cpu %d, kill %d)\n", spec, r.has_cpu, r.has_kill);
    CHECK_INT(cgroup_prepare("auto", &r2, &e), 0);   /* a second start finds it all in place */
    CHECK_INT(cgroup_root_format(&r2, spec2, sizeof spec2), 0);
    CHECK_STR(spec2, spec);
    CHECK_INT(cgroup_root_parse(spec, &r3, &e), 0);
    CHECK_INT(cgroup_root_format(&r3, spec3, sizeof spec3), 0);
    CHECK_STR(spec3, spec);
    CHECK_INT(r3.has_cpu, r.has_cpu);
    CHECK_INT(r3.has_kill, r.has_kill);
    CHECK_INT(cgroup_root_parse("v3:/x", &r3, &e), ERR_INVALID);
    CHECK_INT(cgroup_root_parse("v1:/nonexistent/a:/nonexistent/b", &r3, &e), ERR_NOTFOUND);
    CHECK_INT(cgroup_root_parse("v2:relative", &r3, &e), ERR_INVALID);
    CHECK_INT(cgroup_prepare("bogus", &r3, &e), ERR_INVALID);
    CHECK_INT(cgroup_prepare("none", &r3, &e), 0);
    CHECK_INT(r3.kind, CGROUP_NONE);

    struct cgroup_job j;
    struct cgroup_limits lim = {32LL << 20, 16, 0.5};
    CHECK_INT(cgroup_job_create(&r, 4096, &lim, &j, &e), ERR_INVALID);
    CHECK_INT(cgroup_job_create(&r3, 1, &lim, &j, &e), 0);      /* no cgroup: nothing to do */
    CHECK_INT(j.kind, CGROUP_NONE);
    CHECK_INT(cgroup_job_enter(&j, getpid(), &e), 0);
    cgroup_job_destroy(&j);

    /* memory: 32 MiB, the child wants 1 GiB: an OOM kill, counted */
    CHECK_INT(cgroup_job_create(&r, SLOT, &lim, &j, &e), 0);
    if (r.kind == CGROUP_V2)
        CHECK(j.dirfd >= 0);
    pid_t p = spawn_in(&j, run_hog, 0);
    CHECK(p > 0);
    int st = 0;
    waitpid(p, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    struct cgroup_stats s;
    cgroup_job_stats(&j, &s);
    printf("memory job: status 0x%x, peak %lld, oom_kills %lld, pids_peak %lld\n", st, s.memory_peak, s.oom_kills,
           s.pids_peak);
    CHECK(s.oom_kills >= 1);
    CHECK(s.memory_peak >= (16LL << 20) && s.memory_peak <= (40LL << 20));
    char dir[700];
    snprintf(dir, sizeof dir, "%s", job_dir(&j));
    cgroup_job_destroy(&j);
    CHECK(gone(dir));
    cgroup_job_destroy(&j);     /* idempotent */

    /* pids: 8 tasks; a fork bomb stops below, the kill takes them all (without a pids controller
     * the bomb stops at its own cap of 1000 children: only the kill is checked then) */
    struct cgroup_limits lim8 = {0, 8, 0};
    if (!r.has_pids)
        printf("pids not delegated here: only the kill of the fork bomb is checked\n");
    CHECK_INT(cgroup_job_create(&r, SLOT + 1, &lim8, &j, &e), 0);
    int out[2];
    CHECK_INT(pipe(out), 0);
    p = spawn_in(&j, run_bomb, out[1]);
    CHECK(p > 0);
    int forked = -1;
    CHECK_INT(read(out[0], &forked, sizeof forked), (long long)sizeof forked);
    printf("pids job: %d forks before the limit\n", forked);
    cgroup_job_stats(&j, &s);
    if (r.has_pids) {
        CHECK(forked >= 1 && forked <= 7);
        if (s.pids_peak >= 0)
            CHECK_INT(s.pids_peak, 8);
    }
    double t0 = now_ms();
    cgroup_job_kill(&j);
    waitpid(p, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    snprintf(dir, sizeof dir, "%s", job_dir(&j));
    cgroup_job_destroy(&j);
    printf("kill + destroy of 8 tasks: %.1f ms\n", now_ms() - t0);
    CHECK(gone(dir));
    reap_all();
    close(out[0]);
    close(out[1]);

    /* a stale slot (a crash left a process in it): the next create kills it and starts afresh */
    struct cgroup_job stale;
    CHECK_INT(cgroup_job_create(&r, SLOT + 2, &lim, &stale, &e), 0);
    p = spawn_in(&stale, run_sleeper, 0);
    CHECK(p > 0);
    CHECK_INT(cgroup_job_create(&r, SLOT + 2, &lim, &j, &e), 0);
    waitpid(p, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(!gone(job_dir(&j)));
    if (stale.dirfd >= 0)
        close(stale.dirfd);
    cgroup_job_destroy(&j);

    /* the startup sweep removes every slot and what runs there */
    CHECK_INT(cgroup_job_create(&r, SLOT + 3, &lim, &j, &e), 0);
    p = spawn_in(&j, run_sleeper, 0);
    CHECK(p > 0);
    CHECK_INT(cgroup_prepare("auto", &r2, &e), 0);
    cgroup_sweep(&r2);
    waitpid(p, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK(gone(job_dir(&j)));
    cgroup_job_destroy(&j);

    /* an empty job's create + destroy: the per-job cost of the groups */
    t0 = now_ms();
    for (int i = 0; i < 20; i++) {
        CHECK_INT(cgroup_job_create(&r, SLOT + 4, &lim, &j, &e), 0);
        cgroup_job_destroy(&j);
    }
    printf("create + destroy of an empty job: %.2f ms\n", (now_ms() - t0) / 20);
    reap_all();
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
