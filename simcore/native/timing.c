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
#include <stdint.h>

#include "timing.h"

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
    /* a hook added after this one may stop emulation before the divide runs (a debugger's breakpoint
       or step): the divide runs, and is charged, again on resume; HotPath.undo_divide takes this back */
    st->last_addr = (uint32_t)address;
    st->last_block = st->block_count ? *st->block_count : 0;
    st->last_extra = extra;
}

void *tm_div_hook_ptr(void) { return (void *)&tm_div_hook; }

/* UC_HOOK_CODE counting every instruction into *user_data (uint64_t): benchmarks/corpus.py counts what
   a bare Unicorn executes, in a run it does not time. */
void tm_count_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)uc; (void)address; (void)size;
    ++*(uint64_t *)user_data;
}

void *tm_count_hook_ptr(void) { return (void *)&tm_count_hook; }
