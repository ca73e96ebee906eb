/*
 * simcore hot path: the per-block accounting hook, in C.
 *
 * Unicorn calls hp_block_hook at the entry of every translated block (UC_HOOK_BLOCK).
 * The hook looks the block up in an open-addressing table of per-block costs, filled on a miss
 * by the C block analysis (thumb.c; Python's capstone analysis in simcore/blocks.py for cycle
 * models C does not know), adds instructions and cycles, keeps the stack-pointer low-water
 * mark, and stops emulation when the next virtual-time event or the instruction budget is due.
 * Block flags replace per-address hooks: idle loops (HP_SELF_LOOP), mask changes (HP_MASK) and
 * SEV are handled at the block's entry; blocks holding what Python hooks per address
 * (operand-priced divides, the optional traps) are shown to Python once (py_flags).
 *
 * Dynamic parts of the Cortex-M4 cycle model (simcore/cycles.py) are settled here:
 *  - a block ending in a conditional branch was priced as not taken; at the NEXT block's entry
 *    the refill penalty is added when that block is the branch target (or, for an indirect
 *    conditional PC write, anything but the fall-through);
 *  - flash wait states: a block in flash checks the 128-bit lines it spans against a
 *    direct-mapped instruction-line tag array (STM32 ART: 64 lines, sequential prefetch hides a
 *    miss on the line after the last one fetched; plain cache: no prefetch; none: every line
 *    costs the wait states) and its PC-relative literal loads against a data-line array.
 *  - profiling (off unless asked for): a shadow call stack (push at the block after a BL/BLX,
 *    or at an exception handler's first block; pop when a block starts at the top frame's
 *    return address) aggregated into a calling-context tree with calls and cycles per node.
 *
 * No link dependency on Unicorn: uc_emu_stop, uc_reg_read and uc_mem_read arrive as function
 * pointers taken from the bindings' library. simcore/hotpath.py holds the identical Python
 * fallback: both must give identical counts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thumb.h"
#include "timing.h"

struct rf_bus;
uint32_t *rf_stores(struct rf_bus *b); /* regfile.c: the register file's values */
void rf_flags_set(struct rf_bus *b, uint32_t reg, uint32_t flags); /* regfile.c: an entry's flags */

#define HP_NO_NODE 0xFFFFFFFFu
#define HP_NOT_PROBED 0xFFFFFFFFu /* hp_block.flash_words before a probe */
#define HP_MAX_SOURCES 4 /* peripheral interrupt sources C may deliver (besides SysTick) */
#define HP_MAX_NEST 8 /* active exceptions the nested return knows (hp_nested_return) */
#define HP_NV_WORDS 16 /* NVIC ISER/ICER/ISPR/ICPR words: 496 interrupts at most (ARMv7-M B3.4.1) */
#define HP_EV_SLOTS 8 /* peripheral event registers whose clear C may serve (hp_ack's event clears) */
#define HP_CH_MAX 16 /* planned DMA deliveries of one chain of wakes (hp_chain_wake) */
#define HP_TW_CHECKS 4 /* register-file values a TWIM read taken in C must still hold as planned (hp_twim_start) */
#define HP_TW_EVENTS 5 /* a TWIM read's events C sets: TXSTARTED, LASTTX, RXSTARTED, LASTRX, STOPPED */
#define HP_TW_NONE 0xFFFFFFFFu /* tw_ev_store: the event is not held by the register file (reads go to Python) */
#define HP_AP_OPS 4 /* register-file changes of a machine event C applies at its cycle (hp_apply) */
#define HP_AP_STORE 0u /* ap_kind: the value ap_index of the register file becomes ap_value */
#define HP_AP_FLAGS 1u /* ap_kind: the flags of entry ap_index become ap_value */
#define HP_AC_MAX 16 /* applications of one planned event and its model's next ones C may chain (hp_apply_chain) */
#define HP_NEVER 0xFFFFFFFFFFFFFFFFull
#define HP_UX_MAX 64    /* UARTE transfers C may start before Python takes them (hp_uarte_start) */
#define HP_UX_CAP 4096u /* their bytes (the console's) C may hold for Python */
#define HP_UX_OPS 4     /* register-file changes at a transfer's start, and at its end (HP_AP_OPS) */
#define HP_FS_PER_SECOND 1000000000000000ull

/* --- an nRF52 UARTE's TASKS_STARTTX served here (hp_uarte_start, from hp_ack; nRF52840 PS v1.7 6.34.2 "Transmission"):
   Python (Machine._arm_uarte, Nrf52Uarte.tx_start_plan) arms it at each arming when the model's STARTTX would do
   nothing but take TXD.MAXCNT bytes from TXD.PTR by EasyDMA (Data RAM) for the console, set EVENTS_TXSTARTED and hand
   TASKS_STOPTX back to Python (start ops), and plan the transfer's end as a machine event applied here at its cycle
   (end ops: EVENTS_TXDRDY, EVENTS_ENDTX, TASKS_STOPTX to C again): no interrupt, shortcut or PPI route sees those events,
   and the end comes before the next machine event, as Machine._plan_apply would plan it after Python's STARTTX. C
   copies the bytes to buf, logs the transfer (start cycle, count; its end cycle once applied) and plans the end
   (ap_*); Python's next sync (fr_done bit 64, Machine.settle_uarte) gives the model the transfers in order, as of
   their cycles, and the console the bytes. A machine struct of its own (hp_state.ux points to it), not snapshotted:
   Python settles every transfer before it re-arms, and each arming rewrites `on` --- */
typedef struct hp_utx {
    uint32_t on;         /* Python: 1: STARTTX may be served here (this arming); 2: once the event planned (ap_*, the
                            transfer under way's end) is applied (hp_apply makes it 1); 3: as 1, once C's view has
                            nothing pending (hp_none_pending: the arming had exceptions pending); 0: not */
    uint32_t task_addr;  /* Python: TASKS_STARTTX's address */
    uint32_t ptr_store;  /* Python: the register file's value index of TXD.PTR */
    uint32_t max_store;  /* ... of TXD.MAXCNT */
    uint32_t ram_lo;     /* Python: EasyDMA reads [ram_lo, ram_hi) (Data RAM backed by ram_host) */
    uint32_t ram_hi;
    const uint8_t *ram_host; /* Python: the host buffer of guest address ram_lo */
    uint64_t frame_fs;   /* Python: one frame on the wire (start, data, parity, stop bits at the baud rate) */
    uint64_t seg_cycle;  /* Python: the clock timeline's current segment: from cycle seg_cycle at seg_fs, */
    uint64_t seg_fs;     /* rate_num / rate_den Hz (clock.py Timeline.fs_at, cycle_at) */
    uint64_t rate_num;
    uint64_t rate_den;
    uint64_t plan_id;    /* Python: which plan the fields hold (Machine._arm_uarte rewrites them when it changes) */
    uint32_t n_start;    /* Python: register-file changes at STARTTX (HP_AP_* kinds) */
    uint32_t n_end;      /* ... at the end (ap_* of the planned end) */
    uint32_t start_kind[HP_UX_OPS], start_index[HP_UX_OPS], start_value[HP_UX_OPS];
    uint32_t end_kind[HP_UX_OPS], end_index[HP_UX_OPS], end_value[HP_UX_OPS];
    uint32_t planned;    /* C: ap_* is the end of transfer n - 1 (Python's arming clears it) */
    uint32_t n;          /* C: transfers logged since Python's last take (Python empties the log) */
    uint32_t len;        /* C: bytes in buf */
    uint32_t count[HP_UX_MAX];
    uint64_t start_cycle[HP_UX_MAX];
    uint64_t end_cycle[HP_UX_MAX]; /* HP_NEVER while the transfer is under way */
    uint8_t buf[HP_UX_CAP];
} hp_utx;

/* --- a K-tick stretch (hp_ks_*: Machine._plan_stretch, Machine.settle_stretch): the Nano 33 BLE Sense's tick
   (common/nano_imu.h nano_tick_wait, lsm9ds1_level, lsm9ds1_read_samples) run here for many ticks without Python.
   Each tick: TWIM1 TASKS_STARTTX of the FIFO_SRC read (TX one register byte, RX one byte; PS v1.7 6.31), the wfi
   woken at its STOPPED with the chip's answer in RXD.PTR, the drain (RX 6 n bytes from OUT_X_L_XL) and its STOPPED
   likewise, then the wfi woken at RTC1's next COMPARE[n] (6.22.7) and the firmware's CC[n] += step. The answers
   come from the chip's preview (Lsm9ds1.fifo_preview: the arrival cycle of each sample, FIFO_SRC by level, the
   samples' bytes), the compares from the RTC's chain (Nrf52Rtc.compare_chain); the transfers' cycles are
   hp_twim_start's. Anything else (another register, length or value, an overrun or an arrival past the preview, a
   compare past the chain, another machine event due) is refused: the access or the wfi is Python's, whose sync
   settles the logged ticks first, in order, each as the per-tick syncs before did (fr_done bit 256). The event
   clears and ICPR writes of the tick are served by hp_event_clear and hp_nvic_write as before; what they recorded
   for the stretch's two lines is moved at each step into the tick's log (``clr_*``, ``unp``) so that Python applies
   them where the per-tick syncs did. A struct of its own (hp_state.ks), not snapshotted: each arming rewrites it. */
#define HP_KS_TICKS 64     /* ticks logged before Python settles them */
#define HP_KS_ARRIVALS 2048 /* sample arrivals a preview reaches */
#define HP_KS_LEVELS 64    /* FIFO_SRC values by level (0 .. depth) */
typedef struct hp_ks {
    uint32_t on;          /* Python: 1 the stretch may start at the next FIFO_SRC read (this arming) */
    uint32_t task;        /* Python: TWIM TASKS_STARTTX's address */
    uint32_t reg_src;     /* Python: FIFO_SRC's register byte (the first read of a tick) */
    uint32_t reg_drain;   /* Python: the drain's (OUT_X_L_XL) */
    uint32_t unit;        /* Python: bytes a sample */
    uint32_t chk_n;       /* Python: register-file values the transfers need (ADDRESS, TXD.MAXCNT 1, SHORTS) */
    uint32_t chk_store[HP_TW_CHECKS];
    uint32_t chk_value[HP_TW_CHECKS];
    uint32_t txptr, rxptr, rxcnt; /* Python: the value indices of TXD.PTR, RXD.PTR, RXD.MAXCNT */
    uint32_t ev_store[HP_TW_EVENTS]; /* Python: TXSTARTED, LASTTX, RXSTARTED, LASTRX, STOPPED (register file) */
    uint32_t tw_irq;      /* Python: the TWIM's interrupt */
    uint32_t tw_ev;       /* Python: STOPPED's event-clear slot */
    uint32_t ram_base;    /* Python: Data RAM [ram_base, ram_base + ram_size), host address ram */
    uint32_t ram_size;
    const uint8_t *ram;
    uint64_t bit_fs;      /* Python: a bit period (fs) */
    uint64_t fpc;         /* Python: fs a cycle (whole on the present clock) */
    uint32_t cc_addr;     /* Python: CC[n]'s address */
    uint32_t cc_store;    /* Python: its value index */
    uint32_t cmp_store;   /* Python: EVENTS_COMPARE[n]'s value index */
    uint32_t rtc_irq;     /* Python: the RTC's interrupt */
    uint32_t rtc_ev;      /* Python: COMPARE[n]'s event-clear slot */
    uint32_t rtc_sole;    /* Python: the slot may be armed at the wake (the line's sole source: Event.wake's) */
    uint32_t cc_n;        /* Python: compares in the chain (cc_cycle, cc_value) */
    uint32_t cc_i;        /* C: the next compare to wake */
    uint64_t cc_cycle[HP_KS_TICKS + 1]; /* Python: each compare's cycle */
    uint32_t cc_value[HP_KS_TICKS + 1]; /* Python: the CC value it matches (the write after the one before) */
    uint64_t after;       /* Python: the first machine event not the stretch's: everything here comes before it */
    uint64_t free;        /* Python, then C: the line free from (the last transfer's STOPPED) */
    uint32_t arr_n;       /* Python: arrivals the preview holds (from sample ``first`` on) */
    uint32_t held;        /* Python: samples the FIFO held at the preview (from its oldest, data's first) */
    uint32_t popped;      /* C: samples drained since the preview (hp_twim_start's drain before the stretch too) */
    uint32_t depth;       /* Python: the FIFO's depth (a level above it is an overrun: refused) */
    uint32_t data_len;    /* Python: bytes in data */
    uint32_t pad0;
    const uint8_t *data;  /* Python: the samples' bytes from the oldest held at the preview */
    uint8_t src[HP_KS_LEVELS]; /* Python: FIFO_SRC at each level */
    /* Python: the samples in by a cycle c, as the chip counts them at a read then (Timeline.fs_at, RateClock.count_by):
       count_by(fs_at(c)) - first, fs_at(c) = tl_f0 + (c - tl_c0) tl_dfs / tl_num (floored; c on the present clock
       segment, from tl_c0), count_by(t) = ceil((t + 1) rate_num / rate_den_fs) - 1 */
    uint64_t first;       /* the first sample not in the FIFO at the preview */
    uint64_t rate_num;    /* the sample rate's numerator (Hz) */
    uint64_t rate_den_fs; /* its denominator times 10**15 */
    uint64_t tl_c0, tl_f0, tl_num, tl_dfs;
    /* C: the automaton */
    uint32_t phase;       /* the next step: 0 FIFO_SRC start, 1 its wake, 2 drain start, 3 its wake, 4 compare wake,
                             5 CC write */
    uint32_t n;           /* ticks logged (one is open from its FIFO_SRC start on) */
    uint64_t lasttx;      /* the transfer under way: its LASTTX and STOPPED cycles */
    uint64_t stopped;
    uint64_t saved;       /* the next stop before it */
    uint32_t tx, rx, cnt; /* its TXD.PTR, RXD.PTR, RXD.MAXCNT */
    uint32_t off;         /* its first sample (a drain) */
    uint32_t ans;         /* its answer (FIFO_SRC) */
    uint32_t pre_ux;      /* hp_uarte_start's transfers logged before the first step (the syncs' before) */
    uint32_t pre_clr_tw, pre_clr_rtc, pre_unp; /* the lines' clears and ICPRs recorded before the first step */
    uint32_t pad1;
    /* the log, a tick each (reached: 1 FIFO_SRC taken, 2 woken, 4 drain taken, 8 woken, 16 compare, 32 CC write) */
    uint32_t reached[HP_KS_TICKS];
    uint64_t t1_at[HP_KS_TICKS], t1_stopped[HP_KS_TICKS], t1_slept[HP_KS_TICKS];
    uint32_t t1_tx[HP_KS_TICKS], t1_rx[HP_KS_TICKS], t1_cnt[HP_KS_TICKS], t1_ans[HP_KS_TICKS];
    uint64_t t2_at[HP_KS_TICKS], t2_stopped[HP_KS_TICKS], t2_slept[HP_KS_TICKS];
    uint32_t t2_tx[HP_KS_TICKS], t2_rx[HP_KS_TICKS], t2_cnt[HP_KS_TICKS], t2_off[HP_KS_TICKS];
    uint64_t wk_at[HP_KS_TICKS], wk_slept[HP_KS_TICKS], mv_at[HP_KS_TICKS];
    uint32_t ux_n[HP_KS_TICKS];  /* hp_uarte_start's transfers logged by the tick's compare wake */
    uint32_t clr_tw[HP_KS_TICKS], clr_rtc[HP_KS_TICKS], unp[HP_KS_TICKS]; /* recorded in the tick (unp: 1 the TWIM's
                                                                               ICPR, 2 the RTC's) */
} hp_ks;
/* fr_done after an exception entry, return or pend made here: bit 1 (SystemBlock.sync_native's exception bookkeeping);
   the other bits' work is found by counters at the sync, but bit 64's UARTE transfers (hp_uarte_start) only by the
   bit: kept, so a handler C takes and returns while a transfer is logged does not lose it for Machine.settle_uarte */
#define HP_DONE_EXC(s) ((s)->fr_done = 1u | ((s)->fr_done & 64u))
/* what a take (hp_nv_take) may leave owed to Python's next sync: entries and returns (1), NVIC writes (2), counts (4),
   an applied event's bookkeeping (16: Event.apply's settle changes no interrupt line, so a take after it takes what
   Python's take after its settle would; a console line's end applied in C leaves it before nested's interrupts) and
   UARTE transfers (64) */
#define HP_TAKE_OWED 87u
/* hp_state.slow_next: why the next block entry takes the general path */
#define HP_SLOW_SP 1u      /* the previous block wrote SP dynamically: read it */
#define HP_SLOW_PROFILE 2u /* profiling */
#define HP_SLOW_SPIN 4u    /* the previous block ended in a branch to itself at spin_next */
/* block flags that need the general path */
#define HP_GENERAL_FLAGS (HP_SP_READ | HP_MASK | HP_SEV | HP_SELF_LOOP | HP_CONTROL)

/* One shadow-stack frame of the profiler. */
typedef struct {
    uint32_t func;     /* function (or handler) entry address */
    uint32_t ret;      /* address whose block entry pops this frame */
    uint32_t node;     /* calling-context tree node */
    uint32_t pad;
    uint64_t entry;    /* cycle_count at entry */
    uint64_t child;    /* cycles spent in callees (inclusive) */
} hp_frame;

/* One calling-context tree node; mirrored by simcore/hotpath.py (ProfNode). */
typedef struct {
    uint32_t parent;   /* HP_NO_NODE for a root */
    uint32_t func;
    uint32_t isr;      /* 1: entered as an exception handler */
    uint32_t pad;
    uint64_t calls;
    uint64_t incl;     /* inclusive cycles over completed calls */
    uint64_t excl;     /* exclusive cycles over completed calls */
} hp_node;

/* Interrupt timeline entry (profiling only): kind 1 enter, 2 leave. */
typedef struct {
    uint32_t kind;
    uint32_t func;
    uint64_t cycle;
} hp_event;

typedef int (*hp_miss_fn)(uint32_t addr, uint32_t size); /* non-zero: stop, retranslate, resume */
typedef int (*uc_emu_stop_fn)(void *uc);
typedef int (*uc_reg_read_fn)(void *uc, int regid, void *value);
typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, uint64_t size);
typedef int (*uc_reg_batch_fn)(void *uc, int *regs, void **vals, int count);
typedef int (*uc_reg_write_fn)(void *uc, int regid, const void *value);
typedef int (*uc_mem_write_fn)(void *uc, uint64_t address, const void *bytes, uint64_t size);
typedef void (*hp_intr_fn)(uint32_t intno); /* Python's UC_HOOK_INTR handler */
typedef uint64_t (*hp_ppb_read_fn)(uint32_t addr, uint32_t size);
typedef void (*hp_ppb_write_fn)(uint32_t addr, uint32_t size, uint64_t value);

#define HP_MAX_WINDOWS 8
/* Register ids of the fast exception return, filled by Python from unicorn.arm_const (index order). */
enum { FR_IPSR, FR_CONTROL, FR_MSP, FR_PSP, FR_FAULTMASK, FR_R0, FR_R1, FR_R2, FR_R3, FR_R12, FR_LR, FR_XPSR,
       FR_PC, FR_S0, FR_FPSCR = FR_S0 + 16, FR_BASEPRI, FR_PRIMASK, FR_NREGS };

/* Field order is mirrored by simcore/hotpath.py (ctypes Structure): keep them in step. */
typedef struct {
    uint64_t insn_count;   /* retired instructions (whole blocks; corrected when a run stops mid-block) */
    uint64_t cycle_count;  /* virtual clock in core cycles */
    uint64_t stop_cycle;   /* stop before the first block entered at or after this cycle */
    uint64_t stop_insn;    /* instruction budget */
    uint64_t block_count;
    uint32_t sp_low;       /* stack-pointer low-water mark */
    uint32_t slow_next;    /* HP_SLOW_*: the next block entry takes the general path */
    uint32_t last_addr;    /* last block counted, for mid-block correction in Python */
    uint32_t last_size;
    uint32_t stop_requested; /* 1 when the hook stopped emulation for a due event or budget */
    uint32_t miss_failed;
    hp_block *table;
    uint32_t mask;         /* table capacity - 1 (power of two) */
    uint32_t used;
    hp_miss_fn miss;
    uc_emu_stop_fn emu_stop;
    uc_reg_read_fn reg_read;
    int32_t sp_regid;
    /* the ART's generation (accel 1): counts the changes of its line tags, 1..0xFFFF. A block stamped with the
       generation after its lines were checked (hp_block.art_gen) finds them all present while the generation is
       unchanged: no tag changed since, so its check would miss nothing and only move last_line (hp_flash_hit).
       Next to the table's fields: the block hook reads it with them. */
    uint32_t art_gen;
    /* --- cycle model: dynamic parts --- */
    uint64_t flash_wait_cycles;   /* share of cycle_count spent in flash wait states */
    uint64_t branch_taken_cycles; /* refill cycles added for taken conditional branches */
    uint32_t pend_cond;     /* the previous block ended with a conditional branch */
    uint32_t pend_target;
    uint32_t pend_fall;     /* its fall-through address */
    uint32_t pend_extra;
    uint32_t wait_states;
    uint32_t accel;         /* 0 none, 1 STM32 ART (prefetch + I + D lines), 2 instruction cache only */
    uint32_t imask;         /* instruction lines - 1 (power of two) */
    uint32_t dmask;         /* data lines - 1 */
    uint32_t *itags;        /* line tags, 0xFFFFFFFF empty */
    uint32_t *dtags;
    uint32_t last_line;     /* last instruction line fetched (for sequential prefetch) */
    uint32_t prefetch;
    /* --- profiler (profiling != 0) --- */
    uint32_t profiling;
    uint32_t pend_call;     /* previous block ended with BL/BLX: its fall-through is the return address */
    uint32_t call_ret;
    uint32_t depth;
    uint32_t max_depth;
    uint32_t dropped;       /* pushes refused because the shadow stack was full */
    hp_frame *frames;
    hp_node *nodes;
    uint32_t n_nodes;
    uint32_t cap_nodes;
    uint32_t *node_hash;    /* open addressing over nodes, capacity 2 * cap_nodes */
    hp_event *events;
    uint32_t n_events;
    uint32_t cap_events;
    uc_mem_read_fn mem_read;
    uint32_t node_overflow; /* node table could not grow */
    uint32_t pend_ret;      /* previous block ended with a possible return */
    /* --- native exception return (hp_intr_hook; Python's twin is ExceptionModel.exception_return) --- */
    uint32_t fr_exc;        /* Python: the only active exception, returnable here (0: defer to Python) */
    uint32_t fr_done;       /* C: a return was done here since Python's last sync */
    uint32_t fr_excret;     /* ... with this EXC_RETURN */
    uint32_t fr_fpu;        /* the core has an FPU */
    uint32_t fr_stkalign;   /* CCR.STKALIGN */
    uint32_t fr_cycles;     /* simcore.cycles.EXCEPTION_RETURN */
    uint32_t n_windows;     /* memories in board order: the first holding a range decides (board.memory_at) */
    uint32_t pad2;
    uint32_t win_base[HP_MAX_WINDOWS];
    uint32_t win_end[HP_MAX_WINDOWS];
    uint32_t win_ram[HP_MAX_WINDOWS];
    uint8_t *win_ptr[HP_MAX_WINDOWS];
    int32_t rid[FR_NREGS];
    uc_reg_batch_fn reg_read_batch;
    uc_reg_batch_fn reg_write_batch;
    uc_reg_write_fn reg_write;
    hp_intr_fn intr_fallback;
    uint64_t fast_returns;  /* statistics: returns done here */
    /* --- native SysTick delivery (hp_tick): Python arms it, see SystemBlock.arm_native --- */
    uint64_t tick_cycle;    /* cycle of the next SysTick zero (the SysTick event at the head of the queue) */
    uint64_t tick_period;   /* (LOAD + 1) * clock divider */
    uint64_t other_cycle;   /* earliest other event (0: no native tick) */
    uint64_t tick_entries;  /* SysTick entries done here (cumulative) */
    uint32_t tick_ok;       /* Python: nothing pending, SysTick counting with TICKINT, SLEEPONEXIT clear */
    uint32_t c_active;      /* active exceptions (Python sets it; C keeps it across its entries/returns) */
    int32_t tick_group;     /* SysTick's group priority */
    uint32_t tick_prio_mask;
    uint32_t tick_prigroup;
    uint32_t tick_vector;   /* VTOR + 4 * 15 */
    uint32_t tick_flags;    /* hp_enter flags */
    uint32_t tick_stack_limit; /* __StackLimit while the stack watch is on, else 0 */
    uint32_t tick_last_frame; /* the last native entry's frame (SysTick or a source) */
    uint32_t tick_last_psp;   /* ... stacked on PSP */
    uint32_t tick_psp_seen;
    uint32_t fr_left;       /* the exception the last native return left */
    uint32_t entry_cycles;  /* simcore.cycles.EXCEPTION_ENTRY */
    uint32_t py_stop;       /* Python asked Unicorn to stop (emu_stop): no redirect may undo that */
    /* --- block analysis in C (thumb.c) and what it moved out of per-address hooks --- */
    hp_model *model;        /* cycle model and firmware tables for hp_analyze */
    uint32_t native_analysis; /* 1: analyse blocks here; 0: ask Python (miss) for every new block */
    uint32_t py_flags;      /* block flags Python must see at translation (miss): trap watches it installs */
    uint32_t irq_pending;   /* Python: an exception is pending (a mask change may let it in: HP_MASK) */
    uint32_t sev_count;     /* blocks holding SEV entered (the event register, B1.5.18) */
    uint32_t spin_next;     /* the previous block ended with the branch-to-self at this address */
    uint32_t spin_skip;     /* resumed at this idle loop after a spin stop: let it run once uncounted */
    uint32_t spin_at;       /* a spin stop happened at this idle loop (0: none) */
    uint32_t mpu_on;        /* Python: the MPU is enabled (a privilege change must re-map it: HP_CONTROL) */
    uint32_t control_blocks; /* blocks holding MSR CONTROL entered (HP_CONTROL) */
    uint32_t hot_at;        /* byte offset in the table of the slot of the last block found: a one-entry cache of
                               hp_find (a loop re-entering itself skips the hash), its key checked at each use; the
                               table's geometry (hp_alloc sets 0, snapshots leave it) */
    uint64_t analyses;      /* blocks analysed in C (statistics) */
    uint64_t prefetch_hidden; /* instruction-line misses the ART's sequential prefetch hid (the error bar's) */
    int32_t core_rid[16];   /* Unicorn ids of R0-R12, SP, LR, PC (the flash-words probe) */
    hp_itmap carry;         /* IT state carried across block starts (hp_analyze) */
    /* --- native delivery of peripheral interrupts (hp_source): Python plans each source's next
       assertion (a machine event before any other, SystemBlock.arm_native / Machine._arm); C enters
       it at that block boundary, once, and Python's next sync tells the peripheral (native_fired) */
    uint64_t src_next[HP_MAX_SOURCES];   /* cycle of the source's next assertion, HP_NEVER when none */
    uint64_t src_cycle[HP_MAX_SOURCES];  /* the cycle C last delivered it at */
    uint32_t src_entries[HP_MAX_SOURCES]; /* deliveries done here (cumulative) */
    uint32_t src_exc[HP_MAX_SOURCES];    /* exception number (16 + IRQ) */
    int32_t src_group[HP_MAX_SOURCES];   /* its group priority */
    uint32_t src_vector[HP_MAX_SOURCES]; /* VTOR + 4 * exception */
    uint32_t c_exc;         /* the exception C entered and has not seen return (when c_active) */
    uint32_t tick_last_fp;  /* the last native entry stacked an extended (FP) frame: FPCAR = frame + 0x20 */
    /* --- native acknowledge (hp_ack): a periodic source's handler clears its interrupt by a register
       write (RF_ACK in regfile.c); C plans the next assertion itself, Python's next sync tells the
       peripheral (native_irq_acked). Python sets the plan with each assertion (SystemBlock.arm_native). */
    uint64_t src_tick[HP_MAX_SOURCES];   /* the counter tick of the planned assertion */
    uint64_t src_pticks[HP_MAX_SOURCES]; /* ticks between assertions (0: acknowledges go to Python) */
    uint64_t src_cpu[HP_MAX_SOURCES];    /* cycle of tick t = ceil(t * src_cpu / src_hz) */
    uint64_t src_hz[HP_MAX_SOURCES];
    uint64_t src_ack_cycle[HP_MAX_SOURCES]; /* the cycle of C's last acknowledge */
    uint32_t src_ack_addr[HP_MAX_SOURCES];  /* the acknowledge register (0: none) */
    uint32_t src_ack_mask[HP_MAX_SOURCES];  /* a write with one of these bits set acknowledges */
    uint32_t src_unacked[HP_MAX_SOURCES];   /* C delivered it since Python's last sync and saw no acknowledge */
    uint32_t src_acks[HP_MAX_SOURCES];      /* acknowledges done here (cumulative) */
    /* --- native PendSV (hp_pendsv, the tail-chain in hp_fast_return): a handler C entered sets
       ICSR.PENDSVSET (a context switch requested from the tick); PendSV is taken by tail-chaining at
       that handler's return. Python arms it (SystemBlock.arm_native) and syncs it (sync_native). */
    uint32_t psv_ok;        /* Python: PendSV neither pending nor active, the calm state of hp_tick */
    int32_t psv_group;      /* PendSV's group priority */
    uint32_t psv_vector;    /* VTOR + 4 * 14 */
    uint32_t psv_pending;   /* set by a write C served, not yet seen by Python */
    uint32_t psv_sets;      /* ICSR writes served here (cumulative) */
    uint32_t chains;        /* tail-chains into PendSV or SysTick done here (cumulative) */
    uint32_t tc_cycles;     /* simcore.cycles.TAIL_CHAIN */
    uint32_t tick_pend;     /* SysTick fired here while a handler ran (hp_tick_pend), not yet taken */
    uint64_t tick_fires;    /* ... times (cumulative): Python moves its SysTick event at its sync */
    int32_t c_group;        /* the group priority of c_exc (Python sets both when it arms C) */
    uint32_t pad5;
    hp_ppb_read_fn ppb_read;   /* the system control space page's accesses C does not serve: Python */
    hp_ppb_write_fn ppb_write;
    /* --- the persistent cache (simcore/blockcache.py) --- */
    uint64_t cache_new;     /* blocks analysed here that the cache file would hold (0: nothing to save) */
    /* --- FPCAR reads served here (hp_ppb_mmio_read) --- */
    uint32_t c_entered;     /* C stacked an exception frame since Python's last sync_native (which clears it) */
    uint32_t fpcar_reads;   /* FPCAR reads served here (cumulative) */
    uint64_t entries;       /* block entries, never taken back (block_count is, by the debugger): tm_div_hook's clock */
    /* --- divides priced at the next block entry (hp_block.div, thumb.h): no per-address hook --- */
    uint32_t dv_pend[2];    /* the deferred divides of the last block entered (0: none); tm_div_hook reads them */
    uint32_t dv_addr;       /* that block's address (the slots' offsets are from it) */
    uint32_t dv_on;         /* Python: defer (0: every divide has its hook, HotPath.disable_defer) */
    tm_div_stats *div_stats; /* the divide counters, shared with the hooks (timing.c) */
    uint64_t dv_settled;    /* divides priced at a block entry or a stop (statistics) */
    const uint32_t *dv_env; /* R0-R12 in the engine's CPU state (HotPath._cpu_regs), or NULL: uc_reg_read; SP, LR
                               and PC follow (regs[13..15], checked there too: hp_poll_regs) */
    /* --- the block-entry clock: cycle_count at the last block hook's due check, before the block's own cycles
       (regfile.c's RF_TIMED reads compare it: a read sees what a machine event at or before it changed) --- */
    uint64_t block_cycle;
    /* --- exception returns with several exceptions active or some pending (hp_list_return): Python lists them
       (SystemBlock.arm_native) and reads the lists back at its sync (sync_native) --- */
    uint32_t nest_on;       /* Python: the lists below are armed (0: such returns are Python's) */
    uint32_t nest_n;        /* active exceptions listed */
    uint32_t nest_exc[HP_MAX_NEST];  /* their exception numbers, in no particular order */
    int32_t nest_group[HP_MAX_NEST]; /* their group priorities */
    uint32_t nest_ret[HP_MAX_NEST];  /* 1: returnable here (not NMI or a fault, its line not held high) */
    uint32_t lp_n;        /* pending exceptions listed (the enabled ones: highest_pending skips the others) */
    uint32_t nest_returns;  /* returns with a PopStack done here (cumulative; fast_returns counts them too) */
    uint32_t lp_exc[HP_MAX_NEST];
    int32_t lp_prio[HP_MAX_NEST];  /* priority (the order of highest_pending, the number breaking ties) */
    int32_t lp_group[HP_MAX_NEST];
    uint32_t lp_vector[HP_MAX_NEST]; /* VTOR + 4 * exception */
    uint32_t lp_ret[HP_MAX_NEST];  /* returnable once active (nest_ret) */
    /* --- NVIC ISER/ICER/ICPR writes served here (hp_nvic_write): Python arms the bits (SystemBlock.arm_native),
       C keeps what it changed until Python's next sync (sync_native applies it to the exception model) --- */
    uint32_t nv_on;         /* Python: 1 ICER/ICPR may be served here, 2 ISER too (SCR.SEVONPEND clear) */
    uint32_t nv_nirq;       /* the part's interrupts (bits beyond them are ignored, as the NVIC model does) */
    uint32_t nv_writes;     /* writes served here (cumulative; the polling watch counts them as MMIO writes) */
    uint32_t nv_dirty;      /* bit w: word w of the three below changed since Python's last sync */
    uint32_t nv_pending[HP_NV_WORDS]; /* Python: pending interrupts at its arming, less the clears served here */
    uint32_t nv_held[HP_NV_WORDS];    /* Python: lines held high (a clear pends again: Python's) */
    uint32_t nv_en_set[HP_NV_WORDS];  /* enables set here since Python's last sync (a bit's last write wins) */
    uint32_t nv_en_clr[HP_NV_WORDS];  /* enables cleared here since then */
    uint32_t nv_unpended[HP_NV_WORDS]; /* pending bits cleared here since then */
    /* --- DWT CYCCNT reads served here (hp_dwt_mmio_read): Python's Dwt model publishes its state whenever it
       changes (Dwt.publish: a write to CTRL or CYCCNT, DEMCR.TRCENA, a reset), so a word read of CYCCNT returns
       what Dwt.cyccnt() would, ARMv7-M C1.8.8; everything else on the DWT page is Python's --- */
    uint64_t dwt_origin;    /* the cycle at which CYCCNT was 0 while it counts (mod 2^64) */
    uint32_t dwt_on;        /* Python: 1 serve CYCCNT reads here (bit 2 set: the polling watch looks at every read) */
    uint32_t dwt_counting;  /* DWT_CTRL.CYCCNTENA and DEMCR.TRCENA (C1.8.2, C1.6.5) */
    uint32_t dwt_frozen;    /* CYCCNT while it does not count */
    uint32_t dwt_reads;     /* reads served here (cumulative): MMIO reads for Python's polling watch (sync_native) */
    /* --- event clears served here (hp_ack): a firmware write of 0 to a peripheral event register (nRF52 EVENTS_x,
       PS v1.7 6.1.4) whose event is, by Python's arming, the only one holding its interrupt line high; the
       register file's store becomes 0, the line falls in C's NVIC view (nv_held), and Python's next sync
       (SystemBlock.sync_native) applies the clear to the peripheral model and the line to the exception model --- */
    uint32_t ev_n;          /* slots in use (Python registers them: SystemBlock.event_clear_slot) */
    uint32_t ev_clears;     /* clears served here (cumulative) */
    uint32_t ev_addr[HP_EV_SLOTS];    /* the event register */
    uint32_t ev_irq[HP_EV_SLOTS];     /* its peripheral's interrupt */
    uint32_t ev_store[HP_EV_SLOTS];   /* the register file's value index of the event */
    uint32_t ev_armed[HP_EV_SLOTS];   /* Python: the event is set and alone holds the line high */
    uint32_t ev_cleared[HP_EV_SLOTS]; /* clears served here since Python's last sync */
    struct rf_bus *ev_bus;  /* the register file holding the events' values */
    /* --- write-1-to-clear flag registers (slots with ev_w1c set: STM32F4 DMA LIFCR/HIFCR, RM0090 10.5.3; simcore's
       sensor STATUS): a word write within ev_w1c that holds every bit of ev_need (the flags holding the line high)
       clears its bits from the store, and the line falls; Python's sync gives the model the bits and the cycle --- */
    uint32_t ev_w1c[HP_EV_SLOTS];   /* Python: the bits a write may clear (0: the write-0 rule above) */
    uint32_t ev_need[HP_EV_SLOTS];  /* Python: the bits a write must clear (those holding the line high) */
    uint32_t ev_value[HP_EV_SLOTS]; /* C: the bits the last clear served here cleared */
    uint64_t ev_cycle[HP_EV_SLOTS]; /* C: its cycle */
    /* --- a machine event applied in C at its cycle (hp_apply, from hp_due): Python plans it (Machine._arm_events,
       Event.apply) when the next machine event is a peripheral's whose visible effect is a few register-file changes
       (an event register set while its interrupt is off and no shortcut or PPI route sees it: the RNG's VALRDY, the
       UARTE's TXDRDY/ENDTX), nothing is pending and nothing else comes at or before it. At the block boundary where
       the run loop would have stopped for it, C makes the changes and goes on to the next stop: the next other
       event (ap_after) or the model's own next one ap_period cycles on; Python's next sync (SystemBlock.sync_native,
       fr_done bit 16) does the model's bookkeeping as of that cycle (Machine.settle_apply) --- */
    uint64_t ap_cycle;      /* cycle of the planned event (HP_NEVER: none) */
    uint64_t ap_after;      /* Python: the next live machine event's cycle after it */
    uint64_t ap_period;     /* Python: the model schedules its next event this many cycles after it (0: none) */
    uint64_t ap_at;         /* C: the cycle of the last event applied */
    uint32_t ap_done;       /* C: events applied (cumulative; the polling watch links no read across one) */
    uint32_t ap_n;          /* Python: changes to make */
    uint32_t ap_kind[HP_AP_OPS];  /* HP_AP_STORE or HP_AP_FLAGS */
    uint32_t ap_index[HP_AP_OPS]; /* the register file's value or entry */
    uint32_t ap_value[HP_AP_OPS];
    /* --- a wfi woken in C (hp_wfi_hook, a code hook on each wfi): Python plans the wake (SystemBlock.arm_native,
       Machine._arm_events) when the next machine event is a peripheral event C can do at its cycle -- an event
       register becoming 1 in the register file and its interrupt line going high (pending, not taken: PRIMASK is
       set) -- and nothing else comes at or before it. C sleeps to that cycle (sleep cycles kept in wk_slept), does
       the event's register and NVIC part, and the core goes on after the wfi without a run-loop stop; Python's next
       sync (SystemBlock.sync_native, fr_done bit 8) runs the model's event as of that cycle (Machine.settle_wake) --- */
    uint64_t wk_cycle;      /* cycle of the planned wake event (HP_NEVER: none) */
    uint64_t wk_after;      /* the first other machine event's cycle: the next stop once woken */
    uint64_t wk_at;         /* the cycle of C's last wake */
    uint64_t wk_slept;      /* sleep cycles C accounted (cumulative) */
    uint32_t wk_wakes;      /* wakes done here (cumulative) */
    uint32_t wk_store;      /* the register file's value index of the event register set to 1 */
    uint32_t wk_irq;        /* the interrupt line it raises */
    uint32_t wk_ev;         /* the event-clear slot armed with it (hp_ack), HP_EV_SLOTS: none */
    uint32_t wk_sole;       /* the event alone holds the line then (arms that slot) */
    uint32_t wk_stack_limit; /* __StackLimit while the stack watch is on (on_halt's check_stack), else 0 */
    /* --- a wfi with an interrupt already pending wakes at once (hp_wfi_hook, B1.5.19): what Python's on_halt finds at
       once (SystemBlock.on_halt: highest_pending, then take_pending with PRIMASK set takes nothing); Python arms the
       interrupt (SystemBlock.arm_native), C checks it is still pending in its NVIC view (an ICPR it served clears
       nv_pending), still enabled, PRIMASK still set --- */
    uint32_t wp_irq;        /* Python: IRQ + 1 of the enabled interrupt pending at its arming (0: none) */
    uint32_t wp_skips;      /* wfis woken at once here (cumulative; the polling watch links no read across one) */
    /* --- a chain of wfis woken in C with a DMA delivery each (hp_chain_wake, from hp_wfi_hook): Python plans up to
       HP_CH_MAX of a sensor block's DMA halves ahead (Machine._plan_chain, Event.chain) -- each half's bytes, its
       guest address, the STATUS bits it sets and the line it raises -- when the next machine event is the first of
       them and nothing else comes before the last. At each wfi reached with the half's cycle next, the model's
       STATUS all clear and its line low (the firmware cleared the last half's flag: no overrun), C sleeps to the
       cycle, writes the half into guest RAM, sets STATUS and the line (pending, not taken: PRIMASK set), arms
       STATUS's write-1-to-clear slot (ch_ev) for it and goes on after the wfi. The clears of that slot are logged
       (ch_clr_*), so Python's next sync (SystemBlock.sync_native, fr_done bit 32) settles halves and clears in
       cycle order as the model would have run them (Machine.settle_chain) --- */
    uint64_t ch_cycle[HP_CH_MAX + 1]; /* Python: each half's cycle; [ch_n]: the model's next event after the last */
    uint64_t ch_after;      /* Python: the first other machine event's cycle (no half at or after it) */
    uint64_t ch_slept;      /* C: sleep cycles of the chain's wakes (cumulative) */
    uint64_t ch_clr_cycle[HP_CH_MAX + 1]; /* C: cycles of the slot's clears served since Python's last sync */
    uint32_t ch_n;          /* Python: halves planned (0: no chain) */
    uint32_t ch_i;          /* C: halves of the plan done */
    uint32_t ch_done;       /* C: halves done (cumulative; the polling watch links no read across one) */
    uint32_t ch_store;      /* Python: the register file's value index of STATUS */
    uint32_t ch_irq;        /* Python: the model's interrupt line */
    uint32_t ch_ev;         /* Python: STATUS's clear slot (hp_event_clear), HP_EV_SLOTS: none */
    uint32_t ch_bytes;      /* Python: bytes of one half */
    uint32_t ch_value[HP_CH_MAX]; /* Python: the STATUS bits each half sets (the flags holding the line high) */
    uint32_t ch_dst[HP_CH_MAX];   /* Python: guest address of each half */
    uint32_t ch_clr_n;      /* C: clears logged since Python's last sync (Python empties the log) */
    uint32_t ch_clr_value[HP_CH_MAX + 1]; /* C: the bits each cleared */
    const uint8_t *ch_data; /* Python: ch_n halves of ch_bytes each, in order */
    uc_mem_write_fn mem_write; /* uc_mem_write, from the bindings */
    /* --- a compare register moved on in C after the wfi wake at its match (hp_cc_move, from hp_ack): Python plans it
       with the wake (Machine._plan_move, Event.move) when the wake's event is a counter compare the firmware moves on
       by a step it wrote before (the nRF52 RTC's COMPARE[n] and CC[n] += step, PS v1.7 6.22.7): the write of exactly
       the next value, after that wake and before the moved compare's cycle (the counter then has passed none of its
       targets: the model's reschedule finds that compare), stores the value in the register file and makes the
       moved compare's cycle (Python's tick -> cycle, planned) the next stop at the latest; Python's next sync
       (SystemBlock.sync_native, fr_done bit 64) makes the model's write as of that cycle (Machine.settle_move) --- */
    uint64_t mv_from;       /* Python: the cycle of the planned wake (wk_cycle) the write must follow */
    uint64_t mv_cycle;      /* Python: the cycle of the compare once moved (the write must come before it) */
    uint64_t mv_at;         /* C: the cycle of the last write served */
    uint32_t mv_addr;       /* Python: the compare register's address (0: no plan) */
    uint32_t mv_value;      /* Python: the value the write must have */
    uint32_t mv_store;      /* Python: the register file's value index of the compare register */
    uint32_t mv_done;       /* C: writes served (cumulative) */
    hp_utx *ux;             /* Python: an nRF52 UARTE's STARTTX served here (hp_uarte_start), NULL: none */
    uint32_t ux_ends;       /* C: transfer ends applied here (cumulative; the polling watch links no read across one) */
    uint32_t sh_on;         /* Python: semihosting SYS_ELAPSED may be served here (hp_semi_elapsed; no debugger) */
    uint64_t sh_elapsed;    /* C: SYS_ELAPSED calls served here (cumulative; Python counts them in its calls) */
    /* --- an nRF52 TWIM register read done in C (hp_twim_start from hp_ack, hp_twim_wake from hp_wfi_hook; PS v1.7
       6.31): Python offers the next read of one chip (Machine._plan_twim, Nrf52Twim.twim_offer) when the chip can
       tell its answer now and until tw_quiet without side effects (the LSM9DS1's FIFO drain after FIFO_SRC). The
       firmware's TASKS_STARTTX write is taken here when the register file still holds the planned ADDRESS, TXD.MAXCNT
       and SHORTS (LASTTX_STARTRX | LASTRX_STOP), TXD.PTR's byte is the planned register address and RXD.MAXCNT is
       within the preview: the transfer's cycles follow from the write's (START and a byte 10 bit periods, 9 a byte
       after, STOP 2: the model's timing), TXSTARTED is set, and C stops at LASTTX unless the core sleeps in wfi
       first; then C sleeps to STOPPED, writes the previewed bytes to RXD.PTR, sets the transfer's events and
       STOPPED's line (pending, not taken: PRIMASK set, B1.5.19), arms STOPPED's clear slot and goes on. Python's next
       sync (SystemBlock.sync_native, fr_done bit 128) runs the model's write and events as of their cycles
       (Machine.settle_twim), the chip's real read among them --- */
    uint64_t tw_free;       /* Python: the cycle from which the TWIM's line is free (a STARTTX before: Python's) */
    uint64_t tw_quiet;      /* Python: the chip's answer holds for a read (at LASTTX) before this cycle */
    uint64_t tw_at;         /* C: cycle of the STARTTX write taken */
    uint64_t tw_lasttx;     /* C: its LASTTX cycle (the chip's read, through the LASTTX_STARTRX shortcut) */
    uint64_t tw_stopped;    /* C: its STOPPED cycle */
    uint64_t tw_saved;      /* C: stop_cycle before the write (the next stop once woken) */
    uint64_t tw_slept;      /* C: sleep cycles of its wakes (cumulative) */
    uint64_t tw_bit_fs;     /* Python: one bit period in fs */
    uint64_t tw_fpc;        /* Python: fs per cycle on the current clock (a whole number) */
    uint32_t tw_on;         /* Python: 1 the next STARTTX write may be taken */
    uint32_t tw_flight;     /* C: 1 a write taken whose STOPPED wake has not come */
    uint32_t tw_taken;      /* C: writes taken (cumulative) */
    uint32_t tw_woken;      /* C: wfis woken at STOPPED (cumulative) */
    uint32_t tw_task;       /* Python: the TASKS_STARTTX register */
    uint32_t tw_reg;        /* Python: the register address (TXD.PTR's byte) the preview answers */
    uint32_t tw_len;        /* Python: bytes previewed */
    uint32_t tw_unit;       /* Python: RXD.MAXCNT must be a multiple of it */
    uint32_t tw_ram_base;   /* Python: the guest RAM window TXD.PTR and RXD.PTR must be in */
    uint32_t tw_ram_size;
    uint32_t tw_irq;        /* Python: the TWIM's interrupt line */
    uint32_t tw_ev;         /* Python: STOPPED's clear slot (hp_event_clear), HP_EV_SLOTS: none */
    uint32_t tw_chk_n;      /* Python: values to check */
    uint32_t tw_chk_store[HP_TW_CHECKS]; /* Python: their register-file value indices (ADDRESS, TXD.MAXCNT, SHORTS) */
    uint32_t tw_chk_value[HP_TW_CHECKS]; /* Python: and values */
    uint32_t tw_txptr;      /* Python: the value index of TXD.PTR */
    uint32_t tw_rxptr;      /* Python: of RXD.PTR */
    uint32_t tw_rxcnt;      /* Python: of RXD.MAXCNT */
    uint32_t tw_tx;         /* C: TXD.PTR of the write taken */
    uint32_t tw_rx;         /* C: RXD.PTR */
    uint32_t tw_n;          /* C: RXD.MAXCNT */
    uint32_t tw_ev_store[HP_TW_EVENTS]; /* Python: the events' value indices, HP_TW_NONE: not held */
    const uint8_t *tw_ram;  /* Python: host address of guest RAM at tw_ram_base */
    const uint8_t *tw_miso; /* Python: the previewed bytes */
    /* --- xPSR in the engine's CPU state (HotPath._cpu_xpsr, checked there against uc_reg_read): hp_poll_regs makes
       it as uc_reg_read does (v7m_mrs_xpsr of the whole xPSR) without the call --- */
    const uint32_t *ps_flags; /* CF, VF, NF, ZF, QF, GE, thumb, condexec_bits (8 words in this order), or NULL */
    const uint32_t *ps_exc;   /* the exception number (IPSR), or NULL */
    /* --- NVIC pends and priorities served here (hp_nvic_pend, hp_nvic_prio; ARMv7-M B3.4.5, B3.4.8, B3.4.9): an ISPR
       or STIR write whose interrupts cannot preempt now (the execution priority of B1.5.4 from the active exceptions
       C knows and the masks), nor can any other pending one, is recorded here and made pending in C's NVIC view
       (with the tail-chain lists of hp_list_return when they are armed, or armed from fr_exc's one active
       exception); an IPR byte write of an interrupt neither pending nor active nor one of C's own is recorded too.
       Python's next sync applies both (SystemBlock._sync_nvic, through nv_writes) --- */
    uint32_t nv_pend_on;    /* Python: bit 0 ISPR/STIR pends may be served here, bit 1 IPR writes, bit 2 takes */
    uint32_t nv_prio_mask;  /* Python: the implemented priority bits (ExceptionModel.prio_mask) */
    uint32_t nv_prigroup;   /* Python: AIRCR.PRIGROUP */
    uint32_t nv_vtor;       /* Python: VTOR */
    uint32_t nv_sys_pend;   /* Python: a system exception (not an interrupt) pending at its arming */
    uint32_t nv_pends;      /* C: pend writes served here (cumulative) */
    uint32_t nv_prios;      /* C: priority writes served here (cumulative) */
    uint32_t nv_enabled[HP_NV_WORDS];  /* Python: enables at its arming, with the ISER/ICER writes served here */
    uint32_t nv_pended[HP_NV_WORDS];   /* C: pending bits set here since Python's last sync */
    uint32_t nv_listed[HP_NV_WORDS];   /* C: ... of which added to the tail-chain list (lp_*) */
    uint32_t nv_prio_set[HP_NV_WORDS]; /* C: priorities written here since Python's last sync */
    uint8_t nv_prio[HP_NV_WORDS * 32]; /* Python: each interrupt's priority, with the writes served here */
    /* --- the pending interrupt taken here (hp_nv_take, from hp_due; B1.5.6): after a pend served here that preempts
       (SystemBlock.kick's event at the write's cycle) or a block that changes a mask with an interrupt pending
       (note_pending's stop), at the next block boundary, the run loop's take_pending: the highest pending enabled
       interrupt of C's NVIC view entered if it preempts, the nested lists of hp_list_return made from the active
       and pending sets C knows, and the stop skipped. Anything else (nothing to take, a stop or event due there,
       something C did since Python's last sync besides NVIC writes, entries and returns): the stop, as before --- */
    uint64_t nv_take_stop;  /* C: stop_cycle before the take was armed (the next stop once taken) */
    uint64_t nv_take_other; /* C: other_cycle before */
    uint64_t nv_take_at;    /* C: stop_cycle as the take armed it (something else moved it: Python's) */
    uint32_t nv_take;       /* C: 1 a preempting pend, 2 a mask change: take at the next block boundary */
    uint32_t nv_entries;    /* C: entries done here (cumulative) */
    uint32_t nv_flags;      /* Python: bit 0 CCR.STKALIGN, bit 1 the FPU (hp_enter_core's flags) */
    uint32_t nv_lists_ok;   /* Python: C may take (SLEEPONEXIT clear, no debugger, no console markers or echo) */
    uint32_t nv_stack_limit; /* Python: __StackLimit while the stack watch checks SP at stops (check), else 0 */
    uint32_t nv_frame_limit; /* Python: __StackLimit (a frame below it is reported: Python's), else 0 */
    /* --- the planned event (ap_*) applied again each ap_period cycles (hp_apply_chain): the model's next events of
       the same kind, each setting one more register-file value as Python drew it (the nRF52 RNG's VALUE with each
       VALRDY): Machine._plan_apply plans up to HP_AC_MAX; C goes on while each next one comes before ap_after;
       Python's next sync settles each as of its cycle (Machine.settle_apply) --- */
    uint64_t ac_at[HP_AC_MAX];    /* C: the cycle of each application */
    uint32_t ac_n;                /* Python: applications planned (0: the single event of ap_*) */
    uint32_t ac_i;                /* C: applications done (Python sets it back to 0 as it settles them) */
    uint32_t ac_store;            /* Python: the register-file value each application sets */
    uint32_t ac_value[HP_AC_MAX]; /* Python: that value at each application */
    /* --- a TWIM register read Python started (the model's write and first event, Machine._plan_twim from
       Nrf52Twim.twim_flight: the Nano 33 BLE Sense's FIFO_SRC read) woken in C at STOPPED as hp_twim_wake wakes one
       it took: Python arms tw_flight with tw_py set, tw_lasttx the model's LASTTX event, tw_stopped, tw_rx, tw_n and
       tw_saved as the model will have them and the chip's answer at tw_py_miso; the offer armed with it (the drain
       after it) may then be taken at once, the two settled in order at Python's next sync --- */
    uint32_t tw_py;            /* Python: 1 the transfer in flight is the model's (its events in Python's queue) */
    uint32_t tw_py_woken;      /* C: such transfers woken at STOPPED (cumulative) */
    uint64_t tw_py_slept;      /* C: their sleep cycles (cumulative) */
    const uint8_t *tw_py_miso; /* Python: the chip's answer to it */
    /* --- hp_wfi_hook's wake may set one more register-file value with the event's (Machine._plan_wake, a plan's
       sixth item): a GPIO port's IN, whose pin the chip's line raises with the GPIOTE IN event (Nrf52Gpio.rise_plan;
       the Nano 33 BLE Sense Rev2's BMI270 INT1 on P0.11). Only for the wake it was planned with: its cycle and event
       register (a later plan without one leaves these as they were) --- */
    uint64_t wk_x_cycle;    /* Python: the planned wake's cycle (wk_cycle) it goes with, HP_NEVER: none */
    uint32_t wk_x_for;      /* Python: and its event register (wk_store) */
    uint32_t wk_x_store;    /* Python: the value index set */
    uint32_t wk_x_value;    /* Python: the value */
    /* --- the transfer of Python's woken at STOPPED (tw_py) may set one more register-file value with the wake: what
       the chip's read lowers (Nrf52Twim.twim_flight's ``falls``: the Nano 33 BLE Sense Rev2's INT_STATUS_1 read drops
       INT1, P0.IN's bit 11 clears); the wake-up the model then plans (the next watermark) may be hp_wfi_hook's wake
       planned ahead (Machine._plan_wake_ahead), which becomes the next stop when it comes before tw_saved --- */
    uint32_t tw_x_on;       /* Python: 1 with the flight armed (tw_py) that stores it; C: 0 once stored */
    uint32_t tw_x_store;    /* Python: the value index set */
    uint32_t tw_x_value;    /* Python: the value */
    /* --- a streak: the last block counted entered again and again (hp_block_streak). From its second entry in a
       row (hp_block_counted's same case) the hook keeps what each further entry adds to the per-entry counters here
       and writes them when the streak ends (hp_streak_end: another block, the due check, a stop, an exception entry,
       and every exported function that reads or changes the table or the divide statistics; Python ends it right
       after emu_start returns, HotPath.settle_divides). st_size 0: no streak --- */
    uint32_t st_addr;       /* the streak's block (last_addr, last_size; its slot at hot_at) */
    uint32_t st_size;
    uint32_t st_cycles;     /* cycles of one more entry: the block's own, plus its taken refill when it ends with a
                               conditional branch to itself (the pend_* test of hp_block_counted, decided once) */
    uint32_t st_taken;      /* that refill (added to branch_taken_cycles at each entry: hp_poll reads it mid-run) */
    uint32_t st_insn;       /* its instructions */
    uint32_t st_div;        /* its one deferred divide (hp_block.div[0], left armed in dv_pend[0]), 0: none */
    uint64_t st_n;          /* entries counted in the streak not yet added to block_count, entries, the block's execs and
                               (st_div) to the divides executed and dv_settled; tm_div_hook's clock adds it */
    uint64_t st_extra;      /* cycles above DIV_MIN of the divides priced in the streak, not yet in DivStats.extra */
    const uint32_t *st_rn;  /* st_div's Rn and Rm in the engine's CPU state (dv_env + their numbers): no decode, and one
                               dependent load less on the price's path (docs/performance.md "Sixteenth round") */
    const uint32_t *st_rm;
    /* --- a read chained behind the offer (tw_*): once C woke the transfer it took from the offer at STOPPED, having
       read all tw_len bytes (the Rev2's FIFO drain), the next TASKS_STARTTX may be a second read Python previewed at
       the same arming (Nrf52Twim.twim_flight's ``chain``: the BMI270's INT_STATUS_1 after the drain, its byte, the
       fall of INT1 its read makes and the next watermark's wake-up; Machine._plan_chain_ahead). hp_twim_wake then
       logs the first transfer in tw1_* and arms the offer's fields with the chained read's; hp_twim_start takes it
       as any offer; its wake stores the fall (as tw_x) and makes tw2_wk hp_wfi_hook's wake (the wk_* Python planned
       with it) when it comes after STOPPED and before tw_saved. Python's next sync settles both in order --- */
    uint64_t tw2_quiet;     /* Python: tw_quiet of the chained read */
    uint64_t tw2_wk;        /* Python: the cycle of the wake-up its read plans (wk_cycle once woken), HP_NEVER: none */
    uint64_t tw1_at;        /* C: the first transfer's tw_at, logged when the chained read is armed */
    uint64_t tw1_stopped;   /* C: its tw_stopped */
    const uint8_t *tw2_miso; /* Python: the chained read's answer */
    uint32_t tw2_on;        /* Python: 1 a chained read is armed with the offer (C: 0 once moved into tw_*) */
    uint32_t tw2_state;     /* C: 1 the chained read armed in tw_*, 2 taken, 3 woken (Python: 0 at its settle) */
    uint32_t tw2_reg;       /* Python: its register byte */
    uint32_t tw2_len;       /* Python: its bytes (RXD.MAXCNT a multiple of it, at most it) */
    uint32_t tw2_x_store;   /* Python: the value index its read's fall sets (P0.IN) */
    uint32_t tw2_x_value;   /* Python: the value */
    uint32_t tw1_tx;        /* C: the first transfer's tw_tx, tw_rx and tw_n */
    uint32_t tw1_rx;
    uint32_t tw1_n;
    uint32_t tw2_chained;   /* C: chained reads armed in tw_* (cumulative) */
    /* --- system registers served from values here (hp_sc_read, hp_sc_write): word accesses to CPACR (ARMv7-M
       B3.2.20), DEMCR (C1.6.5), DWT_CTRL and CYCCNT (C1.8.7, C1.8.8), and IABR reads (B3.4.7) from C's view of the
       active exceptions. Every firmware with an FPU or cycle-counter start-up made up to 7 of these accesses, each a
       Python entry. Python (SystemBlock.publish_served) gives C the stored values at a reset and after each access of
       its own; what C changed is Python's at its next sync (sc_changed, fr_done bit 4), and each access served counts
       as an MMIO access the polling watch did not see (sc_reads, sc_writes) --- */
    uint32_t sc_on;         /* Python: 1 CPACR, 2 DEMCR, DWT_CTRL and CYCCNT writes, 4 IABR; 0 (a debugger): none */
    uint32_t sc_cpacr;      /* CPACR (stored only: the FPU always executes) */
    uint32_t sc_demcr;      /* DEMCR (TRCENA gates CYCCNT with DWT_CTRL.CYCCNTENA) */
    uint32_t sc_dwt_ctrl;   /* DWT_CTRL's CYCCNTENA (Dwt.ctrl; reads add the read-only ID bits) */
    uint32_t sc_changed;    /* C: 1 CPACR, 2 DEMCR, 4 the DWT's state (dwt_*, sc_dwt_ctrl) written since the sync */
    uint32_t sc_reads;      /* C: reads served (cumulative) */
    uint32_t sc_writes;     /* C: writes served (cumulative) */
    /* --- NMI pended by an ICSR.NMIPENDSET write served here (hp_nmi_pend; ARMv7-M B3.2.4) and taken at the next block
       boundary by hp_nv_take at priority -2, whatever PRIMASK and FAULTMASK hold (B1.5.4); its return is
       hp_list_return's, FAULTMASK kept (B1.5.8). Python's next sync makes it pending if C has not taken it --- */
    uint32_t nmi_pend;      /* C: 1 NMI pending here, not yet taken nor seen by Python */
    hp_ks *ks;              /* Python: a K-tick stretch (hp_ks_*), NULL: none */
    uint32_t ks_steps;      /* C: its steps (cumulative: hp_poll_read links no read across one) */
    uint32_t ks_writes;     /* C: the firmware writes it served (cumulative: PollWatch._counts) */
} hp_state;

/* C's exception entries and returns keep a K-tick stretch's log bit (256) as HP_DONE_EXC keeps the UARTE's (64) */
#undef HP_DONE_EXC
#define HP_DONE_EXC(s) ((s)->fr_done = 1u | ((s)->fr_done & 320u))

static inline uint32_t hp_hash(uint32_t addr) { return (addr >> 1) * 2654435761u; }

/* The streak's counts (hp_state.st_*) written into the counters they stand for, and the streak ended: every reader of
   block_count, entries, an hp_block's execs, dv_settled or DivStats executed and extra outside
   the block hook's own path runs after it (the readers: docs/performance.md "Fourteenth round"). */
static inline hp_block *hp_hot(hp_state *s) { return (hp_block *)((char *)s->table + s->hot_at); }

static __attribute__((noinline)) void hp_streak_flush(hp_state *s) {
    uint64_t n = s->st_n;
    if (n) {
        s->block_count += n;
        s->entries += n;
        hp_hot(s)->execs += n; /* the streak's block: no table change during it */
        if (s->st_div) { /* one deferred divide priced at each entry */
            s->div_stats->executed += n;
            s->dv_settled += n;
        }
        s->st_n = 0;
    }
    if (s->st_extra) {
        s->div_stats->extra += s->st_extra;
        s->st_extra = 0;
    }
    s->st_addr = 0xFFFFFFFFu;
    s->st_size = 0;
}

static inline void hp_streak_end(hp_state *s) {
    if (__builtin_expect(s->st_size != 0, 0)) hp_streak_flush(s);
}

/* Python's call: right after emu_start returns (HotPath.settle_divides), before a snapshot, in the debugger. */
void hp_streak_close(hp_state *s) { hp_streak_end(s); }

static hp_block *hp_find(hp_state *s, uint32_t addr, uint32_t size) {
    uint32_t i = hp_hash(addr) & s->mask;
    for (;;) {
        hp_block *b = &s->table[i];
        if (b->addr == addr && b->size == size) return b;
        if (b->addr == 0xFFFFFFFFu) return NULL;
        i = (i + 1) & s->mask;
    }
}

static int hp_alloc(hp_state *s, uint32_t capacity) {
    hp_block *t = (hp_block *)malloc(sizeof(hp_block) * capacity);
    if (!t) return -1;
    memset(t, 0xFF, sizeof(hp_block) * capacity);
    s->table = t;
    s->mask = capacity - 1;
    s->hot_at = 0;
    s->st_addr = 0xFFFFFFFFu; /* no streak (hp_put ended any before the table moved) */
    s->st_size = 0;
    s->used = 0;
    return 0;
}

int hp_init(hp_state *s, uint32_t capacity) {
    if (capacity < 16 || (capacity & (capacity - 1))) return -1;
    s->art_gen = 1;
    return hp_alloc(s, capacity);
}

void hp_free(hp_state *s) {
    free(s->table);
    s->table = NULL;
    hp_itmap_free(&s->carry);
}

static int hp_put(hp_state *s, const hp_block *src);

int hp_insert(hp_state *s, uint32_t addr, uint32_t size, uint32_t n_insn, uint32_t cycles,
              int32_t sp_min_delta, uint32_t flags, uint32_t target, uint32_t taken_extra, uint32_t line0,
              uint32_t n_lines, uint32_t lit_count, uint32_t lit_line, uint32_t div0, uint32_t div1) {
    hp_block b;
    if (size > 0xFFFFu) return -1; /* hp_block.size: Unicorn's blocks are far shorter (HP_MAX_BLOCK_BYTES) */
    b.addr = addr; b.size = (uint16_t)size; b.art_gen = 0; b.n_insn = n_insn; b.cycles = cycles; b.sp_min_delta = sp_min_delta;
    b.flags = flags; b.target = target; b.taken_extra = taken_extra; b.line0 = line0;
    b.n_lines = (uint16_t)n_lines; b.lit_count = (uint16_t)lit_count; b.lit_line = lit_line;
    b.flash_words = HP_NOT_PROBED; b.execs = 0; b.div[0] = div0; b.div[1] = div1;
    return hp_put(s, &b);
}

static int hp_put(hp_state *s, const hp_block *src) {
    uint32_t addr = src->addr, size = src->size;
    hp_streak_end(s); /* the table may grow: the streak's slot moves */
    if ((s->used + 1) * 2 > s->mask + 1) { /* keep the load factor under one half */
        hp_block *old = s->table;
        uint32_t old_cap = s->mask + 1;
        if (hp_alloc(s, old_cap * 2)) { s->table = old; return -1; }
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i].addr != 0xFFFFFFFFu) hp_put(s, &old[i]);
        free(old);
    }
    uint32_t i = hp_hash(addr) & s->mask;
    while (s->table[i].addr != 0xFFFFFFFFu && !(s->table[i].addr == addr && s->table[i].size == size))
        i = (i + 1) & s->mask;
    if (s->table[i].addr == 0xFFFFFFFFu) s->used++;
    s->table[i] = *src;
    s->table[i].art_gen = 0; /* no stamp of another table, run or time */
    return 0;
}

void hp_clear(hp_state *s) {
    hp_streak_end(s);
    memset(s->table, 0xFF, sizeof(hp_block) * (s->mask + 1));
    s->used = 0;
}

/* --- profiler ------------------------------------------------------------------------ */

static inline uint32_t hp_node_hash(uint32_t parent, uint32_t func, uint32_t isr) {
    return (parent * 2654435761u) ^ ((func >> 1) * 40503u) ^ (isr * 0x9E3779B9u);
}

static int hp_nodes_grow(hp_state *s) {
    uint32_t cap = s->cap_nodes ? s->cap_nodes * 2 : 1024;
    hp_node *n = (hp_node *)realloc(s->nodes, sizeof(hp_node) * cap);
    if (!n) return -1;
    uint32_t *h = (uint32_t *)malloc(sizeof(uint32_t) * cap * 2);
    if (!h) { s->nodes = n; return -1; }
    memset(h, 0xFF, sizeof(uint32_t) * cap * 2);
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        uint32_t j = hp_node_hash(n[i].parent, n[i].func, n[i].isr) & (cap * 2 - 1);
        while (h[j] != HP_NO_NODE) j = (j + 1) & (cap * 2 - 1);
        h[j] = i;
    }
    free(s->node_hash);
    s->nodes = n;
    s->node_hash = h;
    s->cap_nodes = cap;
    return 0;
}

/* The calling-context node for func under parent, created on first use; HP_NO_NODE if out of memory. */
static uint32_t hp_node_get(hp_state *s, uint32_t parent, uint32_t func, uint32_t isr) {
    if (s->n_nodes + 1 > s->cap_nodes && hp_nodes_grow(s)) { s->node_overflow = 1; return HP_NO_NODE; }
    uint32_t m = s->cap_nodes * 2 - 1;
    uint32_t j = hp_node_hash(parent, func, isr) & m;
    for (;;) {
        uint32_t k = s->node_hash[j];
        if (k == HP_NO_NODE) break;
        if (s->nodes[k].parent == parent && s->nodes[k].func == func && s->nodes[k].isr == isr) return k;
        j = (j + 1) & m;
    }
    uint32_t k = s->n_nodes++;
    hp_node *n = &s->nodes[k];
    n->parent = parent; n->func = func; n->isr = isr; n->pad = 0;
    n->calls = 0; n->incl = 0; n->excl = 0;
    s->node_hash[j] = k;
    return k;
}

static void hp_event_add(hp_state *s, uint32_t kind, uint32_t func) {
    if (s->n_events < s->cap_events) {
        hp_event *e = &s->events[s->n_events++];
        e->kind = kind; e->func = func; e->cycle = s->cycle_count;
    }
}

/* Enter func (at cycle_count); ret is the address whose block entry returns from it. */
static void hp_push(hp_state *s, uint32_t func, uint32_t ret, uint32_t isr) {
    if (s->depth >= s->max_depth) { s->dropped++; return; }
    uint32_t parent = s->depth ? s->frames[s->depth - 1].node : HP_NO_NODE;
    uint32_t node = hp_node_get(s, parent, func, isr);
    if (node == HP_NO_NODE) { s->dropped++; return; }
    s->nodes[node].calls++;
    hp_frame *f = &s->frames[s->depth++];
    f->func = func; f->ret = ret; f->node = node; f->pad = 0;
    f->entry = s->cycle_count; f->child = 0;
    if (isr) hp_event_add(s, 1, func);
}

/* Leave the top frame at cycle_count. */
void hp_pop(hp_state *s) {
    if (!s->depth) return;
    hp_frame *f = &s->frames[--s->depth];
    uint64_t incl = s->cycle_count - f->entry;
    hp_node *n = &s->nodes[f->node];
    n->incl += incl;
    n->excl += incl - f->child;
    if (n->isr) hp_event_add(s, 2, f->func);
    if (s->depth) s->frames[s->depth - 1].child += incl;
}

static void hp_profile(hp_state *s, void *uc, uint32_t addr, const hp_block *b) {
    uint32_t returned = 0;
    if (s->pend_ret) { /* a return lands on the return address of some open frame: unwind to it */
        for (uint32_t d = s->depth; d > 0; d--) {
            if (s->frames[d - 1].ret == addr) {
                while (s->depth >= d) hp_pop(s);
                returned = 1;
                break;
            }
        }
    }
    if (returned) {
    } else if (s->pend_call) {
        hp_push(s, addr, s->call_ret, 0);
    } else if ((b->flags & HP_HANDLER) && !(s->depth && s->frames[s->depth - 1].func == addr)) {
        /* Exception entry (ARMv7-M B1.5.6): the stacked return address is at [SP + 24]. */
        uint32_t sp = 0, ret = HP_INDIRECT;
        s->reg_read(uc, s->sp_regid, &sp);
        if (s->mem_read(uc, (uint64_t)sp + 24, &ret, 4) != 0) ret = HP_INDIRECT;
        hp_push(s, addr, ret & ~1u, 1);
    }
    s->pend_call = b->flags & HP_CALL_END;
    s->pend_ret = b->flags & HP_RET_END;
    s->call_ret = addr + b->size;
}

/* --- flash wait states ------------------------------------------------------------------ */

/* Forget every block's ART stamp (hp_block.art_gen) and start the generations again at 1: when they wrap, and when
   Python replaced the tags (a snapshot restored, HotPath.forget_flash_stamps). */
void hp_flash_forget(hp_state *s) {
    hp_streak_end(s);
    for (uint32_t i = 0; s->table && i <= s->mask; i++) s->table[i].art_gen = 0;
    s->art_gen = 1;
}

/* A line tag changed: a new generation (stamps of the old ones no longer say the lines are there). */
static inline void hp_art_changed(hp_state *s) {
    if (++s->art_gen > 0xFFFFu) hp_flash_forget(s);
}

static inline uint32_t hp_flash_wait(hp_state *s, const hp_block *b) {
    uint32_t ws = s->wait_states, wait = 0;
    if (s->accel == 0) {
        wait = ws * ((uint32_t)b->n_lines + b->lit_count);
    } else {
        for (uint32_t l = b->line0; l < b->line0 + b->n_lines; l++) {
            uint32_t *tag = &s->itags[l & s->imask];
            if (*tag != l) {
                *tag = l;
                hp_art_changed(s);
                if (!(s->prefetch && l == s->last_line + 1)) wait += ws;
                else s->prefetch_hidden++;
            }
            s->last_line = l;
        }
        if (b->lit_count) {
            if (s->accel == 1) {
                uint32_t *tag = &s->dtags[b->lit_line & s->dmask];
                if (*tag != b->lit_line) { *tag = b->lit_line; hp_art_changed(s); wait += ws; }
            } else {
                wait += ws * b->lit_count;
            }
        }
    }
    return wait;
}

#define HP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HP_LIKELY(x) __builtin_expect(!!(x), 1)

/* Rare paths live out of line so the common path saves few registers (measured with perf). */
static __attribute__((noinline)) void hp_stop(hp_state *s, void *uc) {
    hp_streak_end(s); /* last_size 0 below: the streak's block is no longer the last counted */
    s->stop_requested = 1;
    s->last_size = 0;
    s->emu_stop(uc);
}

/* uc_mem_read through the pointer taken from the bindings (hp_analyze's reader). */
typedef struct { hp_state *s; void *uc; } hp_reader;

static int hp_read_guest(void *ctx, uint64_t addr, void *buf, uint64_t n) {
    hp_reader *r = (hp_reader *)ctx;
    return r->s->mem_read(r->uc, addr, buf, n);
}

/*
 * The words a new block's data loads read from flash, judged from the registers at its entry (the
 * error bar's flash-data term; HotPath._probe_flash_words is the Python twin): loads whose address
 * the entry registers do not give count as reading flash.
 */
static uint32_t hp_flash_words(hp_state *s, void *uc, const hp_uncert *u) {
    uint32_t words = u->unknown_words, regs[16];
    uint16_t have = 0;
    for (uint32_t i = 0; i < u->n_probes; i++) {
        const hp_probe *p = &u->probes[i];
        uint32_t need[2] = {p->base, p->index};
        for (int k = 0; k < (p->index == 0xFF ? 1 : 2); k++) {
            uint32_t r = need[k] & 15;
            if (!(have & (1u << r))) {
                regs[r] = 0;
                s->reg_read(uc, s->core_rid[r], &regs[r]);
                have |= (uint16_t)(1u << r);
            }
        }
        uint64_t a = (uint64_t)regs[p->base & 15] + (uint64_t)p->offset;
        if (p->index != 0xFF) a += (uint64_t)regs[p->index & 15] << p->shift;
        uint32_t addr = (uint32_t)a;
        for (uint32_t k = 0; k < s->model->n_flash; k++)
            if (s->model->flash_lo[k] <= addr && addr < s->model->flash_hi[k]) { words += p->words; break; }
    }
    return words;
}

/* A new block: analyse it here (or ask Python), then let Python see it if it watches what it holds. */
static __attribute__((noinline)) hp_block *hp_miss_slow(hp_state *s, void *uc, uint32_t addr, uint32_t size) {
    if (s->native_analysis) {
        hp_reader r = {s, uc};
        hp_block nb;
        hp_uncert u;
        int probe = s->wait_states && !s->model->data_hook; /* flash data reads the model does not charge */
        if (hp_analyze(s->model, &s->carry, hp_read_guest, &r, addr, size, &nb, NULL, NULL, 0, probe ? &u : NULL) < 0) {
            s->miss_failed = 1;
            hp_stop(s, uc);
            return NULL;
        }
        nb.flash_words = probe && u.data_words ? hp_flash_words(s, uc, &u) : HP_NOT_PROBED;
        if (hp_put(s, &nb)) {
            s->miss_failed = 1;
            hp_stop(s, uc);
            return NULL;
        }
        s->analyses++;
        /* blockcache._skip's flags: blocks the cache never holds (hooked, handlers, the flash-data probe) */
        if (!(nb.flags & (s->py_flags | HP_HANDLER | (probe ? HP_DATA : 0u)))) s->cache_new++;
        if (!(nb.flags & s->py_flags)) return hp_find(s, addr, size);
    }
    if (s->miss(addr, size)) { /* Python added hooks for this block: it must be retranslated */
        hp_stop(s, uc);
        return NULL;
    }
    hp_block *b = hp_find(s, addr, size);
    if (!b) {
        s->miss_failed = 1;
        hp_stop(s, uc);
    }
    return b;
}

static __attribute__((noinline)) void hp_sp_check(hp_state *s, void *uc, const hp_block *b) {
    uint32_t sp = 0;
    s->reg_read(uc, s->sp_regid, &sp);
    uint32_t low = sp + (uint32_t)b->sp_min_delta;
    if (low < s->sp_low) s->sp_low = low;
}

/* Flash wait states of a block, added to the clock after the block's own cycles. With the ART (accel 1) the block
   is stamped with the generation its lines are all present in (none evicts another: at most one line per tag), so
   its next entries take hp_flash_hit while no tag changes. */
static __attribute__((noinline)) void hp_flash_charge(hp_state *s, hp_block *b) {
    uint32_t wait = hp_flash_wait(s, b);
    s->flash_wait_cycles += wait;
    s->cycle_count += wait;
    if (s->accel == 1 && b->n_lines && b->n_lines <= s->imask + 1u) b->art_gen = (uint16_t)s->art_gen;
}

/* hp_flash_wait's result for a block stamped in the current generation: its lines and its literal line are all in
   the ART (no tag changed since they were), so nothing waits, no tag changes, and only the last line fetched moves
   (1); 0 when the block must be checked (hp_flash_charge). */
static inline int hp_flash_hit(hp_state *s, const hp_block *b) {
    if (b->art_gen != s->art_gen || s->accel != 1) return 0;
    s->last_line = b->line0 + b->n_lines - 1u;
    return 1;
}

/* Rn and Rm of a deferred divide through uc_reg_read (no direct view of the CPU state: HotPath._cpu_regs). */
static __attribute__((noinline)) void hp_div_regs(hp_state *s, void *uc, uint32_t v, uint32_t *n, uint32_t *m) {
    s->reg_read(uc, s->core_rid[HP_DIV_RN(v)], n);
    s->reg_read(uc, s->core_rid[HP_DIV_RM(v)], m);
}

/* One deferred divide (an hp_block.div word): its operands are still in Rn and Rm (the analysis saw to it). */
static inline void hp_div_charge(hp_state *s, void *uc, uint32_t v) {
    uint32_t n = 0, m = 0;
    if (s->dv_env) { /* what uc_reg_read returns for R0-R12, without two calls (~5 ns a divide, measured) */
        n = s->dv_env[HP_DIV_RN(v)];
        m = s->dv_env[HP_DIV_RM(v)];
    } else {
        hp_div_regs(s, uc, v, &n, &m);
    }
    uint32_t extra = tm_div_cycles_inline(n, m, (v & HP_DIV_SIGNED) != 0) - TM_DIV_MIN;
    s->cycle_count += extra;
    s->div_stats->extra += extra;
    s->div_stats->executed++;
    s->dv_settled++;
}

/*
 * Price the deferred divides of the last block entered (hp_block.div). ``in_block``: the run stopped
 * inside that block at ``pc`` (last_size still set): divides at or after it have not run and are
 * dropped (the block's rest is entered as a block of its own when the run resumes). Called at every
 * block entry first, and by Python where a run stops (HotPath.settle_divides).
 */
static __attribute__((noinline)) void hp_div_settle(hp_state *s, void *uc, uint32_t pc, int in_block) {
    for (int k = 0; k < 2; k++) {
        uint32_t v = s->dv_pend[k];
        if (!v) break;
        if (in_block && pc <= s->dv_addr + HP_DIV_OFF(v)) continue;
        hp_div_charge(s, uc, v);
    }
    s->dv_pend[0] = s->dv_pend[1] = 0;
}

/* Python's call where a run stopped at pc (after emu_start returned, or a pause inside a block). */
void hp_div_settle_at(hp_state *s, void *uc, uint32_t pc) {
    hp_streak_end(s);
    if (!s->dv_pend[0]) return;
    int in_block = s->last_size && s->last_addr == s->dv_addr && s->last_addr <= pc && pc < s->last_addr + s->last_size;
    hp_div_settle(s, uc, pc, in_block);
}

/* A block counted: its deferred divides wait for the next entry. */
static inline void hp_div_arm(hp_state *s, const hp_block *b, uint32_t addr) {
    if (HP_UNLIKELY(b->div[0] != 0) && s->dv_on) {
        s->dv_pend[0] = b->div[0];
        s->dv_pend[1] = b->div[1];
        s->dv_addr = addr;
    }
}

static int hp_tick(hp_state *s, void *uc, uint32_t addr);
static int hp_tick_pend(hp_state *s);

/*
 * Everything a block entry can need: misses, idle loops, profiling, SP checks, mask changes, SEV,
 * flash wait states.
 */
static __attribute__((noinline)) void hp_block_general(hp_state *s, void *uc, uint32_t addr, uint32_t size,
                                                       hp_block *b) {
    if (s->slow_next & HP_SLOW_SPIN) { /* idle loops (HP_SELF_LOOP), see simcore.machine._on_spin */
        uint32_t skip = s->spin_skip, loop = s->spin_next;
        s->slow_next &= ~HP_SLOW_SPIN;
        s->spin_skip = 0;
        s->spin_next = 0;
        if (skip && addr == skip) return; /* resumed at the loop after a spin stop: counted before the stop */
        if (loop && addr == loop) {       /* the previous block ended with b . and loops now: stop first */
            s->spin_at = loop;
            s->spin_skip = loop;
            s->slow_next |= HP_SLOW_SPIN;
            hp_stop(s, uc);
            return;
        }
    }
    if (!b) {
        b = hp_miss_slow(s, uc, addr, size);
        if (!b) return;
    }
    uint64_t cycles = b->cycles;
    if (s->pend_cond) { /* the previous block's conditional branch: taken? */
        if (s->pend_target == HP_INDIRECT ? addr != s->pend_fall : addr == s->pend_target) {
            s->cycle_count += s->pend_extra; /* before hp_profile: as the Python twin does */
            s->branch_taken_cycles += s->pend_extra;
        }
    }
    uint32_t flags = b->flags;
    s->pend_cond = flags & HP_COND_END;
    s->pend_target = b->target;
    s->pend_fall = addr + size;
    s->pend_extra = b->taken_extra;
    if (HP_UNLIKELY(s->profiling)) hp_profile(s, uc, addr, b);
    if ((flags & HP_SP_READ) || (s->slow_next & HP_SLOW_SP)) hp_sp_check(s, uc, b);
    s->slow_next = (flags & HP_SP_DYNAMIC ? HP_SLOW_SP : 0) | (s->profiling ? HP_SLOW_PROFILE : 0);
    s->insn_count += b->n_insn;
    s->cycle_count += cycles;
    s->block_count++;
    s->entries++;
    b->execs++;
    s->last_addr = addr;
    s->last_size = size;
    hp_div_arm(s, b, addr);
    if (flags & HP_SEV) s->sev_count++;
    if (flags & HP_CONTROL) { /* MSR CONTROL: the stack watch no longer trusts SP for the main stack */
        s->control_blocks++;
        s->tick_stack_limit = 0;
    }
    /* stop after a mask change while something is pending, or a CONTROL write with the MPU on (QEMU
       ends the block there) */
    if (((flags & HP_MASK) && s->irq_pending) || ((flags & HP_CONTROL) && s->mpu_on)) {
        if ((flags & HP_MASK) && s->irq_pending && !s->nv_take && (s->nv_pend_on & 4u) && s->nv_lists_ok) {
            s->nv_take = 2; /* hp_nv_take at the next block boundary, else the stop */
            s->nv_take_stop = s->stop_cycle;
            s->nv_take_other = s->other_cycle;
            s->nv_take_at = 0;
        }
        s->stop_cycle = 0;
        s->other_cycle = 0;
    }
    if (flags & HP_SELF_LOOP) {
        s->slow_next |= HP_SLOW_SPIN;
        if (addr == b->target) { /* the block is the idle loop itself: counted, now stop */
            s->spin_at = addr;
            s->spin_skip = addr;
            s->stop_requested = 1;
            s->emu_stop(uc);
        } else {
            s->spin_next = b->target;
        }
    }
    if ((flags & HP_IN_FLASH) && s->wait_states && !hp_flash_hit(s, b)) hp_flash_charge(s, b);
}

static int hp_source(hp_state *s, void *uc, uint32_t addr, uint32_t i);

/* The chain of hp_apply (ac_*): the application just made sets its value too and is logged; the next one is planned
   ap_period cycles on when that comes before ap_after (hp_apply made it the next stop) and the chain has more. */
static void hp_apply_chain(hp_state *s, uint64_t next) {
    rf_stores(s->ev_bus)[s->ac_store] = s->ac_value[s->ac_i];
    s->ac_at[s->ac_i++] = s->cycle_count;
    if (s->ac_i < s->ac_n && s->ap_period && next == s->cycle_count + s->ap_period && next < s->ap_after)
        s->ap_cycle = next;
}

/* Nothing pending in C's view (ARMv7-M B1.5.6: no exception pending the run loop's take_pending could take): no
   system exception pending at Python's arming (nv_sys_pend) nor made pending here since (PendSV, SysTick), no interrupt
   in C's NVIC view (its pends, takes, tail-chains and clears kept it whole since the arming). What Machine._arm_uarte
   and _plan_apply ask of exc.pending, at the moment C acts after entries and returns of its own. */
static int hp_none_pending(const hp_state *s) {
    if (s->nv_sys_pend || s->psv_pending || s->tick_pend) return 0;
    for (uint32_t k = 0; k < HP_NV_WORDS && 32u * k < s->nv_nirq; k++)
        if (s->nv_pending[k]) return 0;
    return 1;
}

/* A due event or the budget: deliver SysTick or a peripheral interrupt natively when Python allowed it.
   Returns 1 when the block does not run now (entered a handler or stopped), 0 when it runs and is
   counted as usual (SysTick made pending under a running handler, hp_tick_pend). */
/* The planned machine event (ap_*) at the block boundary where the run loop would stop for it: only when nothing
   else asked for a stop (stop_cycle still the event's), no Python bookkeeping is due (fr_done as hp_wfi_hook asks
   it) and the budget is not spent, as the run loop would then stop before running events. 1: applied. */
static int hp_apply(hp_state *s) {
    hp_utx *u = s->ux && s->ux->planned ? s->ux : NULL; /* the end of a transfer hp_uarte_start planned */
    uint32_t ok = u ? (s->ks && s->ks->n ? 478u : 470u) : (s->ac_i ? 150u : 134u); /* (16 in a chain: its own applications, settled together;
                                                          256: a stretch's log, the transfer in its tick) */
    if (u && (s->fr_done & 1u) && hp_none_pending(s)) ok |= 1u; /* (entries and returns C made since: the run loop's
                                                                     stop would take nothing after the end) */
    if (s->cycle_count < s->ap_cycle || s->stop_cycle != s->ap_cycle || s->stop_requested || s->py_stop ||
        (s->fr_done & ~ok) /* (128: a TWIM read before, settled first) */ || s->insn_count >= s->stop_insn || !s->ev_bus || s->ap_n > HP_AP_OPS)
        return 0;
    uint32_t *store = rf_stores(s->ev_bus);
    for (uint32_t i = 0; i < s->ap_n; i++) {
        if (s->ap_kind[i] == HP_AP_FLAGS)
            rf_flags_set(s->ev_bus, s->ap_index[i], s->ap_value[i]);
        else
            store[s->ap_index[i]] = s->ap_value[i];
    }
    uint64_t next = s->ap_after;
    if (s->ap_period && s->cycle_count + s->ap_period < next) next = s->cycle_count + s->ap_period;
    s->ap_cycle = HP_NEVER;
    s->stop_cycle = next;
    if (u) { /* logged for Machine.settle_uarte (Python's _applied is not this event) */
        u->end_cycle[u->n - 1] = s->cycle_count;
        u->planned = 0;
        s->ux_ends++;
        return 1;
    }
    s->ap_at = s->cycle_count;
    s->ap_done++;
    s->fr_done |= 16u; /* Python's next sync does the model's bookkeeping as of ap_at */
    if (s->ac_i < s->ac_n) hp_apply_chain(s, next);
    if (s->ux && s->ux->on == 2) s->ux->on = 1; /* the UARTE's transfer ended: its next STARTTX may be served here */
    return 1;
}

static int hp_nv_take(hp_state *s, void *uc, uint32_t addr);

static __attribute__((noinline)) int hp_due(hp_state *s, void *uc, uint64_t address) {
    if (s->nv_take) { /* a pend or a mask change armed a take here: the entry, or the stop as before */
        s->nv_take = 0;
        if (s->stop_cycle == s->nv_take_at && (s->other_cycle == 0 || s->nv_take_at) &&
            hp_nv_take(s, uc, (uint32_t)address)) {
            s->stop_cycle = s->nv_take_stop;
            s->other_cycle = s->nv_take_other;
            return 1; /* the block does not run now: the handler's does */
        }
        hp_stop(s, uc);
        return 1;
    }
    if (s->ap_cycle != HP_NEVER && hp_apply(s) && s->cycle_count < s->stop_cycle && s->insn_count < s->stop_insn)
        return 0; /* the block runs: the next stop is further on */
    /* a PC write in a hook resumes emulation even after uc_emu_stop: never after any stop request */
    if (!s->stop_requested && !s->py_stop && s->cycle_count < s->other_cycle && s->insn_count < s->stop_insn) {
        uint64_t first = s->tick_ok ? s->tick_cycle : HP_NEVER;
        uint32_t which = HP_MAX_SOURCES; /* SysTick */
        for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
            if (s->src_next[i] < first) { first = s->src_next[i]; which = i; }
        if (s->cycle_count >= first) {
            if (!s->c_active &&
                (which == HP_MAX_SOURCES ? hp_tick(s, uc, (uint32_t)address) : hp_source(s, uc, (uint32_t)address, which)))
                return 1;
            if (s->c_active && which == HP_MAX_SOURCES && hp_tick_pend(s) && s->cycle_count < s->stop_cycle &&
                s->insn_count < s->stop_insn)
                return 0;
        }
    }
    hp_stop(s, uc);
    return 1;
}

/*
 * The block hook. Its common case (a known block, no profiling, no SP check, at most one deferred
 * divide read from the CPU state directly) makes no call, so it saves no registers: every rare case
 * is a tail call (hp_block_slow, hp_block_due, hp_block_general_at, hp_flash_charge), which does the
 * same accounting plus the rest (perf: register saves in the hook's prologue were a fifth of its
 * samples; with them gone div_bench's hook is ~1 ns cheaper per block). Its most common case of all,
 * a loop re-entering itself (the last block counted again), needs no hash and rewrites none of the
 * fields that block's previous entry wrote; any other block is a tail call (hp_block_find), whose
 * table search needs registers saved (docs/performance.md "Thirteenth round: the block hook's own cost").
 * From the next entry on, such a loop is a streak (hp_block_streak, tested first): only what changes from one entry
 * to the next is done, the per-entry counters kept in hp_state.st_* until the streak ends (docs/performance.md
 * "Fourteenth round").
 */
static __attribute__((noinline)) void hp_block_slow(void *uc, uint64_t address, uint32_t size, hp_state *s);
static __attribute__((noinline)) void hp_block_due(void *uc, uint64_t address, uint32_t size, hp_state *s);

/* tm_div_cycles_inline(n, m, is_signed) - TM_DIV_MIN (timing.h's tm_div_extra_inline: bits(n) - bits(m) from the
   top set bits' indices, no branch on the operands), the same rule (docs/cycle-model.md "Divides"). */
static inline __attribute__((always_inline)) uint32_t hp_div_extra(uint32_t n, uint32_t m, uint32_t is_signed) {
    return tm_div_extra_inline(n, m, is_signed);
}

/* hp_div_extra for the tests (tests/unit/test_cycles.py compares it with simcore.cycles.divide_cycles). */
uint32_t hp_div_extra_of(uint32_t n, uint32_t m, uint32_t is_signed) {
    return hp_div_extra(n, m, is_signed ? HP_DIV_SIGNED : 0u);
}

/* hp_block_general with the hook's argument order (no register moves on the hook's own path). */
static __attribute__((noinline)) void hp_block_general_at(void *uc, uint64_t address, uint32_t size, hp_state *s,
                                                          hp_block *b) {
    hp_block_general(s, uc, (uint32_t)address, size, b);
}

/* The last block counted entered again (hp_block_counted's same case, no general flag, slow_next 0): its next entries
   in a row take hp_block_streak, with what they add decided here once. Not for two deferred divides or divides priced
   through uc_reg_read (the hook's own path does those). The refill of a conditional branch at its end: the entry is
   its target when it branches to itself (or, for an indirect conditional PC write, anything but its fall-through,
   which is never its own address) -- hp_block_counted's pend_* test, whose fields hold this block's values. */
static inline void hp_streak_begin(hp_state *s, const hp_block *b, uint32_t addr, uint32_t size) {
    uint32_t div = s->dv_on ? b->div[0] : 0u;
    if (div && (b->div[1] || !s->dv_env)) return;
    uint32_t taken = (b->flags & HP_COND_END) && (b->target == HP_INDIRECT || b->target == addr) ? b->taken_extra : 0u;
    s->st_addr = addr;
    s->st_size = size;
    s->st_cycles = b->cycles + taken;
    s->st_taken = taken;
    s->st_insn = b->n_insn;
    s->st_div = div;
    if (div) {
        s->st_rn = s->dv_env + HP_DIV_RN(div);
        s->st_rm = s->dv_env + HP_DIV_RM(div);
    }
}

/* A found block counted (NULL, a flag of the general path or slow_next: hp_block_general); ``cyc`` is the clock
   with the deferred divides priced, not yet stored. ``same``: it is the last block counted, and last_addr and
   last_size still say so (hp_block_count): the fields that count wrote hold what this one would write again
   (pend_*, last_addr, last_size; last_line on an ART hit). Within one emu_start only the hook writes them: Python
   sets last_size 0 at every stop (HotPath.correct_partial_block), and the debugger and a reset start with a stop. */
static inline __attribute__((always_inline)) void hp_block_counted(void *uc, uint64_t address, uint32_t size,
                                                                    hp_state *s, uint64_t cyc, hp_block *b,
                                                                    const int same) {
    uint32_t addr = (uint32_t)address;
    if (HP_UNLIKELY(!b || s->slow_next || (b->flags & HP_GENERAL_FLAGS))) {
        s->cycle_count = cyc;
        hp_block_general_at(uc, address, size, s, b);
        return;
    }
    uint32_t flags = b->flags; /* no HP_SP_DYNAMIC here: it comes with HP_SP_READ, a general flag */
    cyc += b->cycles;
    if (s->pend_cond && (s->pend_target == HP_INDIRECT ? addr != s->pend_fall : addr == s->pend_target)) {
        cyc += s->pend_extra;
        s->branch_taken_cycles += s->pend_extra;
    }
    if (!same) {
        s->pend_cond = flags & HP_COND_END;
        s->pend_target = b->target;
        s->pend_fall = addr + size;
        s->pend_extra = b->taken_extra;
        s->last_addr = addr;
        s->last_size = size;
    }
    s->insn_count += b->n_insn;
    s->cycle_count = cyc;
    s->block_count++;
    s->entries++;
    b->execs++;
    hp_div_arm(s, b, addr);
    if (same) hp_streak_begin(s, b, addr, size);
    /* hp_flash_hit first: a block stamped in the current generation is in flash and was charged with the ART on
       (accel 1), and the ART stayed on since (HotPath.set_flash forgets the stamps when it goes off) */
    if (s->wait_states) {
        if (b->art_gen == s->art_gen) {
            if (!same) s->last_line = b->line0 + b->n_lines - 1u;
        } else if (flags & HP_IN_FLASH) {
            hp_flash_charge(s, b); /* a tail call: no pushes above */
        }
    }
}

/* hp_find that keeps the slot found in hot_at. */
static inline hp_block *hp_find_hot(hp_state *s, uint32_t addr, uint32_t size) {
    uint32_t i = hp_hash(addr) & s->mask;
    for (;;) {
        hp_block *b = &s->table[i];
        if (b->addr == addr && b->size == size) {
            s->hot_at = i * (uint32_t)sizeof(hp_block);
            return b;
        }
        if (b->addr == 0xFFFFFFFFu) return NULL;
        i = (i + 1) & s->mask;
    }
}

/* The hook's entries of a block other than the last one counted (or the first after a stop): find it and count
   it, writing every field. */
static __attribute__((noinline)) void hp_block_find(void *uc, uint64_t address, uint32_t size, hp_state *s,
                                                    uint64_t cyc) {
    hp_block_counted(uc, address, size, s, cyc, hp_find_hot(s, (uint32_t)address, size), 0);
}

/* Everything of the hook after the deferred divides and the due check: find the block and count it; a loop
   re-entering itself (the last block counted again) writes only what changes. */
static inline __attribute__((always_inline)) void hp_block_count(void *uc, uint64_t address, uint32_t size,
                                                                  hp_state *s, uint64_t cyc) {
    if ((uint32_t)address == s->last_addr && size == s->last_size) {
        hp_block *b = hp_hot(s);
        if (HP_LIKELY(b->addr == (uint32_t)address && b->size == size)) {
            hp_block_counted(uc, address, size, s, cyc, b, 1);
            return;
        }
    }
    hp_block_find(uc, address, size, s, cyc);
}

/* The streak's entry when the next event or the budget is due: the divide this entry priced ran (counted; its cycles
   are in st_extra and cyc) and is no longer pending; the streak ends, then hp_block_due as for any block. */
static __attribute__((noinline)) void hp_streak_due(void *uc, uint64_t address, uint32_t size, hp_state *s,
                                                    uint64_t cyc) {
    if (s->st_div) {
        s->div_stats->executed++;
        s->dv_settled++;
        s->dv_pend[0] = 0;
    }
    hp_streak_flush(s);
    s->cycle_count = cyc;
    hp_block_due(uc, address, size, s);
}

/*
 * One more entry of the streak's block (hp_state.st_*): what hp_block_hook's divide pricing, due check and same-block
 * count do, less what does not change from one entry to the next. The divide it prices is the one its previous entry
 * armed, which stays armed in dv_pend[0] for the next; the counters it adds one to are counted in st_n, its divide's
 * cycles in st_extra (hp_streak_flush writes both); pend_*, last_addr, last_size, last_line (ART hit) hold its values.
 */
static inline __attribute__((always_inline)) void hp_block_streak(void *uc, uint64_t address, uint32_t size,
                                                                   hp_state *s) {
    uint64_t cyc = s->cycle_count;
    uint32_t v = s->st_div;
    if (v) {
        uint32_t extra = hp_div_extra(*s->st_rn, *s->st_rm, v & HP_DIV_SIGNED);
        cyc += extra;
        s->st_extra += extra;
    }
    s->block_cycle = cyc;
    if (HP_UNLIKELY(cyc >= s->stop_cycle || s->insn_count >= s->stop_insn)) {
        hp_streak_due(uc, address, size, s, cyc);
        return;
    }
    s->insn_count += s->st_insn;
    s->cycle_count = cyc + s->st_cycles;
    s->branch_taken_cycles += s->st_taken; /* kept whole: the polling fast-forward reads it mid-run (hp_poll) */
    s->st_n++;
    if (s->wait_states) { /* as hp_block_counted: an ART hit moves nothing; a block in flash not stamped is charged */
        hp_block *b = hp_hot(s);
        if (b->art_gen != s->art_gen && (b->flags & HP_IN_FLASH)) hp_flash_charge(s, b);
    }
}

void hp_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data);

/* The hook at a block other than the streak's: the streak ends, then the hook as without one. */
static __attribute__((noinline)) void hp_block_unstreak(void *uc, uint64_t address, uint32_t size, hp_state *s) {
    hp_streak_flush(s);
    hp_block_hook(uc, address, size, s);
}

/* The hook's body, compiled twice: hp_block_hook, and hp_block_hook_lzcnt for a CPU with LZCNT (below). */
static inline __attribute__((always_inline)) void hp_block_enter(void *uc, uint64_t address, uint32_t size,
                                                                 hp_state *s) {
    if ((uint32_t)address == s->st_addr && size == s->st_size) {
        hp_block_streak(uc, address, size, s);
        return;
    }
    if (HP_UNLIKELY(s->st_size != 0)) {
        hp_block_unstreak(uc, address, size, s);
        return;
    }
    uint64_t cyc = s->cycle_count;
    uint32_t v = s->dv_pend[0];
    if (HP_UNLIKELY(v != 0)) { /* the previous block ran to its end: price its deferred divides */
        const uint32_t *env = s->dv_env;
        if (HP_UNLIKELY(!env || s->dv_pend[1])) {
            hp_block_slow(uc, address, size, s);
            return;
        }
        uint32_t extra = hp_div_extra(env[HP_DIV_RN(v)], env[HP_DIV_RM(v)], v & HP_DIV_SIGNED);
        cyc += extra;
        tm_div_stats *st = s->div_stats;
        st->extra += extra;
        st->executed++;
        s->dv_settled++;
        s->dv_pend[0] = 0;
    }
    s->block_cycle = cyc;
    /* A block whose hook stops emulation does not run; its hook runs again on resume. */
    if (HP_UNLIKELY(cyc >= s->stop_cycle || s->insn_count >= s->stop_insn)) {
        s->cycle_count = cyc;
        hp_block_due(uc, address, size, s);
        return;
    }
    hp_block_count(uc, address, size, s, cyc);
}

/* Aligned to 64 bytes, as its LZCNT twin: where the linker happened to place it moved div_bench's CPU time by ~2%
   (the same hook at 32 mod 64, measured). */
__attribute__((aligned(64))) void hp_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    hp_block_enter(uc, address, size, (hp_state *)user_data);
}

/*
 * The hook built for LZCNT (x86's count of leading zeros, in every x86-64 CPU since 2013: AMD's ABM, Intel's
 * Haswell), the one Unicorn calls when the CPU has it (hp_block_hook_ptr): a divide's price counts its operands'
 * leading zeros (tm_lead), which a build for any x86-64 makes a BSR and an XOR -- on AMD's Zen 2 a BSR is several
 * micro-ops with a latency of 4, against 1 for an LZCNT, and the price is on the hook's critical path
 * (docs/performance.md "Sixteenth round": div_bench -2% CPU time). The same C: counts identical (the rare paths it
 * tail-calls come back to hp_block_hook). Not needed where the whole build targets LZCNT (-march=native).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__LZCNT__)
#define HP_LZCNT_TWIN 1
#include <cpuid.h>
__attribute__((target("lzcnt"), aligned(64))) void hp_block_hook_lzcnt(void *uc, uint64_t address, uint32_t size,
                                                                     void *user_data) {
    hp_block_enter(uc, address, size, (hp_state *)user_data);
}

/* hp_div_extra as the LZCNT hook computes it, for the tests (tests/unit/test_cycles.py); call only with hp_lzcnt(). */
__attribute__((target("lzcnt"))) uint32_t hp_div_extra_lzcnt_of(uint32_t n, uint32_t m, uint32_t is_signed) {
    return hp_div_extra(n, m, is_signed ? HP_DIV_SIGNED : 0u);
}
#else
#define HP_LZCNT_TWIN 0
#endif

/* 1: the CPU has LZCNT and the build a hook for it (hp_block_hook_lzcnt), which hp_block_hook_ptr then gives. */
uint32_t hp_lzcnt(void) {
#if HP_LZCNT_TWIN
    unsigned a, b, c, d;
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_LZCNT) ? 1u : 0u; /* CPUID Fn8000_0001 ECX[5] */
#else
    return 0u;
#endif
}

/* The hook with deferred divides to price through uc_reg_read, or two of them. */
static __attribute__((noinline)) void hp_block_slow(void *uc, uint64_t address, uint32_t size, hp_state *s) {
    hp_div_settle(s, uc, 0, 0);
    hp_block_hook(uc, address, size, s);
}

/* The hook when the next event or the budget is due (the clock stored). */
static __attribute__((noinline)) void hp_block_due(void *uc, uint64_t address, uint32_t size, hp_state *s) {
    if (hp_due(s, uc, address)) return;
    hp_block_count(uc, address, size, s, s->cycle_count);
}

/*
 * Flash data reads (UC_HOOK_MEM_READ on the flash ranges, installed only when the board has
 * wait states): the ART's data lines (accel 1) or every read (no data cache) cost the wait
 * states. Instruction fetches are not data reads: they are priced per block above.
 */
void hp_flash_read_hook(void *uc, int type, uint64_t address, int size, int64_t value, void *user_data) {
    (void)uc; (void)type; (void)size; (void)value;
    hp_state *s = (hp_state *)user_data;
    if (s->accel == 1) {
        uint32_t line = (uint32_t)address >> 4;
        uint32_t *tag = &s->dtags[line & s->dmask];
        if (*tag == line) return;
        *tag = line;
        hp_art_changed(s);
    }
    s->flash_wait_cycles += s->wait_states;
    s->cycle_count += s->wait_states;
}

void *hp_flash_read_hook_ptr(void) { return (void *)&hp_flash_read_hook; }

/* Profiler set-up and tear-down (the arrays belong to C; Python reads them through pointers). */
int hp_profile_init(hp_state *s, uint32_t max_depth, uint32_t cap_events) {
    s->frames = (hp_frame *)calloc(max_depth, sizeof(hp_frame));
    s->events = (hp_event *)calloc(cap_events ? cap_events : 1, sizeof(hp_event));
    if (!s->frames || !s->events || hp_nodes_grow(s)) return -1;
    s->max_depth = max_depth;
    s->cap_events = cap_events;
    return 0;
}

/* Push a root frame (the function the run starts in) outside emulation. */
void hp_profile_root(hp_state *s, uint32_t func) { hp_push(s, func, HP_INDIRECT, 0); }

void hp_profile_free(hp_state *s) {
    free(s->frames); free(s->nodes); free(s->node_hash); free(s->events);
    s->frames = NULL; s->nodes = NULL; s->node_hash = NULL; s->events = NULL;
    s->cap_nodes = s->n_nodes = s->depth = s->cap_events = s->n_events = 0;
}


/*
 * Exception return (ARMv7-M B1.5.8) of the common case, inside the UC_HOOK_INTR callback for
 * EXCP_EXCEPTION_EXIT (intno 8, PC = EXC_RETURN without bit 0): Python arms it (fr_exc) only
 * when exactly one exception is active (not NMI, not a fault, no line held high), nothing is
 * pending (so no tail-chain) and SLEEPONEXIT is clear; this function returns 0 (Python does the
 * return) on anything else: an EXC_RETURN to handler mode or not valid, an IPSR that is not
 * fr_exc, a frame outside RAM. Otherwise it does exactly what ExceptionModel.exception_return
 * and pop_stack do, in the same register-write order, charges fr_cycles, and leaves fr_done
 * for Python's bookkeeping (active set, last_return) at its next sync.
 */
static int hp_window(const hp_state *s, uint32_t addr, uint32_t size, uint8_t **host) {
    uint64_t end = (uint64_t)addr + size;
    for (uint32_t i = 0; i < s->n_windows; i++) {
        if (s->win_base[i] <= addr && end <= s->win_end[i]) {
            if (!s->win_ram[i] || !s->win_ptr[i]) return 0;
            *host = s->win_ptr[i] + (addr - s->win_base[i]);
            return 1;
        }
    }
    return 0;
}

/* The execution priority BASEPRI and PRIMASK boost to (B1.5.4): BASEPRI's group bits (the implemented priority
   bits above PRIGROUP), 0 under PRIMASK; 256 (no boost) with neither. */
static inline int32_t hp_mask_priority(const hp_state *s, uint32_t basepri, uint32_t primask) {
    int32_t boosted = 256;
    if (basepri & 0xFFu) boosted = (int32_t)((basepri & s->tick_prio_mask) & ~((2u << s->tick_prigroup) - 1u) & 0xFFu);
    if (primask & 1u) boosted = 0;
    return boosted;
}

/* A tail-chain's ExceptionTaken without stacking (B1.5.12): the vector (0: unreadable or not Thumb, nothing
   changed), then FAULTMASK cleared, CONTROL (FPCA and SPSEL cleared), LR = the same EXC_RETURN, xPSR with IPSR
   = exc, PC from the vector; TAIL_CHAIN cycles. */
static int hp_chain_enter(hp_state *s, void *uc, uint32_t vector_addr, uint32_t exc, uint32_t excret,
                          uint32_t control, uint32_t xpsr) {
    uint32_t vector = 0;
    if (s->mem_read(uc, vector_addr, &vector, 4) || !(vector & 1u)) return 0;
    uint32_t zero = 0;
    s->reg_write(uc, s->rid[FR_FAULTMASK], &zero);
    uint32_t new_control = control & ~6u, new_xpsr = (xpsr & 0xF80F0000u) | (1u << 24) | exc;
    int wids[3];
    void *wvp[3];
    int n = 0;
    if (new_control != control) { wids[n] = s->rid[FR_CONTROL]; wvp[n++] = &new_control; }
    wids[n] = s->rid[FR_LR]; wvp[n++] = &excret;
    wids[n] = s->rid[FR_XPSR]; wvp[n++] = &new_xpsr;
    s->reg_write_batch(uc, wids, wvp, n);
    s->reg_write(uc, s->rid[FR_PC], &vector);
    s->cycle_count += s->tc_cycles;
    return 1;
}

/*
 * The return of a handler while C holds PendSV (hp_pendsv) or SysTick (hp_tick_pend) pending:
 * ExceptionModel.exception_return's tail-chain (B1.5.12) into the higher-priority one (the lower
 * exception number on a tie) when it preempts the execution priority the return leads to
 * (thread mode: only the masks boost it; FAULTMASK is cleared), else 0 (Python's sync makes them
 * pending and Python returns). ExceptionTaken without stacking: FAULTMASK, then CONTROL (FPCA
 * and SPSEL cleared), LR = the same EXC_RETURN, xPSR with the new IPSR, PC from the vector;
 * TAIL_CHAIN cycles.
 */
static int hp_tail_chain(hp_state *s, void *uc, uint32_t excret, uint32_t control) {
    int ids[3] = {s->rid[FR_BASEPRI], s->rid[FR_PRIMASK], s->rid[FR_XPSR]};
    uint32_t v[3] = {0, 0, 0};
    void *vp[3] = {&v[0], &v[1], &v[2]};
    if (s->reg_read_batch(uc, ids, vp, 3)) return 0;
    int32_t boosted = hp_mask_priority(s, v[0], v[1]);
    uint32_t exc = 14, vector_addr = s->psv_vector;
    int32_t group = s->psv_group;
    if (s->tick_pend && (!s->psv_pending || s->tick_group < s->psv_group)) {
        exc = 15; vector_addr = s->tick_vector; group = s->tick_group;
    }
    if (group >= boosted) return 0;
    if (!hp_chain_enter(s, uc, vector_addr, exc, excret, control, v[2])) return 0;
    s->fr_left = s->fr_exc;
    if (exc == 15) s->tick_pend = 0; else s->psv_pending = 0;
    s->chains++;
    s->c_exc = exc;
    s->c_group = group;
    s->fr_exc = exc; /* pended, not held: it may return here */
    HP_DONE_EXC(s);
    return 1;
}

/* PopStack to Thread mode (pop_stack with to_thread, privileged): the frame, FAULTMASK cleared (clear_fm: not when
   leaving NMI, B1.5.8), IPSR 0 before CONTROL so the SPSEL write switches SP banks, the PC last. 0: the frame is not
   in RAM (nothing changed). */
static int hp_pop_thread(hp_state *s, void *uc, uint32_t excret, uint32_t control, uint32_t msp, uint32_t psp,
                         int clear_fm) {
    uint32_t use_psp = (excret & 4u) != 0, fp = !(excret & 0x10u);
    uint32_t sp = use_psp ? psp : msp, framesize = fp ? 0x68u : 0x20u;
    uint8_t *host;
    if (!hp_window(s, sp, framesize, &host)) return 0;
    uint32_t w[26];
    memcpy(w, host, fp ? 100 : 32);
    uint32_t xpsr = w[7];
    sp += framesize;
    if ((xpsr & (1u << 9)) && s->fr_stkalign) sp |= 4u;
    if (fp) { /* S0-S15, FPSCR first, as pop_stack */
        int fids[17];
        void *fvp[17];
        for (int i = 0; i < 17; i++) { fids[i] = s->rid[FR_S0 + i]; fvp[i] = &w[8 + i]; }
        s->reg_write_batch(uc, fids, fvp, 17);
    }
    /* FAULTMASK cleared (not NMI); IPSR 0 before CONTROL so the SPSEL write switches SP banks */
    uint32_t new_control = (control & ~4u) | (fp ? 4u : 0u);
    new_control = (new_control & ~2u) | (use_psp ? 2u : 0u);
    uint32_t zero = 0, xpsr_out = xpsr & ~(1u << 9);
    int wids[11] = {s->rid[FR_FAULTMASK], s->rid[FR_IPSR], s->rid[FR_CONTROL], s->rid[FR_R0], s->rid[FR_R1],
                    s->rid[FR_R2], s->rid[FR_R3], s->rid[FR_R12], s->rid[FR_LR],
                    s->rid[use_psp ? FR_PSP : FR_MSP], s->rid[FR_XPSR]};
    void *wvp[11] = {&zero, &zero, &new_control, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5], &sp, &xpsr_out};
    int skip = clear_fm ? 0 : 1; /* (the batch from IPSR on: FAULTMASK left as it is) */
    s->reg_write_batch(uc, wids + skip, wvp + skip, 11 - skip);
    uint32_t new_pc = (w[6] & ~1u) | ((xpsr & (1u << 24)) ? 1u : 0u);
    s->reg_write(uc, s->rid[FR_PC], &new_pc); /* only uc_reg_write makes Unicorn resume at the new PC */
    return 1;
}

static int hp_fast_return(hp_state *s, void *uc) {
    uint32_t pc = 0;
    if (s->reg_read(uc, s->rid[FR_PC], &pc)) return 0;
    uint32_t excret = pc | 1u, low = excret & 0xFu;
    if ((excret & 0xFFFFFFE0u) != 0xFFFFFFE0u || (low != 9u && low != 0xDu)) return 0;
    uint32_t fp = !(excret & 0x10u);
    if (fp && !s->fr_fpu) return 0;
    int ids[4] = {s->rid[FR_IPSR], s->rid[FR_CONTROL], s->rid[FR_MSP], s->rid[FR_PSP]};
    uint32_t v[4] = {0, 0, 0, 0};
    void *vp[4] = {&v[0], &v[1], &v[2], &v[3]};
    if (s->reg_read_batch(uc, ids, vp, 4)) return 0;
    if ((v[0] & 0x1FFu) != s->fr_exc) return 0;
    if (s->psv_pending || s->tick_pend) return hp_tail_chain(s, uc, excret, v[1] & 7u);
    if (!hp_pop_thread(s, uc, excret, v[1] & 7u, v[2], v[3], 1)) return 0;
    s->cycle_count += s->fr_cycles;
    HP_DONE_EXC(s);
    s->fr_excret = excret;
    s->fr_left = s->fr_exc;
    s->fr_exc = 0; /* one shot: re-armed by the next entry (Python's, or hp_tick) */
    s->c_active = 0;
    s->fast_returns++;
    return 1;
}

/*
 * Exception entry at a block boundary (emulation stopped), the twin of ExceptionModel.enter_pending
 * after Python chose the exception: the preemption test against the masks (B1.5.4; Python passes
 * the exception's group priority and the highest active group priority), PushStack into the RAM
 * buffer and ExceptionTaken in one register write, PC included. flags: bit 0 CCR.STKALIGN, bit 1
 * FPU. out = {frame address, stacked on PSP, extended frame}. Returns 0 entered, 1 does not
 * preempt, 2 Python must do it (frame not in RAM, vector unreadable, engine error): nothing
 * was changed then.
 */
static int hp_enter_core(hp_state *s, void *uc, uint32_t exc, int32_t exc_group, int32_t highest,
                         uint32_t prio_mask, uint32_t prigroup, uint32_t vector_addr, uint32_t flags, uint32_t *out,
                         int in_hook, uint32_t ret_addr, uint32_t stack_limit);

int hp_enter(hp_state *s, void *uc, uint32_t exc, int32_t exc_group, int32_t highest, uint32_t prio_mask,
             uint32_t prigroup, uint32_t vector_addr, uint32_t flags, uint32_t *out) {
    return hp_enter_core(s, uc, exc, exc_group, highest, prio_mask, prigroup, vector_addr, flags, out, 0, 0, 0);
}

/*
 * in_hook: called from the block hook at the entry of the block at ret_addr (the PC register is
 * not up to date there): that address is stacked, and the PC is written with uc_reg_write, which
 * makes Unicorn abandon the block and resume at the handler. stack_limit: a frame on the main
 * stack below it is left to Python (the stack watch reports it).
 */
static int hp_enter_core(hp_state *s, void *uc, uint32_t exc, int32_t exc_group, int32_t highest,
                         uint32_t prio_mask, uint32_t prigroup, uint32_t vector_addr, uint32_t flags, uint32_t *out,
                         int in_hook, uint32_t ret_addr, uint32_t stack_limit) {
    enum { N = 15 };
    static const int idx[N] = {FR_BASEPRI, FR_PRIMASK, FR_FAULTMASK, FR_IPSR, FR_CONTROL, FR_MSP, FR_PSP,
                               FR_XPSR, FR_PC, FR_R0, FR_R1, FR_R2, FR_R3, FR_R12, FR_LR};
    int ids[N];
    uint32_t v[N];
    void *vp[N];
    for (int i = 0; i < N; i++) { ids[i] = s->rid[idx[i]]; v[i] = 0; vp[i] = &v[i]; }
    if (s->reg_read_batch(uc, ids, vp, N)) return 2;
    uint32_t basepri = v[0], primask = v[1], faultmask = v[2];
    int32_t boosted = 256;
    if (basepri & 0xFFu) boosted = (int32_t)((basepri & prio_mask) & ~((2u << prigroup) - 1u) & 0xFFu);
    if (primask & 1u) boosted = 0;
    if (faultmask & 1u) boosted = -1;
    int32_t ep = highest < boosted ? highest : boosted;
    if (exc_group >= ep) return 1;
    uint32_t ipsr = v[3] & 0x1FFu, control = v[4] & 7u, msp = v[5], psp = v[6], xpsr = v[7];
    uint32_t pc = in_hook ? ret_addr : v[8];
    uint32_t fpca = (control & 4u) && (flags & 2u);
    uint32_t use_psp = ipsr == 0 && (control & 2u);
    uint32_t sp = use_psp ? psp : msp;
    uint32_t framesize = fpca ? 0x68u : 0x20u;
    uint32_t align = (flags & 1u) ? 4u : 0u;
    uint32_t frameptralign = ((sp & 4u) && align) ? 1u : 0u;
    uint32_t frameptr = (sp - framesize) & ~align;
    uint8_t *host;
    if (!use_psp && stack_limit && frameptr < stack_limit) return 2;
    if (!hp_window(s, frameptr, framesize, &host)) return 2;
    uint32_t vector = 0;
    if (s->mem_read(uc, vector_addr, &vector, 4)) return 2;
    if (in_hook && !(vector & 1u)) return 2; /* as the run loop's stop path would resume it: Python's call */
    uint32_t frame[26];
    frame[0] = v[9]; frame[1] = v[10]; frame[2] = v[11]; frame[3] = v[12]; frame[4] = v[13]; frame[5] = v[14];
    frame[6] = pc & ~1u;
    frame[7] = (xpsr & ~(1u << 9)) | (frameptralign << 9);
    if (fpca) {
        int fids[17];
        void *fvp[17];
        for (int i = 0; i < 17; i++) { fids[i] = s->rid[FR_S0 + i]; frame[8 + i] = 0; fvp[i] = &frame[8 + i]; }
        if (s->reg_read_batch(uc, fids, fvp, 17)) return 2;
        frame[25] = 0;
    }
    memcpy(host, frame, framesize);
    uint32_t excret = ipsr ? 0xFFFFFFF1u : (use_psp ? 0xFFFFFFFDu : 0xFFFFFFF9u);
    if (fpca) excret &= ~0x10u;
    /* ExceptionTaken: SP, CONTROL (SPSEL/FPCA cleared before IPSR is set), LR, xPSR, PC */
    uint32_t new_control = control & ~6u, new_xpsr = (xpsr & 0xF80F0000u) | (1u << 24) | exc;
    int wids[6];
    void *wvp[6];
    int n = 0;
    wids[n] = s->rid[use_psp ? FR_PSP : FR_MSP]; wvp[n++] = &frameptr;
    if (new_control != control) { wids[n] = s->rid[FR_CONTROL]; wvp[n++] = &new_control; }
    wids[n] = s->rid[FR_LR]; wvp[n++] = &excret;
    wids[n] = s->rid[FR_XPSR]; wvp[n++] = &new_xpsr;
    if (!in_hook) { wids[n] = s->rid[FR_PC]; wvp[n++] = &vector; }
    s->reg_write_batch(uc, wids, wvp, n);
    if (in_hook) s->reg_write(uc, s->rid[FR_PC], &vector);
    out[0] = frameptr; out[1] = use_psp; out[2] = fpca;
    return 0;
}

/* After a native entry: the bookkeeping Python reads at its next sync, and the next stop. */
static void hp_entered(hp_state *s, uint32_t exc, int32_t group, const uint32_t *out) {
    s->tick_last_frame = out[0];
    s->tick_last_psp = out[1];
    s->tick_last_fp = out[2];
    if (out[1]) s->tick_psp_seen = 1;
    s->c_active = 1;
    s->c_exc = exc;
    s->c_group = group;
    s->c_entered = 1;
    HP_DONE_EXC(s); /* Python's bookkeeping is due at its next sync */
    hp_streak_end(s);
    s->last_size = 0;
    uint64_t next = s->tick_ok ? s->tick_cycle : HP_NEVER;
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_next[i] < next) next = s->src_next[i];
    s->stop_cycle = next < s->other_cycle ? next : s->other_cycle;
}

/*
 * SysTick reaches 0 at a block boundary (cycle_count >= tick_cycle, before any other event): do
 * what the run loop would do at that stop -- SysTick._fire (pend, next tick one period later) and
 * take_pending (the preemption test, entry, EXCEPTION_ENTRY cycles) -- without leaving
 * emu_start, and arm the native return of the handler. Returns 0 (the caller stops emulation
 * and Python does it all) whenever Python could decide differently: a late tick, a stack-watch
 * report, no preemption, a frame outside RAM.
 */
static __attribute__((noinline)) int hp_tick(hp_state *s, void *uc, uint32_t addr) {
    if (s->tick_cycle + s->tick_period <= s->cycle_count) return 0;
    if (s->tick_stack_limit && s->sp_low < s->tick_stack_limit) return 0;
    uint32_t out[3];
    if (hp_enter_core(s, uc, 15, s->tick_group, 256, s->tick_prio_mask, s->tick_prigroup, s->tick_vector,
                      s->tick_flags, out, 1, addr, s->tick_stack_limit))
        return 0;
    s->cycle_count += s->entry_cycles;
    s->tick_cycle += s->tick_period;
    s->tick_entries++;
    hp_entered(s, 15, s->tick_group, out);
    s->fr_exc = 15; /* SysTick is pended, not held: its handler may return here */
    return 1;
}

/*
 * SysTick reaches 0 while the one active handler runs and SysTick cannot preempt it:
 * SysTick._fire (pend, next tick one period later) in C; the handler's return tail-chains into it
 * (hp_tail_chain). Returns 0 (stop: Python) when it would preempt (nesting is Python's), when it is
 * late or already pending here.
 */
static int hp_tick_pend(hp_state *s) {
    if (s->c_active != 1 || s->tick_pend || !s->tick_ok) return 0;
    if (s->tick_cycle + s->tick_period <= s->cycle_count) return 0;
    if (s->tick_group < s->c_group) return 0;
    s->tick_pend = 1;
    s->tick_cycle += s->tick_period;
    s->tick_fires++;
    HP_DONE_EXC(s);
    uint64_t next = s->tick_cycle;
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_next[i] < next) next = s->src_next[i];
    s->stop_cycle = next < s->other_cycle ? next : s->other_cycle;
    return 1;
}

/*
 * A peripheral's planned interrupt assertion is due at a block boundary (before any other event):
 * enter it as Python's take_pending would, once. The return stays with Python until its next
 * sync (a level interrupt may still be asserted then): the handler's access to the peripheral
 * brings Python in, which tells the model (native_fired), clears the line and arms the return.
 */
static __attribute__((noinline)) int hp_source(hp_state *s, void *uc, uint32_t addr, uint32_t i) {
    if (s->tick_stack_limit && s->sp_low < s->tick_stack_limit) return 0;
    uint32_t out[3];
    if (hp_enter_core(s, uc, s->src_exc[i], s->src_group[i], 256, s->tick_prio_mask, s->tick_prigroup,
                      s->src_vector[i], s->tick_flags, out, 1, addr, s->tick_stack_limit))
        return 0;
    s->cycle_count += s->entry_cycles;
    s->src_cycle[i] = s->src_next[i];
    s->src_next[i] = HP_NEVER; /* until Python plans the next one */
    s->src_entries[i]++;
    s->src_unacked[i] = 1;
    hp_entered(s, s->src_exc[i], s->src_group[i], out);
    return 1;
}

/*
 * regfile.c's RF_ACK callback: a write to a source's acknowledge register. When C delivered that
 * source's interrupt since Python's last sync and its handler is running, the write does what the
 * peripheral would (CmsdkTimer.write_INTSTATUS: status and line cleared, the next zero planned)
 * without Python: the next assertion is the first counter zero after now, C delivers it like the
 * first (hp_source), and the handler's return is armed (its line is low now). Returns 0 in every
 * other case (Python serves the write).
 */
/* hp_ack's event clears: a word write of 0 to an armed slot's event register, or of the armed flags to a write-1-to-clear
   slot's register (see ev_* in hp_state). */
static int hp_event_clear(hp_state *s, uint32_t addr, uint32_t size, uint64_t value) {
    for (uint32_t k = 0; k < s->ev_n && k < HP_EV_SLOTS; k++) {
        if (s->ev_addr[k] != addr) continue;
        if (!s->ev_armed[k] || size != 4 || !s->ev_bus || s->py_stop || s->stop_requested) return 0;
        uint32_t v = (uint32_t)value, *store = &rf_stores(s->ev_bus)[s->ev_store[k]];
        if (s->ev_w1c[k]) { /* write 1 to clear: within the slot's bits, clearing every bit that holds the line */
            if ((v & ~s->ev_w1c[k]) || !s->ev_need[k] || (v & s->ev_need[k]) != s->ev_need[k]) return 0;
            if (k == s->ch_ev) { /* a chain's slot: each clear is logged for Python's settle (hp_chain_wake) */
                if (s->ch_clr_n > HP_CH_MAX) return 0;
                s->ch_clr_value[s->ch_clr_n] = v;
                s->ch_clr_cycle[s->ch_clr_n] = s->cycle_count;
                s->ch_clr_n++;
            }
            *store &= ~v;
            s->ev_value[k] = v;
            s->ev_cycle[k] = s->cycle_count;
        } else {
            if (v != 0) return 0;
            *store = 0;
        }
        uint32_t irq = s->ev_irq[k];
        if ((irq >> 5) < HP_NV_WORDS) s->nv_held[irq >> 5] &= ~(1u << (irq & 31u)); /* the line falls */
        s->ev_armed[k] = 0;
        s->ev_cleared[k]++;
        s->ev_clears++;
        s->fr_done |= 4u; /* Python's next sync applies it (bit 4: nothing else to bring up to date) */
        return 1;
    }
    return 0;
}

/* The planned compare move (mv_*, see hp_state): a word write of exactly mv_value to mv_addr after C's wake at mv_from
   (its bookkeeping not yet Python's: fr_done holds only that wake, NVIC writes, event clears, a TWIM read taken
   before it, hp_twim_start, and a UARTE transfer ended before it, hp_uarte_start, which Python settles first) and
   before mv_cycle.
   The register file keeps the value as the model's write would, and the next stop comes no later than the moved
   compare, where the model's counter event will be once Python's sync made the write (Machine.settle_move). 1: served. */
static int hp_cc_move(hp_state *s, uint32_t addr, uint32_t size, uint64_t value) {
    if (addr != s->mv_addr || size != 4 || value != s->mv_value || s->wk_at != s->mv_from ||
        s->wk_cycle != HP_NEVER || !(s->fr_done & 8u) || (s->fr_done & ~206u) || s->cycle_count >= s->mv_cycle ||
        s->stop_requested || s->py_stop || !s->ev_bus)
        return 0;
    rf_stores(s->ev_bus)[s->mv_store] = s->mv_value;
    s->mv_addr = 0; /* once: a further write goes to Python, which settles this one first */
    s->mv_at = s->cycle_count;
    s->mv_done++;
    if (s->mv_cycle < s->stop_cycle) s->stop_cycle = s->mv_cycle;
    s->fr_done |= 64u; /* Python's next sync makes the model's write as of mv_at */
    return 1;
}

/* TASKS_STARTTX served here (see hp_utx): a whole-word write of 1 while Python armed it and the arming it was made in
   holds (no planned event or chain, no wake but one at the next stop -- the end then comes before it, and Python's
   sync settles the transfer before the wake: Machine._arm_events after a TWIM flight --, C's own deliveries off, no
   stop asked for, nothing but applied events, TWIM reads, event clears and NVIC writes for Python to settle), TXD.PTR/TXD.MAXCNT giving 1..room bytes in Data RAM, and the end (the model's
   _tx_next: start + count frames, on the clock timeline) before the next stop. 1: served, 0: Python serves it. */
static int hp_uarte_start(hp_state *s, hp_utx *u, uint32_t size, uint64_t value) {
    if ((u->on != 1 && u->on != 3) || size != 4 || value != 1 || s->ap_cycle != HP_NEVER || s->ch_n ||
        (s->wk_cycle != HP_NEVER && s->wk_cycle != s->stop_cycle) || /* a wake at the next stop: after the end */
        s->other_cycle || s->stop_requested || s->py_stop ||
        (s->fr_done & ~(s->ks && s->ks->n ? 479u : 471u)) || /* (in a stretch's tick: after the wake before it, 8) */
        !s->ev_bus || u->n >= HP_UX_MAX ||
        u->n_start > HP_UX_OPS || u->n_end > HP_AP_OPS || !u->rate_num || !u->rate_den || !u->frame_fs ||
        ((u->on == 3 || (s->fr_done & 1u)) && !hp_none_pending(s))) /* (the arming had exceptions pending, or C made
                                                                          entries and returns since: Python's sync would
                                                                          see them; nothing pending now, as it asks) */
        return 0;
    uint32_t *store = rf_stores(s->ev_bus);
    uint32_t ptr = store[u->ptr_store], count = store[u->max_store] & 0xFFFFu;
    uint64_t now = s->cycle_count;
    if (!count || count > HP_UX_CAP - u->len || ptr < u->ram_lo || ptr >= u->ram_hi || count > u->ram_hi - ptr ||
        now < u->seg_cycle ||
        now - u->seg_cycle >= (1ull << 40))
        return 0;
    /* Timeline.fs_at(now), then cycle_at(start + count frames): integers as clock.py has them */
    unsigned __int128 x = (unsigned __int128)(now - u->seg_cycle) * HP_FS_PER_SECOND * u->rate_den;
    unsigned __int128 start_fs = (unsigned __int128)u->seg_fs + x / u->rate_num;
    unsigned __int128 at = start_fs + (unsigned __int128)count * u->frame_fs - u->seg_fs;
    if (at >> 64) return 0;
    unsigned __int128 den = (unsigned __int128)u->rate_den * HP_FS_PER_SECOND;
    unsigned __int128 c = u->seg_cycle + (at * u->rate_num + den - 1) / den;
    uint64_t end = c < now ? now : (uint64_t)c;
    if (c >= HP_NEVER || end >= s->stop_cycle) return 0;
    memcpy(u->buf + u->len, u->ram_host + (ptr - u->ram_lo), count);
    u->len += count;
    u->count[u->n] = count;
    u->start_cycle[u->n] = now;
    u->end_cycle[u->n] = HP_NEVER;
    u->n++;
    for (uint32_t i = 0; i < u->n_start; i++) {
        if (u->start_kind[i] == HP_AP_FLAGS)
            rf_flags_set(s->ev_bus, u->start_index[i], u->start_value[i]);
        else
            store[u->start_index[i]] = u->start_value[i];
    }
    for (uint32_t i = 0; i < u->n_end; i++) {
        s->ap_kind[i] = u->end_kind[i];
        s->ap_index[i] = u->end_index[i];
        s->ap_value[i] = u->end_value[i];
    }
    s->ap_n = u->n_end;
    s->ap_after = s->stop_cycle; /* the next machine event (Machine._plan_apply's `after`) */
    s->ap_period = 0;
    s->ap_cycle = end;
    s->stop_cycle = end;
    u->planned = 1;
    s->fr_done |= 64u; /* Python's next sync gives the model its transfers (Machine.settle_uarte) */
    return 1;
}

/* TASKS_STARTTX written (hp_ack) with a TWIM read planned (tw_*, see hp_state): 1 when taken here. Taken only with no
   Python bookkeeping due (fr_done as hp_ack's clears leave it), nothing C delivers on its own (other_cycle 0) and the
   transfer's STOPPED before the next machine event and before the chip's next change (tw_quiet). */
static int hp_twim_start(hp_state *s, uint32_t size, uint64_t value) {
    if (size != 4 || value != 1 || s->tw_flight || s->py_stop || s->stop_requested ||
        (s->fr_done & ~134u) || /* (128: only a transfer woken since this offer was armed, settled first) */
        s->other_cycle || !s->ev_bus || !s->tw_ram || !s->tw_miso || !s->tw_fpc || !s->tw_unit ||
        s->tw_chk_n > HP_TW_CHECKS || s->cycle_count < s->tw_free)
        return 0;
    uint32_t *st = rf_stores(s->ev_bus);
    uint32_t w = s->tw_irq >> 5, line = 1u << (s->tw_irq & 31u);
    if (w >= HP_NV_WORDS || (s->nv_held[w] & line) || (s->nv_pending[w] & line) ||
        (s->tw_ev_store[4] != HP_TW_NONE && st[s->tw_ev_store[4]]))
        return 0; /* the last STOPPED not cleared yet (event, line or pending): the wake would find it */
    for (uint32_t k = 0; k < s->tw_chk_n; k++)
        if (st[s->tw_chk_store[k]] != s->tw_chk_value[k]) return 0;
    uint32_t tx = st[s->tw_txptr], rx = st[s->tw_rxptr], cnt = st[s->tw_rxcnt], n = cnt & 0xFFFFu;
    if (!n || n > s->tw_len || n % s->tw_unit || tx - s->tw_ram_base >= s->tw_ram_size ||
        rx - s->tw_ram_base > s->tw_ram_size - n || s->tw_ram[tx - s->tw_ram_base] != s->tw_reg)
        return 0;
    /* bit periods from the write (the model's fs, each event at the first cycle that reaches it: Timeline.cycle_at):
       LASTTX as the register byte starts after START and the address (10), the repeated START once it has ended
       (19), the last byte's end 10 + 9 n later, STOPPED 2 after the STOP */
    uint64_t at = s->cycle_count, bit = s->tw_bit_fs, fpc = s->tw_fpc;
    uint64_t lasttx = at + (10u * bit + fpc - 1u) / fpc;
    uint64_t stopped = at + ((19u + 10u + 9u * (uint64_t)n + 2u) * bit + fpc - 1u) / fpc;
    if (stopped >= s->stop_cycle || lasttx >= s->tw_quiet) return 0; /* the chip reads at LASTTX */
    if (s->tw_ev_store[0] != HP_TW_NONE) st[s->tw_ev_store[0]] = 1; /* EVENTS_TXSTARTED at once */
    s->tw_at = at;
    s->tw_lasttx = lasttx;
    s->tw_stopped = stopped;
    s->tw_tx = tx;
    s->tw_rx = rx;
    s->tw_n = cnt;
    s->tw_saved = s->stop_cycle;
    s->stop_cycle = lasttx; /* the model's LASTTX event, unless a wfi is woken at STOPPED first */
    s->tw_on = 0;
    s->tw_flight = 1;
    s->tw_taken++;
    if (s->tw2_state == 1) s->tw2_state = 2; /* the chained read (its wake stores the fall) */
    if (s->ks && s->ks->on && !s->ks->n && s->ks->unit) { /* the drain before a stretch's first step: its samples */
        s->ks->popped += n / s->ks->unit;
        s->ks->free = stopped;
    }
    s->fr_done |= 128u; /* Python's next sync runs the model's write and events as of their cycles */
    return 1;
}


/* --- the K-tick stretch (hp_ks, see its struct) -------------------------------------------------------------------- */
#define HP_KS_DONE_OK (2u | 4u | 8u | 64u | 128u | 256u) /* Python's bookkeeping a step may leave behind it: NVIC writes,
                                                             event clears, the wake, compare move, UARTE and TWIM read
                                                             before the stretch (the syncs' before), and its own log */

/* The stretch's two lines' event clears and ICPR writes hp_event_clear and hp_nvic_write recorded since the last step,
   moved from their records into the open tick's (before the first step: pre_*, which the sync before the stretch's
   applies). Python applies each tick's where that tick's sync did (Machine.settle_stretch). */
static void hp_ks_observe(hp_state *s, hp_ks *k) {
    uint32_t wt = k->tw_irq >> 5, bt = 1u << (k->tw_irq & 31u), wr = k->rtc_irq >> 5, br = 1u << (k->rtc_irq & 31u);
    uint32_t ct = s->ev_cleared[k->tw_ev], cr = s->ev_cleared[k->rtc_ev];
    uint32_t u = ((s->nv_unpended[wt] & bt) ? 1u : 0u) | ((s->nv_unpended[wr] & br) ? 2u : 0u);
    if (!ct && !cr && !u) return;
    s->ev_cleared[k->tw_ev] = 0;
    s->ev_cleared[k->rtc_ev] = 0;
    s->nv_unpended[wt] &= ~bt;
    s->nv_unpended[wr] &= ~br;
    if (k->n) {
        k->clr_tw[k->n - 1] += ct;
        k->clr_rtc[k->n - 1] += cr;
        k->unp[k->n - 1] |= u;
    } else {
        k->pre_clr_tw += ct;
        k->pre_clr_rtc += cr;
        k->pre_unp |= u;
    }
}

/* The previewed samples in the FIFO by cycle c (see hp_ks.first), or arr_n when the preview does not reach so far
   (then a later arrival may be in too: refused). */
static uint32_t hp_ks_arrived(const hp_ks *k, uint64_t c) {
    if (c < k->tl_c0 || c - k->tl_c0 >= (1ull << 40) || !k->tl_num || !k->rate_den_fs) return k->arr_n;
    unsigned __int128 t = k->tl_f0 + (unsigned __int128)(c - k->tl_c0) * k->tl_dfs / k->tl_num;
    unsigned __int128 in = ((t + 1u) * k->rate_num + k->rate_den_fs - 1u) / k->rate_den_fs; /* count_by(t) + 1 */
    if (in <= k->first) return 0;
    in -= 1u + k->first;
    return in < k->arr_n ? (uint32_t)in : k->arr_n;
}

/* TASKS_STARTTX of the tick's FIFO_SRC read (phase 0) or of the drain after it (phase 2), taken as hp_twim_start takes
   an offered read: the set-up as the transfers need it, the last STOPPED cleared, the transfer's cycles its; the
   chip's answer from the preview at LASTTX (arrivals up to it, less the samples drained): FIFO_SRC's byte, or the
   drained samples' bytes (no more than the FIFO holds). Refused past the preview, at an overrun, past the chain, the
   next compare or another machine event. 1: taken. */
static int hp_ks_start(hp_state *s, hp_ks *k, uint32_t size, uint64_t value) {
    uint32_t drain = k->phase == 2u;
    if ((k->phase != 0u && !drain) || size != 4 || value != 1 || s->tw_flight || s->py_stop || s->stop_requested ||
        s->other_cycle || s->ap_cycle != HP_NEVER || s->ch_n || (s->fr_done & ~HP_KS_DONE_OK) || !s->ev_bus ||
        !k->ram || !k->fpc || !k->unit || k->chk_n > HP_TW_CHECKS || s->cycle_count < k->free ||
        k->cc_i + 1u >= k->cc_n || (!drain && k->n >= HP_KS_TICKS))
        return 0;
    uint32_t *st = rf_stores(s->ev_bus);
    uint32_t w = k->tw_irq >> 5, line = 1u << (k->tw_irq & 31u);
    if (w >= HP_NV_WORDS || (s->nv_held[w] & line) || (s->nv_pending[w] & line) ||
        (k->ev_store[4] != HP_TW_NONE && st[k->ev_store[4]]))
        return 0; /* the last STOPPED not cleared yet (event, line or pending) */
    for (uint32_t i = 0; i < k->chk_n; i++)
        if (st[k->chk_store[i]] != k->chk_value[i]) return 0;
    uint32_t tx = st[k->txptr], rx = st[k->rxptr], cnt = st[k->rxcnt], n = cnt & 0xFFFFu;
    if (!n || tx - k->ram_base >= k->ram_size || rx - k->ram_base > k->ram_size - n ||
        k->ram[tx - k->ram_base] != (drain ? k->reg_drain : k->reg_src) || (drain ? n % k->unit != 0 : n != 1u))
        return 0;
    uint64_t at = s->cycle_count, bit = k->bit_fs, fpc = k->fpc; /* (hp_twim_start's cycles) */
    uint64_t lasttx = at + (10u * bit + fpc - 1u) / fpc;
    uint64_t stopped = at + ((19u + 10u + 9u * (uint64_t)n + 2u) * bit + fpc - 1u) / fpc;
    uint64_t bound = k->cc_cycle[k->cc_i] < k->after ? k->cc_cycle[k->cc_i] : k->after;
    if (stopped >= bound || stopped >= s->stop_cycle) return 0;
    uint32_t a = hp_ks_arrived(k, lasttx); /* the chip reads at LASTTX */
    if (a >= k->arr_n || k->held + a < k->popped) return 0; /* (all previewed in: a later one may be too) */
    uint32_t level = k->held + a - k->popped, m = drain ? n / k->unit : 0u;
    if (level > k->depth || level >= HP_KS_LEVELS || m > level || (uint64_t)(k->popped + m) * k->unit > k->data_len)
        return 0;
    hp_ks_observe(s, k);
    if (!drain) { /* a new tick */
        if (!k->n) k->pre_ux = s->ux ? s->ux->n : 0u;
        uint32_t t = k->n++;
        k->reached[t] = 0;
        k->clr_tw[t] = k->clr_rtc[t] = k->unp[t] = 0;
        k->t1_at[t] = at;
        k->t1_stopped[t] = k->t1_slept[t] = 0;
        k->t1_tx[t] = tx;
        k->t1_rx[t] = rx;
        k->t1_cnt[t] = cnt;
        k->t1_ans[t] = k->ans = k->src[level];
        k->reached[t] |= 1u;
        k->phase = 1u;
    } else {
        uint32_t t = k->n - 1u;
        k->off = k->popped;
        k->popped += m;
        k->t2_at[t] = at;
        k->t2_stopped[t] = k->t2_slept[t] = 0;
        k->t2_tx[t] = tx;
        k->t2_rx[t] = rx;
        k->t2_cnt[t] = cnt;
        k->t2_off[t] = k->off;
        k->reached[t] |= 4u;
        k->phase = 3u;
    }
    if (k->ev_store[0] != HP_TW_NONE) st[k->ev_store[0]] = 1; /* EVENTS_TXSTARTED at once */
    k->lasttx = lasttx;
    k->stopped = stopped;
    k->saved = s->stop_cycle;
    k->tx = tx;
    k->rx = rx;
    k->cnt = cnt;
    s->stop_cycle = lasttx; /* the model's LASTTX, unless the wfi is woken at STOPPED first */
    s->ks_steps++;
    s->ks_writes++;
    s->fr_done |= 256u;
    return 1;
}

/* The firmware's CC[n] write after the compare woken here (phase 5): exactly the chain's next value, before that
   compare (hp_cc_move's terms); stored, and the moved compare the next stop at the latest. 1: served. */
static int hp_ks_move(hp_state *s, hp_ks *k, uint32_t size, uint64_t value) {
    uint32_t i = k->cc_i + 1u;
    if (k->phase != 5u || size != 4 || i >= k->cc_n || value != k->cc_value[i] || s->cycle_count >= k->cc_cycle[i] ||
        s->stop_requested || s->py_stop || (s->fr_done & ~HP_KS_DONE_OK) || !s->ev_bus || !k->n)
        return 0;
    hp_ks_observe(s, k);
    rf_stores(s->ev_bus)[k->cc_store] = (uint32_t)value;
    k->cc_i = i;
    uint64_t next = k->cc_cycle[i] < k->after ? k->cc_cycle[i] : k->after;
    if (next < s->stop_cycle) s->stop_cycle = next;
    k->mv_at[k->n - 1u] = s->cycle_count;
    k->reached[k->n - 1u] |= 32u;
    k->phase = 0u;
    s->ks_steps++;
    s->ks_writes++;
    s->fr_done |= 256u;
    return 1;
}

int hp_ack(void *ctx, uint32_t addr, uint32_t size, uint64_t value) {
    hp_state *s = (hp_state *)ctx;
    hp_ks *k = s->ks;
    if (k && k->on) {
        if (addr == k->task && (k->phase == 0u || k->phase == 2u) && hp_ks_start(s, k, size, value)) return 1;
        if (addr == k->cc_addr && k->phase == 5u && hp_ks_move(s, k, size, value)) return 1;
    }
    if (s->tw_on && addr == s->tw_task) return hp_twim_start(s, size, value);
    if (s->ux && s->ux->task_addr == addr) return hp_uarte_start(s, s->ux, size, value);
    if (s->ev_n && hp_event_clear(s, addr, size, value)) return 1;
    if (s->mv_addr && hp_cc_move(s, addr, size, value)) return 1;
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++) {
        if (s->src_ack_addr[i] != addr || !s->src_unacked[i]) continue;
        if (size != 4 || !((uint32_t)value & s->src_ack_mask[i]) || !s->src_pticks[i] || !s->src_cpu[i] ||
            !s->src_hz[i] || s->c_active != 1 || s->c_exc != s->src_exc[i] || s->py_stop || s->stop_requested)
            return 0;
        uint64_t now = s->cycle_count, z = s->src_tick[i], p = s->src_pticks[i];
        uint64_t t = (uint64_t)(((unsigned __int128)now * s->src_hz[i]) / s->src_cpu[i]); /* the tick now */
        if (t < z) return 0;
        uint64_t next = z + ((t - z) / p + 1) * p;
        unsigned __int128 c = ((unsigned __int128)next * s->src_cpu[i] + s->src_hz[i] - 1) / s->src_hz[i];
        if (c >= HP_NEVER) return 0;
        s->src_tick[i] = next;
        s->src_next[i] = (uint64_t)c;
        if (s->src_next[i] < s->stop_cycle) s->stop_cycle = s->src_next[i];
        s->src_unacked[i] = 0;
        s->src_acks[i]++;
        s->src_ack_cycle[i] = now;
        s->fr_exc = s->src_exc[i]; /* its line is low: the handler may return here */
        return 1;
    }
    return 0;
}

void *hp_ack_ptr(void) { return (void *)&hp_ack; }

/*
 * The code hook on each wfi (ARMv7-M B1.5.19: the core sleeps until an exception is pending, PRIMASK aside). When
 * Python planned a wake (wk_cycle, see hp_state) and the state it planned it in holds -- the wake event is the next
 * stop, no interrupt pending in C's NVIC view (nv_pending; Python allowed no system exception pending), C's own
 * deliveries off (other_cycle 0), BASEPRI and FAULTMASK clear (no exception active: any enabled line wakes), PRIMASK set so the interrupt pends
 * without entry, its NVIC enable not cleared since, the stack watch quiet, no stop asked for -- do what
 * SystemBlock.on_halt would: advance the clock to the event (sleep cycles), make the event register 1 and its
 * line high (pending in C's NVIC view), and go on after the wfi (a PC write in a hook resumes there without
 * leaving emu_start). Otherwise the wfi halts as usual and Python's on_halt runs.
 */
/* PRIMASK set with BASEPRI and FAULTMASK clear (B1.5.19): an enabled interrupt wakes the core from wfi and pends
   without being taken. 1 then, 0 otherwise (or a register read failed). */
static int hp_primask_only(hp_state *s, void *uc) {
    uint32_t primask = 0, basepri = 1, faultmask = 1;
    return s->reg_read(uc, s->rid[FR_PRIMASK], &primask) == 0 && (primask & 1u) &&
           s->reg_read(uc, s->rid[FR_BASEPRI], &basepri) == 0 && !(basepri & 0xFFu) &&
           s->reg_read(uc, s->rid[FR_FAULTMASK], &faultmask) == 0 && !(faultmask & 1u);
}

/* A wfi with the interrupt Python armed (wp_irq) still pending, enabled and masked by PRIMASK alone: on_halt would
   find it pending and take nothing, so the core goes on after the wfi (1); 0 otherwise. */
static int hp_wfi_pending(hp_state *s, void *uc, uint64_t address, uint32_t size) {
    uint32_t irq = s->wp_irq - 1, w = irq >> 5, bit = 1u << (irq & 31u);
    if (s->stop_requested || s->py_stop || (s->fr_done & ~166u) || s->c_active || !s->reg_write || w >= HP_NV_WORDS ||
        !(s->nv_pending[w] & bit) || (s->nv_en_clr[w] & bit) ||
        (s->wk_stack_limit && s->sp_low < s->wk_stack_limit))
        return 0;
    if (!hp_primask_only(s, uc)) return 0;
    s->wp_skips++;
    uint32_t pc = ((uint32_t)address + size) | 1u;
    s->reg_write(uc, s->core_rid[15], &pc);
    return 1;
}

/* The checks every C wake of a wfi by line ``irq`` shares (hp_chain_wake, hp_twim_wake, hp_wfi_hook): a line the
   NVIC view holds and not disabled, no interrupt pending (Python's at its arming, less the clears served here), and
   only PRIMASK keeping the wake from being taken (Python checked the line's enable). */
static int hp_wake_allowed(hp_state *s, void *uc, uint32_t irq) {
    uint32_t w = irq >> 5, bit = 1u << (irq & 31u);
    if (w >= HP_NV_WORDS || (s->nv_en_clr[w] & bit)) return 0;
    for (uint32_t k = 0; k < HP_NV_WORDS && 32u * k < s->nv_nirq; k++)
        if (s->nv_pending[k]) return 0;
    return hp_primask_only(s, uc);
}

/* What every C wake does to the core: sleep to cycle ``at`` (counted in ``*slept``), line ``irq`` high and pending
   (PRIMASK set: not taken, B1.5.19). */
static void hp_wake_line(hp_state *s, uint64_t at, uint32_t irq, uint64_t *slept) {
    uint32_t w = irq >> 5, bit = 1u << (irq & 31u);
    *slept += at - s->cycle_count;
    s->cycle_count = at;
    s->block_cycle = at;
    s->nv_held[w] |= bit;
    s->nv_pending[w] |= bit;
    s->irq_pending = 1; /* a mask change now stops at its block's end (HP_MASK): Python takes it if PRIMASK falls */
}

/* The next half of a planned chain (ch_*, see hp_state) at a wfi, when the state Python planned it in holds -- as
   hp_wfi_hook's wake below, and besides: STATUS all clear and the model's line low (the firmware has cleared the
   last half's flag, so this one refills no half it still owns), room in the clear log for this half's clear. What
   SystemBlock.on_halt and RingDma._on_half would do there: sleep to the half's cycle, the half's bytes into guest RAM
   (uc_mem_write, as the model's mem_write), STATUS set, the line high and pending (PRIMASK set: not taken, B1.5.19),
   STATUS's clear slot armed for it; the next wfi, with the interrupt still pending, goes on at once (wp_irq). */
static void hp_chain_wake(hp_state *s, void *uc, uint64_t address, uint32_t size) {
    uint32_t i = s->ch_i;
    uint64_t at = s->ch_cycle[i];
    if (s->stop_requested || s->py_stop || s->other_cycle || s->c_active || (s->fr_done & ~38u) ||
        at != s->stop_cycle || s->cycle_count > at || s->insn_count >= s->stop_insn || !s->ev_bus || !s->reg_write ||
        !s->mem_write || !s->ch_data || s->ch_ev >= HP_EV_SLOTS || s->ch_clr_n > HP_CH_MAX - 1 ||
        (s->wk_stack_limit && s->sp_low < s->wk_stack_limit))
        return;
    uint32_t irq = s->ch_irq, w = irq >> 5, bit = 1u << (irq & 31u);
    uint32_t *store = &rf_stores(s->ev_bus)[s->ch_store];
    if (w >= HP_NV_WORDS || (s->nv_held[w] & bit) || *store || !hp_wake_allowed(s, uc, irq)) return;
    if (s->mem_write(uc, s->ch_dst[i], s->ch_data + (size_t)i * s->ch_bytes, s->ch_bytes) != 0) return;
    hp_wake_line(s, at, irq, &s->ch_slept);
    *store = s->ch_value[i];
    s->ev_need[s->ch_ev] = s->ch_value[i];
    s->ev_irq[s->ch_ev] = irq; /* (a DMA controller's slot serves the stream whose line is high: this one) */
    s->ev_armed[s->ch_ev] = 1;
    s->wp_irq = irq + 1;
    s->ch_i = ++i;
    s->ch_done++;
    s->stop_cycle = s->ch_cycle[i] < s->ch_after ? s->ch_cycle[i] : s->ch_after;
    s->fr_done |= 32u; /* Python's next sync settles the halves and the clears (Machine.settle_chain) */
    uint32_t pc = ((uint32_t)address + size) | 1u; /* Thumb state (the bit Unicorn's PC write takes as T) */
    s->reg_write(uc, s->core_rid[15], &pc);
}

/* A transfer the model started (tw_py): what its events read at LASTTX and after is still what Python planned with --
   ADDRESS, TXD.MAXCNT and SHORTS (tw_chk_*), RXD.PTR and RXD.MAXCNT (tw_rx, tw_n) -- and STOPPED is still clear (the
   firmware writes nothing between the wfi and the wake). 1 then. */
static int hp_twim_py_holds(hp_state *s) {
    const uint32_t *st = rf_stores(s->ev_bus);
    if (s->tw_chk_n > HP_TW_CHECKS || !s->tw_py_miso || st[s->tw_rxptr] != s->tw_rx || st[s->tw_rxcnt] != s->tw_n ||
        s->tw_rx - s->tw_ram_base > s->tw_ram_size - (s->tw_n & 0xFFFFu) ||
        (s->tw_ev_store[4] != HP_TW_NONE && st[s->tw_ev_store[4]]))
        return 0;
    for (uint32_t k = 0; k < s->tw_chk_n; k++)
        if (st[s->tw_chk_store[k]] != s->tw_chk_value[k]) return 0;
    return 1;
}

/* The wfi after a TWIM read taken in C (hp_twim_start), when nothing has happened since that Python must see first
   (as hp_wfi_hook's wake below checks it; the firmware's NVIC writes and event clears C served aside): what
   SystemBlock.on_halt and the model's events would do up to STOPPED -- sleep to it, the chip's bytes into RXD.PTR
   (uc_mem_write, as EasyDMA's write at LASTRX), LASTTX, RXSTARTED, LASTRX and STOPPED set, STOPPED's line high and
   pending (PRIMASK set: not taken, B1.5.19), its clear slot armed -- and go on after the wfi. Otherwise the wfi
   halts and Python's sync settles the write first (the events then run in Python at their cycles). */
static int hp_twim_wake(hp_state *s, void *uc, uint64_t address, uint32_t size) {
    uint64_t at = s->tw_stopped;
    if (s->stop_requested || s->py_stop || s->other_cycle || s->c_active || (s->fr_done & ~134u) ||
        s->stop_cycle != s->tw_lasttx || s->cycle_count > s->tw_lasttx || s->insn_count >= s->stop_insn ||
        !s->ev_bus || !s->reg_write || !s->mem_write || (s->wk_stack_limit && s->sp_low < s->wk_stack_limit))
        return 0;
    if (!hp_wake_allowed(s, uc, s->tw_irq) || (s->tw_py && !hp_twim_py_holds(s))) return 0;
    uint32_t n = s->tw_n & 0xFFFFu;
    if (s->mem_write(uc, s->tw_rx, s->tw_py ? s->tw_py_miso : s->tw_miso, n) != 0) return 0;
    uint32_t *st = rf_stores(s->ev_bus);
    for (uint32_t k = 1; k < HP_TW_EVENTS; k++)
        if (s->tw_ev_store[k] != HP_TW_NONE) st[s->tw_ev_store[k]] = 1;
    uint64_t next = s->tw_saved;
    if (s->tw_py) { /* the model's transfer: Python's next sync runs its events as of their cycles */
        hp_wake_line(s, at, s->tw_irq, &s->tw_py_slept);
        s->tw_py = 0;
        s->tw_py_woken++;
        s->fr_done |= 128u;
        if (s->tw_x_on) { /* the chip's line its read lowered, as the input's register (IN) has it after */
            st[s->tw_x_store] = s->tw_x_value;
            s->tw_x_on = 0;
            if (s->wk_cycle < next) next = s->wk_cycle; /* the wake-up that read planned, planned ahead */
        }
    } else {
        hp_wake_line(s, at, s->tw_irq, &s->tw_slept);
        s->tw_woken++;
        if (s->tw2_state == 2) { /* the chained read: the line it lowered, and the wake-up it planned, ahead */
            st[s->tw2_x_store] = s->tw2_x_value;
            s->tw2_state = 3;
            if (s->tw2_wk > at && s->tw2_wk < next) {
                s->wk_cycle = s->tw2_wk;
                next = s->tw2_wk;
            }
        } else if (s->tw2_on && (s->tw_n & 0xFFFFu) == s->tw_len && s->tw2_miso && s->tw2_len) {
            s->tw1_at = s->tw_at; /* the offer's transfer, for Python's sync (the chained read's in tw_* next) */
            s->tw1_stopped = at;
            s->tw1_tx = s->tw_tx;
            s->tw1_rx = s->tw_rx;
            s->tw1_n = s->tw_n;
            s->tw_reg = s->tw2_reg;
            s->tw_len = s->tw2_len;
            s->tw_unit = s->tw2_len;
            s->tw_miso = s->tw2_miso;
            s->tw_quiet = s->tw2_quiet;
            s->tw2_on = 0;
            s->tw2_state = 1;
            s->tw2_chained++;
            s->tw_on = 1;
        }
    }
    if (s->tw_ev < HP_EV_SLOTS) s->ev_armed[s->tw_ev] = 1;
    s->tw_flight = 0;
    s->stop_cycle = next;
    uint32_t pc = ((uint32_t)address + size) | 1u; /* Thumb state (the bit Unicorn's PC write takes as T) */
    s->reg_write(uc, s->core_rid[15], &pc);
    return 1;
}

/* The stretch's wfi (see hp_ks): after a transfer it took (phase 1, 3), woken at STOPPED as hp_twim_wake wakes one
   (the answer to RXD.PTR, LASTTX, RXSTARTED, LASTRX and STOPPED set, STOPPED's line high and pending, its clear slot
   armed); waiting for the tick (phase 4, or 2 with no drain: the FIFO was empty), woken at the chain's next compare
   as hp_wfi_hook wakes a planned one (EVENTS_COMPARE[n] set, the line high and pending, its clear slot armed). 1: woken
   (the core goes on after the wfi); 0: the wfi is Python's (its sync settles the log first). */
static int hp_ks_wfi(hp_state *s, hp_ks *k, void *uc, uint64_t address, uint32_t size) {
    uint32_t ph = k->phase;
    if (!k->n || (ph != 1u && ph != 2u && ph != 3u && ph != 4u) || s->stop_requested || s->py_stop ||
        s->other_cycle || s->c_active || (s->fr_done & ~HP_KS_DONE_OK) || s->insn_count >= s->stop_insn ||
        !s->ev_bus || !s->reg_write || !s->mem_write || (s->wk_stack_limit && s->sp_low < s->wk_stack_limit))
        return 0;
    uint32_t *st = rf_stores(s->ev_bus);
    uint32_t t = k->n - 1u;
    uint64_t slept = 0;
    if (ph == 1u || ph == 3u) {
        uint64_t at = k->stopped;
        if (s->stop_cycle != k->lasttx || s->cycle_count > k->lasttx || st[k->rxptr] != k->rx ||
            st[k->rxcnt] != k->cnt || (k->ev_store[4] != HP_TW_NONE && st[k->ev_store[4]]))
            return 0;
        for (uint32_t i = 0; i < k->chk_n; i++)
            if (st[k->chk_store[i]] != k->chk_value[i]) return 0;
        if (!hp_wake_allowed(s, uc, k->tw_irq)) return 0;
        uint8_t ans = (uint8_t)k->ans;
        const uint8_t *bytes = ph == 3u ? k->data + (size_t)k->off * k->unit : &ans;
        if (s->mem_write(uc, k->rx, bytes, k->cnt & 0xFFFFu) != 0) return 0;
        hp_ks_observe(s, k);
        for (uint32_t e = 1; e < HP_TW_EVENTS; e++)
            if (k->ev_store[e] != HP_TW_NONE) st[k->ev_store[e]] = 1;
        hp_wake_line(s, at, k->tw_irq, &slept);
        if (k->tw_ev < HP_EV_SLOTS) s->ev_armed[k->tw_ev] = 1;
        s->stop_cycle = k->saved;
        k->free = at;
        if (ph == 1u) {
            k->t1_stopped[t] = at;
            k->t1_slept[t] = slept;
            k->reached[t] |= 2u;
        } else {
            k->t2_stopped[t] = at;
            k->t2_slept[t] = slept;
            k->reached[t] |= 8u;
        }
        k->phase = ph + 1u;
    } else {
        if (k->cc_i + 1u >= k->cc_n) return 0;
        uint64_t at = k->cc_cycle[k->cc_i];
        if (s->ap_cycle != HP_NEVER || at != s->stop_cycle || at >= k->after || s->cycle_count > at ||
            st[k->cmp_store] || st[k->cc_store] != k->cc_value[k->cc_i] || !hp_wake_allowed(s, uc, k->rtc_irq))
            return 0;
        hp_ks_observe(s, k);
        hp_wake_line(s, at, k->rtc_irq, &slept);
        st[k->cmp_store] = 1;
        if (k->rtc_ev < HP_EV_SLOTS) s->ev_armed[k->rtc_ev] = k->rtc_sole;
        uint64_t next = k->cc_cycle[k->cc_i + 1u];
        s->stop_cycle = next < k->after ? next : k->after; /* the CC write comes before the moved compare */
        k->wk_at[t] = at;
        k->wk_slept[t] = slept;
        k->ux_n[t] = s->ux ? s->ux->n : 0u;
        k->reached[t] |= 16u;
        k->phase = 5u;
    }
    s->ks_steps++;
    s->fr_done |= 256u;
    uint32_t pc = ((uint32_t)address + size) | 1u; /* Thumb state (the bit Unicorn's PC write takes as T) */
    s->reg_write(uc, s->core_rid[15], &pc);
    return 1;
}

void hp_wfi_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    hp_state *s = (hp_state *)user_data;
    if (s->tw_flight) {
        hp_twim_wake(s, uc, address, size);
        return;
    }
    if (s->ks && s->ks->on && s->ks->n && hp_ks_wfi(s, s->ks, uc, address, size)) return;
    if (s->wp_irq && hp_wfi_pending(s, uc, address, size)) return;
    if (s->ch_i < s->ch_n && s->ch_i < HP_CH_MAX) {
        hp_chain_wake(s, uc, address, size);
        return;
    }
    uint64_t at = s->wk_cycle;
    if (at == HP_NEVER || s->stop_requested || s->py_stop || s->other_cycle || s->c_active ||
        (s->fr_done & ~198u) || /* (128: a TWIM read C did before, 64: a UARTE transfer, ended: settled first) */
        at != s->stop_cycle || s->cycle_count > at || s->insn_count >= s->stop_insn ||
        !s->ev_bus || !s->reg_write || (s->wk_stack_limit && s->sp_low < s->wk_stack_limit))
        return;
    if (!hp_wake_allowed(s, uc, s->wk_irq)) return;
    hp_wake_line(s, at, s->wk_irq, &s->wk_slept);
    rf_stores(s->ev_bus)[s->wk_store] = 1;
    if (s->wk_x_cycle == at && s->wk_x_for == s->wk_store) rf_stores(s->ev_bus)[s->wk_x_store] = s->wk_x_value;
    if (s->wk_ev < HP_EV_SLOTS) s->ev_armed[s->wk_ev] = s->wk_sole;
    s->wk_at = at;
    s->wk_wakes++;
    s->wk_cycle = HP_NEVER;
    s->stop_cycle = s->wk_after;
    s->fr_done |= 8u; /* Python's next sync runs the model's event as of wk_at */
    uint32_t pc = ((uint32_t)address + size) | 1u; /* Thumb state (the bit Unicorn's PC write takes as T) */
    s->reg_write(uc, s->core_rid[15], &pc);
}

void *hp_wfi_hook_ptr(void) { return (void *)&hp_wfi_hook; }

/*
 * ICSR written with PENDSVSET alone by a handler C entered whose return is armed here, when PendSV
 * cannot preempt that handler (its group priority is not higher): the write only makes PendSV
 * pending, which matters at the handler's return (hp_fast_return tail-chains into it). Returns 0
 * in every other case (Python's SCB serves the write).
 */
static int hp_pendsv(hp_state *s, uint64_t value) {
    if (value != (1u << 28) || !s->psv_ok || s->c_active != 1 || s->fr_exc != s->c_exc || s->py_stop ||
        s->stop_requested)
        return 0;
    if (s->psv_group < s->c_group) return 0; /* it would preempt now: Python */
    s->psv_pending = 1;
    s->psv_sets++;
    HP_DONE_EXC(s); /* Python's sync makes it pending if it looks before the return */
    return 1;
}

/*
 * NVIC ISER, ICER and ICPR word writes (ARMv7-M B3.4.3-B3.4.6) that cannot change which exception runs next:
 * an enable of interrupts none of which is pending (nothing new to take; SCR.SEVONPEND clear, so no WFE event
 * either), a disable of interrupts C would not deliver itself, a clear of pending bits that C's tail-chain list
 * does not hold (a line held high pends its inactive interrupt again at once: nothing changes for it). The bits are recorded for Python's next sync
 * (SystemBlock.sync_native, through fr_done's bit 2); until then C's arming stays as Python left it, which
 * only ever keeps C from doing something Python would now let it do. Returns 0 for every other write
 * (ISPR and STIR pend: Python's SystemBlock serves them, as it serves everything else).
 */
static int hp_nvic_write(hp_state *s, uint32_t addr, uint32_t size, uint64_t value) {
    uint32_t off = addr - 0xE000E100u, kind = off >> 7, w = (off & 0x7Fu) >> 2;
    if (!s->nv_on || size != 4 || (addr & 3u) || kind > 3 || kind == 2 || w >= HP_NV_WORDS || s->py_stop ||
        s->stop_requested)
        return 0;
    if (32u * w >= s->nv_nirq) return 0; /* no interrupt there: Python's model ignores it */
    uint32_t left = s->nv_nirq - 32u * w;
    uint32_t v = (uint32_t)value & (left >= 32u ? 0xFFFFFFFFu : (1u << left) - 1u);
    uint32_t keep = 0; /* interrupts C's own paths depend on */
    for (uint32_t i = 0; s->nest_on && i < s->lp_n && i < HP_MAX_NEST; i++)
        if (s->lp_exc[i] >= 16u && (s->lp_exc[i] - 16u) >> 5 == w) keep |= 1u << ((s->lp_exc[i] - 16u) & 31u);
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_exc[i] >= 16u && (s->src_exc[i] - 16u) >> 5 == w &&
            (kind == 1 || s->src_unacked[i])) /* C may deliver it / its line is high, Python not told yet */
            keep |= 1u << ((s->src_exc[i] - 16u) & 31u);
    if (kind == 0) { /* ISER */
        if (!(s->nv_on & 2u) || (v & s->nv_pending[w])) return 0;
        s->nv_en_set[w] |= v;
        s->nv_en_clr[w] &= ~v;
        s->nv_enabled[w] |= v;
    } else if (kind == 1) { /* ICER */
        if (v & keep) return 0;
        s->nv_en_clr[w] |= v;
        s->nv_en_set[w] &= ~v;
        s->nv_enabled[w] &= ~v;
    } else { /* ICPR */
        uint32_t held = v & s->nv_held[w];
        if (v & keep) return 0;
        /* a line held high pends again at once when its exception is not active (ExceptionModel.unpend): no
           change then; an active one's clear is Python's */
        if (held && (s->nest_on || s->c_active > 1 ||
                     (s->c_active == 1 && s->c_exc >= 16u && (s->c_exc - 16u) >> 5 == w &&
                      (held >> ((s->c_exc - 16u) & 31u) & 1u))))
            return 0;
        s->nv_unpended[w] |= v & ~held;
        s->nv_pending[w] &= ~(v & ~held);
        s->nv_pended[w] &= ~(v & ~held); /* a pend served here before: the clear is the last word */
    }
    s->nv_dirty |= 1u << w;
    s->nv_writes++;
    s->fr_done |= 2u; /* Python's next sync applies the bits (bit 2 alone: nothing else to bring up to date) */
    return 1;
}

/* Group priority of priority byte p (B1.5.4): the subpriority bits [PRIGROUP:0] cleared, as ExceptionModel.group. */
static inline int32_t hp_nv_group(const hp_state *s, uint32_t p) {
    return (int32_t)(p & ~((2u << s->nv_prigroup) - 1u) & 0xFFu);
}

/* ExecutionPriority() (B1.5.4) as ExceptionModel.execution_priority computes it: the active exceptions' highest
   group priority (the nested list Python armed, or C's one active exception) and the boosts of BASEPRI, PRIMASK and
   FAULTMASK. 1 with it in *ep; 0 when C does not know the active set (several active, no list) or a read failed. */
static int hp_nv_exec_priority(hp_state *s, void *uc, int32_t *ep) {
    int32_t highest = 256;
    if (s->nest_on) {
        for (uint32_t i = 0; i < s->nest_n && i < HP_MAX_NEST; i++)
            if (s->nest_group[i] < highest) highest = s->nest_group[i];
    } else if (s->c_active == 1) {
        highest = s->c_group;
    } else if (s->c_active) {
        return 0;
    }
    int ids[3] = {s->rid[FR_BASEPRI], s->rid[FR_PRIMASK], s->rid[FR_FAULTMASK]};
    uint32_t v[3] = {0, 0, 0};
    void *vp[3] = {&v[0], &v[1], &v[2]};
    if (!s->reg_read_batch || s->reg_read_batch(uc, ids, vp, 3)) return 0;
    int32_t boosted = 256;
    if (v[0] & 0xFFu) boosted = hp_nv_group(s, v[0] & s->nv_prio_mask);
    if (v[1] & 1u) boosted = 0;
    if (v[2] & 1u) boosted = -1;
    *ep = highest < boosted ? highest : boosted;
    return 1;
}

#define HP_STIR 0xE000EF00u
#define HP_ISPR 0xE000E200u
#define HP_IPR 0xE000E400u

/*
 * An ISPR word write or a STIR write (B3.4.5, B3.4.9) that makes interrupts pending without any exception being
 * taken now: Nvic.write_ISPR / write_STIR and SystemBlock.kick, whose to_take finds nothing that preempts (every
 * interrupt pending in C's view with the new ones, these taken as enabled, has a group priority at or below the
 * execution priority). C's NVIC view gets the bits (a mask change then stops: irq_pending), and when a handler's
 * return may be C's the enabled ones join the tail-chain list hp_list_return takes them from (armed from fr_exc's
 * one active exception if it was not), as SystemBlock._arm_list_return would list them. Left to Python: SEVONPEND
 * (a WFE event), a system exception pending, anything C plans to deliver or wake itself (SysTick, PendSV, a
 * peripheral source, a wfi wake or chain, a TWIM read), the MPU on, a block that also changes a mask (note_pending
 * stops after it), an interrupt beyond the part's, a full list. Returns 1 served, 0 Python's.
 */
static int hp_nvic_pend(hp_state *s, void *uc, uint32_t addr, uint32_t size, uint64_t value) {
    if (!(s->nv_pend_on & 1u) || !(s->nv_on & 2u) || size != 4 || (addr & 3u) || s->py_stop || s->stop_requested ||
        s->nv_sys_pend || (s->tick_ok && s->tick_cycle != HP_NEVER) || s->psv_pending || s->tick_pend || s->mpu_on || s->wk_cycle != HP_NEVER ||
        s->ch_i < s->ch_n || s->tw_flight || !s->table || !s->last_size)
        return 0;
    uint32_t w, v;
    if (addr == HP_STIR) {
        uint32_t irq = (uint32_t)value & 0x1FFu;
        if (irq >= s->nv_nirq || irq >= 32u * HP_NV_WORDS) return 0; /* the model's guest error */
        w = irq >> 5;
        v = 1u << (irq & 31u);
    } else {
        w = (addr - HP_ISPR) >> 2;
        if (w >= HP_NV_WORDS || 32u * w >= s->nv_nirq) return 0;
        uint32_t left = s->nv_nirq - 32u * w;
        v = (uint32_t)value & (left >= 32u ? 0xFFFFFFFFu : (1u << left) - 1u);
        if (!v) return 0;
    }
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_next[i] != HP_NEVER || s->src_unacked[i]) return 0;
    const hp_block *b = hp_find(s, s->last_addr, s->last_size);
    if (!b || (b->flags & HP_MASK)) return 0;
    int32_t ep;
    if (!hp_nv_exec_priority(s, uc, &ep)) return 0;
    int takes = 0; /* to_take after the pend: something preempts (the new ones taken as enabled) */
    for (uint32_t k = 0; k < HP_NV_WORDS && 32u * k < s->nv_nirq && !takes; k++) {
        uint32_t bits = (s->nv_pending[k] & s->nv_enabled[k]) | (k == w ? v : 0u);
        for (; bits; bits &= bits - 1u)
            if (hp_nv_group(s, s->nv_prio[32u * k + (uint32_t)__builtin_ctz(bits)]) < ep) { takes = 1; break; }
    }
    if (takes) { /* SystemBlock.kick's event now: the take at the next block boundary (hp_nv_take), else the stop */
        if (!(s->nv_pend_on & 4u) || !s->nv_lists_ok || s->nv_take || (s->fr_done & ~HP_TAKE_OWED)) return 0;
        s->nv_take = 1;
        s->nv_take_stop = s->stop_cycle;
        s->nv_take_other = s->other_cycle;
        s->nv_take_at = s->stop_cycle = s->cycle_count;
    }
    uint32_t add = takes ? 0u : v & s->nv_enabled[w] & ~s->nv_pending[w]; /* new to the enabled pending set */
    int convert = 0;
    if (add && !s->nest_on) {
        if (s->fr_exc && s->c_active == 1 && s->fr_exc == s->c_exc) convert = 1;
        else if (s->c_active == 1 || !s->c_active) add = 0; /* returns are Python's (or none): no list to keep */
        else return 0;
    }
    uint32_t n = convert ? 0u : s->lp_n;
    if (add && n + (uint32_t)__builtin_popcount(add) > HP_MAX_NEST) return 0;
    if (convert) { /* the lists _arm_list_return makes for one active exception with some pending */
        s->nest_n = 1;
        s->nest_exc[0] = s->c_exc;
        s->nest_group[0] = s->c_group;
        s->nest_ret[0] = 1; /* fr_exc's: returnable here */
        s->lp_n = 0;
        s->tick_prio_mask = s->nv_prio_mask;
        s->tick_prigroup = s->nv_prigroup;
        s->fr_exc = 0;
        s->nest_on = 1;
    }
    for (uint32_t bits = add; bits; bits &= bits - 1u) {
        uint32_t bit = (uint32_t)__builtin_ctz(bits), irq = 32u * w + bit, i = s->lp_n;
        s->lp_exc[i] = 16u + irq;
        s->lp_prio[i] = s->nv_prio[irq];
        s->lp_group[i] = hp_nv_group(s, s->nv_prio[irq]);
        s->lp_vector[i] = s->nv_vtor + 4u * (16u + irq);
        s->lp_ret[i] = (s->nv_held[w] >> bit & 1u) ? 0u : 1u;
        s->lp_n = i + 1u;
    }
    s->nv_listed[w] |= add;
    s->nv_pending[w] |= v;
    s->nv_pended[w] |= v;
    s->nv_unpended[w] &= ~v;
    s->nv_dirty |= 1u << w;
    s->nv_writes++;
    s->nv_pends++;
    s->irq_pending = 1; /* a mask change now stops at its block's end (HP_MASK): Python takes it if it can */
    s->fr_done |= 2u;
    return 1;
}

/*
 * An IPR byte write (B3.4.8) of an interrupt that is neither pending nor active, nor listed by C for a tail-chain,
 * nor one of the peripheral sources C delivers: Nvic.write_IPR's priority (the implemented bits), which no decision
 * C or SystemBlock.kick makes until Python's next sync depends on. Returns 1 served, 0 Python's.
 */
static int hp_nvic_prio(hp_state *s, uint32_t addr, uint32_t size, uint64_t value) {
    uint32_t irq = addr - HP_IPR, w = irq >> 5, bit = 1u << (irq & 31u), exc = 16u + irq;
    if (!(s->nv_pend_on & 2u) || !(s->nv_on & 2u) || size != 1 || irq >= s->nv_nirq || w >= HP_NV_WORDS ||
        s->py_stop || s->stop_requested || (s->nv_pending[w] & bit) || (s->c_active > 1 && !s->nest_on) ||
        (s->c_active == 1 && s->c_exc == exc))
        return 0;
    for (uint32_t i = 0; s->nest_on && i < s->nest_n && i < HP_MAX_NEST; i++)
        if (s->nest_exc[i] == exc) return 0;
    for (uint32_t i = 0; s->nest_on && i < s->lp_n && i < HP_MAX_NEST; i++)
        if (s->lp_exc[i] == exc) return 0;
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_exc[i] == exc) return 0;
    s->nv_prio[irq] = (uint8_t)((uint32_t)value & s->nv_prio_mask);
    s->nv_prio_set[w] |= bit;
    s->nv_dirty |= 1u << w;
    s->nv_writes++;
    s->nv_prios++;
    s->fr_done |= 2u;
    return 1;
}

/*
 * SystemBlock.take_pending at a block boundary (emulation would have stopped there): the stack watch's check, then
 * ExceptionModel.enter_pending -- the highest pending enabled interrupt of C's NVIC view (priority, then number) if it
 * preempts the execution priority, PushStack and ExceptionTaken (hp_enter_core at the block's address), EXCEPTION_ENTRY
 * cycles -- and then what arm_native would give C: the nested lists of the active exceptions (the one entered added)
 * and of the enabled pending ones, for hp_list_return. C's view is whole only without a system exception pending and
 * with the active set known; nothing else C plans may be under way (SysTick, a source, a wake, a chain, a TWIM read)
 * nor done since Python's last sync (fr_done beyond NVIC writes, entries and returns). An NMI C pended (nmi_pend,
 * hp_nmi_pend) is the highest pending (priority -2, B1.5.4) and enters whatever the masks; its return is C's too.
 * 1: entered; 0: nothing changed (the caller stops: Python takes it, or finds nothing to take, as before).
 */
static int hp_nv_take(hp_state *s, void *uc, uint32_t addr) {
    if (!(s->nv_pend_on & 4u) || !s->nv_lists_ok || s->py_stop || s->stop_requested ||
        s->insn_count >= s->stop_insn || s->cycle_count >= s->nv_take_stop || (s->fr_done & ~HP_TAKE_OWED) ||
        s->nv_sys_pend ||
        s->psv_pending || s->tick_pend || s->mpu_on || (s->tick_ok && s->tick_cycle != HP_NEVER) ||
        s->wk_cycle != HP_NEVER || s->ch_i < s->ch_n || s->tw_flight || !s->table ||
        (s->nv_stack_limit && s->sp_low < s->nv_stack_limit))
        return 0;
    for (uint32_t i = 0; i < HP_MAX_SOURCES; i++)
        if (s->src_next[i] != HP_NEVER || s->src_unacked[i]) return 0;
    uint32_t n = 0, act_exc[HP_MAX_NEST], act_ret[HP_MAX_NEST];
    int32_t act_group[HP_MAX_NEST];
    if (s->nest_on) {
        for (; n < s->nest_n && n < HP_MAX_NEST; n++) {
            act_exc[n] = s->nest_exc[n];
            act_group[n] = s->nest_group[n];
            act_ret[n] = s->nest_ret[n];
        }
    } else if (s->c_active == 1) {
        act_exc[0] = s->c_exc;
        act_group[0] = s->c_group;
        act_ret[0] = s->fr_exc == s->c_exc; /* returnable here as arm_native armed it */
        n = 1;
    } else if (s->c_active) {
        return 0;
    }
    if (n >= HP_MAX_NEST) return 0;
    int32_t highest = 256;
    for (uint32_t i = 0; i < n; i++)
        if (act_group[i] < highest) highest = act_group[i];
    uint32_t best = 0xFFFFFFFFu, count = 0;
    for (uint32_t k = 0; k < HP_NV_WORDS && 32u * k < s->nv_nirq; k++)
        for (uint32_t bits = s->nv_pending[k] & s->nv_enabled[k]; bits; bits &= bits - 1u) {
            uint32_t irq = 32u * k + (uint32_t)__builtin_ctz(bits);
            count++;
            if (best == 0xFFFFFFFFu || s->nv_prio[irq] < s->nv_prio[best]) best = irq; /* ties: the lower number */
        }
    uint32_t nmi = s->nmi_pend; /* NMI before any interrupt (its priority -2 is fixed: B1.5.4) */
    if (nmi ? count > HP_MAX_NEST : (best == 0xFFFFFFFFu || count - 1u > HP_MAX_NEST)) return 0;
    uint32_t exc = nmi ? 2u : 16u + best, out[3];
    int32_t group = nmi ? -2 : hp_nv_group(s, s->nv_prio[best]);
    if (hp_enter_core(s, uc, exc, group, highest, s->nv_prio_mask, s->nv_prigroup, s->nv_vtor + 4u * exc, s->nv_flags,
                      out, 1, addr, s->nv_frame_limit))
        return 0;
    s->cycle_count += s->entry_cycles;
    s->tick_last_frame = out[0]; /* SystemBlock._native_entered's, at Python's next sync */
    s->tick_last_psp = out[1];
    s->tick_last_fp = out[2];
    if (out[1]) s->tick_psp_seen = 1;
    s->c_entered = 1;
    hp_streak_end(s);
    s->last_size = 0;
    s->nv_entries++;
    s->fr_done |= 1u;
    if (nmi) {
        s->nmi_pend = 0; /* pended here since the sync: Python never sees it pending */
        act_ret[n] = 1;  /* no line holds it: its return is hp_list_return's */
    } else {
        uint32_t bw = best >> 5, bbit = 1u << (best & 31u);
        s->nv_pending[bw] &= ~bbit;
        s->nv_pended[bw] &= ~bbit; /* pended here since the sync: Python never sees it pending */
        s->nv_listed[bw] |= bbit;  /* Python drops it from its pending set (it is not in the list any more) */
        s->nv_dirty |= 1u << bw;
        act_ret[n] = (s->nv_held[bw] & bbit) ? 0u : 1u;
    }
    act_exc[n] = exc;
    act_group[n] = group;
    n++;
    for (uint32_t i = 0; i < n; i++) {
        s->nest_exc[i] = act_exc[i];
        s->nest_group[i] = act_group[i];
        s->nest_ret[i] = act_ret[i];
    }
    s->nest_n = n;
    uint32_t m = 0, any = 0;
    for (uint32_t k = 0; k < HP_NV_WORDS && 32u * k < s->nv_nirq; k++) {
        any |= s->nv_pending[k];
        uint32_t bits = s->nv_pending[k] & s->nv_enabled[k];
        if (bits) {
            s->nv_listed[k] |= bits;
            s->nv_dirty |= 1u << k;
        }
        for (; bits; bits &= bits - 1u, m++) {
            uint32_t bit = (uint32_t)__builtin_ctz(bits), irq = 32u * k + bit;
            s->lp_exc[m] = 16u + irq;
            s->lp_prio[m] = s->nv_prio[irq];
            s->lp_group[m] = hp_nv_group(s, s->nv_prio[irq]);
            s->lp_vector[m] = s->nv_vtor + 4u * (16u + irq);
            s->lp_ret[m] = (s->nv_held[k] >> bit & 1u) ? 0u : 1u;
        }
    }
    s->lp_n = m;
    s->tick_prio_mask = s->nv_prio_mask;
    s->tick_prigroup = s->nv_prigroup;
    s->fr_exc = 0;
    s->nest_on = 1;
    s->c_active = n;
    if (n == 1) {
        s->c_exc = exc;
        s->c_group = group;
    }
    s->irq_pending = any != 0; /* note_pending's: any interrupt pending (C's view is whole here) */
    return 1;
}

#define HP_SCS_PAGE 0xE000E000u
#define HP_ICSR 0xE000ED04u
#define HP_FPCAR 0xE000EF38u
#define HP_IABR 0xE000E300u
#define HP_CPACR 0xE000ED88u
#define HP_DEMCR 0xE000EDFCu
#define HP_DWT_PAGE 0xE0001000u
#define HP_CPACR_OK 0x00F00000u  /* CP10, CP11 (B3.2.20): the bits Scb's CPACR implements */
#define HP_TRCENA (1u << 24)     /* DEMCR.TRCENA (C1.6.5) */
#define HP_DEMCR_OK (HP_TRCENA | 0x000F07F1u) /* TRCENA, MON_*, VC_* (CoreDebug's DEMCR) */
#define HP_CYCCNTENA 1u          /* DWT_CTRL.CYCCNTENA (C1.8.7) */
#define HP_DWT_CTRL_RO ((1u << 27) | (1u << 26) | (1u << 24)) /* NOTRCPKT, NOEXTTRIG, NOPRFCNT; NUMCOMP 0 (Dwt) */

/* CYCCNT now: the cycles since it was 0 while counting, else the value it stopped at (Dwt's, from the same clock). */
static inline uint32_t hp_cyccnt(const hp_state *s) {
    return s->dwt_counting ? (uint32_t)(s->cycle_count - s->dwt_origin) : s->dwt_frozen;
}

/* CYCCNT counts while DWT_CTRL.CYCCNTENA and DEMCR.TRCENA are both set (C1.8.2): Dwt._set_counting from the values
   here, at cycle_count (the clock Machine.now_cycles reads in an MMIO callback). */
static void hp_sc_counting(hp_state *s) {
    uint32_t on = (s->sc_dwt_ctrl & HP_CYCCNTENA) && (s->sc_demcr & HP_TRCENA);
    if (on && !s->dwt_counting) {
        s->dwt_origin = s->cycle_count - s->dwt_frozen;
        s->dwt_counting = 1;
    } else if (!on && s->dwt_counting) {
        s->dwt_frozen = hp_cyccnt(s);
        s->dwt_origin = 0; /* (Dwt.publish's with no origin) */
        s->dwt_counting = 0;
    }
}

/* Served here: nothing stops or is under way for Python, the polling watch does not look at every read, and for the
   DWT's registers (bit 2) C serves the DWT (dwt_on bit 0). */
static int hp_sc_ok(const hp_state *s, uint32_t bit, uint32_t size) {
    return (s->sc_on & bit) && size == 4u && !s->py_stop && !s->stop_requested && !(s->dwt_on & 2u) &&
           (bit != 2u || (s->dwt_on & 1u));
}

/*
 * A word read of CPACR, DEMCR, DWT_CTRL (CoreDebug's stored value; Dwt.read_CTRL) or of an IABR word (the NVIC model's active bits, B3.4.7: each interrupt of the word that is
 * active, from C's view of the active exceptions as SystemBlock.sync_native reads it back: the nested list when armed,
 * else the one active exception, else none). 1 served (*value), 0 Python's.
 */
static int hp_sc_read(hp_state *s, uint32_t addr, uint32_t size, uint64_t *value) {
    if (addr == HP_CPACR) {
        if (!hp_sc_ok(s, 1u, size)) return 0;
        *value = s->sc_cpacr;
    } else if (addr == HP_DEMCR || addr == HP_DWT_PAGE) {
        if (!hp_sc_ok(s, 2u, size)) return 0;
        *value = addr == HP_DEMCR ? s->sc_demcr : HP_DWT_CTRL_RO | s->sc_dwt_ctrl;
    } else if (addr >= HP_IABR && addr < HP_IABR + 4u * HP_NV_WORDS && !(addr & 3u)) {
        uint32_t w = (addr - HP_IABR) >> 2, bits = 0;
        if (!hp_sc_ok(s, 4u, size) || 32u * w >= s->nv_nirq) return 0;
        uint32_t n = 0, act[HP_MAX_NEST];
        if (s->nest_on) {
            for (; n < s->nest_n && n < HP_MAX_NEST; n++) act[n] = s->nest_exc[n];
        } else if (s->c_active == 1) {
            act[n++] = s->c_exc;
        } else if (s->c_active) {
            return 0;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t irq = act[i] - 16u;
            if (act[i] >= 16u && irq < s->nv_nirq && irq >> 5 == w) bits |= 1u << (irq & 31u);
        }
        *value = bits;
    } else {
        return 0;
    }
    s->sc_reads++;
    s->fr_done |= 4u; /* the count is Python's at its next sync (bit 4: nothing else to bring up to date) */
    return 1;
}

/*
 * A word write of CPACR, DEMCR, DWT_CTRL or CYCCNT that sets no bit the model does not implement (it would report
 * them): the register models' writes (Scb stores CPACR; CoreDebug.write_DEMCR and Dwt.write_CTRL start or stop
 * CYCCNT, Dwt.write_CYCCNT sets it), Python's at its next sync. 1 served, 0 Python's.
 */
static int hp_sc_write(hp_state *s, uint32_t addr, uint32_t size, uint64_t value) {
    uint32_t v = (uint32_t)value;
    if (addr == HP_CPACR) {
        if (!hp_sc_ok(s, 1u, size) || (v & ~HP_CPACR_OK)) return 0;
        s->sc_cpacr = v;
        s->sc_changed |= 1u;
    } else if (addr == HP_DEMCR) {
        if (!hp_sc_ok(s, 2u, size) || (v & ~HP_DEMCR_OK)) return 0;
        s->sc_demcr = v;
        hp_sc_counting(s);
        s->sc_changed |= 6u;
    } else if (addr == HP_DWT_PAGE) { /* DWT_CTRL */
        if (!hp_sc_ok(s, 2u, size) || (v & ~(HP_CYCCNTENA | HP_DWT_CTRL_RO))) return 0;
        s->sc_dwt_ctrl = v & HP_CYCCNTENA;
        hp_sc_counting(s);
        s->sc_changed |= 4u;
    } else if (addr == HP_DWT_PAGE + 4u) { /* CYCCNT */
        if (!hp_sc_ok(s, 2u, size)) return 0;
        if (s->dwt_counting) s->dwt_origin = s->cycle_count - v;
        else s->dwt_frozen = v;
        s->sc_changed |= 4u;
    } else {
        return 0;
    }
    s->sc_writes++;
    s->fr_done |= 4u;
    return 1;
}

/* Unicorn MMIO callbacks of the system control space page (NVIC, SysTick, SCB): ICSR's PENDSVSET and NMIPENDSET
   may be served here, everything else goes to Python's system block. */
static uint64_t hp_ppb_mmio_read(void *uc, uint64_t offset, unsigned size, void *user) {
    (void)uc;
    hp_state *s = (hp_state *)user;
    uint32_t addr = HP_SCS_PAGE + (uint32_t)offset;
    /* FPCAR after C stacked an extended frame (a handler reading where its FP state went, ARMv7-M
       B3.2.22): the value Python's sync would set (SystemBlock._native_entered), without the sync */
    if (addr == HP_FPCAR && size == 4 && s->c_entered && s->tick_last_fp && !s->py_stop && !s->stop_requested) {
        s->fpcar_reads++;
        return (uint32_t)(s->tick_last_frame + 0x20u);
    }
    uint64_t value;
    if (hp_sc_read(s, addr, size, &value)) return value;
    return s->ppb_read(addr, size);
}

/*
 * An ICSR word write of NMIPENDSET alone (ARMv7-M B3.2.4; Scb.write_ICSR's pend of NMI). NMI's priority -2 is above
 * every execution priority but NMI's own: PRIMASK and FAULTMASK do not hold it (B1.5.4), so SystemBlock.kick's event
 * comes at the write's cycle: C arms the take at the next block boundary (hp_nv_take enters NMI), as hp_nvic_pend
 * arms a preempting pend. Only while C knows the active set and NMI is not in it, no system exception is pending in
 * Python's view (nv_sys_pend), C's takes are allowed and nothing but NVIC writes, entries and returns is owed to
 * Python. The write counts with psv_sets (ICSR writes served here: the polling watch's MMIO writes); Python's next
 * sync makes NMI pending if the take did not happen (SystemBlock.sync_native). 1 served, 0 Python's.
 */
static int hp_nmi_pend(hp_state *s, uint64_t value) {
    if (value != (1u << 31) || !(s->nv_pend_on & 4u) || !s->nv_lists_ok || s->nv_take || s->nmi_pend || s->py_stop ||
        s->stop_requested || s->nv_sys_pend || (s->fr_done & ~71u))
        return 0;
    if (s->nest_on) {
        for (uint32_t i = 0; i < s->nest_n && i < HP_MAX_NEST; i++)
            if (s->nest_exc[i] == 2u) return 0; /* NMI active: it stays pending (Python's) */
    } else if (s->c_active > 1 || (s->c_active == 1 && s->c_exc == 2u)) {
        return 0;
    }
    s->nmi_pend = 1;
    s->nv_take = 1;
    s->nv_take_stop = s->stop_cycle;
    s->nv_take_other = s->other_cycle;
    s->nv_take_at = s->stop_cycle = s->cycle_count;
    s->psv_sets++;
    s->irq_pending = 1; /* note_pending's: an exception is pending */
    HP_DONE_EXC(s);
    return 1;
}

static void hp_ppb_mmio_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user) {
    hp_state *s = (hp_state *)user;
    uint32_t addr = HP_SCS_PAGE + (uint32_t)offset;
    if (addr == HP_ICSR && size == 4 && (hp_pendsv(s, value) || hp_nmi_pend(s, value))) return;
    if (addr >= 0xE000E100u && addr < 0xE000E300u && hp_nvic_write(s, addr, size, value)) return;
    if (((addr >= HP_ISPR && addr < HP_ISPR + 4u * HP_NV_WORDS) || addr == HP_STIR) &&
        hp_nvic_pend(s, uc, addr, size, value))
        return;
    if (addr >= HP_IPR && addr < HP_IPR + 32u * HP_NV_WORDS && hp_nvic_prio(s, addr, size, value)) return;
    if ((addr == HP_CPACR || addr == HP_DEMCR) && hp_sc_write(s, addr, size, value)) return;
    s->ppb_write(addr, size, value);
}

void *hp_ppb_read_ptr(void) { return (void *)&hp_ppb_mmio_read; }
void *hp_ppb_write_ptr(void) { return (void *)&hp_ppb_mmio_write; }

/* Unicorn MMIO callbacks of the DWT page (ARMv7-M C1.8): a word read of CYCCNT (offset 4) is served here while
   Python allows it (dwt_on == 1): the cycle count since CYCCNT was 0 while counting, else the value it stopped
   at, exactly as the Dwt model computes it from the same clock (cycle_count, at the end of the current block).
   The read counts as an MMIO access for Python's polling watch (fr_done bit 4: counters only, synced at its next
   entry). Everything else, and every write, goes to Python's system block. */
static uint64_t hp_dwt_mmio_read(void *uc, uint64_t offset, unsigned size, void *user) {
    (void)uc;
    hp_state *s = (hp_state *)user;
    if (offset == 4u && size == 4u && s->dwt_on == 1u) {
        s->dwt_reads++;
        s->fr_done |= 4u;
        return hp_cyccnt(s);
    }
    uint64_t value;
    if (offset == 0u && hp_sc_read(s, HP_DWT_PAGE, size, &value)) return value; /* DWT_CTRL */
    return s->ppb_read(HP_DWT_PAGE + (uint32_t)offset, size);
}

static void hp_dwt_mmio_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user) {
    (void)uc;
    hp_state *s = (hp_state *)user;
    if (offset < 8u && hp_sc_write(s, HP_DWT_PAGE + (uint32_t)offset, size, value)) return; /* DWT_CTRL, CYCCNT */
    s->ppb_write(HP_DWT_PAGE + (uint32_t)offset, size, value);
}

void *hp_dwt_read_ptr(void) { return (void *)&hp_dwt_mmio_read; }
void *hp_dwt_write_ptr(void) { return (void *)&hp_dwt_mmio_write; }

/* PopStack to Handler mode (pop_stack without to_thread): the frame from the main stack, the FP state first,
   then FAULTMASK cleared (clear_fm: not when leaving NMI, B1.5.8), CONTROL.FPCA if it changes, R0-R3, R12, LR, MSP,
   xPSR (its IPSR field is the preempted handler's), the PC last. 0: the frame is not in RAM (nothing changed). */
static int hp_pop_handler(hp_state *s, void *uc, uint32_t excret, uint32_t control, uint32_t sp, int clear_fm) {
    uint32_t fp = !(excret & 0x10u), framesize = fp ? 0x68u : 0x20u;
    uint8_t *host;
    if (!hp_window(s, sp, framesize, &host)) return 0;
    uint32_t w[26];
    memcpy(w, host, fp ? 100 : 32);
    uint32_t xpsr = w[7];
    sp += framesize;
    if ((xpsr & (1u << 9)) && s->fr_stkalign) sp |= 4u;
    if (fp) {
        int fids[17];
        void *fvp[17];
        for (int i = 0; i < 17; i++) { fids[i] = s->rid[FR_S0 + i]; fvp[i] = &w[8 + i]; }
        s->reg_write_batch(uc, fids, fvp, 17);
    }
    uint32_t zero = 0, new_control = (control & ~4u) | (fp ? 4u : 0u), xpsr_out = xpsr & ~(1u << 9);
    int wids[11];
    void *wvp[11];
    int n = 0;
    if (clear_fm) { wids[n] = s->rid[FR_FAULTMASK]; wvp[n++] = &zero; }
    if (new_control != control) { wids[n] = s->rid[FR_CONTROL]; wvp[n++] = &new_control; }
    static const int basic[6] = {FR_R0, FR_R1, FR_R2, FR_R3, FR_R12, FR_LR};
    for (int i = 0; i < 6; i++) { wids[n] = s->rid[basic[i]]; wvp[n++] = &w[i]; }
    wids[n] = s->rid[FR_MSP]; wvp[n++] = &sp;
    wids[n] = s->rid[FR_XPSR]; wvp[n++] = &xpsr_out;
    s->reg_write_batch(uc, wids, wvp, n);
    uint32_t new_pc = (w[6] & ~1u) | ((xpsr & (1u << 24)) ? 1u : 0u);
    s->reg_write(uc, s->rid[FR_PC], &new_pc);
    return 1;
}

/* Take entry k out of a list of HP_MAX_NEST-long arrays (order does not matter: shift the rest down). */
#define HP_LIST_DROP(arr, k, n) do { for (uint32_t i_ = (k) + 1; i_ < (n); i_++) (arr)[i_ - 1] = (arr)[i_]; } while (0)

/*
 * ExceptionReturn (B1.5.8) with the exception state Python listed (SystemBlock.arm_native, nest_on): the
 * active exceptions (nest_*) and the enabled pending ones (lp_*), the twin of ExceptionModel.exception_return
 * when it runs with several exceptions active or some pending (hp_fast_return has the single, calm case).
 * check_return's rules (Handler mode needs another exception active, Thread mode none: else Python, which
 * raises INVPC or follows CCR.NONBASETHRDENA); the exception left must be returnable (not a fault, its line not
 * held high). Tail-chaining (B1.5.12): the pending exception highest by (priority, number) is taken
 * without stacking when its group priority is above the execution priority the return leads to (the
 * remaining active exceptions' and BASEPRI/PRIMASK's, FAULTMASK being cleared -- except when the return leaves
 * NMI, B1.5.8: then FAULTMASK stays and boosts to -1, so no interrupt tail-chains while it is set): FAULTMASK
 * cleared, then ExceptionTaken (CONTROL.SPSEL/FPCA cleared, LR = the same EXC_RETURN, IPSR, the PC from the vector),
 * TAIL_CHAIN cycles. Otherwise PopStack (hp_pop_handler / hp_pop_thread), EXCEPTION_RETURN cycles. Returns
 * 0 (Python does it, nothing changed) on anything C does not know. Python reads the lists back at its sync.
 */
static int hp_list_return(hp_state *s, void *uc) {
    uint32_t pc = 0;
    if (s->reg_read(uc, s->rid[FR_PC], &pc)) return 0;
    uint32_t excret = pc | 1u, low = excret & 0xFu;
    if ((excret & 0xFFFFFFE0u) != 0xFFFFFFE0u || (low != 1u && low != 9u && low != 0xDu)) return 0;
    if (!(excret & 0x10u) && !s->fr_fpu) return 0;
    int ids[7] = {s->rid[FR_IPSR], s->rid[FR_CONTROL], s->rid[FR_MSP], s->rid[FR_PSP], s->rid[FR_BASEPRI],
                  s->rid[FR_PRIMASK], s->rid[FR_XPSR]};
    uint32_t v[7] = {0, 0, 0, 0, 0, 0, 0};
    void *vp[7] = {&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]};
    if (s->reg_read_batch(uc, ids, vp, 7)) return 0;
    uint32_t exc = v[0] & 0x1FFu, control = v[1] & 7u, k = 0, n = s->nest_n;
    while (k < n && s->nest_exc[k] != exc) k++;
    if (k == n || !s->nest_ret[k]) return 0;
    if ((low == 1u) != (n > 1)) return 0; /* INVPC, or a return to Thread mode with others active */
    /* the execution priority after this one is deactivated, FAULTMASK cleared unless the return leaves NMI */
    int clear_fm = exc != 2u;
    int32_t highest = 256;
    for (uint32_t i = 0; i < n; i++)
        if (i != k && s->nest_group[i] < highest) highest = s->nest_group[i];
    int32_t boosted = hp_mask_priority(s, v[4], v[5]);
    if (!clear_fm) { /* FAULTMASK's boost (B1.5.4) stays over the return from NMI */
        uint32_t faultmask = 0;
        if (s->reg_read(uc, s->rid[FR_FAULTMASK], &faultmask)) return 0;
        if (faultmask & 1u) boosted = -1;
    }
    int32_t ep = highest < boosted ? highest : boosted;
    uint32_t best = HP_MAX_NEST;
    for (uint32_t i = 0; i < s->lp_n; i++)
        if (best == HP_MAX_NEST || s->lp_prio[i] < s->lp_prio[best] ||
            (s->lp_prio[i] == s->lp_prio[best] && s->lp_exc[i] < s->lp_exc[best]))
            best = i;
    if (best != HP_MAX_NEST && s->lp_group[best] < ep) { /* tail-chain (from NMI only with FAULTMASK clear already) */
        uint32_t nxt = s->lp_exc[best];
        if (!hp_chain_enter(s, uc, s->lp_vector[best], nxt, excret, control, v[6])) return 0;
        if (nxt >= 16u && (nxt - 16u) >> 5 < HP_NV_WORDS) /* active now, not pending: C's NVIC view (hp_nv_take) */
            s->nv_pending[(nxt - 16u) >> 5] &= ~(1u << ((nxt - 16u) & 31u));
        s->nest_exc[k] = nxt; /* it takes the place of the one left */
        s->nest_group[k] = s->lp_group[best];
        s->nest_ret[k] = s->lp_ret[best];
        HP_LIST_DROP(s->lp_exc, best, s->lp_n);
        HP_LIST_DROP(s->lp_prio, best, s->lp_n);
        HP_LIST_DROP(s->lp_group, best, s->lp_n);
        HP_LIST_DROP(s->lp_vector, best, s->lp_n);
        HP_LIST_DROP(s->lp_ret, best, s->lp_n);
        s->lp_n--;
        s->chains++;
    } else {
        if (low == 1u ? !hp_pop_handler(s, uc, excret, control, v[2], clear_fm)
                      : ((control & 1u) || !hp_pop_thread(s, uc, excret, control, v[2], v[3], clear_fm)))
            return 0; /* an unprivileged Thread mode's return: pop_stack's other write order, Python's */
        s->cycle_count += s->fr_cycles;
        HP_LIST_DROP(s->nest_exc, k, n);
        HP_LIST_DROP(s->nest_group, k, n);
        HP_LIST_DROP(s->nest_ret, k, n);
        s->nest_n = --n;
        s->fr_excret = excret;
        s->fast_returns++;
        s->nest_returns++;
    }
    s->c_active = s->nest_n;
    if (s->nest_n == 1) { /* C's view of the one active exception (arm_native's) */
        s->c_exc = s->nest_exc[0];
        s->c_group = s->nest_group[0];
    }
    if (!s->lp_n && hp_none_pending(s))
        s->irq_pending = 0; /* the last one listed taken: a mask change lets nothing in now (no stop after it) */
    s->fr_left = exc;
    HP_DONE_EXC(s);
    return 1;
}

/* Semihosting SYS_ELAPSED (operation 0x30: bkpt 0xab with r0 = 0x30, ARM "Semihosting for AArch32 and AArch64" 6.5;
   the bkpt is ARMv7-M A7.7.17, Unicorn's intno 7 with the PC at it): the cycle count as a 64-bit little-endian
   value at the address in r1, r0 = 0, on after the bkpt (Semihosting.sys_elapsed and Machine._semihosting_call:
   the same register and memory writes, the block's cycles counted at its entry as Python's now_cycles sees them).
   Only when the 8 bytes are in one RAM window (Machine.writable) and the instruction is read from a memory window;
   1: served, 0: Python's (any other call, a bad pointer). The call reaches no model: no Python entry is owed. */
static int hp_semi_elapsed(hp_state *s, void *uc) {
    uint32_t pc = 0, r0 = 0, r1 = 0;
    if (s->reg_read(uc, s->rid[FR_PC], &pc) || s->reg_read(uc, s->rid[FR_R0], &r0) || r0 != 0x30u ||
        s->reg_read(uc, s->rid[FR_R1], &r1) || !s->mem_write)
        return 0;
    const uint8_t *code = NULL;
    for (uint32_t i = 0; i < s->n_windows; i++)
        if (s->win_base[i] <= pc && (uint64_t)pc + 2 <= s->win_end[i] && s->win_ptr[i]) {
            code = s->win_ptr[i] + (pc - s->win_base[i]);
            break;
        }
    uint8_t *host = NULL;
    if (!code || code[0] != 0xABu || code[1] != 0xBEu || !hp_window(s, r1, 8, &host)) return 0;
    uint8_t le[8];
    for (int k = 0; k < 8; k++) le[k] = (uint8_t)(s->cycle_count >> (8 * k));
    uint32_t zero = 0, next = (pc + 2u) | 1u;
    if (s->mem_write(uc, r1, le, 8) != 0 || s->reg_write(uc, s->rid[FR_R0], &zero) ||
        s->reg_write(uc, s->rid[FR_PC], &next))
        return 0;
    s->sh_elapsed++;
    return 1;
}

void hp_intr_hook(void *uc, uint32_t intno, void *user_data) {
    hp_state *s = (hp_state *)user_data;
    if (intno == 7 && s->sh_on && hp_semi_elapsed(s, uc)) return;
    if (intno == 8 && s->fr_exc && hp_fast_return(s, uc)) return;
    if (intno == 8 && s->nest_on && hp_list_return(s, uc)) return;
    s->intr_fallback(intno);
}

void *hp_intr_hook_ptr(void) { return (void *)&hp_intr_hook; }

/* --- polling loops fast-forwarded in C (simcore/poll.py registers the loop shapes it found clean) ---------
 *
 * poll.py recognises a polling loop (the same register read from the same place, the core registers and
 * RAM a fixed point of one iteration) and fast-forwards it by whole iterations to the first moment the
 * register may change; on a register the register file serves (plain, FIT, timed entries) each such
 * fast-forward cost a Python call. Once poll.py has found a shape clean it registers it here
 * (hp_poll_shape: entry, load instruction, instructions and cycles per iteration, whether events may
 * change the register) and flags the entry RF_POLL_FF; regfile.c then hands every read of it it serves to
 * hp_poll_read, which compares the read with the previous one: same entry, same load instruction, same
 * value, R0-R12/SP/LR/xPSR equal, no write and no exception entry or return in between, and the
 * registered counts between them. That read is then the same fixed point poll.py verified (the shape is
 * clean: an iteration leaves RAM unchanged), and the loop advances by whole iterations exactly as
 * PollWatch._fast_forward does: up to the entry's next change (rf_next_change, one iteration short) or
 * the hot path's next stop (stop_cycle: the next event or interrupt), within the instruction budget.
 * Loops poll.py would stop as "waiting" or watch for RAM reads (no change, no event that could change
 * the register) are never advanced here.
 */
#define HP_POLL_SHAPES 64

struct rf_bus;
/* The cycle at which the entry's value may next change by itself (regfile.c: timed entries' change, a queue's
   deadline); HP_NEVER: only a firmware access or an event changes it. */
uint64_t rf_next_change(struct rf_bus *b, uint32_t reg);

/* hp_pshape.events: what else than the entry's own change (rf_next_change) may end the loop */
#define HP_POLL_CHANGE 0u /* nothing: without a change ahead the loop is Python's (it may be "waiting") */
#define HP_POLL_EVENTS 1u /* an event may change the register (its owner's poll_hint): the next stop */
#define HP_POLL_TICK 2u   /* a plain register polled by a loop that reads RAM (a timeout on the tick count): the
                             next stop when it is the SysTick interrupt C delivers and it preempts the loop */

typedef struct {
    uint32_t reg;           /* register-file entry */
    uint32_t pc;            /* the loop's load instruction */
    uint32_t d_insn, d_cyc; /* one iteration */
    uint32_t events;        /* an event may change the register (its owner's poll_hint) */
    uint32_t pad;
    uint64_t ffs, iters, cycles; /* fast-forwards done here, iterations and cycles skipped */
} hp_pshape;

#define HP_POLL_REFUSED 0xFFu /* a shape found to change RAM: never advanced (and not offered again) */

/* Python's check of a new shape on a timed entry (PollWatch.verify_native): RAM before and after one iteration */
typedef void (*hp_pverify_fn)(uint32_t reg, uint32_t pc, uint32_t d_insn, uint32_t d_cyc);

typedef struct {
    hp_state *s;
    void *uc;
    struct rf_bus *bus;
    hp_pverify_fn verify;
    const uint64_t *rf_writes; /* regfile.c's count of writes */
    uint64_t py_writes;        /* writes Python served outside the register file (PollWatch.on_write) */
    uint32_t n;
    uint32_t c_ok;             /* the candidate below is a read of a registered place */
    hp_pshape shapes[HP_POLL_SHAPES];
    uint32_t last;             /* the shape the last read matched (looked at first: a loop's reads match the same) */
    uint32_t last_pad;
    /* the previous read of a registered place */
    uint32_t c_reg, c_pc, c_value, c_pad;
    uint64_t c_insn, c_cyc, c_flash, c_branch, c_writes, c_exc;
    uint32_t c_regs[16];
} hp_poll;

hp_poll *hp_poll_new(hp_state *s, void *uc, struct rf_bus *bus, const uint64_t *rf_writes) {
    hp_poll *p = (hp_poll *)calloc(1, sizeof(hp_poll));
    if (p) {
        p->s = s;
        p->uc = uc;
        p->bus = bus;
        p->rf_writes = rf_writes;
    }
    return p;
}

void hp_poll_free(hp_poll *p) { free(p); }

/* Python's RAM check of shapes C finds on timed entries (NULL: none are learnt). */
void hp_poll_set_verify(hp_poll *p, void *fn) { p->verify = (hp_pverify_fn)fn; }

/* Register a clean loop shape; returns its index, -1 when the table is full. */
/* events: HP_POLL_CHANGE/EVENTS/TICK, or HP_POLL_REFUSED (a shape that changes RAM: C leaves it alone). */
int hp_poll_shape(hp_poll *p, uint32_t reg, uint32_t pc, uint32_t d_insn, uint32_t d_cyc, uint32_t events) {
    if (!d_insn || !d_cyc) return -1;
    for (uint32_t i = 0; i < p->n; i++) {
        hp_pshape *h = &p->shapes[i];
        if (h->reg == reg && h->pc == pc && h->d_insn == d_insn && h->d_cyc == d_cyc) {
            h->events = events;
            return (int)i;
        }
    }
    if (p->n == HP_POLL_SHAPES) return -1;
    hp_pshape *h = &p->shapes[p->n];
    memset(h, 0, sizeof *h);
    h->reg = reg;
    h->pc = pc;
    h->d_insn = d_insn;
    h->d_cyc = d_cyc;
    h->events = events;
    return (int)p->n++;
}

/* Forget the previous read (Python's run loop, before each emu_start: an exception Python entered, an
   event that wrote RAM, a snapshot restored: nothing links the next read to the last one). */
void hp_poll_forget(hp_poll *p) { p->c_ok = 0; }

/* Shape i's fast-forwards, iterations and cycles skipped (out[0..2]); -1: no such shape. */
int hp_poll_stats(hp_poll *p, uint32_t i, uint64_t *out) {
    if (i >= p->n) return -1;
    out[0] = p->shapes[i].ffs;
    out[1] = p->shapes[i].iters;
    out[2] = p->shapes[i].cycles;
    return 0;
}

uint64_t *hp_poll_py_writes_ptr(hp_poll *p) { return &p->py_writes; }

/* The learnt shapes (their count and table, with each one's figures) copied out for a snapshot (simcore/snapshot.py),
   hp_poll_saved_size() bytes, and back in at its restore: Python's record of which shapes C holds (poll.py
   _NativePolls) is rolled back with the rest of the Python state, so C's table must be too, or a restored run
   fast-forwards loops the original run had not learnt yet (same counts, other block executions and figures).
   The candidate read is forgotten on load (as before each emu_start). */
size_t hp_poll_saved_size(void) { return sizeof(uint32_t) + sizeof(hp_pshape) * HP_POLL_SHAPES; }

void hp_poll_save(const hp_poll *p, uint8_t *out) {
    memcpy(out, &p->n, sizeof(uint32_t));
    memcpy(out + sizeof(uint32_t), p->shapes, sizeof(hp_pshape) * HP_POLL_SHAPES);
}

void hp_poll_load(hp_poll *p, const uint8_t *in) {
    memcpy(&p->n, in, sizeof(uint32_t));
    memcpy(p->shapes, in + sizeof(uint32_t), sizeof(hp_pshape) * HP_POLL_SHAPES);
    p->c_ok = 0;
    p->last = 0;
}

/* HP_POLL_TICK: the next stop (nxt) is the SysTick exception C enters itself (hp_tick), in thread mode, and the
   masks let it preempt (B1.5.4): the handler runs there and may change the RAM the loop reads, as Python's
   interrupt_could_fire allows. Anything else (another event first, a handler active, masked) is Python's. */
static int hp_poll_tick_preempts(hp_state *s, void *uc, uint64_t nxt) {
    if (!s->tick_ok || s->c_active || s->tick_cycle != nxt || nxt == HP_NEVER) return 0;
    int ids[3] = {s->rid[FR_BASEPRI], s->rid[FR_PRIMASK], s->rid[FR_FAULTMASK]};
    uint32_t v[3] = {0, 0, 0};
    void *vp[3] = {&v[0], &v[1], &v[2]};
    if (s->reg_read_batch(uc, ids, vp, 3)) return 0;
    int32_t boosted = hp_mask_priority(s, v[0], v[1]);
    if (v[2] & 1u) boosted = -1;
    return s->tick_group < boosted;
}

/* The shape of (reg, pc, di, dc): hp_poll_shape keeps one per key, so the last one matched, looked at first, is the
   one the search would find. */
static hp_pshape *hp_poll_find(hp_poll *p, uint32_t reg, uint32_t pc, uint64_t di, uint64_t dc) {
    if (p->last < p->n) {
        hp_pshape *h = &p->shapes[p->last];
        if (h->reg == reg && h->pc == pc && h->d_insn == di && h->d_cyc == dc) return h;
    }
    for (uint32_t j = 0; j < p->n; j++) {
        hp_pshape *h = &p->shapes[j];
        if (h->reg == reg && h->pc == pc && h->d_insn == di && h->d_cyc == dc) {
            p->last = j;
            return h;
        }
    }
    return NULL;
}

/* Whether some shape reads entry reg at pc (the last matched first: a polling loop's reads are the same place). */
static int hp_poll_known(hp_poll *p, uint32_t reg, uint32_t pc) {
    if (p->last < p->n && p->shapes[p->last].reg == reg && p->shapes[p->last].pc == pc) return 1;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->shapes[i].reg == reg && p->shapes[i].pc == pc) {
            p->last = i;
            return 1;
        }
    return 0;
}

/* The PC of a read hp_poll_read is given, and (regs) the state it compares between two reads: R0-R12, SP, LR, xPSR.
   With the engine's CPU state at hand (dv_env: its regs[16], what uc_reg_read returns for R0-R15) the PC, R0-R12,
   SP and LR are read there and xPSR alone by uc_reg_read (it is made from several fields: v7m_mrs_xpsr), the same
   values as one uc_reg_read for the PC and a batch of three: ~200 host instructions less a read, ~45 K reads in the
   B-L475E-IOT01A's imu_steps_bus (its I2C flag waits; docs/performance.md, eleventh round). With the flag words at
   hand too (ps_flags, ps_exc: HotPath._cpu_xpsr) xPSR is made here (hp_xpsr_direct, twelfth round). 0: read;
   -1: failed. */
static int hp_poll_pc(hp_state *s, void *uc, uint32_t *pc) {
    if (s->dv_env) {
        *pc = s->dv_env[15];
        return 0;
    }
    return s->reg_read(uc, s->rid[FR_PC], pc) ? -1 : 0;
}

/* xPSR (ARMv7-M B1.4.2: APSR N Z C V Q GE, EPSR T and IT, IPSR) from the engine's flag fields, as its uc_reg_read of
   xPSR makes it (N is NF's bit 31, Z set when ZF is 0, V is VF's bit 31, IT[1:0] condexec_bits[1:0] at 26:25 and
   IT[7:2] its bits 7:2 at 15:10), masked to the bits that read returns: ~90 host instructions less a polled read. */
static uint32_t hp_xpsr_direct(const hp_state *s) {
    const uint32_t *f = s->ps_flags;
    uint32_t x = (f[2] & 0x80000000u) | ((uint32_t)(f[3] == 0) << 30) | (f[0] << 29) | ((f[1] & 0x80000000u) >> 3) |
                 (f[4] << 27) | (f[6] << 24) | ((f[7] & 3u) << 25) | ((f[7] & 0xFCu) << 8) | (f[5] << 16) | *s->ps_exc;
    return x & 0xFF0FFDFFu;
}

/* Python's check of the direct xPSR (HotPath._cpu_xpsr, tests): the value hp_poll_regs uses, 0 when not set up. */
uint32_t hp_xpsr_of(const hp_state *s) { return s->ps_flags && s->ps_exc ? hp_xpsr_direct(s) : 0; }

static int hp_poll_regs(hp_state *s, void *uc, uint32_t regs[16]) {
    regs[15] = 0;
    if (s->dv_env) {
        memcpy(regs, s->dv_env, 15 * sizeof(uint32_t)); /* R0-R12, SP (R13: the stack pointer in use), LR */
        if (s->ps_flags && s->ps_exc) {
            regs[15] = hp_xpsr_direct(s);
            return 0;
        }
        return s->reg_read(uc, s->rid[FR_XPSR], &regs[15]) ? -1 : 0;
    }
    for (int k = 0; k < 13; k++) { regs[k] = 0; s->reg_read(uc, s->core_rid[k], &regs[k]); }
    int ids[3] = {s->sp_regid, s->rid[FR_LR], s->rid[FR_XPSR]};
    void *vp[3] = {&regs[13], &regs[14], &regs[15]};
    regs[13] = regs[14] = 0;
    return s->reg_read_batch(uc, ids, vp, 3) ? -1 : 0;
}

/*
 * regfile.c's callback: a read served in C of an RF_POLL_FF entry (see above) or of an RF_TIMED one (timed:
 * its reads never reach Python's watch, so the loop's shape is found here: two reads one iteration apart
 * with the same state, then Python checks once that an iteration leaves RAM unchanged and registers it).
 */
static void hp_poll_read(void *ctx, uint32_t reg, uint32_t value, uint32_t timed) {
    hp_poll *p = (hp_poll *)ctx;
    hp_state *s = p->s;
    uint32_t pc = 0;
    if (hp_poll_pc(s, p->uc, &pc)) { p->c_ok = 0; return; }
    if (!hp_poll_known(p, reg, pc) && !(timed && p->verify)) { p->c_ok = 0; return; }
    uint32_t regs[16];
    if (hp_poll_regs(s, p->uc, regs)) { p->c_ok = 0; return; }
    uint64_t writes = *p->rf_writes + p->py_writes + s->psv_sets + s->nv_writes + s->sc_writes, exc = s->tick_entries + s->fast_returns + s->chains + s->wp_skips +
        s->nv_entries + s->ap_done + s->ch_done + s->ux_ends + s->tw_taken + s->tw_woken + s->ks_steps;
    _Static_assert(HP_MAX_SOURCES == 4, "the sums below add four sources");
    writes += (uint64_t)s->src_acks[0] + s->src_acks[1] + s->src_acks[2] + s->src_acks[3];
    exc += (uint64_t)s->src_entries[0] + s->src_entries[1] + s->src_entries[2] + s->src_entries[3];
    uint64_t insn = s->insn_count, cyc = s->cycle_count;
    if (p->c_ok && p->c_reg == reg && p->c_pc == pc && p->c_value == value && p->c_writes == writes &&
        p->c_exc == exc && !memcmp(p->c_regs, regs, sizeof regs) && !s->stop_requested && !s->py_stop) {
        uint64_t di = insn - p->c_insn, dc = cyc - p->c_cyc;
        hp_pshape *h = hp_poll_find(p, reg, pc, di, dc);
        if (!h && timed && p->verify && di && dc && di < 0xFFFFFFFFu && dc < 0xFFFFFFFFu) {
            p->verify(reg, pc, (uint32_t)di, (uint32_t)dc); /* may register it (hp_poll_shape) */
            h = hp_poll_find(p, reg, pc, di, dc);
            insn = s->insn_count; /* unchanged by Python's check; read again all the same */
            cyc = s->cycle_count;
        }
        while (h && h->events != HP_POLL_REFUSED && !s->stop_requested && !s->py_stop) {
            /* PollWatch._fast_forward's bounds, in the same order */
            uint64_t change = rf_next_change(p->bus, reg), nxt = s->stop_cycle;
            if (h->events == HP_POLL_CHANGE && change == HP_NEVER) break; /* Python's: "waiting" */
            if (h->events == HP_POLL_TICK && change == HP_NEVER && !hp_poll_tick_preempts(s, p->uc, nxt)) break;
            uint64_t target = change < nxt ? change : nxt;
            if (target == HP_NEVER) break;               /* nothing scheduled: Python's "waiting" */
            uint64_t iters = target > cyc + 1 ? (target - cyc - 1) / dc : 0;
            if (change != HP_NEVER && target == change && change < nxt) iters = iters ? iters - 1 : 0;
            uint64_t left = (s->stop_insn > insn ? s->stop_insn - insn : 0) / di;
            if (left < iters) iters = left;
            if (!iters) break;
            uint64_t dflash = s->flash_wait_cycles - p->c_flash, dbranch = s->branch_taken_cycles - p->c_branch;
            s->insn_count = insn + iters * di;
            s->cycle_count = cyc + iters * dc;
            s->flash_wait_cycles += iters * dflash;
            s->branch_taken_cycles += iters * dbranch;
            h->ffs++;
            h->iters += iters;
            h->cycles += iters * dc;
            break;
        }
    }
    p->c_ok = 1;
    p->c_reg = reg;
    p->c_pc = pc;
    p->c_value = value;
    p->c_insn = s->insn_count;
    p->c_cyc = s->cycle_count;
    p->c_flash = s->flash_wait_cycles;
    p->c_branch = s->branch_taken_cycles;
    p->c_writes = writes;
    p->c_exc = exc;
    memcpy(p->c_regs, regs, sizeof regs);
}

void *hp_poll_read_ptr(void) { return (void *)&hp_poll_read; }

/* Analyse a block from guest memory as the hook would (Python's view of the C analysis). */
int hp_analyze_at(hp_state *s, void *uc, uint32_t addr, uint32_t size, hp_block *out, uint32_t *costs,
                  uint32_t *addrs, int max_insns, hp_uncert *u) {
    hp_reader r = {s, uc};
    return hp_analyze(s->model, &s->carry, hp_read_guest, &r, addr, size, out, costs, addrs, max_insns, u);
}

/* --- the persistent cache of block analyses (simcore/blockcache.py) ------------------------------ */

/* FNV-1a (64-bit) of a block's bytes in guest memory: a cached analysis applies only to the same bytes. */
static int hp_bytes_hash(hp_state *s, void *uc, uint32_t addr, uint32_t size, uint64_t *out) {
    uint8_t buf[HP_MAX_BLOCK_BYTES];
    if (size > HP_MAX_BLOCK_BYTES || s->mem_read(uc, addr, buf, size)) return -1;
    uint64_t h = 0xCBF29CE484222325ull;
    for (uint32_t i = 0; i < size; i++) h = (h ^ buf[i]) * 0x100000001B3ull;
    *out = h;
    return 0;
}

/* The table's entries (but those with flags in skip) with the hash of their bytes; returns how many. */
uint32_t hp_cache_export(hp_state *s, void *uc, hp_cache_rec *out, uint32_t max, uint32_t skip) {
    uint32_t n = 0;
    hp_streak_end(s);
    for (uint32_t i = 0; s->table && i <= s->mask && n < max; i++) {
        const hp_block *b = &s->table[i];
        if (b->addr == 0xFFFFFFFFu || (b->flags & skip)) continue;
        if (hp_bytes_hash(s, uc, b->addr, b->size, &out[n].hash)) continue;
        out[n].block = *b;
        out[n].block.art_gen = 0;
        out[n].block.execs = 0;
        out[n].block.flash_words = HP_NOT_PROBED;
        n++;
    }
    return n;
}

/* Put cached entries into the table when their bytes are still those hashed; returns how many. */
uint32_t hp_cache_import(hp_state *s, void *uc, const hp_cache_rec *in, uint32_t n, uint32_t skip) {
    uint32_t put = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t h;
        const hp_block *b = &in[i].block;
        if ((b->flags & skip) || hp_find(s, b->addr, b->size)) continue;
        if (hp_bytes_hash(s, uc, b->addr, b->size, &h) || h != in[i].hash) continue;
        if (hp_put(s, b)) break;
        put++;
    }
    return put;
}

/* An IT state carried across a block start, from the cache (hp_itmap). */
void hp_carry_put(hp_state *s, uint32_t addr, uint32_t left) { hp_itmap_put(&s->carry, addr, left); }

/* Which sources this library was built from (setup.py passes the digest of simcore/native): a cache
   written by another decoder is not used. */
#ifndef HP_SOURCE_DIGEST
#define HP_SOURCE_DIGEST "unknown"
#endif
const char *hp_source_digest(void) { return HP_SOURCE_DIGEST; }

/* The table entry of a block, or NULL. */
hp_block *hp_lookup(hp_state *s, uint32_t addr, uint32_t size) {
    hp_streak_end(s); /* the caller may read or change the entry (its execs) */
    return s->table ? hp_find(s, addr, size) : NULL;
}

/* The ABI this library was built for (simcore/abi.py checks it at load; abi.h checks every field here). */
#include "abi.h"
const char *hp_abi_digest(void) { return HP_ABI_DIGEST; }

/* The hook's address for ctypes: taking a function's address portably from Python. */
void *hp_block_hook_ptr(void) {
#if HP_LZCNT_TWIN
    if (hp_lzcnt()) return (void *)&hp_block_hook_lzcnt;
#endif
    return (void *)&hp_block_hook;
}

/* The hook for any x86-64 (or any CPU), whatever hp_block_hook_ptr gives: the tests run it beside the LZCNT one. */
void *hp_block_hook_portable_ptr(void) { return (void *)&hp_block_hook; }
