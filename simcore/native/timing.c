/*
 * simcore cycle model: the parts priced from operand values at run time, in C.
 *
 * Kept apart from hotpath.c (the per-block accounting): these are per-address hooks that the
 * hot path installs on exactly the instructions that need them, before their block is
 * translated (simcore/hotpath.py, HotPath.install_pending). The Python twins are in
 * simcore/hotpath.py and simcore/cycles.py; both must give identical counts.
 *
 * SDIV/UDIV (Cortex-M4 TRM, DDI 0439, Table 3-1: 2-12 cycles, "Division operations use early
 * termination to minimize the number of cycles required based on the number of leading ones
 * and zeroes in the input operands"): the block's static cost holds DIV_MIN (2); tm_div_hook
 * runs before each divide executes, reads Rn and Rm and adds the rest (simcore.cycles.divide_cycles).
 */
#include <stddef.h>
#include <stdint.h>

typedef int (*tm_reg_read_batch_fn)(void *uc, int *regs, void **vals, int count);

#define TM_DIV_MIN 2u

/* Shared by every divide site of one engine. Mirrored by simcore/hotpath.py (DivStats). */
typedef struct {
    uint64_t *cycle_count;               /* the hot path's virtual clock (hp_state.cycle_count) */
    tm_reg_read_batch_fn reg_read_batch; /* uc_reg_read_batch from the bindings' library */
    uint64_t executed;                   /* divides executed */
    uint64_t extra;                      /* cycles charged above DIV_MIN */
} tm_div_stats;

/* One SDIV/UDIV; the hook's user_data. Mirrored by simcore/hotpath.py (DivSite). */
typedef struct {
    tm_div_stats *stats;
    int32_t regs[2];   /* Unicorn register ids of Rn (dividend) and Rm (divisor) */
    uint32_t is_signed;
    uint32_t pad;
} tm_div_site;

static inline uint32_t tm_bits(uint32_t x) { return x ? 32u - (uint32_t)__builtin_clz(x) : 0u; }

/* Cycles of one divide (2-12): the rule fitted to silicon measurements, see divide_cycles in cycles.py. */
uint32_t tm_div_cycles(uint32_t n, uint32_t m, uint32_t is_signed) {
    if (is_signed) {
        if (n & 0x80000000u) n = 0u - n; /* magnitude; INT_MIN stays 0x80000000 (32 bits) */
        if (m & 0x80000000u) m = 0u - m;
    }
    if (!n || !m) return TM_DIV_MIN;
    uint32_t bn = tm_bits(n), bm = tm_bits(m);
    if (bn < bm) return 3u;
    return 5u + (bn - bm) / 4u;
}

/* UC_HOOK_CODE on one divide: runs before it executes, so Rn and Rm hold the operands. */
void tm_div_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)address; (void)size;
    tm_div_site *site = (tm_div_site *)user_data;
    tm_div_stats *st = site->stats;
    uint32_t v[2] = {0, 0};
    void *vp[2] = {&v[0], &v[1]};
    int ids[2] = {site->regs[0], site->regs[1]};
    if (st->reg_read_batch(uc, ids, vp, 2)) return;
    uint32_t extra = tm_div_cycles(v[0], v[1], site->is_signed) - TM_DIV_MIN;
    *st->cycle_count += extra;
    st->extra += extra;
    st->executed++;
}

void *tm_div_hook_ptr(void) { return (void *)&tm_div_hook; }

/* Field offsets and sizes for the ctypes mirrors, checked field by field when the library is loaded. */
uint64_t tm_layout(uint32_t i) {
    static const uint64_t table[] = {
        sizeof(tm_div_stats), offsetof(tm_div_stats, cycle_count), offsetof(tm_div_stats, reg_read_batch),
        offsetof(tm_div_stats, executed), offsetof(tm_div_stats, extra),
        sizeof(tm_div_site), offsetof(tm_div_site, stats), offsetof(tm_div_site, regs),
        offsetof(tm_div_site, is_signed),
    };
    return i < sizeof(table) / sizeof(table[0]) ? table[i] : UINT64_MAX;
}
