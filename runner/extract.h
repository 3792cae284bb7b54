/* extract.h — the code in a model's answer: the text's normal form, markdown code fences, the
 * language of a block, and the one rule that picks the block that runs (docs/candidates.md,
 * "Extraction"). Pure C, no state; every function here is linear in the text it reads.
 *
 * Lines are counted from 1 and end at '\n' (the text is normalised first: no CR remains). */
#ifndef KGRADE_EXTRACT_H
#define KGRADE_EXTRACT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ingest.h"

/* ---- the normal form: a leading UTF-8 BOM removed, CRLF and lone CR to LF, the rest kept ---- */

/* Copy text[0..len) in normal form into *out (NUL-terminated, the caller frees it), *out_len its
 * length, *had_cr 1 when the text held a CR. Returns 0, ERR_INVALID when the text holds a NUL byte
 * (*nul_at its offset; nothing allocated), or ERR_NOMEM. */
int extract_normalize(const char *text, size_t len, char **out, size_t *out_len, int *had_cr,
                      size_t *nul_at);

/* ---- languages ------------------------------------------------------------------------------- */

/* The language a piece of code is written in, from its content: INGEST_TRITON for Python (a line
 * starting "import triton", "from triton", "@triton.jit", "import torch" or "class ModelNew", or
 * "triton.language" anywhere), else INGEST_CUDA ("__global__", "__device__", "extern \"C\"", a line
 * starting "#include" or "// @kgrade launch"), else INGEST_NONE. Python wins when both appear (a
 * Python file may carry CUDA source in a string). */
enum ingest_lang extract_detect(const char *code, size_t len);

/* What a fence's tag says (case-insensitive): 1 and *lang for a tag naming Python (python, py,
 * python3, triton) or CUDA C (cuda, cu, cuh, cpp, c++, cxx, cc, c, h, hpp); 0 for a tag naming no
 * language (none, text, txt, plain, plaintext, code: detect from the content); -1 for another
 * language (json, bash, diff, ...). */
int extract_tag_lang(const char *tag, size_t len, enum ingest_lang *lang);

/* "python" or "cuda": the name a fence uses for a language (INGEST_NONE: "any"). */
const char *extract_lang_tag(enum ingest_lang l);

/* ---- fences ---------------------------------------------------------------------------------- */

struct extract_fence {
    char ch;             /* '`' or '~' */
    size_t len;          /* 3 or more */
    size_t indent;       /* 0..3 spaces before it, removed from the block's lines */
    const char *tag;     /* the info string's first word (into the line); tag_len 0: none */
    size_t tag_len;
};

/* line[0..len), without its '\n': 1 when it opens a fence (f filled), else 0. Up to 3 spaces, 3 or
 * more '`' or '~', then an info string (for '`' without a '`' in it). */
int extract_fence_open(const char *line, size_t len, struct extract_fence *f);
/* 1 when line closes f: up to 3 spaces, at least f->len of f->ch, then only blanks. */
int extract_fence_close(const char *line, size_t len, const struct extract_fence *f);

struct extract_block {
    struct extract_fence fence;
    size_t start, end;         /* bytes of the block, the opening fence line to the end of the
                                  closing one (its '\n' included) or of the text */
    size_t body, body_end;     /* bytes of the lines between the fences */
    size_t fence_line;         /* the opening fence's line */
    int unterminated;          /* no closing fence: the block runs to the end of the text */
};

/* The next fenced block at or after *pos, whose line is *line: 1 (b filled, *pos and *line past
 * the block), or 0 when no fence follows. */
int extract_next_block(const char *text, size_t len, size_t *pos, size_t *line,
                       struct extract_block *b);

/* Copy the lines of text[start..end) (start at a line's beginning, on line first_line) without
 * the blank lines before the first and after the last non-blank one, each with up to indent
 * leading spaces removed and ending in '\n'. *out is NUL-terminated (the caller frees it; NULL with
 * *out_len 0 when every line is blank), *line the line of its first line, *lines its line count.
 * Returns 0 or ERR_NOMEM. */
int extract_copy_lines(const char *text, size_t start, size_t end, size_t first_line,
                       size_t indent, char **out, size_t *out_len, size_t *line, size_t *lines);

/* ---- the rule -------------------------------------------------------------------------------- */

struct extract {
    char *code;                /* owned, NUL-terminated, LF line ends; NULL: no code */
    size_t code_len;
    enum ingest_lang lang;     /* the code's language; INGEST_NONE with code NULL */
    const char *lang_from;     /* "fence" or "detected" (static); NULL without code */
    char no_code[320];         /* code NULL: what the text held instead, one line */
    cJSON *report;             /* owned: {"asked", "blocks", "chosen", "rule", "tag", "line",
                                  "lines", "unterminated", "crlf", "prose_bytes"} */
};

/* Pick the code in text (normal form, NUL-terminated at len) for the asked language (INGEST_NONE:
 * any). had_cr goes into the report as "crlf". Returns 0 (x filled, with or without code; release
 * with extract_free) or ERR_NOMEM (x left empty). */
int extract_code(const char *text, size_t len, enum ingest_lang asked, int had_cr,
                 struct extract *x);

void extract_free(struct extract *x);   /* a zeroed or freed struct is a no-op */

#endif
