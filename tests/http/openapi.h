/* openapi.h — the operations of docs/openapi.yaml and the statuses each lists, read from the
 * fixed-indentation subset the file is written in (no YAML library). */
#ifndef KGRADE_TEST_OPENAPI_H
#define KGRADE_TEST_OPENAPI_H

struct openapi_op {
    char method[12];    /* upper case: "GET" */
    char path[160];     /* "/v1/evaluations/{id}" */
    int line;           /* of the method's line */
    int nst;
    char st[32][12];    /* "200", ..., "default" */
};

/* Read up to max operations into ops; their count, or -1 when the file cannot be read. */
int openapi_read(const char *path, struct openapi_op *ops, int max);

#endif
