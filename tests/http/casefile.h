/* casefile.h — the case file of test_http_cases (tests/http/cases.txt): blocks that pair a
 * request with the answer expected, values saved by one block for the next ($NAME), and the body
 * directives (@repeat, @file, @hex, ...). Its grammar is written at the top of cases.txt. */
#ifndef KGRADE_TEST_CASEFILE_H
#define KGRADE_TEST_CASEFILE_H

#include <stddef.h>

#include "buf.h"

/* One block: the request, ready to send, and its expectation split into tokens. */
struct casefile_block {
    int line;            /* of the "== title" line */
    char title[240];
    char method[16];
    char *target;        /* path and query */
    char *hdr[40];       /* "Name: value" */
    int nh;
    struct buf body;
    int has_body, chunked;
    char *tok[64];       /* the expectation: tok[0] is the status */
    int ntok;
};

/* Files named by @file are read relative to src_dir. */
void casefile_init(const char *src_dir);
/* Forget the saved values. */
void casefile_done(void);

/* Saved values: $NAME in later blocks. */
void casefile_var_set(const char *name, const char *value);
/* s with $NAME replaced ($UNIQ: a fresh number each time). The caller frees; NULL with why filled
 * when a name is unknown. */
char *casefile_subst(const char *s, char *why, size_t cap);
/* One directive line ("@repeat ...") appended to out: 0, or -1 with why filled. */
int casefile_directive(const char *line, struct buf *out, char *why, size_t cap);

/* 1 when s is empty or white space. */
int casefile_blank(const char *s);
/* Parse the block starting at lines[*i] ("== title") into b (variables substituted now, so a
 * block sees what the blocks before it saved); *i moves past it. 0, or -1 with why filled (b is
 * still to be freed). */
int casefile_parse(char **lines, int n, int *i, struct casefile_block *b, char *why, size_t cap);
void casefile_block_free(struct casefile_block *b);

#endif
