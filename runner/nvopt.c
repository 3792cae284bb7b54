/* nvopt.c - the NVRTC options a candidate may ask for (see nvopt.h).
 *
 * One table of allowed options by type of value, one of refused prefixes with the reason, and the
 * -D rule. Anything else is refused: an option NVRTC would accept is not automatically safe (-I
 * reads host files, -rdc would need a link step the worker does not have). */
#include "nvopt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum opt_type { OPT_FLAG, OPT_BOOL, OPT_REGS, OPT_STD };

static const struct {
    const char *key;   /* the option up to '=' */
    enum opt_type type;
} allowed[] = {
    { "-use_fast_math", OPT_FLAG }, { "--use_fast_math", OPT_FLAG }, { "-lineinfo", OPT_FLAG },
    { "--generate-line-info", OPT_FLAG }, { "--extra-device-vectorization", OPT_FLAG },
    { "--restrict", OPT_FLAG }, { "-restrict", OPT_FLAG },
    { "--ftz", OPT_BOOL }, { "-ftz", OPT_BOOL }, { "--prec-div", OPT_BOOL }, { "-prec-div", OPT_BOOL },
    { "--prec-sqrt", OPT_BOOL }, { "-prec-sqrt", OPT_BOOL }, { "--fmad", OPT_BOOL }, { "-fmad", OPT_BOOL },
    { "--maxrregcount", OPT_REGS }, { "--std", OPT_STD }, { "-std", OPT_STD },
};

/* Refused with a reason: the option without its dashes starts with (or, '=' last, equals) one of
 * these. */
static const struct {
    const char *body;
    int why;
} refused[] = {
    { "rdc", 0 }, { "relocatable-device-code", 0 }, { "dc=", 0 }, { "dlto=", 0 }, { "dlink-time-opt=", 0 },
    { "arch", 1 }, { "gpu-architecture", 1 }, { "code", 1 },
    { "I", 2 }, { "include-path", 2 }, { "pre-include", 2 }, { "include", 2 },
    { "G=", 3 }, { "device-debug=", 3 },
};
static const char *const refusal[] = {
    "relocatable device code and dynamic parallelism are refused: the worker is the only host code "
    "and there is no link step",
    "the worker chooses the architecture for the device",
    "no include paths: a candidate is one self-contained source",
    "device debug code would distort timing",
};

int nvopt_check(const char *opt, struct err *e)
{
    char q[48];
    snprintf(q, sizeof q, "%.40s%s", opt, strlen(opt) > 40 ? "..." : "");
    const char *eq = strchr(opt, '=');
    size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
    const char *v = eq ? eq + 1 : "";
    if (opt[0] == '-' && opt[1] == 'D') {
        const char *p = opt + 2;
        size_t k = 2;
        while (k < klen && (isalnum((unsigned char)opt[k]) || opt[k] == '_'))
            k++;
        if (!(isalpha((unsigned char)*p) || *p == '_') || k != klen)
            return err_set(e, ERR_INVALID, "directive", "option '%s': -D needs a macro name, -DNAME or "
                           "-DNAME=VALUE", q);
        if (strncmp(p, "KG_", 3) == 0)
            return err_set(e, ERR_INVALID, "directive", "option '%s': macro names starting with KG_ are "
                           "reserved for the worker", q);
        for (; *v; v++)
            if (*v <= 0x20 || *v >= 0x7f || *v == '"' || *v == '\'' || *v == '\\')
                return err_set(e, ERR_INVALID, "directive", "option '%s': a macro value has no blanks, "
                               "quotes or backslashes", q);
        return 0;
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (strlen(allowed[i].key) != klen || memcmp(opt, allowed[i].key, klen) != 0)
            continue;
        enum opt_type t = allowed[i].type;
        int n = 0;
        const char *end = v;
        while (*end >= '0' && *end <= '9' && n < 1000)
            n = n * 10 + (*end++ - '0');
        if ((t == OPT_FLAG && !eq) || (t == OPT_BOOL && eq && (!strcmp(v, "true") || !strcmp(v, "false"))) ||
            (t == OPT_REGS && eq && end != v && !*end && n >= 16 && n <= 255) ||
            (t == OPT_STD && eq && (!strcmp(v, "c++11") || !strcmp(v, "c++14") || !strcmp(v, "c++17") ||
                                    !strcmp(v, "c++20"))))
            return 0;
        static const char *const want[] = { "no value", "=true or =false", "=N with N from 16 to 255",
                                             "=c++11, =c++14, =c++17 or =c++20" };
        return err_set(e, ERR_INVALID, "directive", "option '%s' takes %s", q, want[t]);
    }
    const char *body = opt + (opt[0] == '-') + (opt[0] == '-' && opt[1] == '-');
    for (size_t i = 0; opt[0] == '-' && i < sizeof refused / sizeof refused[0]; i++) {
        const char *r = refused[i].body;
        size_t rl = strlen(r);
        bool exact = r[rl - 1] == '=';
        if (exact ? (strlen(body) == rl - 1 && memcmp(body, r, rl - 1) == 0) : strncmp(body, r, rl) == 0)
            return err_set(e, ERR_INVALID, "directive", "option '%s': %s", q, refusal[refused[i].why]);
    }
    return err_set(e, ERR_INVALID, "directive", "option '%s' is not on the allow-list (see docs/candidates.md)",
                   q);
}
