/* cgfs.c — cgroup control files and mount discovery (see cgfs.h). */
#include "cgfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cgfs_join(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s/%s", a, b);
    return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int cgfs_put(const char *dir, const char *name, const char *s)
{
    char p[PATH_MAX];
    if (cgfs_join(p, sizeof p, dir, name))
        return -ENAMETOOLONG;
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(s);
    ssize_t w = write(fd, s, len);
    int rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
    close(fd);
    return rc;
}

ssize_t cgfs_get(const char *dir, const char *name, char *buf, size_t n)
{
    char p[PATH_MAX];
    buf[0] = '\0';
    if (cgfs_join(p, sizeof p, dir, name))
        return -ENAMETOOLONG;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    int rc = 0;
    while (got + 1 < n) {
        ssize_t r = read(fd, buf + got, n - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = -errno;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[rc ? 0 : got] = '\0';
    close(fd);
    return rc ? rc : (ssize_t)got;
}

int cgfs_exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    return !cgfs_join(p, sizeof p, dir, name) && access(p, F_OK) == 0;
}

int cgfs_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; (s = strstr(s, word)) != NULL; s += n) {
        int left = s == list || s[-1] == ' ' || s[-1] == ',' || s[-1] == '\n';
        int right = s[n] == '\0' || s[n] == ' ' || s[n] == ',' || s[n] == '\n';
        if (left && right)
            return 1;
    }
    return 0;
}

long long cgfs_keyed(const char *text, const char *key)
{
    size_t n = strlen(key);
    const char *s = text;
    while (*s) {
        if (!strncmp(s, key, n) && s[n] == ' ')
            return strtoll(s + n + 1, NULL, 10);
        const char *nl = strchr(s, '\n');
        if (!nl)
            break;
        s = nl + 1;
    }
    return -1;
}

long long cgfs_number(const char *dir, const char *name)
{
    char b[64];
    if (cgfs_get(dir, name, b, sizeof b) <= 0 || !isdigit((unsigned char)b[0]))
        return -1;
    return strtoll(b, NULL, 10);
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++, o++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
            s[3] <= '7') {
            *o = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else
            *o = *s;
    }
    *o = '\0';
}

int cgfs_find_mount(const char *ctrl, char *dir, size_t dn, char *root, size_t rn)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int rc = -ENOENT;
    while (rc && getline(&line, &cap, f) > 0) {
        char r[PATH_MAX], d[PATH_MAX], type[64], opts[1024];
        const char *sep = strstr(line, " - ");
        if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", r, d) != 2 ||
            sscanf(sep + 3, "%63s %*s %1023s", type, opts) != 2)
            continue;
        if (ctrl ? strcmp(type, "cgroup") || !cgfs_has_word(opts, ctrl) : strcmp(type, "cgroup2"))
            continue;
        unescape(r);
        unescape(d);
        if (strlen(d) < dn && strlen(r) < rn) {
            snprintf(dir, dn, "%s", d);
            snprintf(root, rn, "%s", r);
            rc = 0;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int cgfs_own_path(const char *ctrl, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return -errno;
    char line[PATH_MAX + 256];
    int rc = -ENOENT;
    while (rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (ctrl ? !cgfs_has_word(c1 + 1, ctrl) : strcmp(line, "0:") != 0)
            continue;
        if (strlen(c2 + 1) < n) {
            snprintf(out, n, "%s", c2 + 1);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

int cgfs_read_pids(const char *dir, pid_t *pids, int max)
{
    char p[PATH_MAX];
    if (cgfs_join(p, sizeof p, dir, "cgroup.procs"))
        return -ENAMETOOLONG;
    FILE *f = fopen(p, "re");
    if (!f)
        return -errno;
    int n = 0, v;
    while (n < max && fscanf(f, "%d", &v) == 1)
        pids[n++] = (pid_t)v;
    fclose(f);
    return n;
}
