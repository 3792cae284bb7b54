/* cupti.c — libcupti loaded at run time (see cupti.h).
 *
 * dlopen("libcupti.so.13"), then "libcupti.so"; every entry point by dlsym (CUPTI has no
 * cuGetProcAddress and exports plain names). The table is filled once under a pthread_once. */
#include "cupti.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct cupti_table cupti;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_msg[300];
static _Thread_local CUptiResult last_result;

static void load(void)
{
    static const char *const names[] = {"libcupti.so.13", "libcupti.so"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        load_rc = ERR_UNSUPPORTED;
        snprintf(load_msg, sizeof load_msg, "CUPTI not found (libcupti.so.13): %.200s", dlerror());
        return;
    }
#define CUPTI_RESOLVE(f)                                                                         \
    if (!(*(void **)&cupti.f = dlsym(lib, #f))) {                                                \
        load_rc = ERR_UNSUPPORTED;                                                               \
        snprintf(load_msg, sizeof load_msg, "libcupti lacks %s (CUPTI 13 or later is needed)", #f); \
        dlclose(lib);                                                                            \
        memset(&cupti, 0, sizeof cupti);                                                         \
        return;                                                                                  \
    }
    CUPTI_FUNCS(CUPTI_RESOLVE)
#undef CUPTI_RESOLVE
    cupti.lib = lib;
}

int cupti_load(struct err *e)
{
    pthread_once(&once, load);
    return load_rc ? err_set(e, load_rc, "", "%s", load_msg) : 0;
}

int cupti_fail(struct err *e, CUptiResult rc, const char *what, const char *file, int line)
{
    const char *name = NULL;
    last_result = rc;
    if (!cupti.cuptiGetResultString || cupti.cuptiGetResultString(rc, &name) != CUPTI_SUCCESS || !name)
        name = "CUPTI_ERROR_UNKNOWN";
    const char *base = strrchr(file, '/');
    return err_set(e, ERR_CUDA, "", "%s: %s at %s:%d", what, name, base ? base + 1 : file, line);
}

CUptiResult cupti_last_result(void)
{
    return last_result;
}
