/* model_runner: the model and the input bytes in flash, 16-byte aligned (the runtime reads
 * int32 and float weights as words). MR_MODEL_FILE / MR_INPUTS_FILE come from app.mk. */
    .section .rodata.mr_model, "a"
    .balign 16
    .global mr_model, mr_model_end, mr_inputs, mr_inputs_end
mr_model:
    .incbin MR_MODEL_FILE
mr_model_end:
    .balign 16
mr_inputs:
    .incbin MR_INPUTS_FILE
mr_inputs_end:
    .balign 4
