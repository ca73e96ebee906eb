/*
 * simcore hot path: the per-block accounting hook, in C.
 *
 * Unicorn calls hp_block_hook at the entry of every translated block (UC_HOOK_BLOCK).
 * The hook looks the block up in an open-addressing table of per-block costs that Python
 * fills on a miss (capstone decode of the block's bytes, see simcore/accounting.py), adds
 * instructions and cycles, keeps the stack-pointer low-water mark, and stops emulation
 * when the next virtual-time event or the instruction budget is due.
 *
 * No link dependency on Unicorn: uc_emu_stop and uc_reg_read arrive as function pointers
 * taken from the bindings' library. simcore/hotpath.py holds the identical Python fallback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HP_SP_READ 1u    /* block moves SP down: read SP at entry and apply sp_min_delta */
#define HP_SP_DYNAMIC 2u /* block writes SP by an amount unknown statically: read it at the next block */

typedef struct {
    uint32_t addr;     /* block start; 0xFFFFFFFF marks an empty slot */
    uint32_t size;     /* block size in bytes as Unicorn reports it */
    uint32_t n_insn;   /* instructions in the block */
    uint32_t cycles;   /* static cycle cost of the block */
    int32_t sp_min_delta; /* lowest SP within the block relative to SP at entry (<= 0) */
    uint32_t flags;
} hp_block;

typedef int (*hp_miss_fn)(uint32_t addr, uint32_t size); /* non-zero: stop, retranslate, resume */
typedef int (*uc_emu_stop_fn)(void *uc);
typedef int (*uc_reg_read_fn)(void *uc, int regid, void *value);

/* Field order is mirrored by simcore/hotpath.py (ctypes Structure): keep them in step. */
typedef struct {
    uint64_t insn_count;   /* retired instructions (whole blocks; corrected when a run stops mid-block) */
    uint64_t cycle_count;  /* virtual clock in core cycles */
    uint64_t stop_cycle;   /* stop before the first block entered at or after this cycle */
    uint64_t stop_insn;    /* instruction budget */
    uint64_t block_count;
    uint32_t sp_low;       /* stack-pointer low-water mark */
    uint32_t check_sp_next;
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
    int32_t pad;
} hp_state;

static inline uint32_t hp_hash(uint32_t addr) { return (addr >> 1) * 2654435761u; }

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
    s->used = 0;
    return 0;
}

int hp_init(hp_state *s, uint32_t capacity) {
    if (capacity < 16 || (capacity & (capacity - 1))) return -1;
    return hp_alloc(s, capacity);
}

void hp_free(hp_state *s) {
    free(s->table);
    s->table = NULL;
}

int hp_insert(hp_state *s, uint32_t addr, uint32_t size, uint32_t n_insn, uint32_t cycles,
              int32_t sp_min_delta, uint32_t flags) {
    if ((s->used + 1) * 2 > s->mask + 1) { /* keep the load factor under one half */
        hp_block *old = s->table;
        uint32_t old_cap = s->mask + 1;
        if (hp_alloc(s, old_cap * 2)) { s->table = old; return -1; }
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i].addr != 0xFFFFFFFFu)
                hp_insert(s, old[i].addr, old[i].size, old[i].n_insn, old[i].cycles, old[i].sp_min_delta,
                          old[i].flags);
        free(old);
    }
    uint32_t i = hp_hash(addr) & s->mask;
    while (s->table[i].addr != 0xFFFFFFFFu && !(s->table[i].addr == addr && s->table[i].size == size))
        i = (i + 1) & s->mask;
    if (s->table[i].addr == 0xFFFFFFFFu) s->used++;
    hp_block *b = &s->table[i];
    b->addr = addr;
    b->size = size;
    b->n_insn = n_insn;
    b->cycles = cycles;
    b->sp_min_delta = sp_min_delta;
    b->flags = flags;
    return 0;
}

void hp_clear(hp_state *s) {
    memset(s->table, 0xFF, sizeof(hp_block) * (s->mask + 1));
    s->used = 0;
}

void hp_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    hp_state *s = (hp_state *)user_data;
    /* A block whose hook stops emulation does not run; its hook runs again on resume. */
    if (s->cycle_count >= s->stop_cycle || s->insn_count >= s->stop_insn) {
        s->stop_requested = 1;
        s->last_size = 0;
        s->emu_stop(uc);
        return;
    }
    uint32_t addr = (uint32_t)address;
    hp_block *b = hp_find(s, addr, size);
    if (!b) {
        if (s->miss(addr, size)) { /* new conditional-instruction hooks: this block must be retranslated */
            s->stop_requested = 1;
            s->last_size = 0;
            s->emu_stop(uc);
            return;
        }
        b = hp_find(s, addr, size);
        if (!b) {
            s->miss_failed = 1;
            s->stop_requested = 1;
            s->emu_stop(uc);
            return;
        }
    }
    if ((b->flags & HP_SP_READ) || s->check_sp_next) {
        uint32_t sp = 0;
        s->reg_read(uc, s->sp_regid, &sp);
        uint32_t low = sp + (uint32_t)b->sp_min_delta;
        if (low < s->sp_low) s->sp_low = low;
    }
    s->check_sp_next = b->flags & HP_SP_DYNAMIC;
    s->insn_count += b->n_insn;
    s->cycle_count += b->cycles;
    s->block_count++;
    s->last_addr = addr;
    s->last_size = size;
}

/*
 * Instructions inside an IT block count only when their condition passes (as a per-instruction
 * UC_HOOK_CODE sees them): the block's static count leaves them out and this hook, installed
 * on exactly their addresses, adds one each time one executes.
 */
void hp_cond_hook(void *uc, uint64_t address, uint32_t size, void *user_data) {
    (void)uc; (void)address; (void)size;
    ((hp_state *)user_data)->insn_count++;
}

void *hp_cond_hook_ptr(void) { return (void *)&hp_cond_hook; }

/* The hook's address for ctypes: taking a function's address portably from Python. */
void *hp_block_hook_ptr(void) { return (void *)&hp_block_hook; }
