/* wedge_stream.h - counter-based decision streams.
 *
 * decision = xxHash64(seed, process ordinal, thread ordinal, per-thread event index, site).
 * One thread doing more work does not shift another thread's decisions, and a minimizer can
 * turn a single decision off by its (thread, index).  Header-only so that the shim inlines it.
 */
#ifndef WEDGE_STREAM_H
#define WEDGE_STREAM_H

#include <stdint.h>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

struct wedge_stream_key {
    uint64_t seed;
    uint32_t proc;
    uint32_t thread;
    uint64_t index;
    uint64_t site;
};

static inline uint64_t wedge_decide(uint64_t seed, uint32_t proc, uint32_t thread, uint64_t index,
                                    uint64_t site)
{
    struct wedge_stream_key k = { seed, proc, thread, index, site };
    return XXH64(&k, sizeof k, 0x77656467650a0001ull);
}

/* Uniform in [0, n) from a 64-bit hash (n > 0). */
static inline uint32_t wedge_below(uint64_t h, uint32_t n)
{
    return (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
}

/* Mix two 64-bit values (derive sub-seeds). */
static inline uint64_t wedge_mix(uint64_t a, uint64_t b)
{
    uint64_t k[2] = { a, b };
    return XXH64(k, sizeof k, 0x77656467650a0002ull);
}

#endif
