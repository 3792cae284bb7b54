/* source.h — the candidate a worker command names on its command line, in any request form:
 *   --source FILE|-     code as is (its language detected unless --language says)
 *   --response FILE|-   a model's answer, with --prompt FILE for the prompt it answered
 *   --candidate FILE|-  a JSON object in any form of docs/candidates.md
 * resolved through ingest.h to the code that runs. */
#ifndef KGRADE_SOURCE_H
#define KGRADE_SOURCE_H

#include "ingest.h"

struct source_args {
    const char *source, *response, *prompt, *candidate;   /* file names, "-" for stdin */
    const char *language;                                 /* NULL: auto */
};

/* Fill in (release with ingest_free). Returns 0; on a failure (unreadable file, a malformed or
 * too large candidate) prints the reason on stderr and returns non-zero. A response without code
 * is not a failure: in->lang is INGEST_NONE. */
int source_read(const struct source_args *a, struct ingest *in);

/* --lint ID=reject|warn|off[,...] to the static checker's policy, a JSON object, in out (len
 * bytes). Returns 0, or -1 after saying on stderr what is wrong. */
int source_lint_policy(const char *arg, char *out, size_t len);

/* The record of a candidate without code: verdict no_code, and what the response held. */
cJSON *source_no_code_record(const struct ingest *in);

#endif
