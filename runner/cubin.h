/* cubin.h — the kernels of a compiled cubin, read from its ELF symbol table (no driver needed).
 *
 * A kernel ("entry function") is a global or weak (template instance) STT_FUNC symbol with the
 * CUDA entry flag in st_other.
 * cubin_find_kernel resolves the name a launch directive gives: the exact symbol (extern "C"
 * kernels, or a mangled name written out), else the one C++ symbol "_Z<len><name>..." of a kernel
 * declared at namespace scope. Several such symbols (overloads, template instances) are an
 * ambiguity the caller reports with the candidates' names. */
#ifndef KGRADE_CUBIN_H
#define KGRADE_CUBIN_H

#include <stddef.h>

#include "err.h"

/* Resolve name in image. On success copies the symbol into sym (NUL-terminated, cap bytes).
 * ERR_NOTFOUND: no such kernel (msg lists up to a few kernels the cubin has); ERR_INVALID: the
 * name is ambiguous (msg lists the symbols) or the image is not a well-formed ELF cubin. */
int cubin_find_kernel(const void *image, size_t size, const char *name, char *sym, size_t cap, struct err *e);

#endif
