/* extract.c — the code in a model's answer (see extract.h; the rule is in docs/candidates.md,
 * "Extraction").
 *
 * The one idea: a response is read once, line by line, and every block is judged as it passes, so
 * nothing is stored but the last candidate block, the last one defining the entry point and the
 * first few others (to name them when none qualifies). Only the chosen block is copied. Every scan
 * is a forward pass over a line or a span (memchr, memmem), so a response of any size costs time
 * linear in its bytes; messages and labels are fixed-size buffers.
 *
 * Invariants: the text handed to extract_code is in normal form (extract_normalize: no CR, no
 * leading BOM) and NUL-terminated; every byte of a chosen block is kept as is (non-ASCII
 * included) except the fence's own indentation, removed from each line, and the blank lines
 * before and after the code.
 *
 * Not done here: choosing the asked language (ingest.c reads it from the prompt or the request),
 * size limits (the caller checks the copied code), and any reading of the code beyond the markers
 * of extract_detect and the entry point (`class ModelNew`, a `__global__` function). */
#include "extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define LIST_MAX 6     /* blocks named in a no_code message */
#define LABEL_MAX 24   /* bytes of a block's label in a message, and of a tag in the report */

/* ---- bytes and lines ------------------------------------------------------------------------- */

static size_t line_end(const char *t, size_t len, size_t pos)
{
    const char *nl = memchr(t + pos, '\n', len - pos);
    return nl ? (size_t)(nl - t) : len;
}

static size_t next_line(size_t e, size_t len)
{
    return e < len ? e + 1 : len;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r' || c == '\n';
}

static int blank_span(const char *t, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (!is_blank(t[i]))
            return 0;
    return 1;
}

static int is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_ident_start(char c)
{
    return is_ident(c) && !(c >= '0' && c <= '9');
}

/* line l[0..n) starts with p */
static int prefix(const char *l, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(l, p, k) == 0;
}

/* ... with p followed by the end or a character that cannot continue a name */
static int word_prefix(const char *l, size_t n, const char *p)
{
    size_t k = strlen(p);
    return prefix(l, n, p) && (n == k || !is_ident(l[k]));
}

static void skip_blanks(const char **l, size_t *n)
{
    while (*n && (**l == ' ' || **l == '\t')) {
        (*l)++;
        (*n)--;
    }
}

static char last_char(const char *l, size_t n)
{
    while (n && is_blank(l[n - 1]))
        n--;
    return n ? l[n - 1] : '\0';
}

static size_t count_words(const char *t, size_t len, size_t stop)
{
    size_t words = 0;
    for (size_t i = 0; i < len && words < stop; i++)
        if (!is_blank(t[i]) && (i == 0 || is_blank(t[i - 1])))
            words++;
    return words;
}

/* Printable ASCII copy of s[0..n) (other bytes '?'), cut with "..." to fit out. */
static void label_copy(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (; k < n && k + 1 < cap; k++)
        out[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
    if (k < n && cap >= 4) {
        memcpy(out + cap - 4, "...", 3);
        k = cap - 1;
    }
    out[k] = '\0';
}

/* ---- normal form ----------------------------------------------------------------------------- */

int extract_normalize(const char *text, size_t len, char **out, size_t *out_len, int *had_cr,
                      size_t *nul_at)
{
    *out = NULL;
    *out_len = 0;
    *had_cr = 0;
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul) {
        *nul_at = (size_t)(nul - text);
        return ERR_INVALID;
    }
    size_t i = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    char *o = malloc(len - i + 1);
    if (!o)
        return ERR_NOMEM;
    size_t k = 0;
    for (; i < len; i++) {
        if (text[i] != '\r') {
            o[k++] = text[i];
            continue;
        }
        *had_cr = 1;
        o[k++] = '\n';
        if (i + 1 < len && text[i + 1] == '\n')
            i++;
    }
    o[k] = '\0';
    *out = o;
    *out_len = k;
    return 0;
}

/* ---- languages ------------------------------------------------------------------------------- */

/* "//", blanks, "@kgrade", a blank: a directive line (directive.h) */
static int kgrade_line(const char *l, size_t n)
{
    if (!prefix(l, n, "//"))
        return 0;
    l += 2, n -= 2;
    skip_blanks(&l, &n);
    return prefix(l, n, "@kgrade") && n > 7 && (l[7] == ' ' || l[7] == '\t');
}

/* a line starting "class ModelNew" and a character that ends the name */
static int modelnew_line(const char *l, size_t n)
{
    return prefix(l, n, "class ModelNew") &&
           (n == 14 || l[14] == '(' || l[14] == ':' || l[14] == ' ' || l[14] == '\t');
}

enum ingest_lang extract_detect(const char *code, size_t len)
{
    int py = 0, cu = 0;
    for (size_t pos = 0; pos < len && !py;) {
        size_t e = line_end(code, len, pos);
        const char *l = code + pos;
        size_t n = e - pos;
        skip_blanks(&l, &n);
        if (word_prefix(l, n, "import triton") || word_prefix(l, n, "from triton") ||
            word_prefix(l, n, "import torch") || prefix(l, n, "@triton.jit") ||
            modelnew_line(l, n))
            py = 1;
        else if (prefix(l, n, "#include") || kgrade_line(l, n))
            cu = 1;
        pos = next_line(e, len);
    }
    if (py || memmem(code, len, "triton.language", 15))
        return INGEST_TRITON;
    if (cu || memmem(code, len, "__global__", 10) || memmem(code, len, "__device__", 10) ||
        memmem(code, len, "extern \"C\"", 10))
        return INGEST_CUDA;
    return INGEST_NONE;
}

static int tag_in(const char *tag, size_t len, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == len && strncasecmp(tag, *names, len) == 0)
            return 1;
    return 0;
}

int extract_tag_lang(const char *tag, size_t len, enum ingest_lang *lang)
{
    static const char *const py[] = {"python", "py", "python3", "py3", "triton", NULL};
    static const char *const cu[] = {"cuda", "cu", "cuh", "cpp", "c++", "cxx", "cc", "c", "h",
                                     "hpp", NULL};
    static const char *const generic[] = {"none", "text", "txt", "plain", "plaintext", "code",
                                          NULL};
    *lang = INGEST_NONE;
    if (tag_in(tag, len, py))
        *lang = INGEST_TRITON;
    else if (tag_in(tag, len, cu))
        *lang = INGEST_CUDA;
    else if (tag_in(tag, len, generic))
        return 0;
    else
        return -1;
    return 1;
}

const char *extract_lang_tag(enum ingest_lang l)
{
    return l == INGEST_TRITON ? "python" : l == INGEST_CUDA ? "cuda" : "any";
}

/* The block defines the entry point of its language: class ModelNew, or a __global__ function. */
static int defines_entry(const char *t, size_t a, size_t b, enum ingest_lang lang)
{
    if (lang == INGEST_CUDA) {
        for (const char *p = t + a, *end = t + b; p < end;) {
            const char *g = memmem(p, (size_t)(end - p), "__global__", 10);
            if (!g)
                return 0;
            if ((g == t + a || !is_ident(g[-1])) && (g + 10 == end || !is_ident(g[10])))
                return 1;
            p = g + 10;
        }
        return 0;
    }
    for (size_t pos = a; pos < b;) {
        size_t e = line_end(t, b, pos);
        const char *l = t + pos;
        size_t n = e - pos;
        skip_blanks(&l, &n);
        if (modelnew_line(l, n))
            return 1;
        pos = next_line(e, b);
    }
    return 0;
}

/* ---- fences ---------------------------------------------------------------------------------- */

int extract_fence_open(const char *line, size_t len, struct extract_fence *f)
{
    size_t i = 0;
    while (i < len && i < 4 && line[i] == ' ')
        i++;
    if (i > 3 || i >= len || (line[i] != '`' && line[i] != '~'))
        return 0;
    char ch = line[i];
    size_t run = 0;
    while (i + run < len && line[i + run] == ch)
        run++;
    if (run < 3)
        return 0;
    const char *info = line + i + run;
    size_t n = len - i - run;
    if (ch == '`' && memchr(info, '`', n))
        return 0;   /* ```code``` on one line is inline code, not a fence */
    skip_blanks(&info, &n);
    while (n && (*info == '{' || *info == '.'))   /* {.python} */
        info++, n--;
    size_t w = 0;
    while (w < n && !is_blank(info[w]) && info[w] != '{' && info[w] != '}' && info[w] != ',')
        w++;
    f->ch = ch;
    f->len = run;
    f->indent = i;
    f->tag = info;
    f->tag_len = w;
    return 1;
}

int extract_fence_close(const char *line, size_t len, const struct extract_fence *f)
{
    size_t i = 0;
    while (i < len && i < 4 && line[i] == ' ')
        i++;
    if (i > 3)
        return 0;
    size_t run = 0;
    while (i + run < len && line[i + run] == f->ch)
        run++;
    if (run < f->len)
        return 0;
    return blank_span(line, i + run, len);
}

int extract_next_block(const char *text, size_t len, size_t *pos, size_t *line,
                       struct extract_block *b)
{
    size_t p = *pos, ln = *line;
    while (p < len) {
        size_t e = line_end(text, len, p);
        struct extract_fence f;
        if (extract_fence_open(text + p, e - p, &f)) {
            memset(b, 0, sizeof *b);
            b->fence = f;
            b->start = p;
            b->fence_line = ln;
            b->body = next_line(e, len);
            size_t q = b->body, qln = ln + 1;
            while (q < len) {
                size_t qe = line_end(text, len, q);
                if (extract_fence_close(text + q, qe - q, &f)) {
                    b->body_end = q;
                    b->end = next_line(qe, len);
                    *pos = b->end;
                    *line = qln + 1;
                    return 1;
                }
                q = next_line(qe, len);
                qln++;
            }
            b->body_end = b->end = len;
            b->unterminated = 1;
            *pos = len;
            *line = qln;
            return 1;
        }
        p = next_line(e, len);
        ln++;
    }
    *pos = len;
    *line = ln;
    return 0;
}

int extract_copy_lines(const char *text, size_t start, size_t end, size_t first_line,
                       size_t indent, char **out, size_t *out_len, size_t *line, size_t *lines)
{
    *out = NULL;
    *out_len = 0;
    *line = first_line;
    *lines = 0;
    size_t first = end, last_end = start, ln = first_line;
    for (size_t p = start; p < end; ln++) {
        size_t e = line_end(text, end, p);
        if (!blank_span(text, p, e)) {
            if (first == end) {
                first = p;
                *line = ln;
            }
            last_end = e;
        }
        p = next_line(e, end);
    }
    if (first == end)
        return 0;
    char *o = malloc(last_end - first + 2);
    if (!o)
        return ERR_NOMEM;
    size_t k = 0;
    for (size_t p = first; p < last_end;) {
        size_t e = line_end(text, last_end, p);
        for (size_t s = 0; s < indent && p < e && text[p] == ' '; s++)
            p++;
        memcpy(o + k, text + p, e - p);
        k += e - p;
        o[k++] = '\n';
        (*lines)++;
        p = next_line(e, last_end);
    }
    o[k] = '\0';
    *out = o;
    *out_len = k;
    return 0;
}

/* ---- text without fences --------------------------------------------------------------------- */

/* A line that starts code at column 0 (docs/candidates.md lists them). */
static int code_start(const char *l, size_t n)
{
    if (prefix(l, n, "import ") && n > 7 && is_ident_start(l[7]))
        return 1;
    if (prefix(l, n, "from ") && n > 5 && is_ident_start(l[5]) && memmem(l, n, " import ", 8))
        return 1;
    if (prefix(l, n, "def ") || prefix(l, n, "class ")) {
        size_t i = l[0] == 'd' ? 4 : 6;
        if (i >= n || !is_ident_start(l[i]))
            return 0;
        while (i < n && is_ident(l[i]))
            i++;
        return i < n && (l[i] == '(' || (l[0] == 'c' && l[i] == ':'));
    }
    if (n > 1 && l[0] == '@' && is_ident_start(l[1]))
        return 1;
    if (prefix(l, n, "#include") || prefix(l, n, "#define") || prefix(l, n, "#pragma") ||
        prefix(l, n, "#if") || word_prefix(l, n, "__global__") || word_prefix(l, n, "__device__") ||
        prefix(l, n, "extern \"C\"") || prefix(l, n, "typedef ") || kgrade_line(l, n))
        return 1;
    return prefix(l, n, "template<") || prefix(l, n, "template <");
}

static int comment_line(const char *l, size_t n)
{
    skip_blanks(&l, &n);
    return prefix(l, n, "#") || prefix(l, n, "//") || prefix(l, n, "/*") || prefix(l, n, "*") ||
           (n >= 2 && memcmp(l + n - 2, "*/", 2) == 0);
}

/* A markdown list item, quote, bold line or heading of level 2 or more at column 0. */
static int markdown_line(const char *l, size_t n)
{
    if (prefix(l, n, "- ") || prefix(l, n, "* ") || prefix(l, n, "> ") || prefix(l, n, "**") ||
        prefix(l, n, "## ") || prefix(l, n, "### "))
        return 1;
    size_t i = 0;
    while (i < n && l[i] >= '0' && l[i] <= '9')
        i++;
    return i > 0 && i + 1 < n && (l[i] == '.' || l[i] == ')') && l[i + 1] == ' ';
}

/* "a = ...", "a.b[0], c += ...": names, dots, brackets and commas, then an assignment. */
static int assignment(const char *l, size_t n)
{
    size_t i = 0;
    if (!n || !is_ident_start(l[0]))
        return 0;
    for (;;) {
        size_t s = i;
        while (i < n && (is_ident(l[i]) || l[i] == '.' || l[i] == '[' || l[i] == ']'))
            i++;
        if (i == s)
            return 0;
        while (i < n && l[i] == ' ')
            i++;
        if (i < n && l[i] == ',') {
            i++;
            while (i < n && l[i] == ' ')
                i++;
            continue;
        }
        break;
    }
    if (i < n && l[i] && strchr("+-*/%&|^", l[i]))
        i++;
    return i < n && l[i] == '=' && (i + 1 == n || l[i + 1] != '=');
}

static int block_keyword(const char *l, size_t n)
{
    static const char *const kw[] = {"if", "elif", "else", "for", "while", "with", "try", "except",
                                     "finally", "async", NULL};
    for (const char *const *k = kw; *k; k++)
        if (word_prefix(l, n, *k))
            return last_char(l, n) == ':';
    return 0;
}

static int code_like(const char *l, size_t n)
{
    if (n && (l[0] == ' ' || l[0] == '\t'))
        return 1;
    if (markdown_line(l, n))
        return 0;
    if (comment_line(l, n) || code_start(l, n) || block_keyword(l, n) || assignment(l, n) ||
        memmem(l, n, "\"\"\"", 3) || memmem(l, n, "'''", 3))
        return 1;
    char c = last_char(l, n);
    return c && strchr(")]};,{\\", c) != NULL;
}

/* Not code-like, and two words or more, or a sentence's end, or markdown. */
static int clearly_prose(const char *l, size_t n)
{
    if (code_like(l, n))
        return 0;
    char c = last_char(l, n);
    return markdown_line(l, n) || count_words(l, n, 2) >= 2 || c == '.' || c == '!' || c == '?';
}

/* ---- the rule -------------------------------------------------------------------------------- */

struct pick {
    size_t index;   /* 1-based; 0: none */
    struct extract_block b;
    enum ingest_lang lang;
    const char *from;
};

struct seen {
    char label[LABEL_MAX];
    size_t line;
    int empty;
};

struct scan {
    size_t blocks, nempty, nlist, lines, line;
    enum ingest_lang empty_lang;
    int unterminated;
    struct pick last, entry;
    struct seen list[LIST_MAX];
};

static void note_other(struct scan *s, const struct extract_block *b, enum ingest_lang lang,
                       int empty)
{
    if (s->nlist >= LIST_MAX)
        return;
    struct seen *o = &s->list[s->nlist++];
    if (b->fence.tag_len)
        label_copy(o->label, sizeof o->label, b->fence.tag, b->fence.tag_len);
    else
        snprintf(o->label, sizeof o->label, "%s",
                 lang == INGEST_NONE ? "untagged" : extract_lang_tag(lang));
    o->line = b->fence_line;
    o->empty = empty;
}

static void scan_blocks(const char *text, size_t len, enum ingest_lang asked, struct scan *s)
{
    size_t pos = 0, line = 1;
    struct extract_block b;
    while (extract_next_block(text, len, &pos, &line, &b)) {
        s->blocks++;
        s->unterminated |= b.unterminated;
        int empty = blank_span(text, b.body, b.body_end);
        enum ingest_lang lang = INGEST_NONE;
        const char *from = "fence";
        if (!b.fence.tag_len || extract_tag_lang(b.fence.tag, b.fence.tag_len, &lang) == 0) {
            lang = empty ? INGEST_NONE : extract_detect(text + b.body, b.body_end - b.body);
            from = "detected";
        }
        int in_asked = asked == INGEST_NONE ? lang != INGEST_NONE : lang == asked;
        if (in_asked && empty) {
            if (!s->nempty++)
                s->empty_lang = lang;
        } else if (in_asked) {
            struct pick p = {s->blocks, b, lang, from};
            s->last = p;
            if (defines_entry(text, b.body, b.body_end, lang))
                s->entry = p;
        }
        if (!in_asked || empty)
            note_other(s, &b, lang, empty);
    }
}

static void no_code_blocks(const struct scan *s, enum ingest_lang asked, char *msg, size_t cap)
{
    const char *want = asked == INGEST_NONE ? "python or cuda" : extract_lang_tag(asked);
    if (s->nempty) {
        const char *in = extract_lang_tag(asked == INGEST_NONE ? s->empty_lang : asked);
        if (s->nempty == 1)
            snprintf(msg, cap, "a code block in %s but it is empty", in);
        else
            snprintf(msg, cap, "%zu code blocks in %s but they are empty", s->nempty, in);
        return;
    }
    if (s->blocks == 1) {
        snprintf(msg, cap, "1 code block (%s, line %zu%s), none in %s", s->list[0].label,
                 s->list[0].line, s->list[0].empty ? ", empty" : "", want);
        return;
    }
    size_t k = (size_t)snprintf(msg, cap, "%zu code blocks, none in %s:", s->blocks, want);
    for (size_t i = 0; i < s->nlist && k < cap; i++)
        k += (size_t)snprintf(msg + k, cap - k, "%s %s (line %zu%s)", i ? "," : "",
                              s->list[i].label, s->list[i].line, s->list[i].empty ? ", empty" : "");
    if (s->blocks > s->nlist && k < cap)
        snprintf(msg + k, cap - k, ", ...");
}

static void rule_text(enum ingest_lang asked, const struct pick *p, int entry, char *out,
                      size_t cap)
{
    const char *what = p->lang == INGEST_CUDA ? "a __global__ function" : "ModelNew";
    if (asked == INGEST_NONE)
        snprintf(out, cap, entry ? "last code block defining its entry point (%s)"
                                 : "last code block (none defines an entry point)", what);
    else
        snprintf(out, cap, entry ? "last %s block defining %s" : "last %s block (none defines %s)",
                 extract_lang_tag(asked), what);
}

/* No fence in the text: the span from the first code line to the last line that is not clearly
 * prose, when it holds code in the asked language. Returns 0 or ERR_NOMEM. */
static int unfenced(const char *text, size_t len, enum ingest_lang asked, struct extract *x,
                    struct scan *s, char *rule, size_t rule_cap, size_t *span)
{
    if (blank_span(text, 0, len)) {
        snprintf(x->no_code, sizeof x->no_code, "%s", len ? "empty response (whitespace only)"
                                                          : "empty response");
        return 0;
    }
    size_t start = len, start_line = 0, run = len, run_line = 0, ln = 1, pos;
    for (pos = 0; pos < len; ln++) {
        size_t e = line_end(text, len, pos);
        if (code_start(text + pos, e - pos)) {
            start = run < len ? run : pos;   /* with the comment lines directly before it */
            start_line = run < len ? run_line : ln;
            break;
        }
        if (comment_line(text + pos, e - pos) && !markdown_line(text + pos, e - pos) &&
            !blank_span(text, pos, e)) {
            if (run == len)
                run = pos, run_line = ln;
        } else {
            run = len;
        }
        pos = next_line(e, len);
    }
    size_t end = start;
    for (pos = start; pos < len;) {
        size_t e = line_end(text, len, pos);
        if (!blank_span(text, pos, e) && !clearly_prose(text + pos, e - pos))
            end = e;
        pos = next_line(e, len);
    }
    enum ingest_lang lang = start < len ? extract_detect(text + start, end - start) : INGEST_NONE;
    if (lang == INGEST_NONE) {
        if (start == len)
            snprintf(x->no_code, sizeof x->no_code, "only prose (%zu words, no code block)",
                     count_words(text, len, (size_t)-1));
        else
            snprintf(x->no_code, sizeof x->no_code,
                     "no code block, and the text from line %zu on is neither python nor cuda code",
                     start_line);
        return 0;
    }
    if (asked != INGEST_NONE && lang != asked) {
        snprintf(x->no_code, sizeof x->no_code,
                 "no code block; unfenced %s code (line %zu), none in %s", extract_lang_tag(lang),
                 start_line, extract_lang_tag(asked));
        return 0;
    }
    if (extract_copy_lines(text, start, end, start_line, 0, &x->code, &x->code_len, &s->line,
                           &s->lines))
        return ERR_NOMEM;
    x->lang = lang;
    x->lang_from = "detected";
    snprintf(rule, rule_cap, "unfenced %s code", extract_lang_tag(lang));
    *span = next_line(end, len) - start;   /* the code's lines with their line ends */
    return 0;
}

int extract_code(const char *text, size_t len, enum ingest_lang asked, int had_cr,
                 struct extract *x)
{
    memset(x, 0, sizeof *x);
    struct scan s;
    memset(&s, 0, sizeof s);
    char rule[96] = "no code", tag[LABEL_MAX] = "";
    size_t span = 0;
    int rc = 0;
    const struct pick *p = NULL;

    scan_blocks(text, len, asked, &s);
    if (s.blocks == 0) {
        rc = unfenced(text, len, asked, x, &s, rule, sizeof rule, &span);
        if (rc)
            goto out;
    } else if (!s.last.index) {
        no_code_blocks(&s, asked, x->no_code, sizeof x->no_code);
    } else {
        p = s.entry.index ? &s.entry : &s.last;
        rc = extract_copy_lines(text, p->b.body, p->b.body_end, p->b.fence_line + 1,
                                p->b.fence.indent, &x->code, &x->code_len, &s.line, &s.lines);
        if (rc)
            goto out;
        x->lang = p->lang;
        x->lang_from = p->from;
        rule_text(asked, p, p == &s.entry, rule, sizeof rule);
        if (p->b.fence.tag_len)
            label_copy(tag, sizeof tag, p->b.fence.tag, p->b.fence.tag_len);
        span = p->b.end - p->b.start;
    }

    rc = ERR_NOMEM;
    cJSON *r = x->report = cJSON_CreateObject();
    if (!r ||
        !(asked == INGEST_NONE ? cJSON_AddNullToObject(r, "asked")
                               : cJSON_AddStringToObject(r, "asked", extract_lang_tag(asked))) ||
        !cJSON_AddNumberToObject(r, "blocks", (double)s.blocks) ||
        !(p ? cJSON_AddNumberToObject(r, "chosen", (double)p->index)
            : cJSON_AddNullToObject(r, "chosen")) ||
        !cJSON_AddStringToObject(r, "rule", rule) ||
        !(tag[0] ? cJSON_AddStringToObject(r, "tag", tag) : cJSON_AddNullToObject(r, "tag")) ||
        !(x->code ? cJSON_AddNumberToObject(r, "line", (double)s.line)
                  : cJSON_AddNullToObject(r, "line")) ||
        !cJSON_AddNumberToObject(r, "lines", (double)s.lines) ||
        !cJSON_AddBoolToObject(r, "unterminated", s.unterminated) ||
        !cJSON_AddBoolToObject(r, "crlf", had_cr) ||
        !cJSON_AddNumberToObject(r, "prose_bytes", (double)(len - span)))
        goto out;
    rc = 0;
out:
    if (rc)
        extract_free(x);
    return rc;
}

void extract_free(struct extract *x)
{
    if (!x)
        return;
    free(x->code);
    cJSON_Delete(x->report);
    memset(x, 0, sizeof *x);
}
