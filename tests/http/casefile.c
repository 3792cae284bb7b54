/* casefile.c — reads the blocks of tests/http/cases.txt (see casefile.h; the grammar is at the
 * top of cases.txt).
 *
 * A block is parsed just before it runs, so $NAME is replaced by what the blocks before it saved.
 * Literal body lines are joined with "\n"; a directive line is glued to its neighbours, which is
 * what lets a JSON body embed a file (@file), a generated run (@repeat) or raw bytes (@hex) in the
 * middle of a line. $UNIQ, {u} and `@file ... uniq` draw from one counter, so no two generated
 * sources of a run are the same and the daemon's cache never answers a case by accident.
 *
 * Does not: send anything (test_http_cases.c) or judge answers (expect.c). */
#include "casefile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

static const char *src_dir = ".";

void casefile_init(const char *dir)
{
    src_dir = dir;
}

/* ---- variables ------------------------------------------------------------------------------- */

struct var {
    char name[32];
    char *value;
};
static struct var vars[128];
static int nvars;
static long uniq_counter;

static const char *var_get(const char *name)
{
    for (int i = 0; i < nvars; i++)
        if (strcmp(vars[i].name, name) == 0)
            return vars[i].value;
    return NULL;
}

void casefile_var_set(const char *name, const char *value)
{
    for (int i = 0; i < nvars; i++)
        if (strcmp(vars[i].name, name) == 0) {
            free(vars[i].value);
            vars[i].value = strdup(value);
            return;
        }
    if (nvars < (int)(sizeof vars / sizeof vars[0])) {
        snprintf(vars[nvars].name, sizeof vars[nvars].name, "%s", name);
        vars[nvars++].value = strdup(value);
    }
}

char *casefile_subst(const char *s, char *why, size_t cap)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    for (const char *p = s; *p;) {
        if (p[0] == '$' && isupper((unsigned char)p[1])) {
            char name[32];
            size_t n = 0;
            const char *q = p + 1;
            while ((isupper((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_') && n < sizeof name - 1)
                name[n++] = *q++;
            name[n] = '\0';
            if (strcmp(name, "UNIQ") == 0) {
                buf_printf(&b, "%ld", ++uniq_counter);
            } else {
                const char *v = var_get(name);
                if (!v) {
                    snprintf(why, cap, "unknown variable $%s", name);
                    buf_free(&b);
                    return NULL;
                }
                buf_append(&b, v, strlen(v));
            }
            p = q;
        } else {
            buf_append(&b, p, 1);
            p++;
        }
    }
    return buf_take(&b);
}

/* ---- body directives ------------------------------------------------------------------------- */

/* A quoted string at *pp ("..." with \n \t \r \" \\ \xHH) appended to out; *pp moves past it. */
static int quoted(const char **pp, struct buf *out)
{
    const char *p = *pp;
    while (*p == ' ')
        p++;
    if (*p != '"')
        return -1;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'x': {
                unsigned v = 0;
                for (int k = 0; k < 2 && isxdigit((unsigned char)p[1]); k++, p++)
                    v = v * 16 + (unsigned)(isdigit((unsigned char)p[1]) ? p[1] - '0' : (tolower((unsigned char)p[1]) - 'a' + 10));
                c = (char)v;
                break;
            }
            default: c = *p;
            }
        }
        buf_append(out, &c, 1);
    }
    if (*p != '"')
        return -1;
    *pp = p + 1;
    return 0;
}

/* A count: 12, 4K, 5M (binary multiples), with an optional +N or -N. */
static long count_arg(const char **pp)
{
    char *end;
    long v = strtol(*pp, &end, 10);
    if (*end == 'K')
        v *= 1024, end++;
    else if (*end == 'M')
        v *= 1024 * 1024, end++;
    if (*end == '+' || *end == '-') {
        long d = strtol(end, &end, 10);
        v += d;
    }
    *pp = end;
    return v;
}

/* The file (relative to the source dir) as a JSON string literal, after a unique comment line
 * when uniq (so that no two submissions share a cache key); appended to out. */
static int file_string(const char *rel, int uniq, struct buf *out, char *why, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src_dir, rel);
    size_t len;
    char *s = harness_read_file(path, &len);
    if (!s) {
        snprintf(why, cap, "cannot read %.400s", path);
        return -1;
    }
    struct buf src;
    buf_init(&src, (size_t)1 << 30);
    if (uniq)
        buf_printf(&src, "// uniq %ld\n", ++uniq_counter);
    buf_append(&src, s, len);
    free(s);
    char *js = harness_json_string(src.p, src.len);
    buf_append(out, js, strlen(js));
    free(js);
    buf_free(&src);
    return 0;
}

int casefile_directive(const char *line, struct buf *out, char *why, size_t cap)
{
    const char *p = line + 1;
    if (strncmp(p, "text ", 5) == 0) {
        p += 5;
        if (quoted(&p, out) != 0)
            goto bad;
        return 0;
    }
    if (strncmp(p, "hex ", 4) == 0) {
        for (p += 4; *p;) {
            while (*p == ' ')
                p++;
            if (!*p)
                break;
            if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
                goto bad;
            char h[3] = {p[0], p[1], 0};
            char c = (char)strtol(h, NULL, 16);
            buf_append(out, &c, 1);
            p += 2;
        }
        return 0;
    }
    if (strncmp(p, "bytes ", 6) == 0) {
        p += 6;
        long n = count_arg(&p);
        if (n < 0)
            goto bad;
        char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        for (long done = 0; done < n;) {
            long k = n - done < (long)sizeof chunk ? n - done : (long)sizeof chunk;
            buf_append(out, chunk, (size_t)k);
            done += k;
        }
        return 0;
    }
    if (strncmp(p, "repeat ", 7) == 0) {
        struct buf tpl, sep;
        buf_init(&tpl, 1 << 20);
        buf_init(&sep, 1 << 10);
        p += 7;
        int rc = quoted(&p, &tpl);
        while (*p == ' ')
            p++;
        long n = rc == 0 ? count_arg(&p) : -1;
        while (*p == ' ')
            p++;
        if (rc == 0 && *p == '"')
            rc = quoted(&p, &sep);
        if (rc != 0 || n < 0) {
            buf_free(&tpl);
            buf_free(&sep);
            goto bad;
        }
        const char *t = tpl.p ? tpl.p : "";
        for (long i = 0; i < n; i++) {
            if (i && sep.len)
                buf_append(out, sep.p, sep.len);
            if (!strstr(t, "{i}") && !strstr(t, "{u}") && !strstr(t, "{file:")) {
                buf_append(out, t, tpl.len);
                continue;
            }
            for (const char *q = t; *q;) {
                if (strncmp(q, "{i}", 3) == 0) {
                    buf_printf(out, "%ld", i);
                    q += 3;
                } else if (strncmp(q, "{u}", 3) == 0) {
                    buf_printf(out, "%ld", ++uniq_counter);
                    q += 3;
                } else if (strncmp(q, "{file:", 6) == 0 && strchr(q, '}')) {
                    char rel[512];
                    size_t rl = strcspn(q + 6, "}");
                    snprintf(rel, sizeof rel, "%.*s", (int)rl, q + 6);
                    if (file_string(rel, 1, out, why, cap) != 0) {
                        buf_free(&tpl);
                        buf_free(&sep);
                        return -1;
                    }
                    q += 6 + rl + 1;
                } else {
                    buf_append(out, q++, 1);
                }
            }
        }
        buf_free(&tpl);
        buf_free(&sep);
        return 0;
    }
    if (strncmp(p, "file ", 5) == 0) {
        char rel[512], mode[16] = "";
        if (sscanf(p + 5, "%511s %15s", rel, mode) < 1)
            goto bad;
        return file_string(rel, strcmp(mode, "uniq") == 0, out, why, cap);
    }
    if (strncmp(p, "padto ", 6) == 0) {   /* @padto N "c": append c until the body has N bytes */
        p += 6;
        long n = count_arg(&p);
        struct buf c;
        buf_init(&c, 16);
        if (n < 0 || quoted(&p, &c) != 0 || c.len != 1) {
            buf_free(&c);
            goto bad;
        }
        while ((long)out->len < n)
            if (buf_append(out, c.p, 1) != 0)
                break;
        buf_free(&c);
        return 0;
    }
bad:
    snprintf(why, cap, "bad directive: %.80s", line);
    return -1;
}

/* ---- blocks ---------------------------------------------------------------------------------- */

void casefile_block_free(struct casefile_block *k)
{
    free(k->target);
    for (int i = 0; i < k->nh; i++)
        free(k->hdr[i]);
    for (int i = 0; i < k->ntok; i++)
        free(k->tok[i]);
    buf_free(&k->body);
}

/* Split the expectation at spaces; "..." groups (quotes removed, \" kept as "). */
static int tokenize(const char *s, char **tok, int max)
{
    int n = 0;
    while (*s && n < max) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        struct buf t;
        buf_init(&t, 1 << 16);
        while (*s && *s != ' ') {
            if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                    if (*s == '\\' && s[1] == '"')
                        s++;
                    buf_append(&t, s, 1);
                }
                if (*s)
                    s++;
            } else {
                buf_append(&t, s++, 1);
            }
        }
        buf_append(&t, "", 0);
        tok[n++] = buf_take(&t);
    }
    return n;
}

int casefile_blank(const char *s)
{
    return s[strspn(s, " \t\r")] == '\0';
}

int casefile_parse(char **lines, int n, int *i, struct casefile_block *k, char *why, size_t cap)
{
    memset(k, 0, sizeof *k);
    buf_init(&k->body, (size_t)256 << 20);
    k->line = *i + 1;
    snprintf(k->title, sizeof k->title, "%s", lines[*i] + 3);
    (*i)++;
    int rc = -1;
    if (*i >= n || casefile_blank(lines[*i])) {
        snprintf(why, cap, "no request line");
        goto skip;
    }
    {
        char *req = casefile_subst(lines[*i], why, cap);
        if (!req)
            goto skip;
        char target[1 << 17];
        if (sscanf(req, "%15s %131071s", k->method, target) != 2) {
            snprintf(why, cap, "bad request line: %.100s", req);
            free(req);
            goto skip;
        }
        free(req);
        k->target = strdup(target);
        (*i)++;
    }
    while (*i < n && !casefile_blank(lines[*i]) && strncmp(lines[*i], "->", 2) != 0) {
        char *h = casefile_subst(lines[*i], why, cap);
        if (!h)
            goto skip;
        char *colon = strchr(h, ':');
        if (colon && colon[1] == ' ' && colon[2] == '@') {
            struct buf v;
            buf_init(&v, (size_t)1 << 24);
            buf_append(&v, h, (size_t)(colon - h) + 2);
            if (casefile_directive(colon + 2, &v, why, cap) != 0) {
                buf_free(&v);
                free(h);
                goto skip;
            }
            free(h);
            h = buf_take(&v);
        }
        if (strcasecmp(h, "Transfer-Encoding: chunked") == 0) {
            k->chunked = 1;
            free(h);
        } else if (k->nh < 40) {
            k->hdr[k->nh++] = h;
        } else {
            free(h);
        }
        (*i)++;
    }
    if (*i < n && casefile_blank(lines[*i])) {
        k->has_body = 1;
        (*i)++;
        int prev_literal = 0;
        while (*i < n && strncmp(lines[*i], "->", 2) != 0) {
            char *l = casefile_subst(lines[*i], why, cap);
            if (!l)
                goto skip;
            if (l[0] == '@' && l[1] != '@') {
                int d = casefile_directive(l, &k->body, why, cap);
                free(l);
                if (d != 0)
                    goto skip;
                prev_literal = 0;
            } else {
                const char *text = l[0] == '@' ? l + 1 : l;
                if (prev_literal)
                    buf_append(&k->body, "\n", 1);
                buf_append(&k->body, text, strlen(text));
                free(l);
                prev_literal = 1;
            }
            (*i)++;
        }
        if (k->body.toobig) {
            snprintf(why, cap, "body over the test's own cap");
            goto skip;
        }
    }
    if (*i >= n) {
        snprintf(why, cap, "no \"->\" line");
        return -1;
    }
    {
        char *toks[64];
        int nt = tokenize(lines[*i] + 2, toks, 64);
        (*i)++;
        for (int t = 0; t < nt; t++) {
            if (strncmp(toks[t], "save:", 5) == 0) {
                k->tok[k->ntok++] = toks[t];
                continue;
            }
            char *s = casefile_subst(toks[t], why, cap);
            free(toks[t]);
            if (!s) {
                for (int u = t + 1; u < nt; u++)
                    free(toks[u]);
                return -1;
            }
            k->tok[k->ntok++] = s;
        }
        if (k->ntok == 0 || !isdigit((unsigned char)k->tok[0][0])) {
            snprintf(why, cap, "the \"->\" line must start with the status");
            return -1;
        }
    }
    return 0;
skip:
    while (*i < n && strncmp(lines[*i], "->", 2) != 0)
        (*i)++;
    if (*i < n)
        (*i)++;
    return rc;
}

void casefile_done(void)
{
    for (int i = 0; i < nvars; i++)
        free(vars[i].value);
    nvars = 0;
}
