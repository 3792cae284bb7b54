/* nvopt.h - the allow-list of NVRTC options a CUDA C candidate may request (docs/candidates.md).
 *
 * Allowed: -use_fast_math, --use_fast_math; --ftz=, --prec-div=, --prec-sqrt=, --fmad= with
 * true|false (also with one dash); --maxrregcount=16..255; -lineinfo, --generate-line-info;
 * --extra-device-vectorization; --restrict, -restrict; --std= or -std= with c++11|c++14|c++17|c++20;
 * -DNAME[=VALUE] with NAME an identifier not starting with KG_ (the worker defines those) and VALUE
 * printable, without blanks, quotes or backslashes. Refused with a reason: relocatable device code
 * and link-time options, architecture options (the worker chooses), include paths, device debug. */
#ifndef KGRADE_NVOPT_H
#define KGRADE_NVOPT_H

#include "err.h"

/* 0 when opt (one token) is allowed, else ERR_INVALID with e->field "directive" and a message
 * quoting the option and saying why, without a "line N: " prefix. */
int nvopt_check(const char *opt, struct err *e);

#endif
