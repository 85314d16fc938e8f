/* wedge_mw_track.c - check-then-act pairs and the stale-write oracle over trapped accesses.
 *
 * The tracker sees the trapped reads and writes of one process in the order the shim's lock
 * serializes them.  A logical clock counts writes; a read remembers the clock at the time it
 * happened, and a location remembers the clock and thread of its last write.  Then:
 *
 *   pair:  thread A writes X and A's most recent read of X is still pending (A has not
 *          written X since): (read site, write site) is a check-then-act pair;
 *   stale: moreover another thread B wrote X after A's read (loc.clock > read.clock): A's
 *          write is based on a value B had already replaced, B's update is lost.
 *
 * Matching is on the exact start address: the same variable accessed at different widths
 * still matches, two neighbours packed in one word do not get confused.  Tables are fixed
 * size; when a location falls out of the table its history is forgotten, which can only hide
 * a stale write, never invent one (the read's clock is compared with a later write's clock).
 */
#include "wedge_mw.h"

#include <string.h>

void wedge_mw_tracker_reset(struct wedge_mw_tracker *t)
{
    memset(t, 0, sizeof *t);
}

static uint32_t loc_hash(uint64_t addr)
{
    uint64_t h = addr * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 40) & (WEDGE_MW_LOCS - 1);
}

/* The location's entry, or NULL if unknown; create: claim one (evicting after a short probe). */
static struct wedge_mw_loc *loc_find(struct wedge_mw_tracker *t, uint64_t addr, int create)
{
    uint32_t h = loc_hash(addr);
    for (uint32_t k = 0; k < 8; k++) {
        struct wedge_mw_loc *l = &t->locs[(h + k) & (WEDGE_MW_LOCS - 1)];
        if (l->addr == addr)
            return l;
        if (l->addr == 0) {
            if (!create)
                return NULL;
            l->addr = addr;
            return l;
        }
    }
    if (!create)
        return NULL;
    struct wedge_mw_loc *l = &t->locs[h];
    memset(l, 0, sizeof *l);
    l->addr = addr;
    return l;
}

void wedge_mw_on_read(struct wedge_mw_tracker *t, uint32_t th, uint64_t addr, uint64_t site)
{
    if (th >= WEDGE_MW_THREADS || addr == 0)
        return;
    struct wedge_mw_read *r = t->th[th].r;
    /* a newer read of the same location replaces the older one: only the latest counts */
    for (uint32_t k = 0; k < WEDGE_MW_READS; k++)
        if (r[k].addr == addr) {
            r[k].site = site;
            r[k].clock = t->clock;
            return;
        }
    uint32_t k = t->th[th].next++ % WEDGE_MW_READS;
    r[k].addr = addr;
    r[k].site = site;
    r[k].clock = t->clock;
}

static int pair_index(struct wedge_mw_tracker *t, uint64_t read_site, uint64_t write_site)
{
    for (uint32_t k = 0; k < t->npairs; k++)
        if (t->pairs[k].read_site == read_site && t->pairs[k].write_site == write_site)
            return (int)k;
    if (t->npairs >= WEDGE_MW_PAIRS)
        return -1;
    struct wedge_mw_pair *p = &t->pairs[t->npairs];
    memset(p, 0, sizeof *p);
    p->read_site = read_site;
    p->write_site = write_site;
    return (int)t->npairs++;
}

void wedge_mw_on_write(struct wedge_mw_tracker *t, uint32_t th, uint64_t addr, uint64_t site,
                       int rmw, struct wedge_mw_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->pair = -1;
    if (th >= WEDGE_MW_THREADS || addr == 0)
        return;
    struct wedge_mw_read *r = NULL;
    for (uint32_t k = 0; k < WEDGE_MW_READS; k++)
        if (t->th[th].r[k].addr == addr) {
            r = &t->th[th].r[k];
            break;
        }
    struct wedge_mw_loc *l = loc_find(t, addr, 1);
    if (r) {
        v->pair = pair_index(t, r->site, site);
        if (v->pair >= 0)
            t->pairs[v->pair].hits++;
        if (!rmw && l->clock > r->clock && l->writer != th) {
            v->lost = 1;
            v->read_site = r->site;
            v->other_site = l->site;
            v->other_thread = l->writer;
        }
        r->addr = 0; /* consumed: A's next write needs a new read to pair with */
    }
    l->clock = ++t->clock;
    l->site = site;
    l->writer = th;
}

int wedge_mw_pair_of_read(const struct wedge_mw_tracker *t, uint64_t site)
{
    for (uint32_t k = 0; k < t->npairs; k++)
        if (t->pairs[k].read_site == site)
            return (int)k;
    return -1;
}
