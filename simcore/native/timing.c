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
 * and zeroes in the input operands"): the block's static cost holds DIV_MIN (2). The rest comes
 * from the operands: at the next block entry for the divides the block analysis defers (hp_block.div,
 * hp_div_settle in hotpath.c: their operands are still in Rn and Rm there), else from tm_div_hook,
 * which runs before the divide executes and reads Rn and Rm (simcore.cycles.divide_cycles).
 */
#include <stdint.h>

#include "thumb.h"
#include "timing.h"

/* Cycles of one divide (2-12): the rule fitted to silicon measurements, see divide_cycles in cycles.py. */
uint32_t tm_div_cycles(uint32_t n, uint32_t m, uint32_t is_signed) { return tm_div_cycles_inline(n, m, is_signed); }

/* UC_HOOK_CODE on one divide: runs before it executes, so Rn and Rm hold the operands. */
void tm_div_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)address; (void)size;
    tm_div_site *site = (tm_div_site *)user_data;
    tm_div_stats *st = site->stats;
    const uint32_t *pend = st->pend;
    /* the block being run prices this divide at its end (hp_block.div): a hook added for another block that
       holds the same divide (a block cut elsewhere) must not charge it twice */
    if (pend && pend[0]) {
        for (int k = 0; k < 2 && pend[k]; k++)
            if (pend[2] + HP_DIV_OFF(pend[k]) == (uint32_t)address) return;
    }
    uint32_t v[2] = {0, 0};
    uint32_t rn = (uint32_t)(site->regs[0] - st->r0_id), rm = (uint32_t)(site->regs[1] - st->r0_id);
    if (st->env && rn <= 12 && rm <= 12) { /* what uc_reg_read_batch returns, without the call (~8 ns, measured) */
        v[0] = st->env[rn];
        v[1] = st->env[rm];
    } else {
        void *vp[2] = {&v[0], &v[1]};
        int ids[2] = {site->regs[0], site->regs[1]};
        if (st->reg_read_batch(uc, ids, vp, 2)) return;
    }
    uint32_t extra = tm_div_cycles(v[0], v[1], site->is_signed) - TM_DIV_MIN;
    *st->cycle_count += extra;
    st->extra += extra;
    st->executed++;
    /* a hook added after this one may stop emulation before the divide runs (a debugger's breakpoint
       or step): the divide runs, and is charged, again on resume; HotPath.undo_divide takes this back */
    st->last_addr = (uint32_t)address;
    st->last_block = st->block_count ? *st->block_count + (st->block_more ? *st->block_more : 0) : 0;
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
