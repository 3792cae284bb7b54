/* expr.h - integer expressions of the launch directives, e.g. "cdiv(H_out * W_out, 256)".
 *
 * Grammar (C precedence, left associative, whitespace allowed between tokens):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := ('+' | '-') unary | primary
 *   primary := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
 * NUMBER is decimal or 0x hexadecimal; NAME is [A-Za-z_][A-Za-z0-9_]*, looked up case-sensitively
 * among the caller's variables. FUNC is cdiv(a, b) (exact ceiling of a/b for any sign of a; b must
 * be positive), min(a, ...) or max(a, ...) (2 to 8 arguments).
 * Values are signed 64-bit. '/' and '%' truncate toward zero as in C. Overflow anywhere (including
 * -INT64_MIN and INT64_MIN / -1), division or modulo by zero, and a cdiv divisor <= 0 are errors.
 * A literal that does not fit int64 is a syntax error. Nesting (parentheses, function arguments,
 * unary signs) deeper than EXPR_MAX_DEPTH levels is an error. */
#ifndef KGRADE_EXPR_H
#define KGRADE_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define EXPR_MAX_DEPTH 32
#define EXPR_MAX_FUNC_ARGS 8

/* A named value. name is NUL-terminated and borrowed. */
struct expr_var {
    const char *name;
    int64_t value;
};

/* Evaluate text[0..len) (no NUL needed) with the nvars variables of vars (NULL when nvars is 0).
 * out may be NULL. When check_only, value errors (overflow, division or modulo by zero, a cdiv
 * divisor <= 0) are ignored and *out is unspecified, but syntax errors, literals too large and
 * unknown names are still reported: this validates an expression before the values are known.
 * Returns 0 with *out set, or ERR_INVALID with e->field "expression" and a one-line message that
 * says what is wrong and quotes the text (cut with "..." when long), e.g.
 * "division by zero in 'N / (H - 512)'" or "unknown name 'Hout' in 'Hout * 2'". */
int expr_eval(const char *text, size_t len, const struct expr_var *vars, int nvars, bool check_only,
              int64_t *out, struct err *e);

#endif
