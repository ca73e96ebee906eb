/*
 * tm.h - simcore's compact TensorFlow-Lite-Micro-compatible runtime (public API).
 *
 * What: loads a .tflite flatbuffer (schema v3) in place, plans a static tensor arena
 * and runs int8 / float32 models with kernels whose arithmetic follows the TFLite
 * reference kernels bit for bit (see README.md in this folder for the op list).
 *
 * Why our own: small code, no dynamic allocation, no C++ runtime, every offset of an
 * untrusted model checked against its length, and op markers on ITM for simcore's
 * per-op profiler.
 *
 * Usage:
 *     static tm_interp_t interp;
 *     static uint8_t arena[32 * 1024] __attribute__((aligned(16)));
 *     if (tm_init(model, model_len, arena, sizeof arena, &interp) != TM_OK)
 *         puts(tm_error_message(&interp));
 *     memcpy(tm_input(&interp, 0)->data, x, tm_input(&interp, 0)->bytes);
 *     tm_invoke(&interp);
 *     y = tm_output(&interp, 0)->data;
 *
 * The model bytes must stay valid (and unchanged) for the interpreter's lifetime:
 * weights are read from them in place. C99, no heap.
 */
#ifndef TM_H
#define TM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Capacity limits of one interpreter (compile-time, override with -D). */
#ifndef TM_MAX_TENSORS
#define TM_MAX_TENSORS 128
#endif
#ifndef TM_MAX_OPS
#define TM_MAX_OPS 96
#endif
#ifndef TM_MAX_IO
#define TM_MAX_IO 4 /* graph inputs / outputs */
#endif
#define TM_MAX_DIMS 5
#define TM_MAX_OP_INPUTS 8 /* CONCATENATION is the only op with more than 3 */
#define TM_MSG_LEN 160

/* Result of every call that can fail; the text is in tm_error_message(). */
typedef enum {
    TM_OK = 0,
    TM_ERR_MODEL,       /* malformed / truncated flatbuffer, bad schema content */
    TM_ERR_UNSUPPORTED, /* op, type or option this runtime does not implement */
    TM_ERR_ARENA,       /* arena too small */
    TM_ERR_ARG,         /* bad argument (NULL pointer, index out of range) */
    TM_ERR_STATE        /* tm_invoke before a successful tm_init */
} tm_status;

/* Tensor element types: the values are TFLite's TensorType enum (schema.fbs). */
typedef enum {
    TM_FLOAT32 = 0,
    TM_INT32 = 2,
    TM_INT64 = 4,
    TM_INT8 = 9
} tm_type;

/* A tensor as the application sees it (graph inputs and outputs). */
typedef struct {
    void *data;         /* in the arena (activations) or the model (constants) */
    uint32_t bytes;     /* size of data */
    int32_t dims[TM_MAX_DIMS];
    uint8_t ndims;
    uint8_t type;       /* tm_type */
    uint8_t is_const;   /* data points into the model buffer */
    uint16_t nchan;     /* number of per-channel scales (1 = per tensor, 0 = none) */
    float scale;        /* first (or only) quantization scale, 0 if not quantized */
    int32_t zero_point; /* first (or only) zero point */
    int8_t qdim;        /* quantized_dimension for per-channel tensors */
    /* Internal: per-channel scale vector (little-endian floats in the model). */
    const uint8_t *scales_fb;
    /* Internal: planner state. */
    int16_t first_use, last_use;
    int32_t offset;     /* arena offset, -1 when not planned */
} tm_tensor_t;

/* One operator after init (opaque to applications; laid out in tm_internal.h). */
typedef struct {
    uint16_t code;      /* TFLite BuiltinOperator */
    uint8_t n_in, n_out;
    uint8_t act;        /* fused activation (TFLite ActivationFunctionType) */
    uint8_t flags;
    int16_t in[TM_MAX_OP_INPUTS]; /* tensor indices, -1 = optional absent */
    int16_t out;
    int32_t scratch_bytes;        /* per-op scratch buffer (planned like a tensor) */
    int32_t scratch_offset;
    int32_t p[16];                /* op parameters, meaning per op (tm_internal.h) */
    int32_t *mult;                /* per-channel multipliers (arena tail) */
    int32_t *shift;               /* per-channel shifts (arena tail) */
    int32_t *wsum;                /* optimized kernels: per-channel filter sums */
} tm_op_t;

/* The interpreter: declare it static, pass it to tm_init(). */
typedef struct {
    const uint8_t *model;
    uint32_t model_len;
    uint8_t *arena;          /* 16-byte aligned start of the usable arena */
    uint32_t arena_size;     /* usable bytes after alignment */
    uint32_t arena_used;     /* activations + scratch + persistent */
    uint32_t plan_bytes;     /* activation + scratch bytes of the plan */
    uint32_t tail_used;      /* persistent bytes taken from the arena's end */
    uint32_t tail_needed;    /* what persistent data would need (even if it failed) */
    uint16_t n_tensors, n_ops;
    uint8_t n_inputs, n_outputs;
    uint8_t ready;
    int16_t inputs[TM_MAX_IO], outputs[TM_MAX_IO];
    tm_tensor_t tensors[TM_MAX_TENSORS];
    tm_op_t ops[TM_MAX_OPS];
    char msg[TM_MSG_LEN];
} tm_interp_t;

/* Parses and verifies the model, prepares every op and plans the arena.
 * Returns TM_OK or an error whose text names the op, its index and the reason. */
tm_status tm_init(const void *model_bytes, size_t len, void *arena, size_t arena_size,
                  tm_interp_t *interp);

/* Runs the graph once. Inputs must have been written to tm_input(i)->data. */
tm_status tm_invoke(tm_interp_t *interp);

/* Graph input / output i, or NULL when i is out of range or init failed. */
tm_tensor_t *tm_input(tm_interp_t *interp, int i);
tm_tensor_t *tm_output(tm_interp_t *interp, int i);
int tm_num_inputs(const tm_interp_t *interp);
int tm_num_outputs(const tm_interp_t *interp);

/* Arena bytes used by the plan plus persistent per-op data (0 before init). */
size_t tm_arena_used(const tm_interp_t *interp);

/* Last error text ("" when none). */
const char *tm_error_message(const tm_interp_t *interp);

/* Name of a TFLite builtin operator code, e.g. "CONV_2D"; "UNKNOWN" otherwise. */
const char *tm_op_name(int builtin_code);

/* Name of a tensor type, e.g. "INT8". */
const char *tm_type_name(int type);

#if defined(TM_OP_CYCLES) && TM_OP_CYCLES && defined(__arm__)
/* DWT CYCCNT cycles of each op in the last tm_invoke (build with -DTM_OP_CYCLES=1). */
extern uint32_t tm_op_cycles[TM_MAX_OPS];
#endif

#ifdef __cplusplus
}
#endif
#endif /* TM_H */
