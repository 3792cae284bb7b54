/* prompt.c — an agent's prompt in the seed format, read into JSON (see prompt.h; the format and
 * the object are in docs/candidates.md, "Prompt parsing").
 *
 * The one idea: a prompt is a sequence of sections opened by markers ("[OPTIMIZATION STAGE]",
 * "[CURRENT CODE]", "[NCU PROFILING METRICS]") and markdown headings ("## CRITICAL ...", "## OUTPUT
 * FORMAT ..."), read in one pass, line by line; each line is judged by the section it is in. Fenced
 * code is skipped as a whole (a "# comment" inside it is not a heading), except the first fence
 * after [CURRENT CODE], which is copied, and the first after OUTPUT FORMAT, whose tag says the
 * language the answer must be in.
 *
 * Nothing here fails on content: an unknown section is skipped, a missing one stays null, NCU JSON
 * that does not parse becomes "ncu_metrics_error". The only error is running out of memory. The
 * stage object is created with every key null and its values replaced in place, so its keys keep
 * one order; the top-level object is assembled at the end. */
#include "prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "extract.h"
#include "sha256.h"

enum sect { S_NONE, S_STAGE, S_CODE, S_NCU, S_CRITICAL, S_OUTPUT, S_OTHER };
enum list { L_NONE, L_METRICS, L_RULES, L_SECTION };

struct state {
    const char *t;
    size_t len;
    enum sect sect;
    char target[64];
    int has_target;
    /* the stage */
    cJSON *stage;
    enum list list_kind;
    cJSON *list;          /* borrowed: the array items go to */
    int autotune;         /* the current list is the Autotune section */
    long autotune_max;    /* -1: none */
    /* [CURRENT CODE] */
    int code_wanted;
    cJSON *current;
    /* [NCU PROFILING METRICS] */
    int ncu_open;
    size_t ncu_start;
    cJSON *ncu;
    char ncu_error[128];
    /* CRITICAL, OUTPUT FORMAT */
    cJSON *critical, *output, *items, *forbidden;
    char out_lang[32];
    int out_fence_seen;
};

/* ---- text helpers ---------------------------------------------------------------------------- */

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *n)
{
    while (*n && blank(**s))
        (*s)++, (*n)--;
    while (*n && blank((*s)[*n - 1]))
        (*n)--;
}

static int iprefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && strncasecmp(s, p, k) == 0;
}

/* s contains p, case-insensitive (p short; s bounded by a line) */
static const char *ifind(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, p, k) == 0)
            return s + i;
    return NULL;
}

/* s[0..n) cut to at most max bytes at a UTF-8 character boundary, NUL-terminated in buf. */
static void bounded(char *buf, size_t max, const char *s, size_t n)
{
    if (n > max) {
        n = max;
        while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/* ---- building JSON --------------------------------------------------------------------------- */

static int add_text(cJSON *arr, const char *s, size_t n)
{
    char buf[PROMPT_MAX_ITEM + 1];
    trim(&s, &n);
    if (cJSON_GetArraySize(arr) >= PROMPT_MAX_ITEMS)
        return 0;
    bounded(buf, PROMPT_MAX_ITEM, s, n);
    return cJSON_AddItemToArray(arr, cJSON_CreateString(buf)) ? 0 : ERR_NOMEM;
}

/* Replace obj's key with item (kept in its place); item is consumed either way. */
static int set(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return ERR_NOMEM;
    if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)) {
        cJSON_Delete(item);
        return ERR_NOMEM;
    }
    return 0;
}

/* A list item: "- x", "* x", "• x", "1. x", "1) x" (after blanks); *s, *n the item's text. */
static int item_line(const char **s, size_t *n)
{
    const char *l = *s;
    size_t k = *n;
    trim(&l, &k);
    size_t skip = 0;
    if (k >= 2 && (l[0] == '-' || l[0] == '*') && blank(l[1]))
        skip = 2;
    else if (k >= 4 && memcmp(l, "\xe2\x80\xa2", 3) == 0 && blank(l[3]))
        skip = 4;
    else {
        size_t d = 0;
        while (d < k && d < 4 && l[d] >= '0' && l[d] <= '9')
            d++;
        if (d && d + 1 < k && (l[d] == '.' || l[d] == ')') && blank(l[d + 1]))
            skip = d + 2;
    }
    if (!skip)
        return 0;
    *s = l + skip;
    *n = k - skip;
    trim(s, n);
    return 1;
}

/* ---- the stage ------------------------------------------------------------------------------- */

/* "(>50%)", ">= 0.8", "(< 200 us)" after a metric's name: {"op", "value", "unit"}, or NULL into
 * *out when there is none. Returns 0 or ERR_NOMEM. */
static int threshold(const char *s, size_t n, cJSON **out)
{
    *out = NULL;
    size_t i = 0;
    const unsigned char *u8 = (const unsigned char *)s;
    char op[3] = "";
    for (; i < n && !op[0]; i++) {
        if (s[i] == '>' || s[i] == '<') {
            op[0] = s[i];
            if (i + 1 < n && s[i + 1] == '=')
                op[1] = s[++i];
        } else if (i + 3 <= n && u8[i] == 0xe2 && u8[i + 1] == 0x89 &&
                   (u8[i + 2] == 0xa5 || u8[i + 2] == 0xa4)) {   /* ≥ ≤ */
            op[0] = u8[i + 2] == 0xa5 ? '>' : '<';
            op[1] = '=';
            i += 2;
        }
    }
    if (!op[0])
        return 0;
    char num[64];
    bounded(num, sizeof num - 1, s + i, n - i);
    char *end;
    double v = strtod(num, &end);
    if (end == num)
        return 0;
    const char *u = s + i + (size_t)(end - num);
    size_t un = 0;
    while (u + un < s + n && u[un] != ')' && u[un] != ',' && u[un] != ';')
        un++;
    trim(&u, &un);
    char unit[17];
    bounded(unit, 16, u, un);
    cJSON *t = cJSON_CreateObject();
    if (!t || !cJSON_AddStringToObject(t, "op", op) || !cJSON_AddNumberToObject(t, "value", v) ||
        !(unit[0] ? cJSON_AddStringToObject(t, "unit", unit) : cJSON_AddNullToObject(t, "unit"))) {
        cJSON_Delete(t);
        return ERR_NOMEM;
    }
    *out = t;
    return 0;
}

static int add_metric(cJSON *arr, const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && !blank(s[k]) && s[k] != '(' && s[k] != ':')
        k++;
    if (!k || cJSON_GetArraySize(arr) >= PROMPT_MAX_ITEMS)
        return 0;
    char name[PROMPT_MAX_ITEM + 1];
    bounded(name, PROMPT_MAX_ITEM, s, k);
    cJSON *m = cJSON_CreateObject(), *t = NULL;
    if (!m || !cJSON_AddStringToObject(m, "name", name) || threshold(s + k, n - k, &t) ||
        !cJSON_AddItemToObject(m, "threshold", t ? t : cJSON_CreateNull())) {
        cJSON_Delete(m);
        return ERR_NOMEM;
    }
    return cJSON_AddItemToArray(arr, m) ? 0 : (cJSON_Delete(m), ERR_NOMEM);
}

/* "Max 2-3 configs" -> 3, "max 4 configs" -> 4, "at most 2 to 3 configs" is not read; -1: none. */
static long max_configs(const char *s, size_t n)
{
    const char *end = s + n;
    for (const char *p = s; (p = ifind(p, (size_t)(end - p), "max")) != NULL; p += 3) {
        const char *q = p + 3;
        long a = -1, b = -1;
        while (q < end && blank(*q))
            q++;
        for (a = 0; q < end && *q >= '0' && *q <= '9' && a < 100000; q++)
            a = a * 10 + (*q - '0');
        if (q == p + 3 || q[-1] < '0' || q[-1] > '9')
            continue;
        while (q < end && blank(*q))
            q++;
        if (q < end && *q == '-')
            q++;
        else if (end - q >= 3 && memcmp(q, "\xe2\x80\x93", 3) == 0)
            q += 3;
        else if (end - q >= 3 && iprefix(q, (size_t)(end - q), "to "))
            q += 3;
        while (q < end && blank(*q))
            q++;
        if (q < end && *q >= '0' && *q <= '9')
            for (b = 0; q < end && *q >= '0' && *q <= '9' && b < 100000; q++)
                b = b * 10 + (*q - '0');
        while (q < end && blank(*q))
            q++;
        if (iprefix(q, (size_t)(end - q), "config"))
            return b >= 0 ? b : a;
    }
    return -1;
}

static int stage_open(struct state *st)
{
    if (st->stage)
        return 0;
    cJSON *s = st->stage = cJSON_CreateObject();
    if (!s || !cJSON_AddNullToObject(s, "focus") || !cJSON_AddNullToObject(s, "metrics") ||
        !cJSON_AddNullToObject(s, "rules") || !cJSON_AddObjectToObject(s, "sections") ||
        !cJSON_AddNullToObject(s, "autotune_max_configs"))
        return ERR_NOMEM;
    return 0;
}

/* "Metrics:", "Rules:", "Safety:", "**Autotune:**": a list's header; its name into name. */
static int header(const char *s, size_t n, char *name, size_t cap)
{
    while (n && s[0] == '*')
        s++, n--;
    while (n && s[n - 1] == '*')
        n--;
    trim(&s, &n);
    if (n < 2 || n > 48 || s[n - 1] != ':' || s[0] == '-' || s[0] == '#')
        return 0;
    n--;
    trim(&s, &n);
    if (!n)
        return 0;
    bounded(name, cap - 1, s, n);
    return 1;
}

static int stage_line(struct state *st, const char *s, size_t n)
{
    char name[64];
    const char *item = s;
    size_t in = n;
    if (iprefix(s, n, "Focus:")) {
        char buf[PROMPT_MAX_ITEM + 1];
        s += 6, n -= 6;
        trim(&s, &n);
        bounded(buf, PROMPT_MAX_ITEM, s, n);
        return set(st->stage, "focus", cJSON_CreateString(buf));
    }
    if (item_line(&item, &in)) {
        if (!st->list)
            return 0;
        if (st->autotune && st->autotune_max < 0)
            st->autotune_max = max_configs(item, in);
        return st->list_kind == L_METRICS ? add_metric(st->list, item, in)
                                          : add_text(st->list, item, in);
    }
    if (!header(s, n, name, sizeof name))
        return 0;
    st->autotune = strcasecmp(name, "autotune") == 0;
    const char *key = strcasecmp(name, "metrics") == 0 ? "metrics"
                      : strcasecmp(name, "rules") == 0 ? "rules" : NULL;
    if (key) {
        st->list_kind = strcmp(key, "metrics") == 0 ? L_METRICS : L_RULES;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(st->stage, key);
        if (!cJSON_IsArray(have)) {
            if (set(st->stage, key, cJSON_CreateArray()))
                return ERR_NOMEM;
            have = cJSON_GetObjectItemCaseSensitive(st->stage, key);
        }
        st->list = have;
        return 0;
    }
    cJSON *secs = cJSON_GetObjectItemCaseSensitive(st->stage, "sections");
    st->list_kind = L_SECTION;
    st->list = cJSON_GetObjectItemCaseSensitive(secs, name);
    if (!st->list) {
        if (cJSON_GetArraySize(secs) >= PROMPT_MAX_SECTIONS)
            return 0;
        st->list = cJSON_AddArrayToObject(secs, name);
        if (!st->list)
            return ERR_NOMEM;
    }
    return 0;
}

/* ---- NCU metrics ----------------------------------------------------------------------------- */

static int ncu_close(struct state *st, size_t end)
{
    if (!st->ncu_open)
        return 0;
    st->ncu_open = 0;
    const char *s = st->t + st->ncu_start;
    size_t n = end - st->ncu_start;
    const char *brace = memchr(s, '{', n);
    if (!brace) {
        snprintf(st->ncu_error, sizeof st->ncu_error,
                 "no JSON object after [NCU PROFILING METRICS]");
        return 0;
    }
    const char *stop = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(brace, (size_t)(s + n - brace), &stop, 0);
    if (!v) {
        size_t line = 1;
        if (!stop || stop < st->t || stop > s + n)
            stop = s + n;
        for (const char *p = st->t; (p = memchr(p, '\n', (size_t)(stop - p))) != NULL; p++)
            line++;
        snprintf(st->ncu_error, sizeof st->ncu_error,
                 "the [NCU PROFILING METRICS] JSON does not parse (line %zu of the prompt)", line);
        return 0;
    }
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        snprintf(st->ncu_error, sizeof st->ncu_error,
                 "the [NCU PROFILING METRICS] JSON is not an object");
        return 0;
    }
    cJSON_Delete(st->ncu);
    st->ncu = v;
    st->ncu_error[0] = '\0';
    return 0;
}

/* ---- sections -------------------------------------------------------------------------------- */

/* "[CURRENT CODE]": a marker line; its name into name. */
static int marker(const char *s, size_t n, char *name, size_t cap)
{
    trim(&s, &n);
    if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= cap)
        return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == ' ' ||
              s[i] == '_' || s[i] == '-' || s[i] == '&' || s[i] == '/'))
            return 0;
    bounded(name, cap - 1, s + 1, n - 2);
    return 1;
}

static int enter(struct state *st, enum sect s, size_t at)
{
    int rc = ncu_close(st, at);
    st->sect = s;
    st->list = NULL;
    st->list_kind = L_NONE;
    st->autotune = 0;
    if (s != S_CODE)
        st->code_wanted = 0;
    return rc;
}

static int open_list(cJSON **list)
{
    if (*list)
        return 0;
    *list = cJSON_CreateArray();
    return *list ? 0 : ERR_NOMEM;
}

/* A marker or heading line opens a section: 1 (st switched), 0 (not one), or ERR_NOMEM. at is
 * the line's offset, next the next line's. */
static int section_start(struct state *st, const char *s, size_t n, size_t at, size_t next)
{
    char name[48];
    if (marker(s, n, name, sizeof name)) {
        enum sect to = strcmp(name, "OPTIMIZATION STAGE") == 0 ? S_STAGE
                       : strcmp(name, "CURRENT CODE") == 0      ? S_CODE
                       : strstr(name, "NCU")                    ? S_NCU
                                                                : S_OTHER;
        if (enter(st, to, at) || (to == S_STAGE && stage_open(st)))
            return ERR_NOMEM;
        st->code_wanted = to == S_CODE;
        if (to == S_NCU) {
            st->ncu_open = 1;
            st->ncu_start = next;
        }
        return 1;
    }
    size_t h = 0;
    while (h < n && s[h] == '#')
        h++;
    if (h >= 1 && h <= 6 && h < n && s[h] == ' ') {
        enum sect to = ifind(s, n, "optimization stage") ? S_STAGE
                       : memmem(s, n, "CRITICAL", 8)     ? S_CRITICAL
                       : ifind(s, n, "output format")    ? S_OUTPUT
                                                         : S_OTHER;
        if (enter(st, to, at) || (to == S_STAGE && stage_open(st)) ||
            (to == S_CRITICAL && open_list(&st->critical)))
            return ERR_NOMEM;
        if (to == S_OUTPUT && !st->output) {
            st->output = cJSON_CreateObject();
            st->items = cJSON_CreateArray();
            st->forbidden = cJSON_CreateArray();
            if (!st->output || !st->items || !st->forbidden)
                return ERR_NOMEM;
        }
        return 1;
    }
    /* "**Task**: ..." ends the metrics and the code sections (the stage reads "**Rules:**") */
    if (n >= 2 && s[0] == '*' && s[1] == '*' && (st->sect == S_NCU || st->sect == S_CODE))
        return enter(st, S_OTHER, at) ? ERR_NOMEM : 1;
    return 0;
}

/* "Target GPU: 4090", "# Target GPU: 4090" anywhere outside code. */
static void target_line(struct state *st, const char *s, size_t n)
{
    while (n && (s[0] == '#' || blank(s[0])))
        s++, n--;
    if (st->has_target || !iprefix(s, n, "Target GPU:"))
        return;
    s += 11, n -= 11;
    trim(&s, &n);
    if (!n)
        return;
    bounded(st->target, sizeof st->target - 1, s, n);
    st->has_target = 1;
}

/* "Do NOT include: testing code, if __name__, get_inputs" -> forbidden. */
static int output_line(struct state *st, const char *s, size_t n)
{
    const char *item = s;
    size_t in = n;
    if (item_line(&item, &in))
        return add_text(st->items, item, in);
    trim(&s, &n);
    if (!iprefix(s, n, "Do not include:"))
        return 0;
    s += 15, n -= 15;
    while (n) {
        const char *c = memchr(s, ',', n);
        size_t k = c ? (size_t)(c - s) : n;
        const char *w = s;
        size_t wn = k;
        trim(&w, &wn);
        while (wn && w[wn - 1] == '.')
            wn--;
        if (wn && add_text(st->forbidden, w, wn))
            return ERR_NOMEM;
        s += k, n -= k;
        if (n)
            s++, n--;
    }
    return 0;
}

static int line_in_section(struct state *st, const char *s, size_t n)
{
    switch (st->sect) {
    case S_STAGE:
        return stage_line(st, s, n);
    case S_CRITICAL: {
        const char *item = s;
        size_t in = n;
        return item_line(&item, &in) ? add_text(st->critical, item, in) : 0;
    }
    case S_OUTPUT:
        return output_line(st, s, n);
    default:
        return 0;
    }
}

/* ---- fenced code ----------------------------------------------------------------------------- */

static int current_code(struct state *st, struct prompt *p, const struct extract_block *b)
{
    size_t line, lines;
    char hex[65];
    if (extract_copy_lines(st->t, b->body, b->body_end, b->fence_line + 1, b->fence.indent,
                           &p->current_code, &p->current_code_len, &line, &lines))
        return ERR_NOMEM;
    if (!p->current_code)
        return 0;
    enum ingest_lang lang = INGEST_NONE;
    if (!b->fence.tag_len || extract_tag_lang(b->fence.tag, b->fence.tag_len, &lang) != 1)
        lang = extract_detect(p->current_code, p->current_code_len);
    p->current_lang = lang;
    sha256_hex(p->current_code, p->current_code_len, hex);
    cJSON *c = st->current = cJSON_CreateObject();
    if (!c ||
        !(lang == INGEST_NONE ? cJSON_AddNullToObject(c, "language")
                              : cJSON_AddStringToObject(c, "language", ingest_lang_name(lang))) ||
        !cJSON_AddNumberToObject(c, "lines", (double)lines) ||
        !cJSON_AddStringToObject(c, "sha256", hex))
        return ERR_NOMEM;
    return 0;
}

static void output_fence(struct state *st, struct prompt *p, const struct extract_fence *f)
{
    st->out_fence_seen = 1;
    if (!f->tag_len || f->tag_len >= sizeof st->out_lang)
        return;
    for (size_t i = 0; i < f->tag_len; i++) {
        char c = f->tag[i];
        st->out_lang[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a')
                          : (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    st->out_lang[f->tag_len] = '\0';
    enum ingest_lang lang;
    if (extract_tag_lang(f->tag, f->tag_len, &lang) == 1)
        p->asked = lang;
}

/* ---- the whole prompt ------------------------------------------------------------------------ */

static int scan(struct state *st, struct prompt *p)
{
    const char *t = st->t;
    size_t len = st->len, pos = 0, line = 1;
    while (pos < len) {
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - t) : len, next = nl ? e + 1 : len;
        struct extract_fence f;
        if (extract_fence_open(t + pos, e - pos, &f)) {
            /* the whole block, from this line */
            struct extract_block b;
            size_t bpos = pos, bline = line;
            extract_next_block(t, len, &bpos, &bline, &b);
            if (st->sect == S_CODE && st->code_wanted && !p->current_code) {
                st->code_wanted = 0;
                if (current_code(st, p, &b))
                    return ERR_NOMEM;
            } else if (st->sect == S_OUTPUT && !st->out_fence_seen) {
                output_fence(st, p, &b.fence);
            }
            pos = bpos;
            line = bline;
            continue;
        }
        target_line(st, t + pos, e - pos);
        int r = section_start(st, t + pos, e - pos, pos, next);
        if (r < 0 || (r == 0 && line_in_section(st, t + pos, e - pos)))
            return ERR_NOMEM;
        pos = next;
        line++;
    }
    return ncu_close(st, len);
}

/* Add item (or null when item is NULL) to obj; 0 when added (item now belongs to obj). */
static int add_or_null(cJSON *obj, const char *key, cJSON *item)
{
    cJSON *v = item ? item : cJSON_CreateNull();
    if (v && cJSON_AddItemToObject(obj, key, v))
        return 0;
    if (!item)
        cJSON_Delete(v);
    return ERR_NOMEM;
}

static int assemble(struct state *st, struct prompt *p)
{
    cJSON *r = p->json = cJSON_CreateObject();
    if (!r ||
        !(st->has_target ? cJSON_AddStringToObject(r, "target_gpu", st->target)
                         : cJSON_AddNullToObject(r, "target_gpu")))
        return ERR_NOMEM;
    if (st->stage && st->autotune_max >= 0 &&
        set(st->stage, "autotune_max_configs", cJSON_CreateNumber((double)st->autotune_max)))
        return ERR_NOMEM;
    if (add_or_null(r, "stage", st->stage))
        return ERR_NOMEM;
    st->stage = NULL;
    if (add_or_null(r, "current_code", st->current))
        return ERR_NOMEM;
    st->current = NULL;
    if (add_or_null(r, "ncu_metrics", st->ncu))
        return ERR_NOMEM;
    st->ncu = NULL;
    if (st->ncu_error[0] && !cJSON_AddStringToObject(r, "ncu_metrics_error", st->ncu_error))
        return ERR_NOMEM;
    if (add_or_null(r, "critical_rules", st->critical))
        return ERR_NOMEM;
    st->critical = NULL;
    if (!st->output)
        return add_or_null(r, "output_format", NULL);
    cJSON *o = st->output;
    if (add_or_null(r, "output_format", o))
        return ERR_NOMEM;
    st->output = NULL;
    if (!(st->out_lang[0] ? cJSON_AddStringToObject(o, "language", st->out_lang)
                          : cJSON_AddNullToObject(o, "language")) ||
        add_or_null(o, "items", st->items))
        return ERR_NOMEM;
    st->items = NULL;
    if (add_or_null(o, "forbidden", st->forbidden))
        return ERR_NOMEM;
    st->forbidden = NULL;
    return 0;
}

int prompt_parse(const char *text, size_t len, struct prompt *p)
{
    memset(p, 0, sizeof *p);
    struct state st;
    memset(&st, 0, sizeof st);
    st.t = text;
    st.len = len;
    st.autotune_max = -1;
    int rc = scan(&st, p);
    if (rc == 0)
        rc = assemble(&st, p);
    cJSON_Delete(st.stage);
    cJSON_Delete(st.current);
    cJSON_Delete(st.ncu);
    cJSON_Delete(st.critical);
    cJSON_Delete(st.output);
    cJSON_Delete(st.items);
    cJSON_Delete(st.forbidden);
    if (rc)
        prompt_free(p);
    return rc ? ERR_NOMEM : 0;
}

void prompt_free(struct prompt *p)
{
    if (!p)
        return;
    cJSON_Delete(p->json);
    free(p->current_code);
    memset(p, 0, sizeof *p);
}
