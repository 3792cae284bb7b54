/* kname.h — a kernel's readable name from its symbol: what the metrics block calls a kernel.
 *
 * A C++ (Itanium ABI) mangled symbol, as NVRTC and nvcc give CUDA C kernels not declared
 * extern "C", becomes its function's name without namespaces, template arguments or parameters
 * (_ZN2ns6kernelILi128EEEvPf -> kernel); any other symbol (extern "C", Triton's) is copied. A
 * __global__ function cannot be a class member, so the name is the last component of the nested
 * name and template arguments can only follow it. Pure C, no state. */
#ifndef KGRADE_KNAME_H
#define KGRADE_KNAME_H

#include <stddef.h>

/* The readable name of symbol into out (len bytes, NUL-terminated, cut to fit); "?" for NULL. */
void kname_readable(const char *symbol, char *out, size_t len);

#endif
