/* rcache.h — rendered JSON bodies of finished evaluations, kept in memory: a finished evaluation
 * never changes, so GET /v1/evaluations/{id} on it needs neither the store's lock nor cJSON.
 * Bounded: RCACHE_SLOTS direct-mapped slots (a newer entry replaces the one in its slot), bodies
 * of at most RCACHE_MAX_BODY bytes. Thread-safe. */
#ifndef KGRADE_RCACHE_H
#define KGRADE_RCACHE_H

#include <stddef.h>

#include <microhttpd.h>

#define RCACHE_SLOTS 4096
#define RCACHE_MAX_BODY (64u << 10)

/* A JSON response (status 200) with a copy of the cached body of id, or NULL when not cached. */
struct MHD_Response *rcache_response(const char *id);
/* Keep a copy of body (len bytes) for id; bodies over RCACHE_MAX_BODY are not kept. */
void rcache_put(const char *id, const char *body, size_t len);

#endif
