/* log.c — kgraded's log lines (see log.h).
 *
 * The one idea: a line is built whole in a fixed stack buffer (LINE_MAX_BYTES, the size of
 * PIPE_BUF on Linux) and handed to one write(2) on fd 2, so lines from different threads never
 * interleave, logging never allocates, and a message too long for the buffer is cut (ending in
 * "...") rather than grown. A mutex around the write keeps lines whole even when stderr is a
 * regular file or a terminal, where the kernel promises less than for a pipe.
 *
 * Formats:
 *   logfmt  ts=2026-11-21T10:00:00.123Z level=info job=ev_x msg="compile done"
 *   json    {"ts":"2026-11-21T10:00:00.123Z","level":"info","job":"ev_x","msg":"compile done"}
 * job is left out (logfmt) or null (json) when there is none. msg is always quoted and escaped:
 * quote, backslash and control characters (\n, \t, \r, \u00XX) in both formats; bytes that are
 * not valid UTF-8 become \ufffd in JSON and \xNN in logfmt, so every JSON line parses.
 *
 * Does not: rotate files, buffer, or sample; it is stderr, and the service manager keeps it. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define TAIL_RESERVE 16     /* room kept for `..."`, `}` and the newline */

static atomic_int min_level = LOG_INFO;
static atomic_int json_lines = 0;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level min, int json)
{
    atomic_store(&min_level, (int)min);
    atomic_store(&json_lines, json ? 1 : 0);
}

int log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

/* The line being built: appends that do not fit (keeping TAIL_RESERVE) set cut and stop. */
struct line {
    char b[LINE_MAX_BYTES];
    size_t len;
    int cut;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->cut || n > sizeof l->b - TAIL_RESERVE - l->len) {
        l->cut = 1;
        return;
    }
    memcpy(l->b + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Append into the reserved tail (ends of fields, the newline): never refused while room is left. */
static void put_tail(struct line *l, const char *s)
{
    for (; *s && l->len < sizeof l->b; s++)
        l->b[l->len++] = *s;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    else if ((s[0] & 0xE0) == 0xC0)
        k = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        k = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        k = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

/* s quoted and escaped (JSON string rules; json picks the form of bad bytes). A character whose
 * escape does not fit is left out whole, the line marked cut and the string closed with `..."`. */
static void put_quoted(struct line *l, const char *s, int json)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    put(l, "\"", 1);
    for (size_t i = 0; i < n && !l->cut;) {
        char esc[16];
        size_t k = utf8_len(p + i, n - i);
        if (k == 0) {
            if (json)
                snprintf(esc, sizeof esc, "\\ufffd");
            else
                snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            puts_(l, esc);
            i++;
            continue;
        }
        if (k > 1) {
            put(l, s + i, k);
            i += k;
            continue;
        }
        switch (p[i]) {
        case '"': puts_(l, "\\\""); break;
        case '\\': puts_(l, "\\\\"); break;
        case '\n': puts_(l, "\\n"); break;
        case '\r': puts_(l, "\\r"); break;
        case '\t': puts_(l, "\\t"); break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", p[i]);
                puts_(l, esc);
            } else {
                put(l, s + i, 1);
            }
        }
        i++;
    }
    put_tail(l, l->cut ? "...\"" : "\"");
}

/* A job id printed bare in logfmt when it is a plain token, quoted otherwise. */
static void put_token(struct line *l, const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == n)
        put(l, s, n);
    else
        put_quoted(l, s, 0);
}

static void now_iso(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static void write_all(const char *p, size_t n)
{
    pthread_mutex_lock(&write_lock);
    while (n > 0) {
        ssize_t w = write(2, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        n -= (size_t)w;
    }
    pthread_mutex_unlock(&write_lock);
}

void log_msg(enum log_level lv, const char *job, const char *fmt, ...)
{
    if ((int)lv < atomic_load(&min_level))
        return;
    int json = atomic_load(&json_lines);
    const char *level = (int)lv >= 0 && (int)lv < 4 ? level_names[lv] : "info";
    char msg[LINE_MAX_BYTES], ts[32], jb[81];
    va_list ap;
    va_start(ap, fmt);
    int mn = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mn < 0)
        snprintf(msg, sizeof msg, "(unformattable message: %s)", fmt);
    now_iso(ts);
    if (job) {
        snprintf(jb, sizeof jb, "%s", job);   /* ids are short; a long one must not crowd out msg */
        job = jb;
    }

    struct line l;
    l.len = 0;
    l.cut = 0;
    if (json) {
        puts_(&l, "{\"ts\":\"");
        puts_(&l, ts);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, level);
        puts_(&l, "\",\"job\":");
        if (job)
            put_quoted(&l, job, 1);
        else
            puts_(&l, "null");
        puts_(&l, ",\"msg\":");
        put_quoted(&l, msg, 1);
    } else {
        puts_(&l, "ts=");
        puts_(&l, ts);
        puts_(&l, " level=");
        puts_(&l, level);
        if (job) {
            puts_(&l, " job=");
            put_token(&l, job);
        }
        puts_(&l, " msg=");
        put_quoted(&l, msg, 0);
    }
    put_tail(&l, json ? "}\n" : "\n");
    write_all(l.b, l.len);
}
