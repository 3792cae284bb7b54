/* jsonin.c — request bodies to cJSON (see jsonin.h).
 *
 * DESIGN
 *   Three passes, cheapest first, each refusal located by its byte offset:
 *     utf8     a hand-written validator of the whole text (RFC 3629: the shortest form only, no
 *              UTF-16 surrogates, nothing above U+10FFFF) -> bad_utf8;
 *     syntax   RFC 8259 checked by a state machine over the bytes with an explicit stack of open
 *              brackets (no recursion): the first fault is reported at its exact byte, nesting
 *              past JSONIN_MAX_DEPTH is too_deep at the bracket (so cJSON's recursion stays
 *              shallow), and what cJSON would let through is refused as malformed_json: leading
 *              zeros, raw control characters and NUL bytes, lone surrogate escapes, and \u0000,
 *              which cJSON would turn into a NUL that silently cuts a C string (a source) short;
 *     cJSON    cJSON_ParseWithLengthOpts builds the tree of a text known to be valid; should it
 *              fail anyway (memory), its return_parse_end gives the offset. cJSON_GetErrorPtr (a
 *              global, racy between threads) is never read.
 *   A JSON body is parsed with require_null_terminated over len + 1 bytes (the NUL is part of the
 *   buffer: nothing but whitespace may follow the value). A JSONL line is a slice of the body
 *   with no NUL after it: it is copied into a NUL-terminated buffer first (the lines together
 *   are at most the body, so the copies are bounded by what the HTTP layer accepted).
 *
 * Does not: decode anything but UTF-8, or bound the size of the text (the HTTP layer did). */
#include "jsonin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

static int fail(struct jsonin_err *je, const char *code, size_t offset, long line, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static int fail(struct jsonin_err *je, const char *code, size_t offset, long line, const char *fmt,
                ...)
{
    je->code = code;
    je->offset = offset;
    je->line = line;
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(je->msg, sizeof je->msg, "line %ld: %s", line, what);
    else
        snprintf(je->msg, sizeof je->msg, "%s", what);
    return ERR_INVALID;
}

enum jsonin_media jsonin_media(const char *ct)
{
    if (!ct)
        return JSONIN_JSON;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    static const struct { const char *name; enum jsonin_media m; } types[] = {
        {"application/json", JSONIN_JSON},
        {"application/x-ndjson", JSONIN_JSONL},
        {"application/jsonl", JSONIN_JSONL},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].name) == n && strncasecmp(ct, types[i].name, n) == 0)
            return types[i].m;
    return JSONIN_OTHER;
}

int jsonin_utf8_check(const char *str, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;   /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;               /* overlong */
            else if (c == 0xED)
                hi = 0x9F;               /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;               /* overlong */
            else if (c == 0xF4)
                hi = 0x8F;               /* above U+10FFFF */
        } else
            goto bad;
        if (len - i - 1 < need || s[i + 1] < lo || s[i + 1] > hi)
            goto bad;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
        i += need + 1;
    }
    return 0;
bad:
    if (bad)
        *bad = i;
    return ERR_INVALID;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The syntax checker's cursor over text[0, end); offsets are into the whole text. */
struct scan {
    const unsigned char *s;
    size_t i, end;
    long line;
    struct jsonin_err *je;
};

static int bad_at(struct scan *sc, size_t at, const char *what)
{
    return fail(sc->je, "malformed_json", at, sc->line, "malformed JSON at byte %zu: %s", at, what);
}

/* Four hex digits at i: their value, or -1 (the error reported). */
static long hex4(struct scan *sc, size_t i)
{
    long v = 0;
    for (size_t k = i; k < i + 4; k++) {
        int h = k < sc->end ? hexval(sc->s[k]) : -1;
        if (h < 0) {
            bad_at(sc, k, "\\u needs four hex digits");
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

static int scan_string(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t i = sc->i + 1;   /* past the opening quote */
    for (;;) {
        if (i >= sc->end)
            return bad_at(sc, sc->end, "a string is not closed");
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return bad_at(sc, i, "a raw control character in a string (escape it)");
        if (c != '\\') {
            i++;
            continue;
        }
        unsigned char e = i + 1 < sc->end ? s[i + 1] : 0;
        if (e && strchr("\"\\/bfnrt", e)) {
            i += 2;
            continue;
        }
        if (e != 'u')
            return bad_at(sc, i, "an invalid escape");
        long u = hex4(sc, i + 2);
        if (u < 0)
            return ERR_INVALID;
        if (u == 0)   /* cJSON would cut the C string short there */
            return bad_at(sc, i, "\\u0000 is not accepted in strings");
        if (u >= 0xDC00 && u <= 0xDFFF)
            return bad_at(sc, i, "a lone low surrogate escape");
        if (u >= 0xD800 && u <= 0xDBFF) {
            long lo = -1;
            if (i + 7 < sc->end && s[i + 6] == '\\' && s[i + 7] == 'u' && (lo = hex4(sc, i + 8)) < 0)
                return ERR_INVALID;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return bad_at(sc, i, "a high surrogate escape without its low half");
            i += 6;
        }
        i += 6;
    }
    sc->i = i + 1;
    return 0;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?; what follows is the caller's business
 * (so "03" fails there, at the 3). */
static int scan_number(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t i = sc->i, end = sc->end;
#define DIGIT(k) ((k) < end && s[k] >= '0' && s[k] <= '9')
    if (s[i] == '-')
        i++;
    if (!DIGIT(i))
        return bad_at(sc, i, "a digit expected");
    if (s[i++] != '0')
        while (DIGIT(i))
            i++;
    if (i < end && s[i] == '.') {
        i++;
        if (!DIGIT(i))
            return bad_at(sc, i, "a digit expected after the decimal point");
        while (DIGIT(i))
            i++;
    }
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < end && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return bad_at(sc, i, "a digit expected in the exponent");
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    sc->i = i;
    return 0;
}

/* RFC 8259 syntax of text[start, start + n), without recursion: the open containers are a stack
 * of at most JSONIN_MAX_DEPTH brackets. The first fault is reported at its exact byte. */
static int check_syntax(const char *text, size_t start, size_t n, long line, struct jsonin_err *je)
{
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, AFTER } st = VALUE;
    struct scan sc = {(const unsigned char *)text, start, start + n, line, je};
    char open[JSONIN_MAX_DEPTH];
    int depth = 0;
    if (n >= 3 && memcmp(sc.s + start, "\xEF\xBB\xBF", 3) == 0)
        sc.i += 3;   /* a byte order mark, which cJSON skips too */
    for (;;) {
        while (sc.i < sc.end && is_ws(sc.s[sc.i]))
            sc.i++;
        if (sc.i == sc.end)
            return st == AFTER && depth == 0 ? 0 : bad_at(&sc, sc.i, "unexpected end");
        size_t i = sc.i;
        unsigned char c = sc.s[i];
        int rc = 0;
        switch (st) {
        case VALUE_OR_CLOSE:
        case KEY_OR_CLOSE:
            if (c == (st == KEY_OR_CLOSE ? '}' : ']')) {
                depth--;
                sc.i++;
                st = AFTER;
                continue;
            }
            st = st == KEY_OR_CLOSE ? KEY : VALUE;
            continue;
        case VALUE:
            if (c == '{' || c == '[') {
                if (depth == JSONIN_MAX_DEPTH)
                    return fail(je, "too_deep", i, line, "JSON nested deeper than %d levels at "
                                "byte %zu", JSONIN_MAX_DEPTH, i);
                open[depth++] = (char)c;
                sc.i++;
                st = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
                continue;
            }
            if (c == '"')
                rc = scan_string(&sc);
            else if (c == '-' || (c >= '0' && c <= '9'))
                rc = scan_number(&sc);
            else {
                static const char *const lits[] = {"true", "false", "null"};
                size_t k = 0, len = 0;
                while (k < 3 && lits[k][0] != c)
                    k++;
                if (k < 3)
                    while (lits[k][len] && i + len < sc.end && sc.s[i + len] == lits[k][len])
                        len++;
                if (k == 3 || lits[k][len])
                    return bad_at(&sc, i + len, "a value expected");
                sc.i += len;
            }
            st = AFTER;
            break;
        case KEY:
            if (c != '"')
                return bad_at(&sc, i, "a key (a string in double quotes) expected");
            rc = scan_string(&sc);
            st = COLON;
            break;
        case COLON:
            if (c != ':')
                return bad_at(&sc, i, "':' expected");
            sc.i++;
            st = VALUE;
            break;
        case AFTER:
            if (depth == 0)
                return bad_at(&sc, i, "nothing may follow the value");
            if (c == ',') {
                sc.i++;
                st = open[depth - 1] == '{' ? KEY : VALUE;
            } else if (c == (open[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                sc.i++;
            } else
                return bad_at(&sc, i, open[depth - 1] == '{' ? "',' or '}' expected"
                                                             : "',' or ']' expected");
            break;
        }
        if (rc)
            return rc;
    }
}

/* Parse text[start, start + n); nul: text[start + n] is NUL, else the range is copied to a
 * NUL-terminated buffer (cJSON checks that nothing follows the value up to the NUL). */
static int parse_range(const char *text, size_t start, size_t n, int nul, long line, cJSON **out,
                       struct jsonin_err *je)
{
    char *copy = NULL;
    *out = NULL;
    size_t k = 0;
    while (k < n && is_ws((unsigned char)text[start + k]))
        k++;
    if (k == n)
        return fail(je, "malformed_json", start + n, line, "malformed JSON: %s",
                    line > 0 ? "no value" : "the body is empty");
    int rc = check_syntax(text, start, n, line, je);
    if (rc)
        return rc;
    const char *p = text + start, *end = NULL;
    if (!nul) {
        if (!(copy = malloc(n + 1)))
            return fail(je, "malformed_json", start, line, "out of memory");
        memcpy(copy, p, n);
        copy[n] = 0;
        p = copy;
    }
    cJSON *v = cJSON_ParseWithLengthOpts(p, n + 1, &end, 1);
    size_t off = start + (end && end >= p && end <= p + n ? (size_t)(end - p) : 0);
    free(copy);
    if (!v)
        return fail(je, "malformed_json", off, line, "malformed JSON at byte %zu", off);
    *out = v;
    return 0;
}

int jsonin_parse(const char *text, size_t len, cJSON **out, struct jsonin_err *je)
{
    size_t bad;
    *out = NULL;
    if (jsonin_utf8_check(text, len, &bad))
        return fail(je, "bad_utf8", bad, 0, "the body is not valid UTF-8 at byte %zu", bad);
    return parse_range(text, 0, len, 1, 0, out, je);
}

void jsonin_lines_init(struct jsonin_lines *it, const char *text, size_t len)
{
    memset(it, 0, sizeof *it);
    it->text = text;
    it->len = len;
}

int jsonin_lines_next(struct jsonin_lines *it, cJSON **out, long *line, struct jsonin_err *je)
{
    *out = NULL;
    if (!it->checked) {
        size_t bad;
        if (jsonin_utf8_check(it->text, it->len, &bad)) {
            long ln = 1;
            for (size_t i = 0; i < bad; i++)
                ln += it->text[i] == '\n';
            return fail(je, "bad_utf8", bad, ln, "not valid UTF-8 at byte %zu", bad);
        }
        it->checked = 1;
    }
    while (it->pos < it->len) {
        size_t start = it->pos;
        const char *nl = memchr(it->text + start, '\n', it->len - start);
        size_t n = nl ? (size_t)(nl - (it->text + start)) : it->len - start;
        it->pos = start + n + (nl != NULL);
        it->line++;
        size_t k = 0;
        while (k < n && is_ws((unsigned char)it->text[start + k]))
            k++;
        if (k == n)
            continue;   /* a blank line */
        int rc = parse_range(it->text, start, n, 0, it->line, out, je);
        if (rc)
            return rc;
        *line = it->line;
        return 1;
    }
    return 0;
}
