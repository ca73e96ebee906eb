/* kws_demo: models/kws_dscnn.tflite in flash, 16-byte aligned (the runtime reads int32 and
 * float weights as words). The assembler finds the file through -Wa,-I (app.mk). */
    .section .rodata.kws_model, "a"
    .balign 16
    .global kws_model, kws_model_end
kws_model:
    .incbin "kws_dscnn.tflite"
kws_model_end:
    .balign 4
