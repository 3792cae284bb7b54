/* payload.c — every attack of the sandbox threat table in one program (sbx-payload), run inside a
 * sandbox by the tests.
 *
 *   sbx-payload [--record-fd N] THREAT [ARG]       direct mode (tests/sandbox/threats.sh)
 *   sbx-payload info                               fake worker: {"devices":[]}
 *   sbx-payload compile|eval [OPTION...] [--record-fd N] -
 *                                                  fake worker (daemon_threats.sh): the source comes on
 *                                                  stdin; a marker THREAT:<name>[:<arg>] in it picks
 *                                                  the attack, no marker is an honest job
 *   sbx-payload serve_unix PATH NAME               host side: listen on the AF_UNIX socket PATH and
 *                                                  the abstract socket @NAME until killed
 *
 * DESIGN
 *   Each attack makes several attempts and notes what each got ("write /usr: EROFS"); an attempt
 *   that succeeds where a sandbox must stop it is also noted as an escape. The record, one JSON
 *   line on the record fd (direct mode: fd 3 when open, else 1; fake worker: --record-fd, default
 *   1), is then
 *     all stopped:     {"schema":"kgrade.result/1","verdict":"runtime_error",
 *                       "error":{"stage":"payload","message":"<the notes>"}}
 *     something got through, or a threat that only reports (output_flood, env_dump, caps, none):
 *                      {"schema":"kgrade.result/1","verdict":"ok"[,"escaped":"<what>"],"report":"<notes>"}
 *   so a test sees both how each attempt was stopped and any escape ("escaped" must never appear).
 *   Attacks the sandbox ends by killing (network, namespaces, ptrace, mount, memory under a cgroup,
 *   time) leave no record. Exit status 0 with a record; 3 when memory_hog's malloc failed (a record
 *   too: the daemon reads records of exit 0 and 3); 2 on a usage error.
 *
 * Safety: the attacks that would hurt the host when run outside a sandbox (signal_parent: kill(-1)
 * as root kills every process of the machine; fork_bomb; memory_hog) refuse to run unless this
 * process is pid <= 10, i.e. in a fresh pid namespace, and exit 2.
 *
 * Does not: print what it read (a secret must never reach a result). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char notes[16384];
static size_t notes_len;
static char escapes[2048];
static size_t escapes_len;
static int record_fd = 1;

static const char *en(int e)
{
    const char *s = strerrorname_np(e);
    static char b[32];
    if (s)
        return s;
    snprintf(b, sizeof b, "errno %d", e);
    return b;
}

static void vappend(char *buf, size_t cap, size_t *len, const char *fmt, va_list ap)
{
    if (*len && *len + 2 < cap)
        *len += (size_t)snprintf(buf + *len, cap - *len, "; ");
    if (*len < cap) {
        int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
        if (k > 0)
            *len += (size_t)k;
    }
    if (*len >= cap)
        *len = cap - 1;
}

/* What an attempt got. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(notes, sizeof notes, &notes_len, fmt, ap);
    va_end(ap);
}

/* An attempt that got through: noted, and named in "escaped". */
static void escape(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void escape(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(notes, sizeof notes, &notes_len, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vappend(escapes, sizeof escapes, &escapes_len, fmt, ap);
    va_end(ap);
}

static size_t json_str(char *out, size_t cap, const char *s)
{
    size_t k = 0;
    for (; *s && k + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            k += (size_t)snprintf(out + k, cap - k, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", c);
        else
            out[k++] = (char)c;
    }
    out[k] = '\0';
    return k;
}

/* The record (see the head). informational: a threat whose stopped attempts are no error. */
static void write_record(int threat_ran, int informational)
{
    static char rec[40000], a[20000], b[4200];
    json_str(a, sizeof a, notes);
    json_str(b, sizeof b, escapes);
    int n;
    if (!threat_ran)
        n = snprintf(rec, sizeof rec, "{\"schema\":\"kgrade.result/1\",\"verdict\":\"ok\"}\n");
    else if (escapes_len || informational)
        n = snprintf(rec, sizeof rec, "{\"schema\":\"kgrade.result/1\",\"verdict\":\"ok\"%s%s%s,\"report\":\"%s\"}\n",
                     escapes_len ? ",\"escaped\":\"" : "", b, escapes_len ? "\"" : "", a);
    else
        n = snprintf(rec, sizeof rec, "{\"schema\":\"kgrade.result/1\",\"verdict\":\"runtime_error\",\"error\":"
                     "{\"stage\":\"payload\",\"message\":\"%s\"}}\n", a);
    if (n < 0 || (size_t)n >= sizeof rec)
        n = (int)strlen(rec);
    if (write(record_fd, rec, (size_t)n) < 0 && record_fd != 1 && write(1, rec, (size_t)n) < 0)
        _exit(1);
}

/* ---- network ---------------------------------------------------------------------------------- */

static void try_inet(int family)
{
    const char *name = family == AF_INET ? "AF_INET" : "AF_INET6";
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        note("socket(%s): %s", name, en(errno));
        return;
    }
    escape("socket(%s)", name);
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(80)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    inet_pton(AF_INET, "1.1.1.1", &a4.sin_addr);
    inet_pton(AF_INET6, "2606:4700:4700::1111", &a6.sin6_addr);
    int rc = family == AF_INET ? connect(s, (struct sockaddr *)&a4, sizeof a4)
                               : connect(s, (struct sockaddr *)&a6, sizeof a6);
    if (rc == 0)
        escape("connect %s port 80", family == AF_INET ? "1.1.1.1" : "2606:4700:4700::1111");
    else
        note("connect: %s", en(errno));
    close(s);
}

static volatile sig_atomic_t sigsys_caught;

static void on_sigsys(int sig)
{
    sigsys_caught = 1;
}

/* connect to one AF_UNIX path ("@name": abstract). */
static void try_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof a.sun_path)
        return;
    memcpy(a.sun_path, path, n);
    if (path[0] == '@')
        a.sun_path[0] = '\0';
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        note("socket(AF_UNIX): %s", en(errno));
        return;
    }
    if (connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) == 0)
        escape("connect %s", path);
    else
        note("connect %s: %s", path, en(errno));
    close(s);
}

static void net_unix_host(char *arg)
{
    static const char *const host[] = {"/run/systemd/private", "/var/run/docker.sock", "/run/docker.sock",
                                       "/run/dbus/system_bus_socket", "/var/run/nvidia-persistenced/socket",
                                       "/tmp/nvidia-mps/control", "@/tmp/.X11-unix/X0"};
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++)
        try_unix(host[i]);
    for (char *p = arg ? strtok(arg, ":") : NULL; p; p = strtok(NULL, ":"))
        try_unix(p);
}

static int serve_unix(const char *path, const char *name)
{
    int s[2];
    struct sockaddr_un a[2] = {{.sun_family = AF_UNIX}, {.sun_family = AF_UNIX}};
    socklen_t len[2];
    snprintf(a[0].sun_path, sizeof a[0].sun_path, "%s", path);
    len[0] = sizeof a[0];
    snprintf(a[1].sun_path + 1, sizeof a[1].sun_path - 1, "%s", name);
    len[1] = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
    unlink(path);
    for (int i = 0; i < 2; i++) {
        s[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s[i] < 0 || bind(s[i], (struct sockaddr *)&a[i], len[i]) || listen(s[i], 16)) {
            perror("serve_unix");
            return 1;
        }
    }
    for (;;) {      /* accept whoever comes (a test fails on that) and drop them */
        int c = accept(s[0], NULL, NULL);
        if (c >= 0)
            close(c);
    }
}

/* ---- files ------------------------------------------------------------------------------------ */

static void try_create(const char *dir, int allowed)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/kgrade-payload-%d", strcmp(dir, "/") ? dir : "", (int)getpid());
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        note("write %s: %s", dir, en(errno));
        return;
    }
    int w = write(fd, "x", 1) == 1;
    close(fd);
    unlink(p);
    if (!w)
        note("write %s: created, write failed", dir);
    else if (allowed)
        note("write %s: ok", dir);
    else
        escape("write %s", dir);
}

static void write_outside(char *arg)
{
    static const char *const dirs[] = {"/", "/usr", "/usr/bin", "/etc", "/sys", "/dev", "/proc/sys/kernel"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        try_create(dirs[i], 0);
    for (char *p = arg ? strtok(arg, ":") : NULL; p; p = strtok(NULL, ":"))
        try_create(p, 0);
    int fd = open("/etc/ld.so.cache", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        escape("open /etc/ld.so.cache for writing");
        close(fd);
    } else {
        note("open /etc/ld.so.cache for writing: %s", en(errno));
    }
    try_create("/scratch", 1);
    try_create("/tmp", 1);
}

static void try_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        note("read %s: %s", path, en(errno));
        return;
    }
    char b[4096];
    ssize_t n = read(fd, b, sizeof b);
    if (n < 0 && errno == EISDIR) {
        DIR *d = fdopendir(fd);
        int k = 0;
        while (d && readdir(d))
            k++;
        escape("list %s (%d entries)", path, k);
        if (d)
            closedir(d);
        return;
    }
    if (n < 0)
        note("read %s: opened, read %s", path, en(errno));
    else
        escape("read %s (%zd bytes)", path, n);
    close(fd);
}

static void read_files(char *arg)
{
    try_read("/etc/shadow");
    try_read("/in/../../etc/shadow");
    for (char *p = arg ? strtok(arg, ":") : NULL; p; p = strtok(NULL, ":"))
        try_read(p);
}

static void disk_fill(void)
{
    static char block[1 << 20];
    memset(block, 'd', sizeof block);
    signal(SIGXFSZ, SIG_IGN);        /* the write fails with EFBIG instead of killing us */
    for (int i = 1; i <= 64; i++) {
        char p[64];
        snprintf(p, sizeof p, "/scratch/fill%d", i);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            note("fill%d: open %s: %s", i, p, en(errno));
            return;
        }
        long long total = 0;
        int er = 0;
        for (;;) {
            ssize_t w = write(fd, block, sizeof block);
            if (w > 0)
                total += w;
            if (w < 0) {
                er = errno;
                break;
            }
            if ((size_t)w < sizeof block)
                continue;       /* the next write reports why it was short */
            if (total >= (16LL << 30))
                break;
        }
        close(fd);
        if (!er) {
            escape("fill%d: %lld bytes without an error", i, total);
            return;
        }
        note("fill%d: %lld bytes, then %s", i, total, en(er));
        if (er != EFBIG)
            return;
    }
}

/* ---- processes -------------------------------------------------------------------------------- */

static void fork_bomb(void)
{
    int n = 0;
    for (; n < 20000; n++) {
        pid_t p = fork();
        if (p == 0) {
            close(record_fd);
            close(1);
            close(2);
            for (;;)
                pause();
        }
        if (p < 0) {
            note("fork: %d children, then %s", n, en(errno));
            return;
        }
    }
    escape("fork: %d children without an error", n);
}

/* Returns only when malloc failed (or a huge cap was reached). */
static int memory_hog(void)
{
    size_t chunk = (size_t)64 << 20, total = 0;
    for (; total < ((size_t)256 << 30); total += chunk) {
        char *p = malloc(chunk);
        if (!p) {
            note("malloc: failed after %zu MiB", total >> 20);
            return 3;
        }
        memset(p, 1, chunk);
    }
    escape("allocated %zu MiB", total >> 20);
    return 0;
}

static void output_flood(void)
{
    static char block[1 << 16];
    memset(block, 'o', sizeof block);
    for (size_t i = 63; i < sizeof block; i += 64)
        block[i] = '\n';
    long long out = 0, err = 0;
    for (int fd = 1; fd <= 2; fd++) {
        long long *n = fd == 1 ? &out : &err;
        while (*n < 20LL << 20) {
            ssize_t w = write(fd, block, sizeof block);
            if (w <= 0)
                break;
            *n += w;
        }
    }
    note("wrote %lld bytes to stdout and %lld to stderr", out, err);
}

/* kill(pid, SIGKILL); a 0 return is checked for an effect (an init ignores signals from inside). */
static void try_kill(pid_t pid, const char *what)
{
    pid_t parent = getppid();
    if (kill(pid, SIGKILL)) {
        note("kill(%s, SIGKILL): %s", what, en(errno));
        return;
    }
    if (pid == -1) {
        escape("kill(-1, SIGKILL) reached some process");
        return;
    }
    struct timespec t = {0, 100 * 1000000L};
    nanosleep(&t, NULL);
    if (getppid() != parent || kill(pid, 0) != 0)
        escape("kill(%s, SIGKILL) killed it", what);
    else
        note("kill(%s, SIGKILL): no effect", what);
}

static void signal_parent(const char *arg)
{
    char what[48];
    pid_t pp = getppid();
    snprintf(what, sizeof what, "getppid()=%d", (int)pp);
    if (pp > 0)         /* 0: we are a namespace's pid 1; kill(0) would be our own group */
        try_kill(pp, what);
    if (pp != 1)
        try_kill(1, "1");
    else
        note("kill(1, SIGKILL): as above");
    try_kill(-1, "-1");
    if (arg) {
        pid_t v = (pid_t)atoi(arg);
        snprintf(what, sizeof what, "%d", (int)v);
        if (v > 1 && v != getpid())
            try_kill(v, what);
    }
}

/* Exec a setuid-root program and read the credentials of the exited (unreaped) child from /proc:
 * an effective or saved uid other than ours means the set-user-id bit worked. st: the program's. */
static void try_setuid_exec(const char *path)
{
    pid_t p = fork();
    if (p == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        execl(path, path, "--help", (char *)NULL);
        _exit(127);
    }
    if (p < 0) {
        note("exec %s: fork %s", path, en(errno));
        return;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT);
    char f[64], line[256];
    long r = -1, eu = -1, su = -1;
    snprintf(f, sizeof f, "/proc/%d/status", (int)p);
    FILE *s = fopen(f, "r");
    while (s && fgets(line, sizeof line, s))
        if (sscanf(line, "Uid: %ld %ld %ld", &r, &eu, &su) == 3)
            break;
    if (s)
        fclose(s);
    waitpid(p, NULL, 0);
    if (eu < 0)
        note("exec %s: credentials unreadable", path);
    else if (eu != (long)geteuid() || su != (long)geteuid())
        escape("exec %s gave euid %ld", path, eu);
    else
        note("exec %s: euid %ld unchanged", path, eu);
}

static void setuid_threat(void)
{
    if (getuid() != 0) {
        if (setuid(0) == 0)
            escape("setuid(0)");
        else
            note("setuid(0): %s", en(errno));
    } else {
        note("uid 0 inside already");
    }
    if (setuid(65534) == 0)
        escape("setuid(65534)");
    else
        note("setuid(65534): %s", en(errno));
    if (setgid(65534) == 0)
        escape("setgid(65534)");
    else
        note("setgid(65534): %s", en(errno));
    if (setgroups(0, NULL) == 0)
        escape("setgroups");
    else
        note("setgroups: %s", en(errno));
    /* programs that only print their help (newgrp and gpasswd open an audit netlink socket first,
     * which ends the sandbox as a violation) */
    static const char *const bins[] = {"/usr/bin/su", "/bin/su", "/usr/bin/mount", "/bin/mount", "/usr/bin/passwd"};
    struct stat seen[8];
    int n = 0;
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        struct stat st;
        int dup = 0;
        if (stat(bins[i], &st) || !(st.st_mode & S_ISUID))
            continue;
        for (int k = 0; k < n; k++)
            dup |= seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino;
        if (dup)
            continue;       /* /bin -> usr/bin */
        seen[n++] = st;
        try_setuid_exec(bins[i]);
    }
    if (!n)
        note("no set-user-id program visible");
}

/* ---- privileges and view ---------------------------------------------------------------------- */

static void env_dump(void)
{
    char names[4096];
    size_t k = snprintf(names, sizeof names, "env:");
    for (char **e = environ; *e && k < sizeof names; e++) {
        size_t n = strcspn(*e, "=");
        k += (size_t)snprintf(names + k, sizeof names - k, " %.*s", (int)n, *e);
    }
    note("%s", names);
}

static void caps(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char key[32];
        unsigned long long v;
        if (sscanf(line, "%31[^:]: %llx", key, &v) != 2)
            continue;
        if (!strcmp(key, "CapEff") || !strcmp(key, "CapPrm") || !strcmp(key, "CapBnd") || !strcmp(key, "CapAmb")) {
            if (v)
                escape("%s: %016llx", key, v);
            else
                note("%s: %016llx", key, v);
        } else if (!strcmp(key, "NoNewPrivs") || !strcmp(key, "Seccomp")) {
            unsigned long long d = strtoull(strchr(line, ':') + 1, NULL, 10);
            if ((!strcmp(key, "NoNewPrivs") && d != 1) || (!strcmp(key, "Seccomp") && d != 2))
                escape("%s: %llu", key, d);
            else
                note("%s: %llu", key, d);
        }
    }
    if (f)
        fclose(f);
    char pids[1024];
    size_t k = snprintf(pids, sizeof pids, "pids:");
    DIR *d = opendir("/proc");
    struct dirent *de;
    int list[256], n = 0;
    while (d && (de = readdir(d)) != NULL && n < 256)
        if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
            list[n++] = atoi(de->d_name);
    if (d)
        closedir(d);
    for (int i = 1; i < n; i++)         /* readdir order is the pid order already; keep it sure */
        for (int j = i; j > 0 && list[j - 1] > list[j]; j--) {
            int t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    for (int i = 0; i < n && k < sizeof pids; i++)
        k += (size_t)snprintf(pids + k, sizeof pids - k, " %d", list[i]);
    note("%s", pids);
    int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
    char cmd[201];
    ssize_t m = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (m < 0) {
        note("/proc/1/cmdline: %s", en(errno));
    } else {
        for (ssize_t i = 0; i < m; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[m] = '\0';
        note("/proc/1/cmdline: %s", cmd);
    }
}

/* ---- dispatch --------------------------------------------------------------------------------- */

/* 1 when we run in a fresh pid namespace (a sandbox's init is pid 1, we are one of its first). */
static int in_sandbox(void)
{
    return getpid() <= 10;
}

/* Run one threat; the exit status. Threats the sandbox kills for do not come back. */
static int run_threat(const char *name, char *arg)
{
    int info = 0, rc = 0;
    if ((!strcmp(name, "signal_parent") || !strcmp(name, "fork_bomb") || !strcmp(name, "memory_hog")) &&
        !in_sandbox()) {
        note("refused: %s runs only inside a sandbox's pid namespace (our pid is %d)", name, (int)getpid());
        write_record(1, 0);
        return 2;
    }
    if (!strcmp(name, "none")) {
        write_record(0, 0);
        return 0;
    } else if (!strcmp(name, "net_inet")) {
        try_inet(AF_INET);
    } else if (!strcmp(name, "net_inet6")) {
        try_inet(AF_INET6);
    } else if (!strcmp(name, "net_sigsys")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigsys;
        sigaction(SIGSYS, &sa, NULL);
        try_inet(AF_INET);
        if (sigsys_caught)
            note("SIGSYS caught");
    } else if (!strcmp(name, "net_unix_host")) {
        net_unix_host(arg);
    } else if (!strcmp(name, "write_outside")) {
        write_outside(arg);
    } else if (!strcmp(name, "read_files")) {
        read_files(arg);
    } else if (!strcmp(name, "fork_bomb")) {
        fork_bomb();
    } else if (!strcmp(name, "memory_hog")) {
        rc = memory_hog();
    } else if (!strcmp(name, "disk_fill")) {
        disk_fill();
    } else if (!strcmp(name, "output_flood")) {
        output_flood();
        info = 1;
    } else if (!strcmp(name, "signal_parent")) {
        signal_parent(arg);
    } else if (!strcmp(name, "wall_clock")) {
        for (;;)
            pause();
    } else if (!strcmp(name, "cpu_spin")) {
        for (volatile unsigned long i = 0;; i++) {
        }
    } else if (!strcmp(name, "setuid")) {
        setuid_threat();
    } else if (!strcmp(name, "unshare_ns")) {
        if (unshare(CLONE_NEWUSER) == 0)
            escape("unshare(CLONE_NEWUSER)");
        else
            note("unshare(CLONE_NEWUSER): %s", en(errno));
    } else if (!strcmp(name, "ptrace_any")) {
        if (ptrace(PTRACE_ATTACH, getppid(), NULL, NULL) == 0)
            escape("ptrace(PTRACE_ATTACH, %d)", (int)getppid());
        else
            note("ptrace(PTRACE_ATTACH, %d): %s", (int)getppid(), en(errno));
    } else if (!strcmp(name, "mount_tmpfs")) {
        mkdir("/scratch/m", 0700);
        if (mount("none", "/scratch/m", "tmpfs", 0, NULL) == 0)
            escape("mount tmpfs on /scratch/m");
        else
            note("mount tmpfs on /scratch/m: %s", en(errno));
    } else if (!strcmp(name, "env_dump")) {
        env_dump();
        info = 1;
    } else if (!strcmp(name, "caps")) {
        caps();
        info = 1;
    } else {
        note("unknown threat %s", name);
        write_record(1, 0);
        return 2;
    }
    write_record(1, info);
    return rc;
}

/* Fake worker: the source on stdin, the marker THREAT:<name>[:<arg>] in it. */
static int fake_worker(void)
{
    static char src[1 << 20];
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof src && (r = read(0, src + n, sizeof src - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    src[n] = '\0';
    const char *m = strstr(src, "THREAT:");
    if (!m) {
        write_record(0, 0);
        return 0;
    }
    static char name[64], arg[4096];
    m += strlen("THREAT:");
    size_t k = strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789_");
    snprintf(name, sizeof name, "%.*s", (int)(k < sizeof name ? k : sizeof name - 1), m);
    m += k;
    char *a = NULL;
    if (*m == ':') {
        m++;
        k = strcspn(m, " \t\r\n\"\\");
        snprintf(arg, sizeof arg, "%.*s", (int)(k < sizeof arg ? k : sizeof arg - 1), m);
        a = arg;
    }
    return run_threat(name, a);
}

static int usage(void)
{
    fprintf(stderr, "usage: sbx-payload [--record-fd N] THREAT [ARG]\n"
                    "       sbx-payload info | compile|eval [OPTION...] [--record-fd N] -\n"
                    "       sbx-payload serve_unix PATH NAME\n");
    return 2;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "info")) {
        printf("{\"devices\":[]}\n");
        return 0;
    }
    if (!strcmp(argv[1], "serve_unix"))
        return argc == 4 ? serve_unix(argv[2], argv[3]) : usage();
    if (!strcmp(argv[1], "compile") || !strcmp(argv[1], "eval")) {
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--record-fd") && i + 1 < argc)
                record_fd = atoi(argv[++i]);
        return fake_worker();
    }
    int i = 1;
    if (!strcmp(argv[i], "--record-fd") && i + 2 < argc) {
        record_fd = atoi(argv[i + 1]);
        i += 2;
    } else {
        record_fd = fcntl(3, F_GETFD) >= 0 ? 3 : 1;
    }
    if (i >= argc || i + 2 < argc)
        return usage();
    return run_threat(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
}
