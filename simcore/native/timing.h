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

/* Cycles of one divide above TM_DIV_MIN by the operands' bit lengths a = bits(n), b = bits(m) (0-32, bits(0) = 0):
   0 when either is 0, 1 when a < b, else 3 + (a - b) / 4 -- divide_cycles in cycles.py less DIV_MIN. The table holds
   it at [32 - a][32 - b]: tm_lead's counts of leading zeros less 31, an offset the address folds in. */
#define TM_DX(a, b) ((a) == 0 || (b) == 0 ? 0 : (a) < (b) ? 1 : 3 + ((a) - (b)) / 4)
#define TM_DX4(a, b) TM_DX(a, b), TM_DX(a, (b) - 1), TM_DX(a, (b) - 2), TM_DX(a, (b) - 3)
#define TM_DX_ROW(a) \
    {TM_DX4(a, 32), TM_DX4(a, 28), TM_DX4(a, 24), TM_DX4(a, 20), TM_DX4(a, 16), TM_DX4(a, 12), TM_DX4(a, 8), \
     TM_DX4(a, 4), TM_DX(a, 0)}
#define TM_DX_ROW4(a) TM_DX_ROW(a), TM_DX_ROW((a) - 1), TM_DX_ROW((a) - 2), TM_DX_ROW((a) - 3)
static const uint8_t tm_div_extra_by_lead[33][33] = {
    TM_DX_ROW4(32), TM_DX_ROW4(28), TM_DX_ROW4(24), TM_DX_ROW4(20), TM_DX_ROW4(16), TM_DX_ROW4(12), TM_DX_ROW4(8),
    TM_DX_ROW4(4), TM_DX_ROW(0)};
#undef TM_DX_ROW4
#undef TM_DX_ROW
#undef TM_DX4
#undef TM_DX

/* 63 - bits(x) (31-63; 63 for 0): the leading zeros of 2x + 1 in 64 bits, no branch and no zero test (the + 1 keeps
   the count defined). One LZCNT where the code is built for it (the block hook's LZCNT twin, hotpath.c), else a BSR
   and an XOR. */
static inline __attribute__((always_inline)) uint64_t tm_lead(uint32_t x) {
    return (uint64_t)__builtin_clzll(2u * (uint64_t)x + 1u);
}

/* Cycles of one divide above TM_DIV_MIN (0-10), the rule fitted to silicon measurements (divide_cycles in cycles.py),
   looked up by both operands' bit lengths with no branch on the operands: a divide whose operands vary (div_bench's
   table: 3 of 16 take another case) made an earlier version's branches mispredict, which cost ~10% of div_bench's
   CPU time while adding no host instructions (docs/performance.md "Fifteenth round"). The table by both lengths
   needs no zero test (an earlier one multiplied the operands) and little index arithmetic: the lookup's latency
   is on the block hook's critical path ("Sixteenth round: the divide's price by leading zeros"). */
static inline __attribute__((always_inline)) uint32_t tm_div_extra_inline(uint32_t n, uint32_t m,
                                                                          uint32_t is_signed) {
    if (is_signed) { /* a branch on the instruction (fixed for a divide site), not on its operands */
        if (n & 0x80000000u) n = 0u - n; /* magnitude; INT_MIN stays 0x80000000 (32 bits) */
        if (m & 0x80000000u) m = 0u - m;
    }
    return (&tm_div_extra_by_lead[0][0])[tm_lead(n) * 33u + tm_lead(m) - 31u * 34u]; /* [lead(n) - 31][lead(m) - 31] */
}

/* Cycles of one divide (2-12): the rule fitted to silicon measurements, see divide_cycles in cycles.py
   (inline: hp_div_charge prices deferred divides with it; tm_div_cycles is the same for callers outside). */
static inline uint32_t tm_div_cycles_inline(uint32_t n, uint32_t m, uint32_t is_signed) {
    return TM_DIV_MIN + tm_div_extra_inline(n, m, is_signed);
}

#endif
