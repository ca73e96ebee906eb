/*
 * Thumb-2 decoder for the block analysis (see thumb.h). Section numbers are those of the
 * ARMv7-M Architecture Reference Manual (DDI 0403E). Only what the analysis uses is
 * extracted; every encoding ARMv7-M (with the DSP and FPv4-SP extensions) defines is
 * recognised so that lengths and classes are right, and what the architecture leaves
 * UNDEFINED returns 0 (as capstone refuses it: the analysis then prices the rest of the block
 * the way the Python twin does).
 */
#include "thumb.h"
#include "timing.h"

#include <stdlib.h>
#include <string.h>

#define BIT(x, n) (((x) >> (n)) & 1u)
#define BITS(x, hi, lo) (((x) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1u))
#define R(n) ((uint16_t)(1u << (n)))

static inline uint64_t sreg(uint32_t n) { return n < 64 ? (uint64_t)1 << n : 0; }
static inline uint64_t dreg(uint32_t n) { return n < 32 ? (uint64_t)3 << (2 * n) : 0; }

static inline int popcount16(uint32_t x) { return __builtin_popcount(x & 0xFFFFu); }

static void base_insn(hp_insn *d, uint32_t addr, int size, int tc) {
    memset(d, 0, sizeof(*d));
    d->addr = addr;
    d->size = (uint8_t)size;
    d->tc = (uint8_t)tc;
    d->rt = 0xFF;
    d->rn = -1;
    d->rm = -1;
}

/* A write of Rd by a data-processing instruction: PC writes are branches, SP writes dynamic. */
static void dp_write(hp_insn *d, uint32_t rd) {
    d->wr |= R(rd);
    if (rd == 15) d->f |= IF_WPC;
    if (rd == 13) d->f |= IF_SP_DYN;
}

/* A single load or store: base, index, first register; SP effect of writeback on SP. */
/* disp: the memory operand's displacement (capstone mem.disp, 0 when post-indexed); delta: base writeback. */
static void single_mem(hp_insn *d, int load, uint32_t rt, uint32_t rn, int rm, int wback, int32_t sp_change) {
    d->tc = load ? TC_LOAD : TC_STORE;
    if (wback) { d->f |= IF_WBACK; d->wb = sp_change; }
    d->rt = (uint8_t)rt;
    d->rn = (int8_t)rn;
    d->rm = (int8_t)rm;
    if (rm >= 0) d->f |= IF_REGOFF;
    if (load) {
        d->f |= IF_LOAD;
        d->wr |= R(rt);
        if (rt == 15) d->f |= IF_WPC;
    }
    if (wback) {
        d->wr |= R(rn);
        if (rn == 13) {
            d->f |= IF_SP_STATIC;
            d->sp = sp_change;
        }
    }
    if (load && rt == 13 && !(wback && rn == 13)) d->f |= IF_SP_DYN;
}

static void literal(hp_insn *d, uint32_t addr, int32_t disp) {
    d->f |= IF_LIT;
    d->imm = ((addr + 4) & ~3u) + (uint32_t)disp;
}

/* codescan's "access" watch: halfword/word loads and stores whose base is not SP or PC. */
static void access_watch(hp_insn *d, uint32_t width, uint32_t rn) {
    if (width >= 2 && rn != 13 && rn != 15) d->f |= IF_ACCESSW;
}

static uint32_t sext(uint32_t v, int bits) {
    uint32_t m = 1u << (bits - 1);
    return (v ^ m) - m;
}

/* MOV Rd, Rm (no shift): the error bar follows such copies (timing_error._track). */
static void mov_reg(hp_insn *d, uint32_t rd, uint32_t rm) {
    d->f |= IF_MOVREG;
    d->dst = (uint8_t)rd;
    d->src = (uint8_t)rm;
}

/* ADD/SUB Rd, Rn, #imm (step signed): followed by the error bar too. */
static void add_imm(hp_insn *d, uint32_t rd, uint32_t rn, int32_t step) {
    d->f |= IF_ADDIMM;
    d->dst = (uint8_t)rd;
    d->src = (uint8_t)rn;
    d->wb = step;
}

/* --- 16-bit encodings (A5.2) ----------------------------------------------------------------- */
static int decode16(uint32_t addr, uint32_t hw, hp_insn *d) {
    base_insn(d, addr, 2, TC_OTHER);
    uint32_t op6 = hw >> 10;
    if ((hw >> 14) == 0) { /* shift (immediate), add, subtract, move, compare (A5.2.1) */
        uint32_t op5 = BITS(hw, 13, 9);
        if (op5 < 0x14) d->wr = R(hw & 7);                      /* LSL/LSR/ASR imm, ADD/SUB reg/imm3, MOV imm */
        if (op5 < 4 && !BITS(hw, 10, 6)) mov_reg(d, hw & 7, BITS(hw, 5, 3)); /* LSLS #0 is MOVS Rd, Rm */
        if (op5 == 0x0E || op5 == 0x0F) /* ADDS/SUBS Rd, Rn, #imm3 */
            add_imm(d, hw & 7, BITS(hw, 5, 3), (int32_t)BITS(hw, 8, 6) * (op5 == 0x0F ? -1 : 1));
        if (op5 >= 0x18) { /* ADDS/SUBS Rdn, #imm8 */
            d->wr = R(BITS(hw, 10, 8));
            add_imm(d, BITS(hw, 10, 8), BITS(hw, 10, 8), (int32_t)(hw & 0xFF) * (op5 >= 0x1C ? -1 : 1));
        }
        if (op5 >= 0x10 && op5 < 0x14) d->wr = R(BITS(hw, 10, 8)); /* MOV imm */
        return 1;
    }
    if (op6 == 0x10) { /* data processing (A5.2.2) */
        uint32_t op = BITS(hw, 9, 6);
        if (op != 8 && op != 10 && op != 11) d->wr = R(hw & 7); /* not TST, CMP, CMN */
        return 1;
    }
    if (op6 == 0x11) { /* special data instructions and branch and exchange (A5.2.3) */
        uint32_t op = BITS(hw, 9, 6);
        uint32_t rdn = (BIT(hw, 7) << 3) | (hw & 7), rm = BITS(hw, 6, 3);
        if (op < 4) { /* ADD (register) T2 */
            if (rdn == 13 && rm == 13) { d->wr = R(13); d->f |= IF_SP_DYN; return 1; }
            dp_write(d, rdn);
            return 1;
        }
        if (op < 8) return 1; /* CMP (register) T2 */
        if (op < 12) { dp_write(d, rdn); mov_reg(d, rdn, rm); return 1; } /* MOV (register) T1 */
        d->tc = TC_BRANCH;
        d->f |= IF_WPC;
        d->wr = R(15);
        if (op >= 14) { d->f |= IF_CALL; d->wr |= R(14); } /* BLX (register) */
        return 1;
    }
    if ((hw >> 11) == 0x09) { /* LDR (literal) T1 */
        single_mem(d, 1, BITS(hw, 10, 8), 15, -1, 0, 0);
        d->mdisp = (int32_t)((hw & 0xFF) * 4);
        literal(d, addr, d->mdisp);
        return 1;
    }
    if ((hw >> 12) == 0x5) { /* load/store single data item, register offset (A5.2.4) */
        uint32_t opb = BITS(hw, 11, 9), rm = BITS(hw, 8, 6), rn = BITS(hw, 5, 3), rt = hw & 7;
        static const uint8_t width[8] = {4, 2, 1, 1, 4, 2, 1, 2};
        single_mem(d, opb >= 3, rt, rn, (int)rm, 0, 0);
        access_watch(d, width[opb], rn);
        return 1;
    }
    if ((hw >> 13) == 0x3) { /* STR/LDR/STRB/LDRB (immediate) T1 */
        uint32_t rn = BITS(hw, 5, 3);
        single_mem(d, BIT(hw, 11), hw & 7, rn, -1, 0, 0);
        d->mdisp = (int32_t)(BITS(hw, 10, 6) * (BIT(hw, 12) ? 1 : 4));
        access_watch(d, BIT(hw, 12) ? 1 : 4, rn);
        return 1;
    }
    if ((hw >> 12) == 0x8) { /* STRH/LDRH (immediate) T1 */
        uint32_t rn = BITS(hw, 5, 3);
        single_mem(d, BIT(hw, 11), hw & 7, rn, -1, 0, 0);
        d->mdisp = (int32_t)(BITS(hw, 10, 6) * 2);
        access_watch(d, 2, rn);
        return 1;
    }
    if ((hw >> 12) == 0x9) { /* STR/LDR (SP-relative) T2 */
        single_mem(d, BIT(hw, 11), BITS(hw, 10, 8), 13, -1, 0, 0);
        d->mdisp = (int32_t)((hw & 0xFF) * 4);
        return 1;
    }
    if ((hw >> 11) == 0x14 || (hw >> 11) == 0x15) { /* ADR, ADD (SP plus immediate) T1 */
        d->wr = R(BITS(hw, 10, 8));
        if ((hw >> 11) == 0x15) add_imm(d, BITS(hw, 10, 8), 13, (int32_t)((hw & 0xFF) * 4)); /* ADR is not ADD */
        return 1;
    }
    if ((hw >> 12) == 0xB) { /* miscellaneous 16-bit instructions (A5.2.5) */
        uint32_t op7 = BITS(hw, 11, 5);
        if ((op7 & 0x7C) == 0x00 || (op7 & 0x7C) == 0x04) { /* ADD SP, SP, #imm T2; SUB SP, SP, #imm T1 */
            d->wr = R(13);
            d->f |= IF_SP_STATIC;
            d->sp = (int32_t)((hw & 0x7F) * 4) * ((op7 & 0x04) ? -1 : 1);
            add_imm(d, 13, 13, d->sp);
            return 1;
        }
        if ((BITS(hw, 11, 8) & 0x5) == 0x1) { /* CBZ/CBNZ: 1011 o0i1 */
            uint32_t imm = (BIT(hw, 9) << 6) | (BITS(hw, 7, 3) << 1);
            d->tc = TC_CBZ;
            d->f |= IF_WPC | IF_TARGET;
            d->imm = addr + 4 + imm;
            return 1;
        }
        if ((op7 & 0x78) == 0x10) { d->wr = R(hw & 7); return 1; } /* SXTH, SXTB, UXTH, UXTB */
        if ((op7 & 0x70) == 0x20) { /* PUSH */
            uint32_t list = (hw & 0xFF) | (BIT(hw, 8) << 14);
            d->tc = TC_MULTI;
            d->f |= IF_PUSHPOP | IF_SP_STATIC;
            d->nregs = (uint8_t)popcount16(list);
            d->sp = -4 * d->nregs;
            d->wr = R(13);
            return d->nregs ? 1 : 0;
        }
        if (op7 == 0x33) { /* CPS */
            d->f |= IF_SYS;
            if (!BIT(hw, 4)) d->f |= IF_MASK; /* CPSIE: capstone's "cpsie" (codescan watches it) */
            return 1;
        }
        if ((op7 & 0x7E) == 0x50 || (op7 & 0x7E) == 0x52 || (op7 & 0x7E) == 0x56) { d->wr = R(hw & 7); return 1; }
        if ((op7 & 0x70) == 0x60) { /* POP */
            uint32_t list = (hw & 0xFF) | (BIT(hw, 8) << 15);
            d->tc = TC_MULTI;
            d->f |= IF_PUSHPOP | IF_SP_STATIC | IF_LOAD;
            d->nregs = (uint8_t)popcount16(list);
            d->sp = 4 * d->nregs;
            d->wr = (uint16_t)(list | R(13));
            if (BIT(hw, 8)) d->f |= IF_WPC;
            return d->nregs ? 1 : 0;
        }
        if ((op7 & 0x78) == 0x70) { d->f |= IF_SYS; return 1; } /* BKPT */
        if ((op7 & 0x78) == 0x78) { /* IT and hints */
            if (hw & 0xF) {
                if (BITS(hw, 7, 4) == 0xF) return 0;
                d->tc = TC_IT;
                d->it = (uint8_t)(4 - __builtin_ctz(hw & 0xF));
                return 1;
            }
            uint32_t hint = BITS(hw, 7, 4);
            if (hint > 4) return 0; /* capstone refuses the unallocated 16-bit hints */
            d->f |= IF_SYS;
            if (hint == 4) d->f |= IF_SEV;
            return 1;
        }
        return 0;
    }
    if ((hw >> 12) == 0xC) { /* STM/LDM T1 */
        uint32_t rn = BITS(hw, 10, 8), list = hw & 0xFF, load = BIT(hw, 11);
        if (!list) return 0;
        d->tc = TC_MULTI;
        d->rt = (uint8_t)rn;
        d->nregs = (uint8_t)popcount16(list);
        if (load) { d->f |= IF_LOAD; d->wr = (uint16_t)list; }
        if (!load || !(list & (1u << rn))) { d->wr |= R(rn); d->f |= IF_WBACK; d->wb = 4 * d->nregs; }
        d->f |= IF_MULTIW;
        return 1;
    }
    if ((hw >> 12) == 0xD) { /* conditional branch, UDF, SVC (A5.2.6) */
        uint32_t cond = BITS(hw, 11, 8);
        if (cond >= 0xE) { d->f |= IF_SYS; return 1; } /* UDF, SVC */
        d->tc = TC_B;
        d->f |= IF_WPC | IF_TARGET | IF_COND;
        d->imm = addr + 4 + (sext(hw & 0xFF, 8) << 1);
        return 1;
    }
    if ((hw >> 11) == 0x1C) { /* B T2 */
        d->tc = TC_B;
        d->f |= IF_WPC | IF_TARGET;
        d->imm = addr + 4 + (sext(hw & 0x7FF, 11) << 1);
        return 1;
    }
    return 0;
}

/* --- 32-bit encodings (A5.3) ----------------------------------------------------------------- */

/* Load/store multiple (A5.3.5) */
static int ldst_multiple(uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op = BITS(h1, 8, 7), load = BIT(h1, 4), w = BIT(h1, 5), rn = h1 & 0xF;
    uint32_t list = h2 & 0xDFFF;
    if (op == 0 || op == 3) return 0; /* SRS/RFE: not in ARMv7-M */
    if (rn == 15 && !(load && op == 1)) return 0;
    d->tc = TC_MULTI;
    d->nregs = (uint8_t)popcount16(list);
    if (!d->nregs || (h2 & 0x2000)) return 0;
    if (load) {
        d->f |= IF_LOAD;
        d->wr = (uint16_t)list;
        if (list & 0x8000) d->f |= IF_WPC;
    }
    if (rn == 13 && w && ((load && op == 1) || (!load && op == 2))) { /* POP.W / PUSH.W */
        d->f |= IF_PUSHPOP | IF_SP_STATIC;
        d->sp = (load ? 4 : -4) * d->nregs;
        d->wr |= R(13);
        return 1;
    }
    d->rt = (uint8_t)rn;
    if (op == 2) d->f |= IF_DOWN;
    if (w) {
        d->wr |= R(rn);
        d->f |= IF_WBACK;
        d->wb = 4 * d->nregs * (op == 2 ? -1 : 1);
        if (rn == 13) d->f |= IF_SP_DYN; /* LDMDB sp!, STMIA sp!: the PUSH/POP forms are above */
    }
    if (load && (list & R(13)) && !(w && rn == 13)) d->f |= IF_SP_DYN;
    if (rn != 13) d->f |= IF_MULTIW; /* codescan: LDM/STM whose base is not SP */
    return 1;
}

/* Load/store dual or exclusive, table branch (A5.3.6) */
static int ldst_dual(uint32_t addr, uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op1 = BITS(h1, 8, 7), op2 = BITS(h1, 5, 4), op3 = BITS(h2, 7, 4);
    uint32_t rn = h1 & 0xF, rt = h2 >> 12, rt2 = BITS(h2, 11, 8);
    if (op1 == 0 && op2 == 0) { /* STREX */
        single_mem(d, 0, rt2, rn, -1, 0, 0);
        d->wr = R(rt2);
        d->f |= IF_EXCL;
        d->mdisp = (int32_t)((h2 & 0xFF) * 4);
        return 1;
    }
    if (op1 == 0 && op2 == 1) { /* LDREX */
        single_mem(d, 1, rt, rn, -1, 0, 0);
        d->mdisp = (int32_t)((h2 & 0xFF) * 4);
        return 1;
    }
    if ((op1 & 2) || (op2 & 2)) { /* STRD/LDRD (immediate), LDRD (literal) */
        uint32_t p = BIT(h1, 8), u = BIT(h1, 7), w = BIT(h1, 5), load = BIT(h1, 4);
        int32_t imm = (int32_t)((h2 & 0xFF) * 4);
        if (!u) imm = -imm;
        if (!p && !w) return 0;
        d->tc = TC_DOUBLE;
        d->rt = (uint8_t)rt;
        d->rn = (int8_t)rn;
        if (load) { d->f |= IF_LOAD; d->wr = R(rt) | R(rt2); }
        d->mdisp = p ? imm : 0;
        if (!p) d->f |= IF_POST;
        if (load && rn == 15) {
            literal(d, addr, p ? imm : 0);
        }
        if (w) {
            d->wr |= R(rn);
            d->f |= IF_WBACK;
            d->wb = imm;
            if (rn == 13) { d->f |= IF_SP_STATIC; d->sp = imm; }
        }
        if (load && (rt == 13 || rt2 == 13) && !(w && rn == 13)) d->f |= IF_SP_DYN;
        if (rn != 13 && rn != 15) d->f |= IF_MULTIW;
        return 1;
    }
    if (op1 == 1 && op2 == 0) { /* STREXB/STREXH */
        uint32_t rd = h2 & 0xF;
        if (op3 != 4 && op3 != 5) return 0;
        single_mem(d, 0, rd, rn, -1, 0, 0);
        d->wr = R(rd);
        d->f |= IF_EXCL | IF_NARROWX;
        return 1;
    }
    if (op1 == 1 && op2 == 1) {
        if (op3 == 0 || op3 == 1) { /* TBB/TBH */
            d->tc = TC_TBB;
            d->f |= IF_WPC | IF_REGOFF;
            d->wr = R(15);
            d->rn = (int8_t)rn;
            d->rm = (int8_t)(h2 & 0xF);
            return 1;
        }
        if (op3 == 4 || op3 == 5) { single_mem(d, 1, rt, rn, -1, 0, 0); return 1; } /* LDREXB/LDREXH */
    }
    return 0;
}

/* Data processing (shifted register) (A5.3.11) and (modified immediate) (A5.3.1) share op codes. */
static int dp_common(uint32_t h1, uint32_t h2, hp_insn *d, int imm_form, uint32_t imm) {
    uint32_t op = BITS(h1, 8, 5), s = BIT(h1, 4), rn = h1 & 0xF, rd = BITS(h2, 11, 8);
    switch (op) {
    case 0: case 4: case 8: case 13: /* AND/TST, EOR/TEQ, ADD/CMN, SUB/CMP */
        if (rd == 15 && s) return 1;
        break;
    case 1: case 2: case 3: case 10: case 11: case 14: break;
    case 6: if (imm_form) return 0; break; /* PKHBT/PKHTB */
    default: return 0;
    }
    int32_t step = op == 8 ? (int32_t)imm : -(int32_t)imm;
    if ((op == 8 || op == 13) && imm_form) add_imm(d, rd, rn, step); /* ADD.W/SUB.W Rd, Rn, #imm */
    if (op == 2 && rn == 15 && !imm_form && !BITS(h2, 5, 4) && !BITS(h2, 14, 12) && !BITS(h2, 7, 6))
        mov_reg(d, rd, h2 & 0xF); /* MOV.W Rd, Rm (ORR with Rn = PC, no shift) */
    if ((op == 8 || op == 13) && rd == 13 && imm_form && rn == 13) { /* ADD/SUB SP, SP, #imm */
        d->wr = R(13);
        d->f |= IF_SP_STATIC;
        d->sp = step;
        return 1;
    }
    dp_write(d, rd);
    return 1;
}

static uint32_t thumb_expand_imm(uint32_t imm12) {
    if (!(imm12 & 0xC00)) {
        uint32_t v = imm12 & 0xFF;
        switch (BITS(imm12, 9, 8)) {
        case 0: return v;
        case 1: return v | (v << 16);
        case 2: return (v << 8) | (v << 24);
        default: return v | (v << 8) | (v << 16) | (v << 24);
        }
    }
    uint32_t v = 0x80 | (imm12 & 0x7F), rot = BITS(imm12, 11, 7);
    return (v >> rot) | (v << (32 - rot));
}

/* Branches and miscellaneous control (A5.3.4) */
static int branch_misc(uint32_t addr, uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op1 = BITS(h2, 14, 12), op = BITS(h1, 10, 4);
    uint32_t s = BIT(h1, 10), j1 = BIT(h2, 13), j2 = BIT(h2, 11);
    if (op1 == 2 && op == 0x7F) { d->f |= IF_SYS; return 1; } /* UDF.W */
    if ((op1 & 5) == 0) {
        if ((op & 0x38) != 0x38) { /* B T3 */
            uint32_t imm = (s << 20) | (j2 << 19) | (j1 << 18) | (BITS(h1, 5, 0) << 12) | ((h2 & 0x7FF) << 1);
            d->tc = TC_B;
            d->f |= IF_WPC | IF_TARGET | IF_COND;
            d->imm = addr + 4 + sext(imm, 21);
            return 1;
        }
        d->f |= IF_SYS; /* everything below but the branches */
        if ((op & 0x7E) == 0x38) { /* MSR (register) */
            d->f |= IF_MASK;
            if ((h2 & 0xFF) == 0x14) d->f |= IF_CONTROL; /* SYSm 20: CONTROL (B5.2.3) */
            return 1;
        }
        if (op == 0x3A) { /* change processor state (not in v7-M) and hints */
            if (BITS(h2, 10, 8)) return 0;
            uint32_t hint = h2 & 0xFF;
            if (hint == 4) d->f |= IF_SEV;
            if (hint <= 4 || (hint & 0xF0) == 0xF0) return 1;
            return 0;
        }
        if (op == 0x3B) { /* miscellaneous control: CLREX, DSB, DMB, ISB */
            uint32_t o = BITS(h2, 7, 4);
            return o == 2 || o == 4 || o == 5 || o == 6;
        }
        if ((op & 0x7E) == 0x3E) { /* MRS */
            dp_write(d, BITS(h2, 11, 8));
            return 1;
        }
        return 0;
    }
    if (op1 & 1) { /* B T4, BL */
        uint32_t i1 = !(j1 ^ s), i2 = !(j2 ^ s);
        uint32_t imm = (s << 24) | (i1 << 23) | (i2 << 22) | (BITS(h1, 9, 0) << 12) | ((h2 & 0x7FF) << 1);
        d->f |= IF_WPC | IF_TARGET;
        d->imm = addr + 4 + sext(imm, 25);
        if (op1 & 4) {
            d->tc = TC_BRANCH;
            d->f |= IF_CALL;
            d->wr = R(14) | R(15);
        } else {
            d->tc = TC_B;
        }
        return 1;
    }
    return 0; /* BLX (immediate): ARM state, not in ARMv7-M */
}

/* Store single data item (A5.3.10), load byte/halfword/word (A5.3.7-9) */
static int ldst_single(uint32_t addr, uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t load = BIT(h1, 4), size = BITS(h1, 6, 5), sign = BIT(h1, 8), rn = h1 & 0xF, rt = h2 >> 12;
    uint32_t width = 1u << size;
    if (size == 3) return 0;
    if (!load && sign) return 0;
    if (load && size == 2 && sign) return 0;
    if (rn == 15) { /* literal (loads only) */
        if (!load) return 0;
        int32_t imm = (int32_t)(h2 & 0xFFF);
        if (!BIT(h1, 7)) imm = -imm;
        if (rt == 15 && size != 2) { d->tc = TC_OTHER; d->f |= IF_SYS; return 1; } /* PLD/PLI (literal) */
        single_mem(d, 1, rt, 15, -1, 0, 0);
        d->mdisp = imm;
        literal(d, addr, imm);
        return 1;
    }
    int hintable = load && rt == 15 && size != 2; /* PLD/PLI and unallocated hints */
    if (hintable) d->f |= IF_SYS; /* cleared by base_insn if it is not decoded */
    if (BIT(h1, 7)) { /* imm12 */
        if (hintable) return 1;
        single_mem(d, load, rt, rn, -1, 0, 0);
        d->mdisp = (int32_t)(h2 & 0xFFF);
        access_watch(d, width, rn);
        return 1;
    }
    uint32_t op2 = BITS(h2, 11, 6);
    if (op2 == 0) { /* register offset */
        if (hintable) return 1;
        single_mem(d, load, rt, rn, (int)(h2 & 0xF), 0, 0);
        d->mshift = (uint8_t)BITS(h2, 5, 4);
        access_watch(d, width, rn);
        return 1;
    }
    if ((op2 & 0x24) == 0x24 || (op2 & 0x3C) == 0x30 || (op2 & 0x3C) == 0x38) { /* imm8 forms */
        uint32_t p = BIT(h2, 10), u = BIT(h2, 9), w = BIT(h2, 8);
        int32_t imm = (int32_t)(h2 & 0xFF);
        if (!u) imm = -imm;
        if ((op2 & 0x3C) == 0x38) { /* LDRT/STRT, ... (unprivileged) */
            single_mem(d, load, rt, rn, -1, 0, 0);
            d->mdisp = (int32_t)(h2 & 0xFF);
            access_watch(d, width, rn);
            return 1;
        }
        if (hintable && p && !u && !w) return 1; /* PLD/PLI (immediate, minus) */
        if (hintable) return 0;
        if (!p && !w) return 0;
        single_mem(d, load, rt, rn, -1, w, imm);
        d->mdisp = p ? imm : 0;
        if (!p) d->f |= IF_POST;
        access_watch(d, width, rn);
        return 1;
    }
    return 0;
}

/* Data processing (register) (A5.3.12) with parallel add/subtract and miscellaneous (A5.3.13-15) */
static int dp_register(uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op1 = BITS(h1, 7, 4), op2 = BITS(h2, 7, 4), rd = BITS(h2, 11, 8);
    if ((h2 & 0xF000) != 0xF000) return 0;
    if (op2 == 0 && op1 < 8) { dp_write(d, rd); return 1; }           /* LSL/LSR/ASR/ROR (register) */
    if ((op2 & 8) && op1 < 6) { dp_write(d, rd); return 1; }          /* extend (and add) */
    if ((op1 & 8) && !(op2 & 8)) {                                    /* parallel add/subtract */
        if ((op1 & 7) == 3 || (op1 & 7) == 7 || (op2 & 3) == 3) return 0;
        dp_write(d, rd);
        return 1;
    }
    if ((op1 & 0xC) == 0x8 && (op2 & 0xC) == 0x8) {                   /* miscellaneous operations */
        uint32_t o1 = op1 & 3, o2 = op2 & 3;
        if ((o1 == 2 || o1 == 3) && o2 != 0) return 0;
        dp_write(d, rd);
        return 1;
    }
    return 0;
}

/* Multiply, multiply accumulate, absolute difference (A5.3.16) */
static int multiply(uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op1 = BITS(h1, 6, 4), op2 = BITS(h2, 5, 4);
    if (BITS(h2, 7, 6)) return 0;
    switch (op1) {
    case 0: if (op2 > 1) return 0; break;
    case 1: break;
    case 2: case 3: case 4: if (op2 > 1) return 0; break;
    case 5: case 6: if (op2 > 1) return 0; break;
    case 7: if (op2 != 0) return 0; break;
    }
    dp_write(d, BITS(h2, 11, 8));
    return 1;
}

/* Long multiply, long multiply accumulate, divide (A5.3.17) */
static int long_multiply(uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t op1 = BITS(h1, 6, 4), op2 = BITS(h2, 7, 4), lo = h2 >> 12, hi = BITS(h2, 11, 8);
    if ((op1 == 1 || op1 == 3) && op2 == 0xF) { /* SDIV, UDIV */
        d->tc = TC_DIV;
        dp_write(d, hi);
        d->f |= IF_DIVW;
        return 1;
    }
    int ok = (op1 == 0 && op2 == 0) || (op1 == 2 && op2 == 0) || (op1 == 4 && (op2 == 0 || (op2 & 0xC) == 8 ||
              (op2 & 0xE) == 0xC)) || (op1 == 5 && (op2 & 0xE) == 0xC) || (op1 == 6 && (op2 == 0 || op2 == 6));
    if (!ok) return 0;
    dp_write(d, lo);
    dp_write(d, hi);
    return 1;
}

/* Floating-point (A6): extension register load/store, transfers, data processing. */
static uint32_t vreg(uint32_t four, uint32_t one, int dbl) { return dbl ? (one << 4) | four : (four << 1) | one; }

static int fp_insn(uint32_t addr, uint32_t h1, uint32_t h2, hp_insn *d) {
    uint32_t coproc = BITS(h2, 11, 8), op1 = BITS(h1, 9, 4), rn = h1 & 0xF;
    if ((coproc & 0xE) != 0xA) return 0; /* coprocessors other than the FPU: not decoded */
    int dbl = coproc & 1;
    if ((op1 & 0x3E) == 0x04) { /* 64-bit transfers between core and extension registers (A6.8) */
        uint32_t to_core = BIT(h1, 4), rt = h2 >> 12, rt2 = h1 & 0xF;
        uint32_t m = vreg(h2 & 0xF, BIT(h2, 5), dbl);
        if ((h2 & 0xD0) != 0x10) return 0;
        d->tc = TC_VMOV;
        d->ncore = (uint8_t)((rt <= 8) + (rt2 <= 8));
        uint64_t fp = dbl ? dreg(m) : (sreg(m) | sreg(m + 1));
        if (to_core) { d->sr = fp; d->wr = R(rt) | R(rt2); } else { d->sw = fp; }
        return 1;
    }
    if ((op1 & 0x20) == 0) { /* extension register load/store (A6.5) */
        uint32_t p = BIT(h1, 8), u = BIT(h1, 7), w = BIT(h1, 5), load = BIT(h1, 4);
        uint32_t vd = vreg(BITS(h2, 15, 12), BIT(h1, 6), dbl), imm8 = h2 & 0xFF;
        if ((op1 & 0x3A) == 0) return 0;
        if (p && !w) { /* VLDR/VSTR */
            int32_t imm = (int32_t)(imm8 * 4);
            if (!u) imm = -imm;
            d->tc = TC_FP_MEM;
            d->rn = (int8_t)rn;
            d->mdisp = imm;
            if (dbl) d->f |= IF_DREG;
            uint64_t fp = dbl ? dreg(vd) : sreg(vd);
            if (load) {
                d->f |= IF_LOAD;
                d->sw = fp;
                if (rn == 15) literal(d, addr, imm);
            } else {
                d->sr = fp;
            }
            return 1;
        }
        if (p == u) return 0; /* P=1 U=1 W=1, P=0 U=0: undefined */
        if (!imm8) return 0;
        d->tc = TC_FP_MULTI;
        uint32_t regs = dbl ? imm8 / 2 : imm8;
        if (dbl && (imm8 & 1)) return 0; /* FLDMX/FSTMX */
        d->nregs = (uint8_t)(dbl ? 2 * regs : regs);
        uint64_t fp = 0;
        for (uint32_t i = 0; i < regs; i++) fp |= dbl ? dreg(vd + i) : sreg(vd + i);
        if (load) d->f |= IF_LOAD;
        int pushpop = rn == 13 && w && ((load && !p) || (!load && p));
        if (pushpop) {
            d->f |= IF_PUSHPOP | IF_SP_STATIC;
            d->sp = (load ? 4 : -4) * d->nregs;
            d->wr = R(13);
            d->sr = fp;
            d->sw = fp;
            return 1;
        }
        d->rt = (uint8_t)rn;
        if (p) d->f |= IF_DOWN;
        if (w) {
            d->wr = R(rn);
            d->f |= IF_WBACK;
            d->wb = 4 * d->nregs * (p ? -1 : 1);
            if (rn == 13) d->f |= IF_SP_DYN; /* VLDMDB sp!, VSTMIA sp!: VPUSH/VPOP are above */
        }
        if (!load) d->sr = fp;
        return 1;
    }
    if ((op1 & 0x30) == 0x30) return 0;
    if (!BIT(h2, 4)) { /* floating-point data processing (A6.4) */
        uint32_t opc1 = ((h1 >> 4) & 0xB), opc2 = h1 & 0xF, opc3 = BITS(h2, 7, 6);
        uint32_t vd = vreg(BITS(h2, 15, 12), BIT(h1, 6), dbl), vn = vreg(h1 & 0xF, BIT(h2, 7), dbl);
        uint32_t vm = vreg(h2 & 0xF, BIT(h2, 5), dbl);
        uint64_t D = dbl ? dreg(vd) : sreg(vd), N = dbl ? dreg(vn) : sreg(vn), M = dbl ? dreg(vm) : sreg(vm);
        if (BIT(h2, 6) && (opc1 & 0x8) && (opc1 & 3) == 3) { /* other VFP data-processing (opc3 = x1) */
            d->tc = TC_FP_OTHER;
            switch (opc2) {
            case 0:
                if (opc3 == 1) { d->tc = TC_VMOV; d->sr = M; d->sw = D; return 1; } /* VMOV (register) */
                d->sr = M; d->sw = D; return 1;                                     /* VABS */
            case 1:
                if (opc3 == 3) d->tc = TC_FP_DIV;                                   /* VSQRT; else VNEG */
                d->sr = M; d->sw = D; return 1;
            case 2: case 3: /* VCVTB, VCVTT (half precision): S registers */
                d->sr = sreg(vreg(h2 & 0xF, BIT(h2, 5), 0));
                d->sw = sreg(vreg(BITS(h2, 15, 12), BIT(h1, 6), 0));
                return 1;
            case 4: case 5: /* VCMP, VCMPE */
                d->sr = D | (opc2 == 5 ? 0 : M);
                return 1;
            case 7: /* VCVT between double and single */
                if (opc3 != 3) return 0;
                d->sr = M;
                d->sw = dbl ? sreg(vreg(BITS(h2, 15, 12), BIT(h1, 6), 0)) : dreg(vreg(BITS(h2, 15, 12), BIT(h1, 6), 1));
                return 1;
            case 8: /* VCVT integer to floating point */
                d->sr = sreg(vreg(h2 & 0xF, BIT(h2, 5), 0));
                d->sw = D;
                return 1;
            case 10: case 11: case 14: case 15: /* VCVT fixed point: in place */
                d->sr = D; d->sw = D;
                return 1;
            case 12: case 13: /* VCVT floating point to integer */
                d->sr = M;
                d->sw = sreg(vreg(BITS(h2, 15, 12), BIT(h1, 6), 0));
                return 1;
            default:
                return 0;
            }
        }
        switch (opc1) {
        case 0: case 1: d->tc = TC_FP_MLA; d->sr = D | N | M; d->sw = D; return 1; /* VMLA/VMLS, VNMLA/VNMLS */
        case 2: case 3: d->tc = TC_FP_OTHER; d->sr = N | M; d->sw = D; return 1;  /* VMUL/VNMUL, VADD/VSUB */
        case 8: if (opc3 & 1) return 0; d->tc = TC_FP_DIV; d->sr = N | M; d->sw = D; return 1; /* VDIV */
        case 9: case 10: d->tc = TC_FP_MLA; d->sr = D | N | M; d->sw = D; return 1; /* VFNMA/VFNMS, VFMA/VFMS */
        case 11: /* VMOV (immediate) */
            d->tc = TC_FP_OTHER; d->sw = D; return 1;
        default: return 0;
        }
    }
    /* 8, 16 and 32-bit transfers between core and extension registers (A6.6) */
    {
        uint32_t l = BIT(h1, 4), c = BIT(h2, 8), a = BITS(h1, 7, 5), rt = h2 >> 12;
        if (!c && a == 0) { /* VMOV between a core register and a single */
            uint32_t sn = vreg(h1 & 0xF, BIT(h2, 7), 0);
            d->tc = TC_VMOV;
            d->ncore = rt <= 8;
            if (l) { d->sr = sreg(sn); dp_write(d, rt); d->f &= ~IF_WPC; } else { d->sw = sreg(sn); }
            return 1;
        }
        if (!c && a == 7) { /* VMSR / VMRS */
            d->tc = TC_FP_OTHER;
            if (l && rt != 15) d->wr = R(rt);
            if (BITS(h1, 3, 0) != 1 && l) d->tc = TC_FP_OTHER;
            return 1;
        }
        if (c && !BIT(h2, 6) && !(a & 4)) { /* VMOV scalar (32-bit) */
            uint32_t dn = vreg(h1 & 0xF, BIT(h2, 7), 1), x = BIT(h1, 5);
            d->tc = TC_VMOV;
            d->ncore = rt <= 8;
            if (l) { d->sr = sreg(2 * dn + x); d->wr = R(rt); } else { d->sw = sreg(2 * dn + x); }
            return 1;
        }
        return 0;
    }
}

static int decode32(uint32_t addr, uint32_t h1, uint32_t h2, hp_insn *d) {
    base_insn(d, addr, 4, TC_OTHER);
    uint32_t op1 = BITS(h1, 12, 11), op2 = BITS(h1, 10, 4), op = BIT(h2, 15);
    if (op1 == 1) {
        if ((op2 & 0x64) == 0x00) return ldst_multiple(h1, h2, d);
        if ((op2 & 0x64) == 0x04) return ldst_dual(addr, h1, h2, d);
        if ((op2 & 0x60) == 0x20) {
            if (BIT(h2, 15)) return 0;
            return dp_common(h1, h2, d, 0, 0);
        }
        return fp_insn(addr, h1, h2, d);
    }
    if (op1 == 2) {
        if (op) return branch_misc(addr, h1, h2, d);
        if (!(op2 & 0x20)) { /* modified immediate */
            uint32_t imm12 = (BIT(h1, 10) << 11) | (BITS(h2, 14, 12) << 8) | (h2 & 0xFF);
            return dp_common(h1, h2, d, 1, thumb_expand_imm(imm12));
        }
        /* plain binary immediate (A5.3.3) */
        uint32_t o = BITS(h1, 8, 4), rn = h1 & 0xF, rd = BITS(h2, 11, 8);
        uint32_t imm12 = (BIT(h1, 10) << 11) | (BITS(h2, 14, 12) << 8) | (h2 & 0xFF);
        switch (o) {
        case 0x00: case 0x0A: /* ADDW/ADR, SUBW/ADR (capstone: addw/subw Rd, pc, #imm) */
            add_imm(d, rd, rn, o == 0 ? (int32_t)imm12 : -(int32_t)imm12);
            if (rd == 13 && rn == 13) {
                d->wr = R(13);
                d->f |= IF_SP_STATIC;
                d->sp = o == 0 ? (int32_t)imm12 : -(int32_t)imm12;
                return 1;
            }
            dp_write(d, rd);
            return 1;
        case 0x04: case 0x0C: case 0x10: case 0x12: case 0x14: case 0x16: case 0x18: case 0x1A: case 0x1C:
            dp_write(d, rd);
            return 1;
        default:
            return 0;
        }
    }
    /* op1 == 3 */
    if ((op2 & 0x71) == 0x00 || (op2 & 0x67) == 0x01 || (op2 & 0x67) == 0x03 || (op2 & 0x67) == 0x05)
        return ldst_single(addr, h1, h2, d);
    if ((op2 & 0x70) == 0x20) return dp_register(h1, h2, d);
    if ((op2 & 0x78) == 0x30) return multiply(h1, h2, d);
    if ((op2 & 0x78) == 0x38) return long_multiply(h1, h2, d);
    if (op2 & 0x40) return fp_insn(addr, h1, h2, d);
    return 0;
}

int hp_decode(uint32_t addr, const uint16_t *hw, int n_hw, hp_insn *out) {
    if (n_hw < 1) return 0;
    uint32_t h1 = hw[0];
    if ((h1 >> 11) >= 0x1D) {
        if (n_hw < 2) return 0;
        return decode32(addr, h1, hw[1], out);
    }
    return decode16(addr, h1, out);
}

/* --- block analysis: the twin of simcore.blocks.BlockAnalyzer.analyze over capstone --------------- */

/* fw.function_at(addr).addr, or -1 (Firmware.function_at: by size; the nearest preceding when size 0). */
static int64_t function_start(const hp_model *m, uint32_t addr) {
    uint32_t lo = 0, hi = m->n_funcs;
    while (lo < hi) { /* bisect_right */
        uint32_t mid = (lo + hi) / 2;
        if (m->func_start[mid] <= addr) lo = mid + 1; else hi = mid;
    }
    if (!lo) return -1;
    uint32_t i = lo - 1;
    if (m->func_size[i] && addr >= m->func_start[i] + m->func_size[i]) return -1;
    return m->func_start[i];
}

static inline uint32_t carry_hash(uint32_t addr) { return (addr >> 1) * 2654435761u; }

static int carry_get(const hp_itmap *map, uint32_t addr) {
    if (!map || !map->pairs) return -1;
    for (uint32_t i = carry_hash(addr) & map->mask;; i = (i + 1) & map->mask) {
        if (map->pairs[2 * i] == addr) return (int)map->pairs[2 * i + 1];
        if (map->pairs[2 * i] == 0xFFFFFFFFu) return -1;
    }
}

static void carry_put(hp_itmap *map, uint32_t addr, uint32_t left) {
    if (!map) return;
    if (!map->pairs || (map->used + 1) * 2 > map->mask + 1) {
        uint32_t cap = map->pairs ? 2 * (map->mask + 1) : 64;
        uint32_t *pairs = (uint32_t *)malloc(sizeof(uint32_t) * 2 * cap);
        if (!pairs) return;
        memset(pairs, 0xFF, sizeof(uint32_t) * 2 * cap);
        hp_itmap grown = {pairs, cap - 1, 0};
        if (map->pairs) {
            for (uint32_t i = 0; i <= map->mask; i++)
                if (map->pairs[2 * i] != 0xFFFFFFFFu) carry_put(&grown, map->pairs[2 * i], map->pairs[2 * i + 1]);
            free(map->pairs);
        }
        *map = grown;
    }
    uint32_t i = carry_hash(addr) & map->mask;
    while (map->pairs[2 * i] != 0xFFFFFFFFu && map->pairs[2 * i] != addr) i = (i + 1) & map->mask;
    if (map->pairs[2 * i] == 0xFFFFFFFFu) map->used++;
    map->pairs[2 * i] = addr;
    map->pairs[2 * i + 1] = left;
}

void hp_itmap_put(hp_itmap *map, uint32_t addr, uint32_t left) { carry_put(map, addr, left); }

void hp_itmap_free(hp_itmap *map) {
    free(map->pairs);
    map->pairs = NULL;
    map->mask = map->used = 0;
}

/* How many IT-conditional instructions remain at addr when a block starts there (BlockAnalyzer.it_state_at). */
static int it_state_at(const hp_model *m, const hp_itmap *carry, hp_read_fn read, void *ctx, uint32_t addr) {
    int carried = carry_get(carry, addr);
    if (carried >= 0) return carried;
    uint32_t lo = addr >= 16 ? addr - 16 : 0;
    uint16_t before[8];
    uint32_t n = addr - lo;
    if (!n || read(ctx, lo, before, n)) return 0;
    int seen = 0;
    for (uint32_t k = 0; k + 1 < n; k += 2) {
        uint16_t h = before[k / 2];
        if ((h & 0xFF00) == 0xBF00 && (h & 0xF)) seen = 1;
    }
    if (!seen) return 0;
    int64_t start = function_start(m, addr);
    if (start < 0 || addr - (uint32_t)start > (1u << 16)) return 0;
    uint32_t len = addr - (uint32_t)start + 4;
    uint16_t buf[(1u << 15) + 2];
    if (read(ctx, (uint32_t)start, buf, len)) return 0;
    uint32_t pos = (uint32_t)start;
    int it_left = 0;
    hp_insn d;
    while (pos <= addr) {
        uint32_t off = (pos - (uint32_t)start) / 2;
        int nhw = (int)((len - (pos - (uint32_t)start)) / 2);
        if (!hp_decode(pos, &buf[off], nhw, &d)) return 0; /* capstone stops at an undecodable instruction */
        if (pos == addr) return it_left;
        if (it_left) it_left--;
        if (d.tc == TC_IT) it_left = d.it;
        pos += d.size;
    }
    return 0;
}

static int in_flash(const hp_model *m, uint32_t a) {
    for (uint32_t i = 0; i < m->n_flash; i++)
        if (m->flash_lo[i] <= a && a < m->flash_hi[i]) return 1;
    return 0;
}

static int is_handler(const hp_model *m, uint32_t a) {
    for (uint32_t i = 0; i < m->n_handlers; i++)
        if (m->handlers[i] == a) return 1;
    return 0;
}

static uint16_t mem_regs(const hp_insn *d) {
    uint16_t r = 0;
    if (d->rn >= 0) r |= R(d->rn);
    if (d->rm >= 0) r |= R(d->rm);
    return r;
}

/* Capstone's register names for r9-r12 are sb, sl, fp, ip: the model's "r..." filters keep r0-r8 only. */
#define R_NAMES 0x01FFu

/* --- the error bar's counts: the twin of simcore.timing_error.block_uncertainty ---------------------- */

/* A register's value as (block-entry register, offset), or unknown (reg < 0): timing_error's Affine. */
typedef struct { int8_t reg[16]; int64_t off[16]; } hp_affine;

static int is_load1(const hp_insn *d) { return d->tc == TC_LOAD || (d->tc == TC_FP_MEM && (d->f & IF_LOAD)); }

static int is_loadn(const hp_insn *d) { /* LDM, LDMDB, VLDMIA, VLDMDB, LDRD: not POP/VPOP */
    if (d->tc == TC_DOUBLE) return (d->f & IF_LOAD) != 0;
    return (d->tc == TC_MULTI || d->tc == TC_FP_MULTI) && (d->f & IF_LOAD) && !(d->f & IF_PUSHPOP);
}

static int is_store1(const hp_insn *d) { /* _STORES_1: no STREXB/STREXH; STRD, STM/PUSH, VSTR/VSTM/VPUSH too */
    if (d->tc == TC_STORE) return !(d->f & IF_NARROWX);
    return (d->tc == TC_FP_MEM || d->tc == TC_DOUBLE || d->tc == TC_MULTI || d->tc == TC_FP_MULTI) &&
           !(d->f & IF_LOAD);
}

/* 32-bit words a load reads (a byte or halfword counts 1): timing_error._words */
static uint32_t load_words(const hp_insn *d) {
    if (d->tc == TC_DOUBLE) return 2;
    if (d->tc == TC_FP_MEM) return (d->f & IF_DREG) ? 2 : 1;
    if (d->tc == TC_MULTI || d->tc == TC_FP_MULTI) return d->nregs;
    return 1;
}

static void uncert_insn(hp_uncert *u, hp_affine *st, const hp_insn *d, int itc) {
    int multi = d->tc == TC_MULTI || d->tc == TC_FP_MULTI;
    if (is_load1(d) || is_loadn(d)) {
        int base = multi ? d->rt : d->rn;
        if (base == 15) {
            u->literal_loads++;
        } else if (base >= 0 && base != 13) {
            uint32_t words = load_words(d);
            int ok = st->reg[base] >= 0;
            hp_probe pr = {0, 0xFF, 0, words, 0};
            if (ok && multi) {
                pr.base = (uint32_t)st->reg[base];
                pr.offset = st->off[base] - ((d->f & IF_DOWN) ? 4 * (int64_t)words : 0);
            } else if (ok) {
                int ix = d->rm;
                if (ix >= 0 && (st->reg[ix] < 0 || st->off[ix] != 0)) ok = 0;
                pr.base = (uint32_t)st->reg[base];
                pr.offset = st->off[base] + ((d->f & IF_POST) ? 0 : d->mdisp);
                if (ix >= 0) { pr.index = (uint32_t)st->reg[ix]; pr.shift = d->mshift; }
            }
            u->data_words += words;
            if (!ok || u->n_probes >= HP_MAX_PROBES) u->unknown_words += words;
            else u->probes[u->n_probes++] = pr;
        }
    }
    /* _track: registers that are an entry register plus a constant */
    int8_t nreg = -1;
    int64_t noff = 0;
    int newdst = -1;
    if (d->f & IF_WBACK) {
        int base = multi ? d->rt : d->rn;
        if (base >= 0) {
            newdst = base;
            if (st->reg[base] >= 0) { nreg = st->reg[base]; noff = st->off[base] + d->wb; }
        }
    } else if (d->f & (IF_MOVREG | IF_ADDIMM)) {
        newdst = d->dst;
        if (st->reg[d->src] >= 0) {
            nreg = st->reg[d->src];
            noff = st->off[d->src] + ((d->f & IF_ADDIMM) ? d->wb : 0);
        }
    }
    for (int r = 0; r < 16; r++)
        if (d->wr & R(r)) st->reg[r] = -1;
    if (newdst >= 0) { st->reg[newdst] = nreg; st->off[newdst] = noff; }
    if (itc) {
        if (is_load1(d) || is_store1(d) || is_loadn(d)) u->cond_over += 2;
        else if (d->tc == TC_DIV) u->cond_over += 1;
    }
}

/* May this instruction follow a divide priced at the next block entry (thumb.h, hp_block.div)? Only
   instructions that access no memory, raise no exception and do not leave emulation: data processing,
   multiplies, divides, IT, B, BL, CBZ/CBNZ. (Which registers it writes is checked by the caller.) */
static int div_defer_ok(const hp_insn *d) {
    if (d->f & IF_SYS) return 0;
    switch (d->tc) {
    case TC_OTHER: return !(d->wr & R(15));
    case TC_IT: case TC_DIV: case TC_CBZ: return 1;
    case TC_B: return (d->f & IF_TARGET) != 0;
    case TC_BRANCH: return (d->f & IF_CALL) && (d->f & IF_TARGET);
    default: return 0;
    }
}

int hp_analyze(const hp_model *m, hp_itmap *carry, hp_read_fn read, void *ctx, uint32_t addr, uint32_t size,
               hp_block *b, uint32_t *costs, uint32_t *insn_addr, int max_insns, hp_uncert *u) {
    uint16_t hw[HP_MAX_BLOCK_BYTES / 2 + 1];
    if (size > HP_MAX_BLOCK_BYTES || size < 2) return -1;
    if (read(ctx, addr, hw, size)) return -1;
    uint32_t n_hw = size / 2;
    memset(b, 0, sizeof(*b));
    b->addr = addr;
    b->size = (uint16_t)size;
    b->target = HP_INDIRECT;
    int cm4 = m->model == 1;
    int it_left = it_state_at(m, carry, read, ctx, addr); /* the analysis' IT state (crosses block starts) */
    int cs_it = 0;                                 /* capstone's (from the block start only) */
    uint32_t cs_itstate = 0;                       /* condition bits of capstone's IT slots */
    int decoding = 1, count = 0;
    int32_t delta = 0, low = 0;
    uint32_t cycles = 0, flags = 0;
    /* previous instruction, for the pipeline rules */
    int have_prev = 0, prev_size = 4, prev_wpc = 0, prev_pipe_ok = 0, prev_store_imm = 0;
    uint16_t prev_load_dest = 0, prev_alu_dest = 0;
    uint64_t prev_fp_dest = 0;
    hp_insn d, last;
    int last_decoded = 0, last_itc = 0, last_ccond = 0;
    uint32_t lits = 0, lit0 = 0;
    uint32_t pos = 0;
    hp_affine st;
    int wide_run = 0;
    /* divides priced at the next block entry (hp_block.div): at most two per block, in address order */
    int div_defer = cm4 && m->div_cycles == TM_DIV_MIN, dv_n = 0, dv_open[2] = {0, 0};
    uint32_t dv_word[2] = {0, 0};
    uint16_t dv_regs[2] = {0, 0};
    if (u) {
        memset(u, 0, sizeof(*u));
        for (int r = 0; r < 16; r++) { st.reg[r] = (int8_t)r; st.off[r] = 0; }
    }
    while (pos < n_hw) {
        uint32_t a = addr + 2 * pos;
        int ok = decoding && hp_decode(a, &hw[pos], (int)(n_hw - pos), &d);
        if (!ok) { /* BlockAnalyzer.decode: everything from the first undecodable instruction on, by width */
            decoding = 0;
            uint32_t h = hw[pos];
            base_insn(&d, a, (h >> 11) >= 0x1D ? 4 : 2, TC_UNDEF);
            if (pos + d.size / 2 > n_hw) d.size = 2;
        }
        int itc = it_left > 0;
        if (it_left) it_left--;
        if (dv_n) { /* a divide still open before this instruction: does this one keep its operands? */
            int safe = ok && div_defer_ok(&d);
            for (int k = 0; k < dv_n; k++)
                if (dv_open[k] && (!safe || (d.wr & dv_regs[k]))) { dv_open[k] = 0; flags |= HP_DIV_HOOK; }
        }
        if (ok && d.tc == TC_DIV && div_defer) {
            uint32_t rn = hw[pos] & 0xFu, rm = hw[pos + 1] & 0xFu;
            uint16_t regs = (uint16_t)(R(rn) | R(rm));
            if (!itc && rn <= 12 && rm <= 12 && !(d.wr & regs) && dv_n < 2) {
                dv_word[dv_n] = HP_DIV_SLOT | ((hw[pos] & 0x20u) ? 0u : HP_DIV_SIGNED) | (((a - addr) / 2u) << 8) |
                                (rm << 4) | rn;
                dv_regs[dv_n] = regs;
                dv_open[dv_n++] = 1;
            } else {
                flags |= HP_DIV_HOOK;
            }
        }
        if (u) {
            if (d.size == 4 && (a & 3) == 2) { if (++wide_run == 3) u->wide_groups++; }
            else wide_run = 0;
            if (ok) uncert_insn(u, &st, &d, itc);
        }
        int ccond = 0;
        if (ok) {
            if (cs_it) {
                uint32_t cond = cs_itstate >> 4;
                ccond = cond != 14;
                cs_it--;
                cs_itstate = (cs_itstate & 0xE0) | ((cs_itstate << 1) & 0x1F);
            }
            if (d.f & IF_COND) ccond = 1;
            if (d.tc == TC_IT) {
                it_left = d.it;
                cs_it = d.it;
                cs_itstate = hw[pos] & 0xFF;
            }
        }
        /* cycles: simcore.cycles.CortexM4.block_costs */
        uint32_t cost = 1;
        int is_last = pos + d.size / 2 >= n_hw;
        int pipe_ok = 0, store_imm = 0;
        uint16_t load_dest = 0, alu_dest = 0;
        uint64_t fp_dest = 0;
        if (cm4 && ok) {
            uint16_t addr_regs = mem_regs(&d);
            /* TRM 3.3.2 "nothing can be pipelined after the store": loads and stores (not STM/PUSH) wait */
            int waits = d.tc == TC_LOAD || d.tc == TC_STORE || d.tc == TC_DOUBLE || d.tc == TC_TBB ||
                        d.tc == TC_FP_MEM || ((d.tc == TC_MULTI || d.tc == TC_FP_MULTI) && (d.f & IF_LOAD));
            uint32_t after_store = prev_store_imm && waits ? m->store_data_phase : 0;
            switch (d.tc) {
            case TC_LOAD: case TC_STORE: {
                int load_like = d.tc == TC_LOAD || (d.f & IF_EXCL); /* STREX "is treated more like an LDR" */
                if (d.tc == TC_LOAD && d.rt == 15) {
                    cost = 2 + m->load_pc_refill;
                } else {
                    int reg_offset = (d.f & IF_REGOFF) != 0;
                    cost = load_like || reg_offset ? 2 : 1; /* an immediate-offset store issues in 1 */
                    if (prev_pipe_ok && !(addr_regs & prev_load_dest)) cost -= 1;
                    if (addr_regs & prev_alu_dest) cost += 1;
                    pipe_ok = load_like;
                    store_imm = !load_like && !reg_offset;
                    if (load_like) load_dest = d.wr & (uint16_t)~R(15); /* the loaded register, a written-back base */
                }
                break;
            }
            case TC_DOUBLE:
                cost = 3 + ((addr_regs & prev_alu_dest) ? 1 : 0);
                break;
            case TC_MULTI: {
                cost = 1 + d.nregs;
                if ((d.f & IF_LOAD) && (d.f & IF_WPC)) cost += m->load_pc_refill;
                uint16_t base = addr_regs | ((d.f & IF_PUSHPOP) ? R(13) : R(d.rt));
                if (base & prev_alu_dest) cost += 1;
                break;
            }
            case TC_TBB: cost = 3 + m->load_pc_refill; break;
            case TC_CBZ: cost = 1; break;
            case TC_B: cost = ccond ? (is_last ? 1 : 1 + m->branch_refill) : 1 + m->branch_refill; break;
            case TC_BRANCH: cost = 1 + m->branch_refill; break;
            case TC_IT: cost = (have_prev && prev_size == 2 && !prev_wpc) ? 0 : 1; break;
            case TC_DIV: cost = m->div_cycles; alu_dest = d.wr; break;
            case TC_FP_MLA: cost = 3; fp_dest = d.sw; break;
            case TC_FP_DIV: cost = 14; fp_dest = d.sw; break;
            case TC_FP_MEM:
                cost = (d.f & IF_DREG) ? 3 : 2;
                if (addr_regs & prev_alu_dest) cost += 1;
                break;
            case TC_FP_MULTI: cost = 1 + d.nregs; break;
            case TC_VMOV:
                cost = d.ncore >= 2 ? 2 : 1;
                fp_dest = d.sw;
                alu_dest = d.wr & R_NAMES;
                break;
            case TC_FP_OTHER:
                fp_dest = d.sw;
                alu_dest = d.wr & R_NAMES;
                break;
            default: /* TC_OTHER */
                if (d.wr & R(15)) cost += m->branch_refill;
                alu_dest = d.wr & (uint16_t)~R(15);
                break;
            }
            if (prev_fp_dest && (d.sr & prev_fp_dest) && d.tc != TC_FP_MULTI) cost += 1;
            cost += after_store;
        }
        if (costs && count < max_insns) { costs[count] = cost; insn_addr[count] = a; }
        cycles += cost;
        count++;
        have_prev = 1;
        prev_size = d.size;
        prev_wpc = ok && (d.f & IF_WPC);
        prev_pipe_ok = pipe_ok;
        prev_store_imm = store_imm;
        prev_load_dest = load_dest;
        prev_alu_dest = alu_dest;
        prev_fp_dest = fp_dest;
        if (ok) {
            /* SP effect (simcore.blocks.sp_effect) */
            if (d.f & IF_SP_DYN) {
                flags |= HP_SP_DYNAMIC | HP_SP_READ;
            } else if (d.f & IF_SP_STATIC) {
                delta += d.sp;
                if (delta < low) { low = delta; flags |= HP_SP_READ; }
            }
            if ((d.f & IF_LIT) && in_flash(m, d.imm)) {
                if (!lits) lit0 = d.imm;
                lits++;
            }
            if (d.f & IF_MASK) flags |= HP_MASK;
            if (d.f & IF_CONTROL) flags |= HP_CONTROL;
            if (d.f & IF_SEV) flags |= HP_SEV;
            if (d.f & IF_DIVW) flags |= HP_DIV;
            if (d.f & IF_MULTIW) flags |= HP_MULTI;
            if (d.f & IF_ACCESSW) flags |= HP_ACCESS;
            int mbase = (d.tc == TC_MULTI || d.tc == TC_FP_MULTI) ? d.rt : d.rn;
            if ((is_load1(&d) || is_loadn(&d)) && mbase >= 0 && mbase != 13 && mbase != 15) flags |= HP_DATA;
        }
        last = d;
        last_decoded = ok;
        last_itc = itc;
        last_ccond = ccond;
        pos += d.size / 2;
    }
    if (it_left && count) carry_put(carry, addr + size, (uint32_t)it_left);

    for (int k = 0, j = 0; k < dv_n; k++)
        if (dv_open[k]) b->div[j++] = dv_word[k];
    b->n_insn = (uint32_t)count;
    b->cycles = cycles;
    b->sp_min_delta = low;
    /* how the block ends (simcore.cycles.block_end) */
    if (last_decoded) {
        int scale = cm4 ? 1 : 0;
        if (last.f & IF_CALL) flags |= HP_CALL_END;
        if (last.tc == TC_CBZ || (last.tc == TC_B && last_ccond && !last_itc)) {
            flags |= HP_COND_END;
            b->taken_extra = m->branch_refill * scale;
            b->target = last.imm & ~1u;
        } else if (last_itc && (last.f & IF_WPC)) {
            int load = last.tc == TC_LOAD || (last.tc == TC_MULTI && (last.f & IF_LOAD));
            flags |= HP_COND_END;
            b->taken_extra = (load ? m->load_pc_refill : m->branch_refill) * scale;
            if (last.f & IF_TARGET) b->target = last.imm & ~1u;
        }
        if ((last.f & IF_WPC) && !(last.f & IF_CALL) && last.tc != TC_CBZ && last.tc != TC_B) flags |= HP_RET_END;
        if (last.tc == TC_B && !(last.f & IF_COND) && last.imm == last.addr) {
            flags |= HP_SELF_LOOP;
            b->target = last.addr; /* the idle loop's address (the hot path stops there) */
        }
    }
    if (u) { /* timing_error.block_uncertainty: a block that ends without writing the PC was split */
        int pc_write = last_decoded && (last.f & IF_WPC);
        u->refill = pc_write && !(flags & HP_COND_END) ? 1 : 0;
        u->split = pc_write ? 0 : 1;
    }
    if (is_handler(m, addr)) flags |= HP_HANDLER;
    if (in_flash(m, addr)) {
        flags |= HP_IN_FLASH;
        b->line0 = addr >> 4;
        b->n_lines = (uint16_t)(((addr + size - 1) >> 4) - b->line0 + 1);
        if (!m->data_hook) {
            b->lit_count = (uint16_t)lits;
            b->lit_line = lits ? lit0 >> 4 : 0;
        }
    }
    b->flags = flags;
    return count;
}
