/*
 * simcore register file: the peripheral bus's plain registers, served without Python.
 *
 * Unicorn calls rf_mmio_read / rf_mmio_write for every access to a window mapped with them
 * (uc_mmio_map with a C function pointer: ~30 ns, against ~500 ns for a Python callback).
 * A two-level page table maps each 32-bit word to a register entry:
 *  - a plain register (a register of the part's SVD table that no behavioural model
 *    implements) is served here: it reads its value under its read mask and a write keeps
 *    the bits of the write mask, clears the w1c bits written 1 and sets the w1s bits written
 *    1 (nRF52 INTENSET/INTENCLR are views of one value: entries may share a store);
 *  - a model's register (flags RF_PY_READ / RF_PY_WRITE) and a word without an entry go to
 *    Python (bus->py), which dispatches to the model;
 *  - RF_ACK (on a model's register): a write is first offered to the hot path (bus->ack, hp_ack),
 *    which serves the acknowledge of an interrupt it delivered itself; otherwise Python;
 *  - RF_NOTIFY: Python is told about the next access (the first one: it makes the report
 *    with the exact PC, and --strict stops there); after that only counters change.
 *  - RF_FIT (a model's register the model hands to the register file while its behaviour is storage
 *    alone, e.g. the nRF52 UARTE's events while their interrupt is off): reads and writes are served
 *    as a plain register's, but a write that is not a whole aligned word within the entry's masks goes
 *    to Python (bus->py), where the model reports stray bits as it always does.
 *  - RF_CONSOLE (a console's transmit data register, set while the model allows it): a write
 *    whose value fits the entry's write mask appends its low byte to the bus's console buffer
 *    without Python; Python takes the bytes at its next look (rf_console_take), and hears of a
 *    full buffer, or of each newline when it echoes live (bus->con_flush). The write ends the
 *    poll streak of the console's status entry too, as any MMIO write ends Python's (poll.py).
 *  - RF_QUEUE (a model's streaming data register, e.g. a sensor FIFO's data word): an aligned word read
 *    is answered from the entry's queue of words, which the model filled with what the register will
 *    return, while the queue is not empty and the virtual clock (*bus->cycles) is before the queue's
 *    deadline (the model's next change: a sample's arrival); otherwise the read goes to Python as
 *    usual. When the words served reach the queue's notify_at, bus->qnotify tells the model (which
 *    takes the count with rf_queue_take and does what its own read would have done there).
 *  - RF_TIMED (a model's status register whose value follows a virtual-time schedule the model set, e.g.
 *    an SPI's SR during a frame: BSY until the frame's end, then RXNE): a read is answered with `before`
 *    while the block-entry clock (*bus->clock: the cycle count at the hook of the block doing the read,
 *    the moment a machine event at that cycle would have run) is before `at`, with `after` from `at` on,
 *    and goes to Python from `end` on (UINT64_MAX: never). Writes go to Python. rf_next_change tells a
 *    polling loop's fast-forward the cycle the value changes (RF_QUEUE: its deadline); reads served from the
 *    schedule count as polls but never call bus->poll (Python has nothing to add to a known change cycle).
 *  - RF_XFER (an SPI master's data register while the model streams a transfer, rf_xfer): the model started
 *    the first frame and knows what the selected chip answers for the next n - 1 (a read's bytes); a DR write
 *    starts the next frame here (its end on the wire from the SPI clock, on the machine's clock timeline: the
 *    status register's schedule goes BSY until the end, RXNE from it, as the model's frame event would), a DR
 *    read after the end returns the chip's byte and clears RXNE. Anything else (a write while RXNE is up, a
 *    read before the end, a frame past what the model previewed or past its limit) goes to Python, which
 *    takes the stream's state (rf_xfer_get) and replays the frames into the model and the chip.
 *    A script (rf_xfer_script: several transfers of one read command, e.g. the samples of a FIFO drain, previewed
 *    at once) also serves the chip select between them: RF_XCS on the select's GPIO BSRR entry, whose writes of the
 *    exact deselect word (once the selected transfer's frames were all read) and select word (while a whole
 *    transfer is left) are counted here with their cycles; the next transfer's first frame must be the command.
 *    An I2C read stream (rf_xfer_start_i2c, on the receive data register) is driven by reads instead: the
 *    model gives each byte's arrival cycle (the bus clock is stretched while RXDR is full, so a byte comes
 *    9 SCL periods after the previous one only if that one was read before: a read at or after the next
 *    byte's arrival goes to Python); the status register shows RXNE from a byte's arrival to its read. Once every
 *    byte was read, the interrupt clear register's write of exactly STOPF (RF_XICR on its entry, rf_xfer_i2c_icr)
 *    is served too: STOPF leaves the status value, and Python applies the clear when it takes the stream back.
 * Every entry counts reads and writes, ORs the bits its writes changed (the report names
 * those fields), and watches polls: a read returning the value of the previous read of the
 * same entry from the same translated block counts one more repeat, and bus->poll is called
 * when the repeats reach poll_threshold (then at every further multiple of it), unless the
 * watcher muted the entry (RF_POLL_MUTE): then not until a new streak starts (another value,
 * another block, or a write). RF_POLL_FF (set by simcore/poll.py on an entry a clean polling loop
 * reads) or an RF_TIMED entry (whose reads never reach bus->poll): every read of it served here
 * goes to bus->pff (hotpath.c's hp_poll_read), which recognises the loop (again) and fast-forwards
 * it without Python; bus->mmio_writes counts every write (a loop that writes is no fixed point).
 *
 * simcore/bus.py holds the identical Python twin (PyRegFile) and the ctypes mirror of rf_reg.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RF_PY_READ 1u  /* reads go to Python (a model's register) */
#define RF_PY_WRITE 2u /* writes go to Python */
#define RF_NOTIFY 4u   /* call bus->notify at the next access, then clear */
#define RF_POLL_MUTE 8u /* no poll callbacks until this streak ends (the watcher has seen enough of it) */
#define RF_FIT 128u    /* served as a plain register; writes that do not fit go to Python */
#define RF_TIMED 256u  /* reads follow the entry's schedule (rf_timed), until its end */
#define RF_NEVER 0xFFFFFFFFFFFFFFFFull
#define RF_POLL_FF 0x8000u /* a clean polling loop reads this entry: its reads served here go to bus->pff (pollc) */
#define RF_XFER 512u   /* an SPI data register a stream serves (rf_xfer) */
#define RF_XFER_MAX 1024u
#define RF_XCS 0x1000u /* a GPIO BSRR entry: chip-select writes an SPI stream's script serves (rf_xfer_script) */
#define RF_XICR 0x2000u /* an I2C interrupt clear register: the STOPF clear after a read stream (rf_xfer_i2c_icr) */
#define RF_XCR 0x4000u  /* an I2C control register: the armed write that starts a register-address write (rf_xfer_i2c_arm) */
#define RF_NO_LINK 0xFFFFFFFFu

typedef struct {
    uint32_t store;      /* index of the value (entries that are views of one value share it) */
    uint32_t write_mask; /* bits a write stores */
    uint32_t w1c_mask;   /* bits a written 1 clears */
    uint32_t w1s_mask;   /* bits a written 1 sets */
    uint32_t read_mask;  /* bits that read back (the rest read 0) */
    uint32_t flags;
    uint32_t changed;    /* bits writes have changed (or written 1 to a w1c/w1s bit) */
    uint32_t poll_pc;    /* block of the last read */
    uint64_t reads;
    uint64_t writes;
    uint32_t poll_value; /* value of the last read */
    uint32_t poll_count; /* reads in a row returning poll_value from poll_pc */
} rf_reg;

typedef uint64_t (*rf_py_fn)(uint32_t addr, uint32_t size, uint64_t value, uint32_t write);
typedef void (*rf_notify_fn)(uint32_t reg, uint32_t addr, uint32_t size, uint64_t value, uint32_t write);
typedef void (*rf_poll_fn)(uint32_t reg, uint32_t pc, uint32_t value, uint32_t count);
/* RF_ACK (flag 16): a write may be an interrupt acknowledge the hot path serves (bus->ack: hotpath.c's
   hp_ack, which returns 1 when it served the write, 0 when Python serves it) */
#define RF_ACK 16u
typedef int (*rf_ack_fn)(void *ctx, uint32_t addr, uint32_t size, uint64_t value);
#define RF_CONSOLE 32u
#define RF_CON_CAP 4096u
typedef void (*rf_con_fn)(void);
#define RF_QUEUE 64u
typedef void (*rf_qnotify_fn)(uint32_t queue);
/* RF_POLL_FF: hotpath.c's hp_poll_read (a read of a polling loop poll.py found clean, served here) */
typedef void (*rf_pff_fn)(void *ctx, uint32_t reg, uint32_t value, uint32_t timed);

typedef struct {
    uint32_t reg;       /* the entry it answers for */
    uint32_t head;      /* words served */
    uint32_t len;       /* words filled */
    uint32_t cap;
    uint32_t notify_at; /* call bus->qnotify when head reaches it (0: never) */
    uint32_t pad;
    uint64_t deadline;  /* served only while *bus->cycles < deadline */
    uint32_t *words;
} rf_queue;

typedef struct {
    uint32_t reg;    /* the entry it answers for */
    uint32_t before; /* value read while the block-entry clock is before at */
    uint32_t after;  /* ... from at on */
    uint32_t pad;
    uint64_t at;     /* change cycle (RF_NEVER: before for ever) */
    uint64_t end;    /* reads go to Python from this cycle on (RF_NEVER: never) */
} rf_timed;

typedef struct {
    uint32_t dr, sr, ti;   /* the data register's entry, the status register's entry and its schedule */
    uint32_t active;
    uint32_t n;            /* frames the stream may carry */
    uint32_t k;            /* frames started (the first by the model) */
    uint32_t rd;           /* data reads served */
    uint32_t after_dr;     /* the last read of DR or SR was of DR (RM0090 28.4.8: the OVR clearing sequence) */
    uint32_t sr_idle, sr_busy, sr_done; /* SR: TXE; TXE|BSY; TXE|RXNE */
    uint64_t frame_fs;     /* one frame on the wire */
    uint64_t wire_fs;      /* when the last frame started ends */
    uint64_t limit;        /* frames must end before this cycle */
    uint64_t seg_cycle, seg_fs, num, den; /* the clock timeline's current segment: hz = num / den */
    uint32_t i2c;          /* 1: an I2C read stream (read-driven, arrival cycles in ats); 2: an I2C write on the
                              transmit data register (rf_xfer_start_i2c_tx) */
    uint32_t sr_last, sr_final; /* I2C: SR when the last byte arrived, after it was read */
    /* SPI script (rf_xfer_script): n / m transfers of m frames, each starting with the command byte mosi[0], the
       chip select toggled between them by BSRR writes served here (their cycles in ats) */
    uint32_t m;            /* frames per transfer (0: one transfer; its chip select goes to Python) */
    uint32_t cs;           /* the chip select's BSRR entry */
    uint32_t cs_low, cs_high; /* the BSRR words that select and deselect the chip */
    uint32_t sel;          /* the chip is selected */
    uint32_t edges;        /* chip-select writes served */
    uint64_t ats[RF_XFER_MAX];  /* I2C: arrival cycle of each byte; SPI script: cycle of each chip-select write */
    uint8_t mosi[RF_XFER_MAX];
    uint8_t miso[RF_XFER_MAX];
    uint64_t pre_at;       /* I2C read started at its START (rf_xfer_i2c_address): SR sr_pre until this cycle */
    uint32_t sr_pre, pad5;
    /* I2C read stream: the write of exactly icr_bits to entry icr (the interrupt clear register, flag RF_XICR) once
       every byte was read and the final SR shows them clears them from it here (rf_xfer_i2c_icr); icr_done: served */
    uint32_t icr, icr_bits, icr_done, pad6;
    /* I2C write armed on the control register (rf_xfer_i2c_arm): entry cr's write of exactly cr_value starts this
       slot's write (rf_xfer_start_i2c_tx of cr_n bytes, SR cr_sr[4]) once stream cr_link (RF_NO_LINK: none) has read
       every byte and taken its STOPF clear: START and the address end cr_addr_fs after max(now, cr_wire_fs).
       cr_state: 0 off, 1 armed, 2 served (cr_addr_end, cr_at_ready: the address's end and its cycle) */
    uint32_t cr, cr_value, cr_state, cr_link, cr_n, cr_sr[4], pad7;
    uint64_t cr_addr_fs, cr_frame_fs, cr_wire_fs, cr_limit, cr_addr_end, cr_at_ready;
} rf_xfer;

#define RF_WORDS 1024u /* 32-bit words per 4 KiB page */
typedef struct {
    uint32_t slot[RF_WORDS]; /* register index + 1; 0: Python */
} rf_page;

typedef struct rf_bus {
    rf_reg *regs;
    uint32_t n_regs, cap_regs;
    uint32_t *store;
    uint32_t n_store, cap_store;
    rf_page **dir[1024]; /* addr >> 22 -> 1024 pages (addr >> 12 & 1023) */
    rf_py_fn py;
    rf_notify_fn notify;
    rf_poll_fn poll;
    const uint32_t *pc;  /* the executing block's address (the hot path's last_addr) */
    uint32_t poll_threshold; /* 0: no poll callbacks */
    uint32_t pad;
    rf_ack_fn ack;       /* RF_ACK entries: the hot path's acknowledge of a natively delivered interrupt */
    void *ack_ctx;
    /* polling fast-forward in C: RF_POLL_FF reads go to pff (hotpath.c hp_poll_read); every write is
       counted (a loop that writes to a peripheral is no fixed point) */
    rf_pff_fn pff;
    void *pff_ctx;
    uint64_t mmio_writes;
    rf_con_fn con_flush; /* RF_CONSOLE: Python takes the buffer (full, or a newline while con_eager) */
    uint32_t con_eager;  /* call con_flush at each newline (the run echoes the console live) */
    uint32_t con_status; /* the console's status entry + 1 (its poll streak ends at each console write) */
    uint32_t con_len;
    uint8_t con_buf[RF_CON_CAP];
    rf_queue *queues;    /* RF_QUEUE entries' queues */
    uint32_t n_queues;
    uint32_t pad2;
    rf_qnotify_fn qnotify;
    const uint64_t *cycles; /* the virtual clock (the hot path's cycle_count) */
    /* the core's PC at each read Python serves, read here before the call (rf_set_pc_reader): Python's
       polling watch wants it at every model read, and a call from Python into Unicorn costs ~0.7 us */
    int (*pc_read)(void *uc, int regid, void *value);
    void *pc_uc;
    int pc_regid;
    uint32_t mmio_pc;
    rf_timed *timed;     /* RF_TIMED entries' schedules */
    uint32_t n_timed;
    uint32_t pad3;
    const uint64_t *clock; /* the block-entry clock (hp_state.block_cycle) RF_TIMED compares */
    rf_xfer *xfers;        /* RF_XFER streams */
    uint32_t n_xfers;
    uint32_t pad4;
} rf_bus;

typedef struct {
    rf_bus *bus;
    uint32_t base;
} rf_window;

static const uint32_t no_pc = 0;
static const uint64_t no_cycles = 0;

/* The layout of rf_reg, field by field, for simcore/regfile.py's check of its ctypes mirror:
 * what = 0..11: offset of each field in declaration order; 12: the size. */
uint64_t rf_reg_layout(uint32_t what) {
    static const uint64_t layout[] = {
        offsetof(rf_reg, store), offsetof(rf_reg, write_mask), offsetof(rf_reg, w1c_mask),
        offsetof(rf_reg, w1s_mask), offsetof(rf_reg, read_mask), offsetof(rf_reg, flags),
        offsetof(rf_reg, changed), offsetof(rf_reg, poll_pc), offsetof(rf_reg, reads),
        offsetof(rf_reg, writes), offsetof(rf_reg, poll_value), offsetof(rf_reg, poll_count), sizeof(rf_reg)};
    return what < sizeof layout / sizeof layout[0] ? layout[what] : 0;
}

rf_bus *rf_new(void) {
    rf_bus *b = calloc(1, sizeof(rf_bus));
    if (b) {
        b->pc = &no_pc;
        b->cycles = &no_cycles;
        b->clock = &no_cycles;
    }
    return b;
}

void rf_free(rf_bus *b) {
    if (!b) return;
    for (unsigned i = 0; i < 1024; i++) {
        if (!b->dir[i]) continue;
        for (unsigned j = 0; j < 1024; j++) free(b->dir[i][j]);
        free(b->dir[i]);
    }
    for (uint32_t q = 0; q < b->n_queues; q++) free(b->queues[q].words);
    free(b->queues);
    free(b->timed);
    free(b->xfers);
    free(b->regs);
    free(b->store);
    free(b);
}

void rf_set_callbacks(rf_bus *b, rf_py_fn py, rf_notify_fn notify, rf_poll_fn poll) {
    b->py = py;
    b->notify = notify;
    b->poll = poll;
}

void rf_set_ack(rf_bus *b, void *fn, void *ctx) {
    b->ack = (rf_ack_fn)fn;
    b->ack_ctx = ctx;
}

/* RF_CONSOLE entries' buffer: the flush callback, live echo, and the status entry (index + 1, 0: none). */
void rf_set_console(rf_bus *b, rf_con_fn flush, uint32_t eager, uint32_t status) {
    b->con_flush = flush;
    b->con_eager = eager;
    b->con_status = status;
}

/* Where the count of console bytes not yet taken is: Python reads it before asking for them (a poll of
   a model register looks at every read whether the console was written since the last one). */
const uint32_t *rf_console_len_ptr(rf_bus *b) { return &b->con_len; }

/* Move the console bytes written since the last call into out (at most max); returns how many. */
uint32_t rf_console_take(rf_bus *b, uint8_t *out, uint32_t max) {
    uint32_t n = b->con_len < max ? b->con_len : max;
    memcpy(out, b->con_buf, n);
    memmove(b->con_buf, b->con_buf + n, b->con_len - n);
    b->con_len -= n;
    return n;
}

/* RF_QUEUE: the model's callback and the virtual clock the deadlines are compared with. */
void rf_set_queue_source(rf_bus *b, rf_qnotify_fn fn, const uint64_t *cycles) {
    b->qnotify = fn;
    b->cycles = cycles ? cycles : &no_cycles;
}

/* The queue for entry reg (flag RF_QUEUE set on it), made on the first call; its index, -1 on failure. Asked again
   after a snapshot's restore to before it was made (the entries' flags restored, the queue emptied: rf_queue_put),
   the same queue, the flag set again: as made afresh. */
int64_t rf_queue_new(rf_bus *b, uint32_t reg) {
    if (reg >= b->n_regs) return -1;
    for (uint32_t i = 0; i < b->n_queues; i++)
        if (b->queues[i].reg == reg) {
            b->regs[reg].flags |= RF_QUEUE;
            return i;
        }
    rf_queue *q = realloc(b->queues, (b->n_queues + 1) * sizeof(rf_queue));
    if (!q) return -1;
    b->queues = q;
    memset(&q[b->n_queues], 0, sizeof(rf_queue));
    q[b->n_queues].reg = reg;
    b->regs[reg].flags |= RF_QUEUE;
    return b->n_queues++;
}

/* Fill queue qi with n words (served from the first), notify at notify_at words served (0: never),
   served only before cycle deadline. Returns 0, -1 on failure. */
int rf_queue_fill(rf_bus *b, uint32_t qi, const uint32_t *words, uint32_t n, uint32_t notify_at, uint64_t deadline) {
    if (qi >= b->n_queues) return -1;
    rf_queue *q = &b->queues[qi];
    if (n > q->cap) {
        uint32_t *w = realloc(q->words, n * sizeof(uint32_t));
        if (!w) return -1;
        q->words = w;
        q->cap = n;
    }
    if (n) memcpy(q->words, words, n * sizeof(uint32_t));
    q->head = 0;
    q->len = n;
    q->notify_at = notify_at;
    q->deadline = deadline;
    return 0;
}

/* Words of queue qi served since its fill; the queue is emptied (its reads go to Python again). */
uint32_t rf_queue_take(rf_bus *b, uint32_t qi) {
    if (qi >= b->n_queues) return 0;
    rf_queue *q = &b->queues[qi];
    uint32_t n = q->head;
    q->head = q->len = 0;
    q->notify_at = 0;
    return n;
}

/* Words of queue qi served so far and filled (for snapshots and tests), without changing it. */
uint64_t rf_queue_state(rf_bus *b, uint32_t qi) {
    if (qi >= b->n_queues) return 0;
    return (uint64_t)b->queues[qi].head << 32 | b->queues[qi].len;
}

uint32_t rf_queue_count(rf_bus *b) { return b->n_queues; }

/* Queue qi as it is (for snapshots): out[0..3] = head, len, notify_at, deadline; returns its words. */
const uint32_t *rf_queue_get(rf_bus *b, uint32_t qi, uint64_t *out) {
    if (qi >= b->n_queues) return NULL;
    rf_queue *q = &b->queues[qi];
    out[0] = q->head;
    out[1] = q->len;
    out[2] = q->notify_at;
    out[3] = q->deadline;
    return q->words;
}

/* Back to a state rf_queue_get gave: rf_queue_fill, then head words served. */
int rf_queue_put(rf_bus *b, uint32_t qi, const uint32_t *words, uint32_t n, uint32_t head, uint32_t notify_at,
                 uint64_t deadline) {
    if (rf_queue_fill(b, qi, words, n, notify_at, deadline) != 0) return -1;
    b->queues[qi].head = head <= n ? head : n;
    return 0;
}

static inline uint32_t lanes_of(uint32_t size, uint32_t shift);

static inline rf_queue *queue_of(rf_bus *b, uint32_t reg, uint32_t *qi) {
    for (uint32_t i = 0; i < b->n_queues; i++)
        if (b->queues[i].reg == reg) {
            *qi = i;
            return &b->queues[i];
        }
    return NULL;
}

/* RF_TIMED: the block-entry clock schedules are compared with (the hot path's block_cycle). */
void rf_set_clock(rf_bus *b, const uint64_t *clock) { b->clock = clock ? clock : &no_cycles; }

/* The schedule of entry reg (flag RF_TIMED set on it, reads before = after = 0 until rf_timed_set), made on
   the first call; its index, -1 on failure. Asked again after a snapshot's restore to before it was made (the
   entries' flags restored, the schedule 0 for ever), the same schedule, the flag set again: as made afresh. */
int64_t rf_timed_new(rf_bus *b, uint32_t reg) {
    if (reg >= b->n_regs) return -1;
    for (uint32_t i = 0; i < b->n_timed; i++)
        if (b->timed[i].reg == reg) {
            b->regs[reg].flags |= RF_TIMED;
            return i;
        }
    rf_timed *t = realloc(b->timed, (b->n_timed + 1) * sizeof(rf_timed));
    if (!t) return -1;
    b->timed = t;
    memset(&t[b->n_timed], 0, sizeof(rf_timed));
    t[b->n_timed].reg = reg;
    t[b->n_timed].at = RF_NEVER;
    t[b->n_timed].end = RF_NEVER;
    b->regs[reg].flags |= RF_TIMED;
    return b->n_timed++;
}

/* Schedule ti: reads give before until cycle at, after from at on; Python serves them from end on. */
int rf_timed_set(rf_bus *b, uint32_t ti, uint32_t before, uint32_t after, uint64_t at, uint64_t end) {
    if (ti >= b->n_timed) return -1;
    rf_timed *t = &b->timed[ti];
    t->before = before;
    t->after = after;
    t->at = at;
    t->end = end;
    return 0;
}

/* Schedule ti as it is (for snapshots and tests): out[0..3] = before, after, at, end. */
int rf_timed_get(rf_bus *b, uint32_t ti, uint64_t *out) {
    if (ti >= b->n_timed) return -1;
    rf_timed *t = &b->timed[ti];
    out[0] = t->before;
    out[1] = t->after;
    out[2] = t->at;
    out[3] = t->end;
    return 0;
}

uint32_t rf_timed_count(rf_bus *b) { return b->n_timed; }

static inline rf_timed *timed_of(rf_bus *b, uint32_t reg) {
    for (uint32_t i = 0; i < b->n_timed; i++)
        if (b->timed[i].reg == reg) return &b->timed[i];
    return NULL;
}

/* The earliest cycle at which entry reg's value can change by itself (no access to it), by the rule of a machine
   event at that cycle (a read in a block entered at or after it sees the change): RF_TIMED, the first of its
   change and its end not reached yet; RF_QUEUE, its deadline while it serves; otherwise RF_NEVER (a plain entry
   changes only when written; a model's register Python serves is the model's to say, poll_hint). */
uint64_t rf_next_change(rf_bus *b, uint32_t reg) {
    if (reg >= b->n_regs) return RF_NEVER;
    uint32_t flags = b->regs[reg].flags;
    uint64_t next = RF_NEVER;
    if (flags & RF_TIMED) {
        rf_timed *t = timed_of(b, reg);
        uint64_t now = *b->clock;
        if (t) {
            if (t->at > now) next = t->at;
            if (t->end > now && t->end < next) next = t->end;
        }
    }
    if (flags & RF_QUEUE) {
        uint32_t qi;
        rf_queue *q = queue_of(b, reg, &qi);
        if (q && q->head < q->len && *b->cycles < q->deadline && q->deadline < next) next = q->deadline;
    }
    return next;
}

/* --- RF_XFER: SPI transfers streamed here --- */

/* The stream of data register dr with status register sr (its schedule made here); its index, -1 on failure. */
int64_t rf_xfer_new(rf_bus *b, uint32_t dr, uint32_t sr) {
    if (dr >= b->n_regs || sr >= b->n_regs) return -1;
    uint32_t xi = 0;
    while (xi < b->n_xfers && b->xfers[xi].dr != dr) xi++;
    /* Asked again: the same stream. Its data register without RF_XFER: a snapshot's restore to before the stream
       was made restored the entries' flags; it is made afresh in its slot. */
    if (xi < b->n_xfers && (b->regs[dr].flags & RF_XFER)) return xi;
    int64_t ti = rf_timed_new(b, sr);
    if (ti < 0) return -1;
    rf_timed_set(b, (uint32_t)ti, 0, 0, RF_NEVER, 0); /* reads go to Python until a stream starts */
    if (xi == b->n_xfers) {
        rf_xfer *grown = realloc(b->xfers, (b->n_xfers + 1) * sizeof(rf_xfer));
        if (!grown) return -1;
        b->xfers = grown;
        b->n_xfers++;
    }
    rf_xfer *x = &b->xfers[xi];
    memset(x, 0, sizeof(rf_xfer));
    x->dr = dr;
    x->sr = sr;
    x->ti = (uint32_t)ti;
    x->sel = 1;
    b->regs[dr].flags |= RF_XFER;
    return xi;
}

/* The clock timeline's current segment (from cycle seg_cycle at seg_fs, num / den Hz). */
int rf_xfer_timeline(rf_bus *b, uint32_t xi, uint64_t seg_cycle, uint64_t seg_fs, uint64_t num, uint64_t den) {
    if (xi >= b->n_xfers || !num || !den) return -1;
    rf_xfer *x = &b->xfers[xi];
    x->seg_cycle = seg_cycle;
    x->seg_fs = seg_fs;
    x->num = num;
    x->den = den;
    return 0;
}

/* Start stream xi: the model started frame 0 (MOSI mosi0, ending at wire_fs, RXNE visible from cycle at0); the
   chip answers miso[0..n) for frames 0..n-1; SR values idle/busy/done; one frame takes frame_fs; every frame must
   end before cycle limit. */
int rf_xfer_start(rf_bus *b, uint32_t xi, const uint8_t *miso, uint32_t n, uint32_t mosi0, uint32_t sr_idle,
                  uint32_t sr_busy, uint32_t sr_done, uint64_t frame_fs, uint64_t wire_fs, uint64_t at0,
                  uint64_t limit) {
    if (xi >= b->n_xfers || n < 1 || n > RF_XFER_MAX) return -1;
    rf_xfer *x = &b->xfers[xi];
    memcpy(x->miso, miso, n);
    x->mosi[0] = (uint8_t)mosi0;
    x->n = n;
    x->k = 1;
    x->rd = 0;
    x->after_dr = 0;
    x->sr_idle = sr_idle;
    x->sr_busy = sr_busy;
    x->sr_done = sr_done;
    x->frame_fs = frame_fs;
    x->wire_fs = wire_fs;
    x->limit = limit;
    x->i2c = 0;
    x->m = 0;
    x->sel = 1;
    x->edges = 0;
    x->active = 1;
    rf_timed_set(b, x->ti, sr_busy, sr_done, at0, RF_NEVER);
    return 0;
}

/* Start I2C read stream xi: n bytes miso[] arriving at cycles ats[]; SR base (waiting), base|RXNE (sr_done) while
   a byte waits, sr_last when the last byte arrived, sr_final once it was read. */
int rf_xfer_start_i2c(rf_bus *b, uint32_t xi, const uint8_t *miso, const uint64_t *ats, uint32_t n, uint32_t sr_base,
                      uint32_t sr_done, uint32_t sr_last, uint32_t sr_final) {
    if (xi >= b->n_xfers || n < 1 || n > RF_XFER_MAX) return -1;
    rf_xfer *x = &b->xfers[xi];
    memcpy(x->miso, miso, n);
    memcpy(x->ats, ats, n * sizeof(uint64_t));
    memset(x->mosi, 0, n); /* a read sends nothing: rf_xfer_get gives n zero bytes */
    x->n = n;
    x->k = n;
    x->rd = 0;
    x->after_dr = 0;
    x->sr_idle = sr_base;
    x->sr_busy = sr_base;
    x->sr_done = sr_done;
    x->sr_last = sr_last;
    x->sr_final = sr_final;
    x->i2c = 1;
    x->m = 0;
    x->active = 1;
    x->pre_at = 0;
    x->icr_bits = 0;
    x->icr_done = 0;
    rf_timed_set(b, x->ti, sr_base, n == 1 ? sr_last : sr_done, ats[0], RF_NEVER);
    return 0;
}

/* I2C read stream xi (just started) from its START on: the address is acknowledged at cycle at_addr (before the
   first byte's arrival); SR sr_pre until then, then the stream's schedule (sr_base until the first byte). */
int rf_xfer_i2c_address(rf_bus *b, uint32_t xi, uint32_t sr_pre, uint64_t at_addr) {
    if (xi >= b->n_xfers || b->xfers[xi].i2c != 1 || !at_addr || at_addr >= b->xfers[xi].ats[0]) return -1;
    rf_xfer *x = &b->xfers[xi];
    x->pre_at = at_addr;
    x->sr_pre = sr_pre;
    rf_timed_set(b, x->ti, sr_pre, x->sr_idle, at_addr, RF_NEVER);
    return 0;
}

/* An SR read the stream's schedule serves: past an I2C read's address step, its schedule to the first byte. */
static inline void xfer_sr_read(rf_bus *b, rf_xfer *x) {
    x->after_dr = 0;
    if (x->pre_at && *b->clock >= x->pre_at) {
        x->pre_at = 0;
        rf_timed_set(b, x->ti, x->sr_idle, x->n == 1 ? x->sr_last : x->sr_done, x->ats[0], RF_NEVER);
    }
}

/* Start I2C write xi on the transmit data register (dr; sr its status register): the model put START and the
   address on the wire (acknowledged, done at cycle at_ready, wire_fs); SR sr_wait before at_ready, sr_ready from it
   (TXIS); each of the n bytes the firmware writes (the first once the block-entry clock reached at_ready, each next
   after the last one's end) takes frame_fs on the wire from max(now, the last end) (the model's after(9)): SR
   sr_busy until its end, then sr_ready (TXIS: the next byte) or, after the last, sr_done; every byte must end
   before cycle limit. rf_xfer_get gives the bytes written (k), the last end (wire_fs) and its cycle. */
int rf_xfer_start_i2c_tx(rf_bus *b, uint32_t xi, uint32_t n, uint32_t sr_wait, uint32_t sr_ready, uint32_t sr_busy,
                         uint32_t sr_done, uint64_t frame_fs, uint64_t wire_fs, uint64_t at_ready, uint64_t limit) {
    if (xi >= b->n_xfers || n < 1 || n > RF_XFER_MAX) return -1;
    rf_xfer *x = &b->xfers[xi];
    x->n = n;
    x->k = 0;
    x->rd = 0;
    x->after_dr = 0;
    x->sr_idle = sr_wait;
    x->sr_last = sr_ready;
    x->sr_busy = sr_busy;
    x->sr_done = sr_done;
    x->frame_fs = frame_fs;
    x->wire_fs = wire_fs;
    x->ats[0] = at_ready;
    x->limit = limit;
    x->i2c = 2;
    x->m = 0;
    x->pre_at = 0;
    x->active = 1;
    rf_timed_set(b, x->ti, sr_wait, sr_ready, at_ready, RF_NEVER);
    return 0;
}

/* Stream xi as it is: out[0..6] = active, n, k, rd, after_dr, wire_fs, the last frame's RXNE cycle; returns the
   MOSI bytes of the frames started. */
const uint8_t *rf_xfer_get(rf_bus *b, uint32_t xi, uint64_t *out) {
    if (xi >= b->n_xfers) return NULL;
    rf_xfer *x = &b->xfers[xi];
    out[0] = x->active;
    out[1] = x->n;
    out[2] = x->k;
    out[3] = x->rd;
    out[4] = x->after_dr;
    out[5] = x->wire_fs;
    out[6] = b->timed[x->ti].at;
    return x->mosi;
}

const uint8_t *rf_xfer_miso(rf_bus *b, uint32_t xi) { return xi < b->n_xfers ? b->xfers[xi].miso : NULL; }

/* Stream xi's whole state (snapshots save and restore it as bytes): its address; rf_xfer_size() bytes. */
void *rf_xfer_ptr(rf_bus *b, uint32_t xi) { return xi < b->n_xfers ? (void *)&b->xfers[xi] : NULL; }
uint64_t rf_xfer_size(void) { return sizeof(rf_xfer); }

/* The stream ends: its registers go to Python again. */
void rf_xfer_stop(rf_bus *b, uint32_t xi) {
    if (xi >= b->n_xfers) return;
    rf_xfer *x = &b->xfers[xi];
    x->active = 0;
    x->icr_bits = 0;
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (i != xi && b->xfers[i].active && b->xfers[i].ti == x->ti) return; /* its schedule now (rf_xfer_i2c_arm) */
    rf_timed_set(b, x->ti, 0, 0, RF_NEVER, 0);
}

/* I2C read stream xi (started) also takes, once all its bytes were read, the interrupt clear register's (entry icr)
   write of exactly bits (STOPF: RM0432 48.7.8), if its final SR has them: they leave SR's final value (0: off).
   rf_xfer_icr_done tells whether it did. Returns 0, -1 on bad arguments. */
int rf_xfer_i2c_icr(rf_bus *b, uint32_t xi, uint32_t icr, uint32_t bits) {
    if (xi >= b->n_xfers || icr >= b->n_regs || b->xfers[xi].i2c != 1 || !b->xfers[xi].active) return -1;
    rf_xfer *x = &b->xfers[xi];
    x->icr = icr;
    x->icr_bits = bits;
    x->icr_done = 0;
    if (bits) b->regs[icr].flags |= RF_XICR;
    return 0;
}

uint32_t rf_xfer_icr_done(rf_bus *b, uint32_t xi) { return xi < b->n_xfers ? b->xfers[xi].icr_done : 0; }

/* Arm I2C write slot xi (inactive, its timeline segment set) on control register entry cr (flag RF_XCR): the write of
   exactly value (START of a register-address write, RM0432 48.4.8) is served here, once read stream link (RF_NO_LINK:
   none; else it must have read every byte and taken its STOPF clear, and then stops: rf_xfer_get still gives its
   state) is done: the address ends addr_fs after max(now, wire_fs) (the model's after(10)), acknowledged at that
   cycle, and slot xi carries the write of n bytes as rf_xfer_start_i2c_tx(sr_wait..sr_done, frame_fs, limit) would.
   Returns 0, -1 on bad arguments. */
int rf_xfer_i2c_arm(rf_bus *b, uint32_t xi, uint32_t cr, uint32_t value, uint32_t link, uint32_t n, uint32_t sr_wait,
                    uint32_t sr_ready, uint32_t sr_busy, uint32_t sr_done, uint64_t addr_fs, uint64_t frame_fs,
                    uint64_t wire_fs, uint64_t limit) {
    if (xi >= b->n_xfers || cr >= b->n_regs || n < 1 || n > RF_XFER_MAX || b->xfers[xi].active || link == xi ||
        (link != RF_NO_LINK && link >= b->n_xfers) || !b->xfers[xi].num || !b->xfers[xi].den)
        return -1;
    rf_xfer *x = &b->xfers[xi];
    x->cr = cr;
    x->cr_value = value;
    x->cr_link = link;
    x->cr_n = n;
    x->cr_sr[0] = sr_wait;
    x->cr_sr[1] = sr_ready;
    x->cr_sr[2] = sr_busy;
    x->cr_sr[3] = sr_done;
    x->cr_addr_fs = addr_fs;
    x->cr_frame_fs = frame_fs;
    x->cr_wire_fs = wire_fs;
    x->cr_limit = limit;
    x->cr_state = 1;
    b->regs[cr].flags |= RF_XCR;
    return 0;
}

/* Arm slot xi again as the last rf_xfer_i2c_arm did, behind read stream link (RF_NO_LINK: none), the wire busy until
   wire_fs. Returns 0, -1 when the slot is active or was never armed. */
int rf_xfer_i2c_rearm(rf_bus *b, uint32_t xi, uint32_t link, uint64_t wire_fs) {
    if (xi >= b->n_xfers || b->xfers[xi].active || !b->xfers[xi].cr_n || link == xi ||
        (link != RF_NO_LINK && link >= b->n_xfers))
        return -1;
    rf_xfer *x = &b->xfers[xi];
    x->cr_link = link;
    x->cr_wire_fs = wire_fs;
    x->cr_state = 1;
    return 0;
}

/* Slot xi's armed write, disarmed: 0 off, 1 armed, 2 served (out[0], out[1]: the address's end in fs, its cycle). */
uint32_t rf_xfer_i2c_take(rf_bus *b, uint32_t xi, uint64_t *out) {
    if (xi >= b->n_xfers) return 0;
    rf_xfer *x = &b->xfers[xi];
    uint32_t state = x->cr_state;
    out[0] = x->cr_addr_end;
    out[1] = x->cr_at_ready;
    x->cr_state = 0;
    return state;
}

/* Slot xi's armed write as it is (tests, no change): the state, out[0..1] as rf_xfer_i2c_take. */
uint32_t rf_xfer_i2c_armed(rf_bus *b, uint32_t xi, uint64_t *out) {
    if (xi >= b->n_xfers) return 0;
    rf_xfer *x = &b->xfers[xi];
    out[0] = x->cr_addr_end;
    out[1] = x->cr_at_ready;
    return x->cr_state;
}

uint32_t rf_xfer_count(rf_bus *b) { return b->n_xfers; }

/* Stream xi (just started by rf_xfer_start: transfer 0 selected, its command byte mosi0) carries a script: its n
   frames are n / m transfers of m frames, each with the same command byte; the chip select between them is entry cs
   (a GPIO BSRR: flag RF_XCS), the word cs_high deselecting once a transfer's frames were all read, cs_low selecting
   for the next. m = 0: no script. Returns 0, -1 on bad arguments. */
int rf_xfer_script(rf_bus *b, uint32_t xi, uint32_t m, uint32_t cs, uint32_t cs_low, uint32_t cs_high) {
    if (xi >= b->n_xfers || cs >= b->n_regs) return -1;
    rf_xfer *x = &b->xfers[xi];
    if (m && (x->i2c || !x->active || m < 2 || x->n % m)) return -1;
    x->m = m;
    x->cs = cs;
    x->cs_low = cs_low;
    x->cs_high = cs_high;
    x->sel = 1;
    x->edges = 0;
    if (m) b->regs[cs].flags |= RF_XCS;
    return 0;
}

/* Stream xi's script as it is: out[0] = chip-select writes served, out[1] = selected; returns their cycles. */
const uint64_t *rf_xfer_script_get(rf_bus *b, uint32_t xi, uint64_t *out) {
    if (xi >= b->n_xfers) return NULL;
    rf_xfer *x = &b->xfers[xi];
    out[0] = x->edges;
    out[1] = x->sel;
    return x->ats;
}

static inline rf_xfer *xfer_of(rf_bus *b, uint32_t dr) {
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (b->xfers[i].dr == dr) return &b->xfers[i];
    return NULL;
}

static inline rf_xfer *xfer_of_sr(rf_bus *b, uint32_t sr) {
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (b->xfers[i].sr == sr && b->xfers[i].active) return &b->xfers[i];
    return NULL;
}

/* Timeline arithmetic as simcore/clock.py's Timeline.fs_at / cycle_at on the current segment (exact integers). */
static inline uint64_t xfer_fs_at(const rf_xfer *x, uint64_t cycle) {
    unsigned __int128 v = (unsigned __int128)(cycle - x->seg_cycle) * 1000000000000000ull * x->den;
    return x->seg_fs + (uint64_t)(v / x->num);
}

static inline uint64_t xfer_cycle_at(const rf_xfer *x, uint64_t fs) {
    unsigned __int128 d = (unsigned __int128)x->den * 1000000000000000ull;
    unsigned __int128 v = (unsigned __int128)(fs - x->seg_fs) * x->num;
    return x->seg_cycle + (uint64_t)((v + d - 1) / d);
}

/* rf_xfer_start_i2c of n bytes evenly spaced on the wire: byte j's frame ends at wire0_fs + j * step_fs and it arrives
   at the first cycle whose time has reached that on the timeline's current segment (rf_xfer_timeline: the ceiling
   of simcore/clock.py's Timeline.cycle_at), but byte 0 at cycle at0 when at0 != 0 (the model's event times it).
   The wire ends must not be before the segment's start. */
int rf_xfer_start_i2c_even(rf_bus *b, uint32_t xi, const uint8_t *miso, uint32_t n, uint64_t wire0_fs,
                           uint64_t step_fs, uint64_t at0, uint32_t sr_base, uint32_t sr_done, uint32_t sr_last,
                           uint32_t sr_final) {
    if (xi >= b->n_xfers || n < 1 || n > RF_XFER_MAX) return -1;
    const rf_xfer *x = &b->xfers[xi];
    if (!x->num || !x->den || wire0_fs < x->seg_fs) return -1;
    uint64_t ats[RF_XFER_MAX];
    for (uint32_t j = 0; j < n; j++) ats[j] = xfer_cycle_at(x, wire0_fs + (uint64_t)j * step_fs);
    if (at0) ats[0] = at0;
    return rf_xfer_start_i2c(b, xi, miso, ats, n, sr_base, sr_done, sr_last, sr_final);
}

/* A frame of d_fs on the wire that starts at now or when the wire's last frame ended (wire_fs), whichever is later:
   its end on the stream's femtosecond scale (*end_fs) and the cycle of that end, not before now. */
static inline uint64_t xfer_frame_end(const rf_xfer *x, uint64_t now, uint64_t wire_fs, uint64_t d_fs,
                                      uint64_t *end_fs) {
    uint64_t now_fs = xfer_fs_at(x, now);
    *end_fs = (now_fs > wire_fs ? now_fs : wire_fs) + d_fs;
    uint64_t at = xfer_cycle_at(x, *end_fs);
    return at < now ? now : at;
}

/* A byte the stream puts on the wire: its frame ends one frame time after now or after the previous frame, whichever
   is later; SR is sr_busy until then and `after` from then. 1, or 0 (Python serves it: before the stream's segment,
   or ending at or past its limit; nothing changed). */
static inline int xfer_put(rf_bus *b, rf_xfer *x, uint64_t value, uint32_t after) {
    uint64_t now = *b->cycles;
    if (now < x->seg_cycle) return 0;
    uint64_t end_fs;
    uint64_t at = xfer_frame_end(x, now, x->wire_fs, x->frame_fs, &end_fs);
    if (at >= x->limit) return 0;
    x->wire_fs = end_fs;
    x->mosi[x->k++] = (uint8_t)value;
    rf_timed_set(b, x->ti, x->sr_busy, after, at, RF_NEVER);
    return 1;
}

/* An I2C write's TXDR write (rf_xfer_start_i2c_tx): the byte goes on the wire (1), or 0 (Python serves it). */
static inline int xfer_write_i2c_tx(rf_bus *b, rf_xfer *x, uint32_t addr, uint64_t value) {
    if (!x->active || (addr & 3u) || x->k >= x->n || *b->clock < x->ats[0] ||
        (x->k && *b->clock < b->timed[x->ti].at))
        return 0;
    return xfer_put(b, x, value, x->k + 1 == x->n ? x->sr_done : x->sr_last);
}

/* A DR write the stream takes: the next frame starts (1), or 0 (Python serves it). */
static inline int xfer_write(rf_bus *b, rf_xfer *x, uint32_t addr, uint64_t value) {
    if (x->i2c == 2) return xfer_write_i2c_tx(b, x, addr, value);
    if (!x->active || x->i2c || (addr & 3u) || x->k >= x->n || x->rd != x->k) return 0;
    if (x->m && (!x->sel || x->k >= (x->edges / 2 + 1) * x->m || (x->k % x->m == 0 && (uint8_t)value != x->mosi[0])))
        return 0; /* a script: frames of the selected transfer only, each transfer's first the command byte */
    return xfer_put(b, x, value, x->sr_done);
}

/* A chip-select write of a script (RF_XCS entry cs): a deselect once the selected transfer's frames were all read,
   a select when a whole transfer is left; 1 when served here, 0 (Python serves it) otherwise. */
static inline int xfer_cs(rf_bus *b, rf_xfer *x, uint32_t addr, uint32_t size, uint64_t value) {
    if (!x->active || !x->m || (addr & 3u) || size != 4 || x->edges >= RF_XFER_MAX) return 0;
    if (x->sel) {
        if (value != x->cs_high || x->k != (x->edges / 2 + 1) * x->m || x->rd != x->k) return 0;
        x->sel = 0;
    } else {
        if (value != x->cs_low || x->k + x->m > x->n) return 0;
        x->sel = 1;
    }
    x->ats[x->edges++] = *b->cycles;
    return 1;
}

/* An interrupt-clear write an I2C read stream takes (rf_xfer_i2c_icr): 1 when served here, 0 (Python serves it). */
static inline int xfer_icr(rf_bus *b, rf_xfer *x, uint32_t addr, uint32_t size, uint64_t value) {
    if (!x->active || x->i2c != 1 || x->icr_done || (addr & 3u) || size != 4 || value != x->icr_bits ||
        x->rd != x->n || (x->sr_final & x->icr_bits) != x->icr_bits)
        return 0;
    x->sr_final &= ~x->icr_bits;
    x->icr_done = 1;
    rf_timed_set(b, x->ti, x->sr_final, x->sr_final, RF_NEVER, RF_NEVER);
    return 1;
}

static inline rf_xfer *xfer_of_icr(rf_bus *b, uint32_t icr) {
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (b->xfers[i].icr == icr && b->xfers[i].active && b->xfers[i].icr_bits) return &b->xfers[i];
    return NULL;
}

static inline rf_xfer *xfer_of_cs(rf_bus *b, uint32_t cs) {
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (b->xfers[i].cs == cs && b->xfers[i].active && b->xfers[i].m) return &b->xfers[i];
    return NULL;
}

static inline rf_xfer *xfer_of_cr(rf_bus *b, uint32_t cr) {
    for (uint32_t i = 0; i < b->n_xfers; i++)
        if (b->xfers[i].cr == cr && b->xfers[i].cr_state == 1) return &b->xfers[i];
    return NULL;
}

/* The armed control-register write (rf_xfer_i2c_arm): 1 when served here (the write started on its slot), 0 (Python
   serves it: another value, its link not done, before the slot's segment; nothing changed). */
static inline int xfer_cr(rf_bus *b, rf_xfer *x, uint32_t addr, uint32_t size, uint64_t value) {
    if ((addr & 3u) || size != 4 || value != x->cr_value || x->active) return 0;
    rf_xfer *l = NULL;
    if (x->cr_link != RF_NO_LINK) {
        l = &b->xfers[x->cr_link];
        if (!l->active || l->i2c != 1 || l->rd != l->n || !l->icr_done) return 0;
    }
    uint64_t now = *b->cycles;
    if (now < x->seg_cycle) return 0;
    uint64_t end_fs;
    uint64_t at = xfer_frame_end(x, now, x->cr_wire_fs, x->cr_addr_fs, &end_fs);
    if (l) l->active = 0; /* its bytes and clear stay for Python (rf_xfer_get, rf_xfer_icr_done) */
    x->cr_state = 2;
    x->cr_addr_end = end_fs;
    x->cr_at_ready = at;
    rf_xfer_start_i2c_tx(b, (uint32_t)(x - b->xfers), x->cr_n, x->cr_sr[0], x->cr_sr[1], x->cr_sr[2], x->cr_sr[3],
                         x->cr_frame_fs, end_fs, at, x->cr_limit);
    return 1;
}

/* An I2C stream's RXDR read: the byte that arrived, if the next one has not arrived yet (no stretch). */
static inline int xfer_read_i2c(rf_bus *b, rf_xfer *x, uint32_t addr, uint32_t size, uint32_t *v) {
    uint32_t j = x->rd;
    uint64_t now = *b->clock;
    if ((addr & 3u) || j >= x->n || now < x->ats[j] || (j + 1 < x->n && now >= x->ats[j + 1])) return 0;
    *v = x->miso[j] & (uint32_t)lanes_of(size, 0);
    x->rd = ++j;
    x->pre_at = 0;
    if (j < x->n)
        rf_timed_set(b, x->ti, x->sr_idle, j + 1 == x->n ? x->sr_last : x->sr_done, x->ats[j], RF_NEVER);
    else
        rf_timed_set(b, x->ti, x->sr_final, x->sr_final, RF_NEVER, RF_NEVER);
    return 1;
}

/* A DR read the stream answers (1, *v set), or 0 (Python serves it). */
static inline int xfer_read(rf_bus *b, rf_xfer *x, uint32_t addr, uint32_t size, uint32_t *v) {
    if (x->i2c == 2) return 0; /* an I2C write's TXDR: its reads are the model's */
    if (x->active && x->i2c) return xfer_read_i2c(b, x, addr, size, v);
    if (!x->active || (addr & 3u) || x->rd + 1 != x->k || *b->clock < b->timed[x->ti].at) return 0;
    *v = x->miso[x->rd++] & (uint32_t)lanes_of(size, 0);
    x->after_dr = 1;
    rf_timed_set(b, x->ti, x->sr_idle, x->sr_idle, RF_NEVER, RF_NEVER);
    return 1;
}

/* An entry's masks (a model hands a register to the register file while it allows it). */
void rf_set_masks(rf_bus *b, uint32_t idx, uint32_t write_mask, uint32_t w1c, uint32_t w1s, uint32_t read_mask) {
    if (idx >= b->n_regs) return;
    rf_reg *r = &b->regs[idx];
    r->write_mask = write_mask;
    r->w1c_mask = w1c;
    r->w1s_mask = w1s;
    r->read_mask = read_mask;
}

void rf_set_pc_source(rf_bus *b, const uint32_t *pc) { b->pc = pc ? pc : &no_pc; }

/* RF_POLL_FF entries' reads served here go to fn(ctx, reg, value) while their streak goes on (NULL: never). */
void rf_set_poll_ff(rf_bus *b, void *fn, void *ctx) {
    b->pff = (rf_pff_fn)fn;
    b->pff_ctx = ctx;
}

/* Where the count of writes is (the hot path compares it between two reads of a polling loop). */
const uint64_t *rf_mmio_writes_ptr(rf_bus *b) { return &b->mmio_writes; }
void rf_set_poll_threshold(rf_bus *b, uint32_t n) { b->poll_threshold = n; }

/* Read the PC (uc_reg_read(uc, regid, &mmio_pc)) before every read Python serves; fn NULL: never. */
void rf_set_pc_reader(rf_bus *b, void *fn, void *uc, int regid) {
    b->pc_read = (int (*)(void *, int, void *))fn;
    b->pc_uc = uc;
    b->pc_regid = regid;
}
const uint32_t *rf_mmio_pc_ptr(rf_bus *b) { return &b->mmio_pc; }

/* A read served by Python, with the PC it may ask for in mmio_pc. */
static inline uint64_t py_read(rf_bus *b, uint32_t addr, uint32_t size) {
    if (b->pc_read) b->pc_read(b->pc_uc, b->pc_regid, &b->mmio_pc);
    return b->py(addr, size, 0, 0);
}

int64_t rf_add_store(rf_bus *b, uint32_t value) {
    if (b->n_store == b->cap_store) {
        uint32_t cap = b->cap_store ? 2 * b->cap_store : 256;
        uint32_t *s = realloc(b->store, cap * sizeof(uint32_t));
        if (!s) return -1;
        b->store = s;
        b->cap_store = cap;
    }
    b->store[b->n_store] = value;
    return b->n_store++;
}

int64_t rf_add_reg(rf_bus *b, uint32_t store, uint32_t write_mask, uint32_t w1c, uint32_t w1s, uint32_t read_mask,
                   uint32_t flags) {
    if (store >= b->n_store) return -1;
    if (b->n_regs == b->cap_regs) {
        uint32_t cap = b->cap_regs ? 2 * b->cap_regs : 256;
        rf_reg *r = realloc(b->regs, cap * sizeof(rf_reg));
        if (!r) return -1;
        b->regs = r;
        b->cap_regs = cap;
    }
    rf_reg *r = &b->regs[b->n_regs];
    memset(r, 0, sizeof *r);
    r->store = store;
    r->write_mask = write_mask;
    r->w1c_mask = w1c;
    r->w1s_mask = w1s;
    r->read_mask = read_mask;
    r->flags = flags;
    return b->n_regs++;
}

int rf_map(rf_bus *b, uint32_t addr, int64_t idx);

/*
 * n entries at once (PeripheralBus._build, _add_plain: a peripheral's registers at its first access), as
 * n_values rf_add_store calls, then per entry rf_add_reg and rf_map, would make them: values[] are the new
 * stores' initial values; rec[] holds 7 words per entry: address, store (offset among the new stores), write
 * mask, W1C mask, W1S mask, read mask, flags. Returns the first new entry's index (the others follow it; the
 * first new store is the store count before the call), -1 when memory runs out or a store offset is bad.
 */
int64_t rf_add_entries(rf_bus *b, uint32_t n_values, const uint32_t *values, uint32_t n, const uint32_t *rec) {
    uint32_t store0 = b->n_store, first = b->n_regs;
    for (uint32_t i = 0; i < n; i++)
        if (rec[7 * i + 1] >= n_values) return -1;
    for (uint32_t i = 0; i < n_values; i++)
        if (rf_add_store(b, values[i]) < 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t *r = &rec[7 * i];
        int64_t idx = rf_add_reg(b, store0 + r[1], r[2], r[3], r[4], r[5], r[6]);
        if (idx < 0 || rf_map(b, r[0], idx) != 0) return -1;
    }
    return first;
}

rf_reg *rf_regs(rf_bus *b) { return b->regs; }
/* An entry's flags (hotpath.c's hp_apply: a planned event hands a register to C, as Python's set_flags would). */
void rf_flags_set(rf_bus *b, uint32_t reg, uint32_t flags) {
    if (reg < b->n_regs) b->regs[reg].flags = flags;
}
uint32_t *rf_stores(rf_bus *b) { return b->store; }
uint32_t rf_count(rf_bus *b) { return b->n_regs; }

static inline rf_page *page_of(rf_bus *b, uint32_t addr) {
    rf_page **d = b->dir[addr >> 22];
    return d ? d[(addr >> 12) & 1023u] : NULL;
}

/* Map the word at addr to register idx (-1: back to Python). */
int rf_map(rf_bus *b, uint32_t addr, int64_t idx) {
    if (idx >= (int64_t)b->n_regs) return -1;
    rf_page **d = b->dir[addr >> 22];
    if (!d) {
        d = b->dir[addr >> 22] = calloc(1024, sizeof(rf_page *));
        if (!d) return -1;
    }
    rf_page *p = d[(addr >> 12) & 1023u];
    if (!p) {
        p = d[(addr >> 12) & 1023u] = calloc(1, sizeof(rf_page));
        if (!p) return -1;
    }
    p->slot[(addr & 0xFFFu) >> 2] = (uint32_t)(idx + 1);
    return 0;
}

static inline uint32_t slot_of(rf_bus *b, uint32_t addr) {
    rf_page *p = page_of(b, addr);
    return p ? p->slot[(addr & 0xFFFu) >> 2] : 0;
}

/* Send every word mapped to an entry at index >= first back to Python (a snapshot's restore). */
void rf_unmap_from(rf_bus *b, uint32_t first) {
    for (unsigned i = 0; i < 1024; i++) {
        if (!b->dir[i]) continue;
        for (unsigned j = 0; j < 1024; j++) {
            rf_page *p = b->dir[i][j];
            if (!p) continue;
            for (unsigned k = 0; k < RF_WORDS; k++)
                if (p->slot[k] > first) p->slot[k] = 0;
        }
    }
}

/* Back to n_regs entries and n_store values (a snapshot's restore, after rf_unmap_from(n_regs)):
   peripherals built after the snapshot get the same indices again when they are built again. */
void rf_truncate(rf_bus *b, uint32_t n_regs, uint32_t n_store) {
    if (n_regs < b->n_regs) b->n_regs = n_regs;
    if (n_store < b->n_store) b->n_store = n_store;
}

/* Register index + 1 of the word at addr (0: none). */
uint32_t rf_slot(rf_bus *b, uint32_t addr) { return slot_of(b, addr); }

static inline uint32_t lanes_of(uint32_t size, uint32_t shift) {
    return (size >= 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1)) << shift;
}

static inline uint64_t word_read(rf_bus *b, uint32_t addr, uint32_t size) {
    uint32_t s = slot_of(b, addr);
    if (!s) return py_read(b, addr, size);
    rf_reg *r = &b->regs[s - 1];
    uint32_t shift = 8 * (addr & 3u), v, qi = 0, in_c = 1;
    rf_queue *q = NULL;
    rf_timed *t;
    rf_xfer *x;
    int scheduled = 0;
    if ((r->flags & RF_QUEUE) && size == 4 && !shift && (q = queue_of(b, s - 1, &qi)) != NULL &&
        q->head < q->len && *b->cycles < q->deadline) {
        v = q->words[q->head++];
        if (q->head == q->notify_at && b->qnotify) {
            b->qnotify(qi);
            r = &b->regs[s - 1];
        }
    } else if ((r->flags & RF_XFER) && (x = xfer_of(b, s - 1)) != NULL && xfer_read(b, x, addr, size, &v)) {
        /* served by the stream */
    } else if ((r->flags & RF_TIMED) && (t = timed_of(b, s - 1)) != NULL && *b->clock < t->end) {
        if ((x = xfer_of_sr(b, s - 1)) != NULL) xfer_sr_read(b, x);
        v = ((*b->clock >= t->at ? t->after : t->before) & lanes_of(size, shift)) >> shift;
        scheduled = 1;
    } else if (r->flags & RF_PY_READ) {
        v = (uint32_t)py_read(b, addr, size);
        r = &b->regs[s - 1]; /* Python may have added registers (realloc) */
        in_c = 0;
    } else {
        v = ((b->store[r->store] & r->read_mask) & lanes_of(size, shift)) >> shift;
    }
    r->reads++;
    uint32_t pc = *b->pc;
    if (v == r->poll_value && pc == r->poll_pc && r->poll_count) {
        r->poll_count++;
        if (b->poll_threshold && r->poll_count % b->poll_threshold == 0 && b->poll && !(r->flags & RF_POLL_MUTE) &&
            !scheduled) { /* a schedule's reads: its change cycle is known (rf_next_change), Python is not asked */
            b->poll(s - 1, pc, v, r->poll_count);
            r = &b->regs[s - 1];
        }
    } else {
        r->poll_value = v;
        r->poll_pc = pc;
        r->poll_count = 1;
        r->flags &= ~RF_POLL_MUTE;
    }
    /* an entry of a loop poll.py found clean, read here: the hot path compares this read with the last one
       and may advance the loop by whole iterations to the value's next change (hp_poll_read) */
    if ((r->flags & (RF_POLL_FF | RF_TIMED)) && in_c && b->pff) {
        b->pff(b->pff_ctx, s - 1, v, r->flags & RF_TIMED);
        r = &b->regs[s - 1];
    }
    if (r->flags & RF_NOTIFY) {
        r->flags &= ~RF_NOTIFY;
        b->notify(s - 1, addr, size, v, 0);
    }
    return v;
}

static inline void word_write(rf_bus *b, uint32_t addr, uint32_t size, uint64_t value) {
    b->mmio_writes++;
    uint32_t s = slot_of(b, addr);
    if (!s) {
        b->py(addr, size, value, 1);
        return;
    }
    rf_reg *r = &b->regs[s - 1];
    if ((r->flags & RF_CONSOLE) && !(addr & 3u) && !(value & ~(uint64_t)r->write_mask) && b->con_flush &&
        b->con_len < RF_CON_CAP) { /* RF_PY_WRITE stays set: other writes go to the model */
        b->con_buf[b->con_len++] = (uint8_t)value;
        if (b->con_status && b->con_status <= b->n_regs) b->regs[b->con_status - 1].poll_count = 0;
        if (b->con_len == RF_CON_CAP || (b->con_eager && (uint8_t)value == '\n')) {
            b->con_flush();
            r = &b->regs[s - 1];
        }
    } else if ((r->flags & RF_XFER) && xfer_of(b, s - 1) && xfer_write(b, xfer_of(b, s - 1), addr, value)) {
        /* a frame started by the stream */
    } else if ((r->flags & RF_XCS) && xfer_of_cs(b, s - 1) && xfer_cs(b, xfer_of_cs(b, s - 1), addr, size, value)) {
        /* a chip-select edge of a stream's script */
    } else if ((r->flags & RF_XICR) && xfer_of_icr(b, s - 1) && xfer_icr(b, xfer_of_icr(b, s - 1), addr, size, value)) {
        /* STOPF cleared after an I2C read stream */
    } else if ((r->flags & RF_XCR) && xfer_of_cr(b, s - 1) && xfer_cr(b, xfer_of_cr(b, s - 1), addr, size, value)) {
        /* an I2C register-address write started here */
    } else if ((r->flags & RF_PY_WRITE) ||
               ((r->flags & RF_FIT) && (size != 4 || (addr & 3u) ||
                                        (value & ~(uint64_t)(r->write_mask | r->w1c_mask | r->w1s_mask))))) {
        if (!((r->flags & RF_ACK) && b->ack && b->ack(b->ack_ctx, addr, size, value))) {
            b->py(addr, size, value, 1);
            r = &b->regs[s - 1];
        }
    } else {
        uint32_t shift = 8 * (addr & 3u), lanes = lanes_of(size, shift);
        uint32_t w = ((uint32_t)value << shift) & lanes;
        uint32_t old = b->store[r->store];
        uint32_t keep = r->write_mask & lanes;
        uint32_t nv = (old & ~keep) | (w & keep);
        nv &= ~(w & r->w1c_mask);
        nv |= w & r->w1s_mask;
        b->store[r->store] = nv;
        r->changed |= (old ^ nv) | (w & (r->w1c_mask | r->w1s_mask));
    }
    r->writes++;
    r->poll_count = 0;
    if (r->flags & RF_NOTIFY) {
        r->flags &= ~RF_NOTIFY;
        b->notify(s - 1, addr, size, value, 1);
    }
}

/* An access that crosses a word boundary is served as its parts in each word, low address first. */
uint64_t rf_read(rf_bus *b, uint32_t addr, uint32_t size) {
    uint32_t first = 4 - (addr & 3u);
    if (size <= first) return word_read(b, addr, size);
    uint64_t lo = word_read(b, addr, first);
    uint64_t hi = rf_read(b, addr + first, size - first);
    return lo | (hi << (8 * first));
}

void rf_write(rf_bus *b, uint32_t addr, uint32_t size, uint64_t value) {
    uint32_t first = 4 - (addr & 3u);
    if (size <= first) {
        word_write(b, addr, size, value);
        return;
    }
    word_write(b, addr, first, value & ((1ull << (8 * first)) - 1));
    rf_write(b, addr + first, size - first, value >> (8 * first));
}

/* --- Unicorn MMIO callbacks (user data: an rf_window) --- */
rf_window *rf_window_new(rf_bus *b, uint32_t base) {
    rf_window *w = malloc(sizeof *w);
    if (w) {
        w->bus = b;
        w->base = base;
    }
    return w;
}

void rf_window_free(rf_window *w) { free(w); }

static uint64_t rf_mmio_read(void *uc, uint64_t offset, unsigned size, void *user) {
    (void)uc;
    rf_window *w = user;
    uint32_t addr = w->base + (uint32_t)offset;
    if ((addr & 3u) + size <= 4) return word_read(w->bus, addr, size); /* the common case, inlined */
    return rf_read(w->bus, addr, size);
}

static void rf_mmio_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user) {
    (void)uc;
    rf_window *w = user;
    uint32_t addr = w->base + (uint32_t)offset;
    if ((addr & 3u) + size <= 4) {
        word_write(w->bus, addr, size, value);
        return;
    }
    rf_write(w->bus, addr, size, value);
}

void *rf_mmio_read_ptr(void) { return (void *)rf_mmio_read; }
void *rf_mmio_write_ptr(void) { return (void *)rf_mmio_write; }
