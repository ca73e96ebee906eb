/*
 * simcore's Thumb-2 decoder and block analysis (ARMv7-M ARM, DDI 0403E: A5 Thumb encodings,
 * A6 floating-point encodings, A7 instruction details).
 *
 * The decoder gives what the block analysis needs of each instruction (length, timing
 * class, registers written, memory operand registers, register-list lengths, S registers
 * read and written, SP effect, branch kind and target, literal address, IT state), not
 * text: capstone stays in Python where text is needed. The analysis prices a block with
 * the Cortex-M4 model of simcore/cycles.py exactly as the Python twin
 * (simcore/blocks.py over capstone) does; tests/unit/test_native_analysis.py holds both
 * equal on every committed ELF.
 */
#ifndef SIMCORE_THUMB_H
#define SIMCORE_THUMB_H
#include <stdint.h>

/* Timing classes: the branches of simcore.cycles.CortexM4.block_costs, in its order. */
enum {
    TC_UNDEF = 0,  /* not decoded (capstone stops there too): one simple instruction */
    TC_LOAD,       /* LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX*, LDR*T (single) */
    TC_STORE,      /* STR/STRB/STRH/STREX*, STR*T */
    TC_DOUBLE,     /* LDRD/STRD */
    TC_MULTI,      /* LDM/STM/PUSH/POP */
    TC_TBB,        /* TBB/TBH */
    TC_CBZ,        /* CBZ/CBNZ */
    TC_B,          /* B (conditional or not) */
    TC_BRANCH,     /* BL, BLX, BX */
    TC_IT,
    TC_DIV,        /* SDIV/UDIV */
    TC_FP_MLA,     /* VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS/VFNMA/VFNMS */
    TC_FP_DIV,     /* VDIV/VSQRT */
    TC_FP_MEM,     /* VLDR/VSTR */
    TC_FP_MULTI,   /* VLDM/VSTM/VPUSH/VPOP */
    TC_VMOV,       /* VMOV between core and extension registers, and register to register */
    TC_FP_OTHER,   /* every other V* instruction */
    TC_OTHER,      /* data processing, multiplies, hints, system */
};

/* hp_insn.f */
#define IF_LOAD 0x0001u      /* a load (TC_LOAD, TC_MULTI loads, VLDR/VLDM) */
#define IF_REGOFF 0x0002u    /* memory operand with an index register */
#define IF_PUSHPOP 0x0004u   /* PUSH/POP (capstone lists no base register) */
#define IF_WPC 0x0008u       /* writes the PC */
#define IF_CALL 0x0010u      /* BL/BLX */
#define IF_SP_STATIC 0x0020u /* writes SP by hp_insn.sp bytes */
#define IF_SP_DYN 0x0040u    /* writes SP by an amount not known statically */
#define IF_LIT 0x0080u       /* PC-relative load: hp_insn.imm is the literal's address */
#define IF_MASK 0x0100u      /* CPSIE or MSR (an interrupt mask may change) */
#define IF_SEV 0x0200u
#define IF_DIVW 0x0400u      /* watched divide (codescan "div") */
#define IF_MULTIW 0x0800u    /* watched LDM/STM/LDRD/STRD with a base other than SP/PC (codescan "multi") */
#define IF_ACCESSW 0x1000u   /* watched halfword/word access, base other than SP/PC (codescan "access") */
#define IF_DREG 0x2000u      /* VLDR/VSTR of a D register */
#define IF_TARGET 0x4000u    /* hp_insn.imm is a branch target */
#define IF_COND 0x8000u      /* B with an encoded condition (T1/T3) */
#define IF_CONTROL 0x20000u  /* MSR CONTROL (privilege and stack selection may change) */
#define IF_EXCL 0x10000u     /* STREX/STREXB/STREXH (priced like a load: 'treated more like an LDR') */
#define IF_NARROWX 0x40000u  /* STREXB/STREXH */
#define IF_WBACK 0x80000u    /* writes its base back (capstone's writeback): hp_insn.wb bytes */
#define IF_POST 0x100000u    /* post-indexed */
#define IF_DOWN 0x200000u    /* LDMDB/STMDB/VLDMDB/VSTMDB */
#define IF_MOVREG 0x400000u  /* MOV Rd, Rm without shift (capstone's MOV with two registers): src = Rm */
#define IF_ADDIMM 0x800000u  /* ADD/SUB/ADDW/SUBW Rd, [Rn,] #imm: src = Rn (Rd when none), wb = the signed step */
#define IF_SYS 0x1000000u    /* system, hint, exception-generating or preload: BKPT, SVC, UDF, CPS, MSR, MRS, hints
                                (NOP, YIELD, WFE, WFI, SEV, DBG), CLREX, DSB, DMB, ISB, PLD, PLI */

typedef struct {
    uint32_t addr;
    uint8_t size;      /* 2 or 4 */
    uint8_t tc;        /* TC_* */
    uint8_t it;        /* IT: how many instructions it makes conditional (1-4) */
    uint8_t rt;        /* first register operand (Rt of a load, base of LDM/STM), 0xFF none */
    int8_t rn, rm;     /* memory operand base and index register, -1 none */
    uint8_t nregs;     /* LDM/STM/PUSH/POP register list (without the base); VLDM..: S-register count */
    uint8_t ncore;     /* VMOV: core registers among r0-r8 (capstone's 'r' names) */
    uint16_t wr;       /* core registers written (bit n = Rn; 13 SP, 14 LR, 15 PC) */
    uint32_t f;        /* IF_* */
    uint64_t sr, sw;   /* S registers read / written (D<n> = S2n, S2n+1) */
    uint32_t imm;      /* branch target or literal address (IF_TARGET / IF_LIT) */
    int32_t sp;        /* SP change (IF_SP_STATIC) */
    int32_t mdisp;     /* memory operand displacement (capstone's mem.disp: 0 when post-indexed) */
    int32_t wb;        /* base writeback (IF_WBACK) or ADD/SUB immediate step (IF_ADDIMM) */
    uint8_t mshift;    /* LSL of the index register */
    uint8_t src;       /* IF_MOVREG / IF_ADDIMM source register */
    uint8_t dst;       /* IF_MOVREG / IF_ADDIMM destination register */
    uint8_t pad;
} hp_insn;

/* Decode one instruction at addr from hw[0..1] (hw[1] is read only for 32-bit encodings). 0: undecodable. */
int hp_decode(uint32_t addr, const uint16_t *hw, int n_hw, hp_insn *out);

/* --- block analysis ------------------------------------------------------------------------- */

/* Block flags (simcore/blocks.py has the same values; the ABI check compares them). */
#define HP_SP_READ 1u      /* block moves SP down: read SP at entry and apply sp_min_delta */
#define HP_SP_DYNAMIC 2u   /* block writes SP by an amount unknown statically: read it at the next block */
#define HP_COND_END 4u     /* ends with a conditional branch priced not taken (+taken_extra if taken) */
#define HP_CALL_END 8u     /* ends with BL/BLX */
#define HP_HANDLER 16u     /* starts at an exception handler */
#define HP_IN_FLASH 32u    /* executes from flash */
#define HP_RET_END 64u     /* ends with an indirect PC write that is not a call (a possible return) */
#define HP_MASK 128u       /* holds CPSIE or MSR: a pending exception may become takeable after it */
#define HP_SEV 256u        /* holds SEV: sets the event register */
#define HP_SELF_LOOP 512u  /* ends with a branch to itself (b . / b.w .): an idle loop */
#define HP_DIV 1024u       /* holds SDIV/UDIV (DIV_0_TRP watch) */
#define HP_MULTI 2048u     /* holds LDM/STM/LDRD/STRD with a base other than SP (alignment watch) */
#define HP_ACCESS 4096u    /* holds a halfword/word access with a base other than SP/PC (UNALIGN_TRP watch) */
#define HP_DATA 16384u     /* holds a load through a base other than SP/PC (the error bar's flash-data probe) */
#define HP_CONTROL 8192u   /* holds MSR CONTROL: thread mode may change stack (SPSEL) or privilege (the MPU map) */
#define HP_DIV_HOOK 32768u /* holds a divide priced by a per-address operand hook (one hp_block.div does not defer) */
#define HP_INDIRECT 0xFFFFFFFFu

/* One block's costs: the hot path's table entry (mirrored by simcore/hotpath.py, HotBlock). */
typedef struct {
    uint32_t addr;     /* block start; 0xFFFFFFFF marks an empty slot */
    uint16_t size;     /* block size in bytes as Unicorn reports it (at most HP_MAX_BLOCK_BYTES) */
    uint16_t art_gen;  /* hotpath.c: the ART generation at which all its flash lines were present (0: none) */
    uint32_t n_insn;   /* instructions in the block (IT-conditional ones included: the architecture executes them) */
    uint32_t cycles;   /* static cycle cost of the block */
    int32_t sp_min_delta; /* lowest SP within the block relative to SP at entry (<= 0) */
    uint32_t flags;
    uint32_t target;   /* conditional branch target, HP_INDIRECT when not known statically */
    uint32_t taken_extra; /* cycles added when the block-ending conditional branch is taken */
    uint32_t line0;    /* first 128-bit flash line (addr >> 4) */
    uint16_t n_lines;  /* lines spanned */
    uint16_t lit_count; /* PC-relative literal loads from flash */
    uint32_t lit_line; /* line of the first literal */
    uint32_t flash_words; /* words its data loads read from flash at its first execution (the error bar's) */
    uint64_t execs;    /* times the block was entered and counted (the error bar, simcore/timing_error.py) */
    uint32_t div[2];   /* divides priced at the next block entry (HP_DIV_* fields; 0: none), see below */
} hp_block;

/*
 * Divides whose operands are still in their registers when the block ends (SDIV/UDIV not
 * IT-conditional, Rn and Rm among R0-R12, Rd neither, and after it in the block only instructions
 * that neither write Rn or Rm, nor access memory, nor can raise an exception or leave emulation:
 * data processing, multiplies, divides, IT, B, BL, CBZ/CBNZ). Such a divide needs no per-address
 * hook: the hot path reads Rn and Rm at the next block entry (or where the run stops, or the
 * debugger pauses) and adds its operand-dependent cycles (simcore/native/timing.c). Packed:
 */
#define HP_DIV_SLOT 0x80000000u                 /* set in every used slot */
#define HP_DIV_SIGNED 0x40000000u               /* SDIV */
#define HP_DIV_RN(v) ((v) & 0xFu)
#define HP_DIV_RM(v) (((v) >> 4) & 0xFu)
#define HP_DIV_OFF(v) ((((v) >> 8) & 0x7FFu) * 2u) /* the divide's address - the block's */

/* One cached analysis (simcore/blockcache.py; mirrored by HotCacheRec): the entry and its bytes' hash. */
typedef struct {
    hp_block block;
    uint64_t hash; /* FNV-1a of the block's bytes */
} hp_cache_rec;

#define HP_MAX_FLASH 8
#define HP_MAX_BLOCK_BYTES 4096

/* What the analysis needs of the cycle model and the firmware (mirrored by simcore/hotpath.py, HotModel). */
typedef struct {
    uint32_t model;          /* 0: one cycle per instruction; 1: Cortex-M4 (simcore.cycles.CortexM4) */
    uint32_t branch_refill;  /* simcore.cycles.BRANCH_REFILL */
    uint32_t load_pc_refill; /* simcore.cycles.LOAD_PC_REFILL */
    uint32_t div_cycles;     /* a divide's static cycles: DIV_MIN (a hook adds the rest) or DIV_MAX */
    uint32_t store_data_phase; /* simcore.cycles.STORE_DATA_PHASE */
    uint32_t data_hook;      /* flash data reads are hooked: literal loads are not charged statically */
    uint32_t n_flash;
    uint32_t flash_lo[HP_MAX_FLASH];
    uint32_t flash_hi[HP_MAX_FLASH];
    uint32_t n_handlers;     /* exception handler addresses (profiling), sorted */
    uint32_t n_funcs;        /* function symbols (Firmware._funcs), sorted by address */
    const uint32_t *handlers;
    const uint32_t *func_start;
    const uint32_t *func_size;
} hp_model;

typedef int (*hp_read_fn)(void *ctx, uint64_t addr, void *buf, uint64_t n); /* uc_mem_read's signature */

/* The cycle model's error-bar counts of a block (simcore.timing_error.BlockUncertainty); mirrored (HotUncert). */
#define HP_MAX_PROBES 64
typedef struct {
    uint32_t base;     /* block-entry register */
    uint32_t index;    /* block-entry register, 0xFF none */
    uint32_t shift;
    uint32_t words;
    int64_t offset;
} hp_probe;

typedef struct {
    uint32_t refill, wide_groups, literal_loads, cond_over, split, data_words, unknown_words, n_probes;
    hp_probe probes[HP_MAX_PROBES]; /* the first HP_MAX_PROBES; more count as unknown words */
} hp_uncert;

/*
 * IT state carried across block starts: where an analysed block ends inside an IT block (Unicorn
 * splits blocks at 1 KiB pages), the IT-conditional instructions still to come at its end address
 * (BlockAnalyzer._it_after). Open addressing over (address, count) pairs; grows as needed.
 */
typedef struct {
    uint32_t *pairs;   /* 2 * (mask + 1) words: address (0xFFFFFFFF empty), count */
    uint32_t mask;
    uint32_t used;
} hp_itmap;

void hp_itmap_free(hp_itmap *map);
void hp_itmap_put(hp_itmap *map, uint32_t addr, uint32_t left);

/*
 * Analyse the block [addr, addr + size): fills *b and, when costs is not NULL, the cycles of each
 * instruction (at most max_insns) with their addresses in insn_addr, and when u is not NULL the
 * error-bar counts. Returns the number of instructions, or -1 when the bytes cannot be read.
 */
int hp_analyze(const hp_model *m, hp_itmap *carry, hp_read_fn read, void *ctx, uint32_t addr, uint32_t size,
               hp_block *b, uint32_t *costs, uint32_t *insn_addr, int max_insns, hp_uncert *u);

#endif
