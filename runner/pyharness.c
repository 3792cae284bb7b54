/* pyharness.c — the python3 child of a Triton evaluation (see pyharness.h).
 *
 * DESIGN. The scripts travel inside the worker binary, so a sandbox needs no path of the source
 * tree: they are written into a fresh mkdtemp directory (the sandbox's private /tmp) and run with
 * -I (no user site, no PYTHON* variables; the script's directory is sys.path[0], which is how the
 * harness finds kglint) and -B (nothing written next to them). Replies are read with poll against
 * a deadline into one growing buffer bounded by REPLY_MAX; a line longer than that is the child's
 * fault (ERR_IO). */
#include "pyharness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "embedded.h"

#define REPLY_MAX (4u << 20)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const char *text, size_t len, struct err *e)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, text, len)) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return err_set(e, ERR_IO, "", "cannot write %s: %s", path, strerror(saved));
    }
    close(fd);
    return 0;
}

static int make_dir(struct pyharness *h, struct err *e)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(h->dir, sizeof h->dir, "%s/kgrade-py-XXXXXX", tmp && *tmp && strlen(tmp) < 150 ? tmp : "/tmp");
    if (!mkdtemp(h->dir)) {
        int saved = errno;
        h->dir[0] = 0;
        return err_set(e, ERR_IO, "", "cannot create a directory for the harness: %s", strerror(saved));
    }
    int rc = write_file(h->dir, "kglint.py", embedded_kglint, strlen(embedded_kglint), e);
    if (!rc)
        rc = write_file(h->dir, "harness.py", embedded_harness, strlen(embedded_harness), e);
    return rc;
}

/* Start argv[0] (found on PATH). The child reads commands on fd 3 from cmd_child (none when -1) and
 * writes to fd 4 from out_child, or, when out_is_stdout, to its stdout. */
static int spawn(const char *const argv[], int cmd_child, int out_child, int out_is_stdout, pid_t *pid,
                 struct err *e)
{
    char *const *av;
    memcpy(&av, &argv, sizeof av);   /* execvp's prototype predates const; it never writes argv */
    pid_t p = fork();
    if (p < 0)
        return err_set(e, ERR_IO, "", "fork: %s", strerror(errno));
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* out of the way first (a pipe may already sit on 3 or 4, close-on-exec), then in place;
         * dup2 clears close-on-exec on the copy */
        int c = cmd_child >= 0 ? fcntl(cmd_child, F_DUPFD_CLOEXEC, 10) : -1;
        int o = fcntl(out_child, F_DUPFD_CLOEXEC, 10);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (o < 0 || (cmd_child >= 0 && (c < 0 || dup2(c, 3) < 0)) || dup2(o, out_is_stdout ? 1 : 4) < 0 ||
            (devnull >= 0 && dup2(devnull, 0) < 0))
            _exit(127);
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        execvp(argv[0], av);
        fprintf(stderr, "kgrade-worker: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    *pid = p;
    return 0;
}

int pyharness_start(struct pyharness *h, const char *python, struct err *e)
{
    memset(h, 0, sizeof *h);
    h->cmd_fd = h->reply_fd = -1;
    if (!python)
        python = "python3";
    int rc = make_dir(h, e);
    if (rc)
        return rc;
    int cmd[2], rep[2];
    if (pipe2(cmd, O_CLOEXEC))
        return err_set(e, ERR_IO, "", "pipe: %s", strerror(errno));
    if (pipe2(rep, O_CLOEXEC)) {
        close(cmd[0]), close(cmd[1]);
        return err_set(e, ERR_IO, "", "pipe: %s", strerror(errno));
    }
    char script[300];
    snprintf(script, sizeof script, "%s/harness.py", h->dir);
    const char *const argv[] = {python, "-I", "-B", script, "3", "4", NULL};
    rc = spawn(argv, cmd[0], rep[1], 0, &h->pid, e);
    close(cmd[0]);
    close(rep[1]);
    h->cmd_fd = cmd[1];
    h->reply_fd = rep[0];
    signal(SIGPIPE, SIG_IGN);
    return rc;
}

/* One line from the child into *line (NUL-terminated, inside h->buf until the next read). */
static int read_line(struct pyharness *h, double deadline, char **line, size_t *used, struct err *e)
{
    for (;;) {
        char *nl = h->len ? memchr(h->buf, '\n', h->len) : NULL;
        if (nl) {
            *nl = 0;
            *line = h->buf;
            *used = (size_t)(nl - h->buf) + 1;
            return 0;
        }
        if (h->len >= REPLY_MAX)
            return err_set(e, ERR_IO, "", "the harness wrote a reply of more than %u bytes", REPLY_MAX);
        double left = deadline - now_ms();
        if (left <= 0)
            return err_set(e, ERR_LIMIT, "", "no reply from the candidate's process in time");
        struct pollfd p = {.fd = h->reply_fd, .events = POLLIN};
        int n = poll(&p, 1, left > 1e9 ? 1000000000 : (int)left + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        if (h->cap - h->len < 65536) {
            size_t cap = h->cap ? h->cap * 2 : 131072;
            char *b = realloc(h->buf, cap + 1);
            if (!b)
                return err_set(e, ERR_NOMEM, "", "out of memory");
            h->buf = b, h->cap = cap;
        }
        ssize_t r = read(h->reply_fd, h->buf + h->len, h->cap - h->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(e, ERR_IO, "", "the candidate's process ended without a reply");
        h->len += (size_t)r;
    }
}

static void consume(struct pyharness *h, size_t used)
{
    memmove(h->buf, h->buf + used, h->len - used);
    h->len -= used;
}

static void kill_child(struct pyharness *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
}

static int receive(struct pyharness *h, double timeout_ms, cJSON **reply, struct err *e)
{
    char *line;
    size_t used;
    *reply = NULL;
    int rc = read_line(h, now_ms() + timeout_ms, &line, &used, e);
    if (rc) {
        if (rc == ERR_LIMIT)
            kill_child(h);
        return rc;
    }
    cJSON *j = cJSON_Parse(line);
    consume(h, used);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return err_set(e, ERR_IO, "", "the candidate's process wrote a reply that is not a JSON object");
    }
    *reply = j;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")))
        return 0;
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "verdict"));
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "traceback"));
    snprintf(h->verdict, sizeof h->verdict, "%s", v ? v : "internal_error");
    snprintf(h->message, sizeof h->message, "%s", m ? m : "the harness failed without a message");
    snprintf(h->traceback, sizeof h->traceback, "%s", t ? t : "");
    return err_set(e, ERR_INVALID, "", "%s", h->message);
}

int pyharness_ready(struct pyharness *h, double timeout_ms, cJSON **reply, struct err *e)
{
    return receive(h, timeout_ms, reply, e);
}

int pyharness_call(struct pyharness *h, const cJSON *cmd, double timeout_ms, cJSON **reply, struct err *e)
{
    *reply = NULL;
    if (h->pid <= 0)
        return err_set(e, ERR_IO, "", "the candidate's process is not running");
    char *text = cJSON_PrintUnformatted(cmd);
    if (!text)
        return err_set(e, ERR_NOMEM, "", "out of memory");
    size_t n = strlen(text);
    text[n] = '\n';   /* PrintUnformatted's NUL becomes the line end; nothing reads past it */
    int w = write_all(h->cmd_fd, text, n + 1);
    free(text);
    if (w)
        return err_set(e, ERR_IO, "", "the candidate's process ended (its command pipe is closed)");
    return receive(h, timeout_ms, reply, e);
}

int pyharness_path(const struct pyharness *h, const char *name, char *out, size_t len)
{
    return (size_t)snprintf(out, len, "%s/%s", h->dir, name) < len ? 0 : ERR_LIMIT;
}

static void remove_dir(char *dir)
{
    static const char *const names[] = {"kglint.py", "harness.py", "candidate.py", "lint-input.py"};
    if (!dir[0])
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    dir[0] = 0;
}

void pyharness_stop(struct pyharness *h)
{
    if (h->cmd_fd >= 0)
        close(h->cmd_fd);
    if (h->reply_fd >= 0)
        close(h->reply_fd);
    h->cmd_fd = h->reply_fd = -1;
    kill_child(h);
    remove_dir(h->dir);
    free(h->buf);
    h->buf = NULL;
    h->len = h->cap = 0;
}

int pyharness_lint(const char *python, const char *src, size_t len, const char *policy_json, int autotune_max,
                   double timeout_ms, cJSON **out, struct err *e)
{
    struct pyharness h;
    memset(&h, 0, sizeof h);
    h.cmd_fd = h.reply_fd = -1;
    *out = NULL;
    if (!python)
        python = "python3";
    int rc = make_dir(&h, e);
    if (!rc)
        rc = write_file(h.dir, "lint-input.py", src, len, e);
    int rep[2] = {-1, -1};
    if (!rc && pipe2(rep, O_CLOEXEC))
        rc = err_set(e, ERR_IO, "", "pipe: %s", strerror(errno));
    if (!rc) {
        char script[300], input[300], at[16];
        snprintf(script, sizeof script, "%s/kglint.py", h.dir);
        snprintf(input, sizeof input, "%s/lint-input.py", h.dir);
        snprintf(at, sizeof at, "%d", autotune_max);
        const char *argv[12];
        int n = 0;
        /* -S: the checker needs no site packages, and python starts faster without them */
        argv[n++] = python, argv[n++] = "-I", argv[n++] = "-S", argv[n++] = "-B", argv[n++] = script;
        if (policy_json)
            argv[n++] = "--policy", argv[n++] = policy_json;
        if (autotune_max > 0)
            argv[n++] = "--autotune-max", argv[n++] = at;
        argv[n++] = input;
        argv[n] = NULL;
        pid_t pid = -1;
        int sr = spawn(argv, -1, rep[1], 1, &pid, e);
        close(rep[1]);
        rep[1] = -1;
        if (sr)
            rc = sr;
        else {
            h.pid = pid;
            h.reply_fd = rep[0];
            rep[0] = -1;
            char *line;
            size_t used;
            rc = read_line(&h, now_ms() + timeout_ms, &line, &used, e);
            if (!rc) {
                *out = cJSON_Parse(line);
                if (!cJSON_IsObject(*out)) {
                    cJSON_Delete(*out);
                    *out = NULL;
                    rc = err_set(e, ERR_IO, "", "the static checker's output is not a JSON object");
                }
            } else if (rc == ERR_IO)
                rc = err_set(e, ERR_IO, "", "the static checker (%s kglint.py) ended without output", python);
        }
    }
    if (rep[0] >= 0)
        close(rep[0]);
    if (rep[1] >= 0)
        close(rep[1]);
    pyharness_stop(&h);
    return rc;
}
