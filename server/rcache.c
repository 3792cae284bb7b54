/* rcache.c — the rendered-body cache of finished evaluations (see rcache.h). Slots are chosen by a
 * hash of the id. Readers share a read lock while they copy a body into their response, so they
 * never wait on each other, and a replacement (under the write lock) can never free a body that a
 * reader is copying. */
#include "rcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char id[32];
    char *body;
    size_t len;
};

static struct slot slots[RCACHE_SLOTS];
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static size_t slot_of(const char *id)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % RCACHE_SLOTS);
}

struct MHD_Response *rcache_response(const char *id)
{
    size_t i = slot_of(id);
    struct MHD_Response *r = NULL;
    pthread_rwlock_rdlock(&lock);
    if (slots[i].body && !strcmp(slots[i].id, id))
        r = MHD_create_response_from_buffer(slots[i].len, slots[i].body, MHD_RESPMEM_MUST_COPY);
    pthread_rwlock_unlock(&lock);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

void rcache_put(const char *id, const char *body, size_t len)
{
    if (len > RCACHE_MAX_BODY || strlen(id) >= sizeof slots[0].id)
        return;
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, body, len);
    copy[len] = 0;
    size_t i = slot_of(id);
    pthread_rwlock_wrlock(&lock);
    char *old = slots[i].body;
    memcpy(slots[i].id, id, strlen(id) + 1);
    slots[i].body = copy;
    slots[i].len = len;
    pthread_rwlock_unlock(&lock);
    free(old);
}
