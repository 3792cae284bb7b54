/* expr.c - integer expressions of the launch directives (see expr.h).
 *
 * A recursive-descent parser that evaluates as it goes: one function per precedence level, each
 * returning the value of what it consumed. There is no tree and no allocation. The first error
 * sets p->failed and every level returns at once after that, so exactly one message is reported.
 * Recursion is bounded by EXPR_MAX_DEPTH: every way of nesting (a parenthesis, a function's
 * arguments, a unary sign) passes through nest(), which counts.
 *
 * Arithmetic uses the overflow-checking builtins, and the operations that are undefined in C
 * (division by zero, INT64_MIN / -1, INT64_MIN % -1, -INT64_MIN) are never executed: with
 * check_only a value error is not reported and a harmless stand-in value is used instead. */
#include "expr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 72   /* characters of the expression quoted in a message */
#define NAME_MAX_SHOWN 48

struct parser {
    const char *s;
    size_t len, pos;
    const struct expr_var *vars;
    int nvars;
    bool check_only;
    int depth;
    bool failed;
    struct err *e;
};

static int64_t parse_expr(struct parser *p);
static int64_t parse_unary(struct parser *p);

/* Copy at most QUOTE_MAX characters of s into buf, bytes outside printable ASCII as '?', with
 * "..." when cut. */
static void quote(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = 0, max = cap > 4 ? cap - 4 : 0;
    if (max > QUOTE_MAX)
        max = QUOTE_MAX;
    for (size_t i = 0; i < len && n < max; i++)
        buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (len > n && cap >= 4) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    if (cap)
        buf[n < cap ? n : cap - 1] = '\0';
}

static void vfail(struct parser *p, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vfail(struct parser *p, const char *fmt, va_list ap)
{
    char what[192], q[QUOTE_MAX + 4];
    vsnprintf(what, sizeof what, fmt, ap);
    quote(p->s, p->len, q, sizeof q);
    err_set(p->e, ERR_INVALID, "expression", "%s in '%s'", what, q);
    p->failed = true;
}

/* A syntax error: always reported. */
static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfail(p, fmt, ap);
    va_end(ap);
}

/* A value error: ignored when only the syntax is checked. */
static void value_fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void value_fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed || p->check_only)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfail(p, fmt, ap);
    va_end(ap);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* The next non-blank character, or -1 at the end. */
static int peek(struct parser *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* Report the character at the current position as unexpected. */
static void unexpected(struct parser *p)
{
    int c = peek(p);
    if (c < 0)
        fail(p, "expression ends too early");
    else if (c == ')')
        fail(p, "unbalanced ')'");
    else if (c >= 0x20 && c < 0x7f)
        fail(p, "unexpected '%c'", c);
    else
        fail(p, "unexpected byte 0x%02x", (unsigned)c);
}

static int64_t binop(struct parser *p, char op, int64_t a, int64_t b)
{
    int64_t r = 0;
    switch (op) {
    case '+':
        if (__builtin_add_overflow(a, b, &r))
            value_fail(p, "int64 overflow");
        return r;
    case '-':
        if (__builtin_sub_overflow(a, b, &r))
            value_fail(p, "int64 overflow");
        return r;
    case '*':
        if (__builtin_mul_overflow(a, b, &r))
            value_fail(p, "int64 overflow");
        return r;
    case '/':
        if (b == 0) {
            value_fail(p, "division by zero");
            return 0;
        }
        if (a == INT64_MIN && b == -1) {
            value_fail(p, "int64 overflow");
            return a;
        }
        return a / b;
    default:   /* '%' */
        if (b == 0) {
            value_fail(p, "modulo by zero");
            return 0;
        }
        return b == -1 ? 0 : a % b;
    }
}

/* Parse an expression one level deeper: inside parentheses or as a function argument. */
static int64_t nest(struct parser *p, bool full)
{
    if (p->depth >= EXPR_MAX_DEPTH) {
        fail(p, "nested deeper than %d levels", EXPR_MAX_DEPTH);
        return 0;
    }
    p->depth++;
    int64_t v = full ? parse_expr(p) : parse_unary(p);
    p->depth--;
    return v;
}

static int64_t parse_number(struct parser *p)
{
    const char *s = p->s;
    size_t i = p->pos, start = p->pos;
    uint64_t v = 0;
    bool big = false, digits = false;
    if (s[i] == '0' && i + 1 < p->len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        for (i += 2; i < p->len; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                break;
            digits = true;
            if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / 16)
                big = true;
            else
                v = v * 16 + (uint64_t)d;
        }
    } else {
        for (; i < p->len && s[i] >= '0' && s[i] <= '9'; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            digits = true;
            if (v > ((uint64_t)INT64_MAX - d) / 10)
                big = true;
            else
                v = v * 10 + d;
        }
        if (i - start > 1 && s[start] == '0') {
            fail(p, "leading zero in a number (octal is not supported)");
            return 0;
        }
    }
    if (!digits || (i < p->len && is_ident(s[i]))) {
        fail(p, "malformed number");
        return 0;
    }
    if (big) {
        fail(p, "literal too large for int64");
        return 0;
    }
    p->pos = i;
    return (int64_t)v;
}

/* FUNC '(' args ')' with the opening parenthesis next. */
static int64_t parse_call(struct parser *p, const char *name, size_t nlen)
{
    int kind = nlen == 4 && memcmp(name, "cdiv", 4) == 0 ? 0
             : nlen == 3 && memcmp(name, "min", 3) == 0  ? 1
             : nlen == 3 && memcmp(name, "max", 3) == 0  ? 2 : -1;
    if (kind < 0) {
        fail(p, "unknown function '%.*s' (expected cdiv, min, max)",
             (int)(nlen > NAME_MAX_SHOWN ? NAME_MAX_SHOWN : nlen), name);
        return 0;
    }
    static const char *const fname[] = { "cdiv", "min", "max" };
    int64_t a[EXPR_MAX_FUNC_ARGS];
    size_t n = 0;
    p->pos++;   /* '(' */
    if (peek(p) == ')') {
        fail(p, kind == 0 ? "%s takes 2 arguments, got 0" : "%s takes 2 to 8 arguments, got 0", fname[kind]);
        return 0;
    }
    for (;;) {
        int64_t v = nest(p, true);
        if (p->failed)
            return 0;
        if (n < EXPR_MAX_FUNC_ARGS)
            a[n] = v;
        n++;   /* bounded by the text's length */
        int c = peek(p);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == ')') {
            p->pos++;
            break;
        }
        if (c < 0)
            fail(p, "missing ')' after the arguments of %s", fname[kind]);
        else
            unexpected(p);
        return 0;
    }
    if (n < 2 || (kind == 0 && n > 2) || n > EXPR_MAX_FUNC_ARGS) {
        fail(p, kind == 0 ? "%s takes 2 arguments, got %zu" : "%s takes 2 to 8 arguments, got %zu",
             fname[kind], n);
        return 0;
    }
    if (kind == 0) {
        if (a[1] <= 0) {
            value_fail(p, "cdiv divisor must be positive, got %lld", (long long)a[1]);
            return 0;
        }
        /* b > 0: the remainder has the sign of a, and truncation already rounds a negative
         * quotient up. No overflow: the quotient's magnitude is at most |a|. */
        return a[0] / a[1] + (a[0] % a[1] > 0);
    }
    int64_t r = a[0];
    for (size_t i = 1; i < n; i++)
        r = (kind == 1) == (a[i] < r) ? a[i] : r;
    return r;
}

static int64_t parse_primary(struct parser *p)
{
    int c = peek(p);
    if (c >= '0' && c <= '9')
        return parse_number(p);
    if (c == '(') {
        p->pos++;
        int64_t v = nest(p, true);
        if (p->failed)
            return 0;
        if (peek(p) != ')') {
            if (peek(p) < 0)
                fail(p, "missing ')'");
            else
                unexpected(p);
            return 0;
        }
        p->pos++;
        return v;
    }
    if (c < 0 || !is_ident_start((char)c)) {
        unexpected(p);
        return 0;
    }
    const char *name = p->s + p->pos;
    size_t nlen = 0;
    while (p->pos < p->len && is_ident(p->s[p->pos])) {
        p->pos++;
        nlen++;
    }
    int shown = (int)(nlen > NAME_MAX_SHOWN ? NAME_MAX_SHOWN : nlen);
    if (peek(p) == '(')
        return parse_call(p, name, nlen);
    for (int i = 0; i < p->nvars; i++) {
        const char *v = p->vars[i].name;
        if (strlen(v) == nlen && memcmp(v, name, nlen) == 0)
            return p->vars[i].value;
    }
    if ((nlen == 4 && memcmp(name, "cdiv", 4) == 0) ||
        (nlen == 3 && (memcmp(name, "min", 3) == 0 || memcmp(name, "max", 3) == 0)))
        fail(p, "'%.*s' is a function and needs its arguments in parentheses", shown, name);
    else
        fail(p, "unknown name '%.*s%s'", shown, name, (size_t)shown < nlen ? "..." : "");
    return 0;
}

static int64_t parse_unary(struct parser *p)
{
    int c = peek(p);
    if (c != '+' && c != '-')
        return parse_primary(p);
    p->pos++;
    int64_t v = nest(p, false);
    if (p->failed || c == '+')
        return v;
    if (v == INT64_MIN) {
        value_fail(p, "int64 overflow");
        return v;
    }
    return -v;
}

static int64_t parse_term(struct parser *p)
{
    int64_t v = parse_unary(p);
    for (;;) {
        int c = peek(p);
        if (p->failed || (c != '*' && c != '/' && c != '%'))
            return v;
        p->pos++;
        int64_t r = parse_unary(p);
        if (p->failed)
            return 0;
        v = binop(p, (char)c, v, r);
    }
}

static int64_t parse_expr(struct parser *p)
{
    int64_t v = parse_term(p);
    for (;;) {
        int c = peek(p);
        if (p->failed || (c != '+' && c != '-'))
            return v;
        p->pos++;
        int64_t r = parse_term(p);
        if (p->failed)
            return 0;
        v = binop(p, (char)c, v, r);
    }
}

int expr_eval(const char *text, size_t len, const struct expr_var *vars, int nvars, bool check_only,
              int64_t *out, struct err *e)
{
    struct parser p = {
        .s = text, .len = text ? len : 0, .vars = vars, .nvars = vars ? nvars : 0,
        .check_only = check_only, .e = e,
    };
    if (peek(&p) < 0)
        return err_set(e, ERR_INVALID, "expression", "empty expression");
    int64_t v = parse_expr(&p);
    if (!p.failed && peek(&p) >= 0)
        unexpected(&p);
    if (p.failed)
        return ERR_INVALID;
    if (out)
        *out = v;
    return 0;
}
