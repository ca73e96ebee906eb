/*
 * The cycle model's run-time parts (timing.c): the divide hooks' structures, shared with hotpath.c
 * so that simcore/native/abi.h checks them field by field against the ctypes mirrors (simcore/abi.py).
 */
#ifndef SIMCORE_TIMING_H
#define SIMCORE_TIMING_H
#include <stdint.h>

typedef int (*tm_reg_read_batch_fn)(void *uc, int *regs, void **vals, int count);

#define TM_DIV_MIN 2u

/* Shared by every divide site of one engine. Mirrored by simcore/abi.py (DivStats). */
typedef struct {
    uint64_t *cycle_count;               /* the hot path's virtual clock (hp_state.cycle_count) */
    tm_reg_read_batch_fn reg_read_batch; /* uc_reg_read_batch from the bindings' library */
    uint64_t executed;                   /* divides executed */
    uint64_t extra;                      /* cycles charged above DIV_MIN */
    const uint64_t *block_count;         /* the hot path's block entries, never taken back (hp_state.entries) */
    uint64_t last_block;                 /* the block entry the last charged divide ran in */
    uint32_t last_addr;                  /* its address (a stop there before it ran takes it back) */
    uint32_t last_extra;                 /* what it charged above DIV_MIN */
    const uint32_t *pend;                /* hp_state.dv_pend[0..1], dv_addr: the divides the block hook prices */
    const uint32_t *env;                 /* R0-R12 in the engine's CPU state (hp_state.dv_env), or NULL */
    int32_t r0_id;                       /* Unicorn's id of R0 (R0-R12 are consecutive ids) */
    uint32_t pad;
    const uint64_t *block_more;          /* block entries of the hot path's streak not yet in *block_count
                                            (hp_state.st_n), or NULL */
} tm_div_stats;

/* One SDIV/UDIV; the hook's user_data. Mirrored by simcore/abi.py (DivSite). */
typedef struct {
    tm_div_stats *stats;
    int32_t regs[2];   /* Unicorn register ids of Rn (dividend) and Rm (divisor) */
    uint32_t is_signed;
    uint32_t pad;
} tm_div_site;

uint32_t tm_div_cycles(uint32_t n, uint32_t m, uint32_t is_signed);

/* tm_div_extra_inline's prices by bits(n) - bits(m) + 31 (0-62), and 0 at 63 (an operand is 0). */
static const uint8_t tm_div_extra_by_diff[64] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* bits(n) < bits(m) */
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, /* 3 + d / 4 */
    0};

/* Cycles of one divide above TM_DIV_MIN (0-10), the rule fitted to silicon measurements (divide_cycles in cycles.py):
   0 when either operand is 0, 1 when bits(n) < bits(m), else 3 + (bits(n) - bits(m)) / 4 -- looked up by the
   difference, with no branch on the operands: a divide whose operands vary (div_bench's table: 3 of 16 take another
   case) made the earlier version's branches mispredict, which cost ~10% of div_bench's CPU time while adding no host
   instructions (docs/performance.md "Fifteenth round"). bits(x) - bits(y) is the difference of the top set bits'
   indices (one BSR each); x | 1 keeps the BSR defined for 0, whose index the zero test then replaces by 63. */
static inline uint32_t tm_div_extra_inline(uint32_t n, uint32_t m, uint32_t is_signed) {
    if (is_signed) { /* a branch on the instruction (fixed for a divide site), not on its operands */
        if (n & 0x80000000u) n = 0u - n; /* magnitude; INT_MIN stays 0x80000000 (32 bits) */
        if (m & 0x80000000u) m = 0u - m;
    }
    uint32_t i = 31u + (uint32_t)(31 ^ __builtin_clz(n | 1u)) - (uint32_t)(31 ^ __builtin_clz(m | 1u));
    i |= (0u - (uint32_t)((uint64_t)n * m == 0u)) & 63u; /* 63 when an operand is 0 (their 64-bit product is) */
    return tm_div_extra_by_diff[i];
}

/* Cycles of one divide (2-12): the rule fitted to silicon measurements, see divide_cycles in cycles.py
   (inline: hp_div_charge prices deferred divides with it; tm_div_cycles is the same for callers outside). */
static inline uint32_t tm_div_cycles_inline(uint32_t n, uint32_t m, uint32_t is_signed) {
    return TM_DIV_MIN + tm_div_extra_inline(n, m, is_signed);
}

#endif
