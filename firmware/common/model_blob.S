/* A .tflite model in flash for apps that run one: MODEL_FILE (a quoted path the assembler
 * finds through -Wa,-I, from the app's app.mk) between the symbols model_data and
 * model_data_end, 16-byte aligned (the runtime reads int32 and float weights as words).
 * Apps list it in APP_SRCS; it is not part of every app. */
    .section .rodata.model_data, "a"
    .balign 16
    .global model_data, model_data_end
model_data:
    .incbin MODEL_FILE
model_data_end:
    .balign 4
