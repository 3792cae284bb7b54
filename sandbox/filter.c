/* filter.c — the sandbox's seccomp filters (see filter.h).
 *
 * DESIGN
 *   Both stages are deny-lists over a default of ALLOW: the CUDA driver and Python use some
 *   eighty different calls and ioctl numbers cannot be tied to a device, so an allow-list would
 *   be both long and fragile. What is denied is what no kernel benchmark needs: other network
 *   families, namespaces, mounts, tracing, bpf, io_uring, keyrings, modules, clocks, reboot...
 *   stage 1  NOTIFY, not KILL or TRAP: a candidate's own SIGSYS handler would swallow TRAP, and
 *            KILL leaves nothing but "SIGSYS" to report. With NOTIFY the call blocks, the sandbox
 *            init reads what it was (number, architecture, arguments), kills the sandbox and names
 *            the violation. One listener per sandbox, inherited by every process in it.
 *            personality: glibc queries it with 0xffffffff (allowed by the filter itself);
 *            personality(0) cannot be told apart from a real change inside libseccomp 2.5 (one
 *            comparison per argument), so it reaches the listener, which lets it continue.
 *   stage 2  TRAP with a handler of our own: the worker is trusted code that runs no candidate
 *            host code, so the handler cannot be replaced. Its records are formatted at install
 *            time; the handler itself only calls write and _exit.
 *
 * Invariants: the listener is close-on-exec; no allocation or stdio in the SIGSYS handler; a
 * partly built filter is released and never loaded.
 *
 * Does not: answer notifications (the caller kills the sandbox instead), filter other ABIs than
 * the native one (they are killed outright), or look at pointer arguments (clone3 just fails). */
#include "filter.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Calls with no legitimate use in a candidate: any use is a violation. */
static const char *const notify_always[] = {
    "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
    "fspick", "mount_setattr", "chroot", "unshare", "setns", "bpf",
    "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "perf_event_open",
    "swapon", "swapoff", "reboot", "acct", "quotactl", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "syslog", "name_to_handle_at", "open_by_handle_at",
    "iopl", "ioperm", "lookup_dcookie", "uselib", "vhangup", "fanotify_init",
};

static const struct { unsigned long bit; const char *name; } clone_new[] = {
    {CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_NEWUTS, "CLONE_NEWUTS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"}, {CLONE_NEWPID, "CLONE_NEWPID"}, {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {CLONE_NEWTIME, "CLONE_NEWTIME"},
};

static const struct { int af; const char *name; } families[] = {
    {AF_INET, "AF_INET"}, {AF_INET6, "AF_INET6"}, {AF_NETLINK, "AF_NETLINK"},
    {AF_PACKET, "AF_PACKET"}, {AF_VSOCK, "AF_VSOCK"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Add one rule; a call unknown on this architecture is skipped. */
static int rule(scmp_filter_ctx c, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp, struct err *e)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;
    int rc = seccomp_rule_add_array(c, action, nr, n, cmp);
    if (rc < 0)
        return err_set(e, rc == -EOPNOTSUPP ? ERR_UNSUPPORTED : ERR_INTERNAL, "",
                       "seccomp rule for %s: %s", name, strerror(-rc));
    return 0;
}

static scmp_filter_ctx new_ctx(struct err *e)
{
    scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
    if (!c) {
        err_set(e, ERR_NOMEM, "", "seccomp_init failed");
        return NULL;
    }
    if (seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
        seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 1) < 0) {
        seccomp_release(c);
        err_set(e, ERR_INTERNAL, "", "seccomp attributes cannot be set");
        return NULL;
    }
    return c;
}

static int stage1_rules(scmp_filter_ctx c, struct err *e)
{
    int rc;
    for (size_t i = 0; i < NELEM(notify_always); i++)
        if ((rc = rule(c, SCMP_ACT_NOTIFY, notify_always[i], 0, NULL, e)))
            return rc;
    struct scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
    if ((rc = rule(c, SCMP_ACT_NOTIFY, "socket", 1, &not_unix, e)) ||
        (rc = rule(c, SCMP_ACT_NOTIFY, "socketpair", 1, &not_unix, e)))
        return rc;
    for (size_t i = 0; i < NELEM(clone_new); i++) {
        struct scmp_arg_cmp has = SCMP_A0(SCMP_CMP_MASKED_EQ, clone_new[i].bit, clone_new[i].bit);
        if ((rc = rule(c, SCMP_ACT_NOTIFY, "clone", 1, &has, e)))
            return rc;
    }
    struct scmp_arg_cmp not_query = SCMP_A0(SCMP_CMP_NE, 0xffffffffu);
    if ((rc = rule(c, SCMP_ACT_NOTIFY, "personality", 1, &not_query, e)) ||
        (rc = rule(c, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, e)))
        return rc;
    struct scmp_arg_cmp tiocsti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);
    return rule(c, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &tiocsti, e);
}

int filter_stage1(int *listener, struct err *e)
{
    *listener = -1;
    scmp_filter_ctx c = new_ctx(e);
    if (!c)
        return e ? e->code : ERR_INTERNAL;
    int rc = stage1_rules(c, e);
    if (rc)
        goto out;
    int lr = seccomp_load(c);
    if (lr < 0) {
        rc = err_set(e, ERR_UNSUPPORTED, "", "seccomp_load: %s", strerror(-lr));
        goto out;
    }
    *listener = seccomp_notify_fd(c);   /* stays open after seccomp_release; close-on-exec */
    if (*listener < 0)
        rc = err_set(e, ERR_UNSUPPORTED, "", "seccomp: the kernel gave no notification listener");
out:
    seccomp_release(c);
    return rc;
}

int filter_send_fd(int sock, int fd, struct err *e)
{
    char byte = 'L';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        return err_set(e, ERR_IO, "", "sendmsg: %s", n < 0 ? strerror(errno) : "short write");
    return 0;
}

int filter_recv_fd(int sock, int *fd, struct err *e)
{
    *fd = -1;
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return err_set(e, ERR_IO, "", "recvmsg: %s", strerror(errno));
    if (n == 0)
        return err_set(e, ERR_NOTFOUND, "", "recvmsg: the peer closed without sending");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return err_set(e, ERR_IO, "", "recvmsg: no descriptor in the message");
    memcpy(fd, CMSG_DATA(cm), sizeof *fd);
    return 0;
}

/* "socket(AF_INET)", "clone(CLONE_NEWUSER|CLONE_NEWNET)", "unshare", ... */
static void describe(const struct seccomp_notif *req, char *name, size_t n)
{
    char *sys = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
    char base[64];
    if (sys)
        snprintf(base, sizeof base, "%s", sys);
    else
        snprintf(base, sizeof base, "syscall %d", req->data.nr);
    free(sys);
    uint64_t a0 = req->data.args[0];
    if (!strcmp(base, "socket") || !strcmp(base, "socketpair")) {
        const char *fam = NULL;
        for (size_t i = 0; i < NELEM(families); i++)
            if ((uint64_t)families[i].af == a0)
                fam = families[i].name;
        if (fam)
            snprintf(name, n, "%s(%s)", base, fam);
        else
            snprintf(name, n, "%s(%lld)", base, (long long)a0);
    } else if (!strcmp(base, "clone")) {
        size_t len = (size_t)snprintf(name, n, "clone(");
        const char *sep = "";
        for (size_t i = 0; i < NELEM(clone_new) && len < n; i++)
            if (a0 & clone_new[i].bit) {
                len += (size_t)snprintf(name + len, n - len, "%s%s", sep, clone_new[i].name);
                sep = "|";
            }
        if (len < n)
            snprintf(name + len, n - len, ")");
    } else {
        snprintf(name, n, "%s", base);
    }
}

int filter_notify_read(int listener, char *name, size_t n, struct err *e)
{
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);   /* the kernel insists on a zeroed buffer */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
        return err_set(e, ERR_IO, "", "seccomp notification: %s", strerror(errno));
    if (req.data.nr == SYS_personality && req.data.args[0] == 0) {
        struct seccomp_notif_resp resp = {.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
            return err_set(e, ERR_IO, "", "seccomp answer: %s", strerror(errno));
        return 0;
    }
    describe(&req, name, n);
    return 1;
}

/* ---- stage 2 ---- */

struct seal_entry {
    const char *call;
    int nr;
    char line[512];     /* the record, with its newline */
    size_t line_len;
    char msg[128];      /* the stderr line, with its newline */
    size_t msg_len;
};

static struct seal_entry seal_tab[6] = {
    {"execve", -1, "", 0, "", 0}, {"execveat", -1, "", 0, "", 0}, {"fork", -1, "", 0, "", 0},
    {"vfork", -1, "", 0, "", 0}, {"clone", -1, "", 0, "", 0}, {"a forbidden call", -1, "", 0, "", 0},
};
static int seal_fd = 1;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void seal_handler(int sig, siginfo_t *si, void *uc)
{
    const struct seal_entry *s = &seal_tab[NELEM(seal_tab) - 1];
    for (size_t i = 0; i + 1 < NELEM(seal_tab); i++)
        if (seal_tab[i].nr >= 0 && seal_tab[i].nr == si->si_syscall)
            s = &seal_tab[i];
    write_all(seal_fd, s->line, s->line_len);
    write_all(2, s->msg, s->msg_len);
    _exit(159);
}

int filter_seal(int record_fd, struct err *e)
{
    seal_fd = record_fd < 0 ? 1 : record_fd;
    for (size_t i = 0; i < NELEM(seal_tab); i++) {
        struct seal_entry *s = &seal_tab[i];
        s->nr = i + 1 < NELEM(seal_tab) ? seccomp_syscall_resolve_name(s->call) : -1;
        char text[96];
        snprintf(text, sizeof text, "the worker called %s after sealing (stage-2 filter)", s->call);
        s->line_len = (size_t)snprintf(s->line, sizeof s->line,
                                       "{\"schema\":\"kgrade.result/1\",\"verdict\":\"sandbox_violation\","
                                       "\"error\":{\"stage\":\"worker\",\"message\":\"%s\"}}\n", text);
        s->msg_len = (size_t)snprintf(s->msg, sizeof s->msg, "%s\n", text);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = seal_handler;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        return err_set(e, ERR_INTERNAL, "", "sigaction(SIGSYS): %s", strerror(errno));
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    sigprocmask(SIG_UNBLOCK, &sys, NULL);

    scmp_filter_ctx c = new_ctx(e);
    if (!c)
        return e ? e->code : ERR_INTERNAL;
    int rc = 0;
    struct scmp_arg_cmp no_thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
    if ((rc = rule(c, SCMP_ACT_TRAP, "execve", 0, NULL, e)) ||
        (rc = rule(c, SCMP_ACT_TRAP, "execveat", 0, NULL, e)) ||
        (rc = rule(c, SCMP_ACT_TRAP, "fork", 0, NULL, e)) ||
        (rc = rule(c, SCMP_ACT_TRAP, "vfork", 0, NULL, e)) ||
        (rc = rule(c, SCMP_ACT_TRAP, "clone", 1, &no_thread, e)) ||
        (rc = rule(c, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, e)))
        goto out;
    int lr = seccomp_load(c);
    if (lr < 0)
        rc = err_set(e, ERR_UNSUPPORTED, "", "seccomp_load (stage 2): %s", strerror(-lr));
out:
    seccomp_release(c);
    return rc;
}
