/* jsonin.h — request bodies to cJSON, strictly and within bounds: UTF-8 validated first, nesting
 * depth bounded before cJSON sees the text, and every refusal located by its byte offset.
 * Also the JSONL splitter of batch bodies and the media-type test of Content-Type headers.
 * Pure functions of their input: thread-safe (cJSON's global error pointer is never read). */
#ifndef KGRADE_JSONIN_H
#define KGRADE_JSONIN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONIN_MAX_DEPTH 32

/* Why a body was refused; code is one of the API's 400 codes. */
struct jsonin_err {
    const char *code;   /* "bad_utf8", "too_deep" or "malformed_json" (static strings) */
    size_t offset;      /* byte offset of the fault in the whole text */
    long line;          /* JSONL: the 1-based line of the fault; 0 for a JSON body */
    char msg[160];      /* one line, naming the offset (and the line) */
};

/* Content-Type -> what the body is. NULL (no header) counts as JSON; parameters such as
 * "; charset=utf-8" are ignored, the type is compared case-insensitively. */
enum jsonin_media { JSONIN_JSON, JSONIN_JSONL, JSONIN_OTHER };
enum jsonin_media jsonin_media(const char *content_type);

/* 0 when s[0..len) is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF),
 * else ERR_INVALID with *bad (may be NULL) the offset of the first invalid sequence. */
int jsonin_utf8_check(const char *s, size_t len, size_t *bad);

/* Parse one JSON value filling the whole of text[0..len) (whitespace around it allowed); text[len]
 * must be NUL. 0 with *out a new tree (the caller deletes it), or ERR_INVALID with je filled. An
 * empty or blank text, a NUL byte, a raw control character or \u0000 in a string are malformed. */
int jsonin_parse(const char *text, size_t len, cJSON **out, struct jsonin_err *je);

/* JSONL: one value per non-blank line ("\n" or "\r\n" line ends). Use: init, then next until it
 * returns 0 (the end) or ERR_INVALID (je filled, offsets in the whole text, the message names the
 * line). next returns 1 with *out a new tree (the caller deletes it) and *line its line number.
 * The text is UTF-8-checked as a whole on the first call. */
struct jsonin_lines {
    const char *text;
    size_t len, pos;
    long line;
    int checked;
};
void jsonin_lines_init(struct jsonin_lines *it, const char *text, size_t len);
int jsonin_lines_next(struct jsonin_lines *it, cJSON **out, long *line, struct jsonin_err *je);

#endif
