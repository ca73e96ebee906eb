# bench_irq: interrupt-heavy speed benchmark (benchmarks/interrupt_speed.py): a 1 kHz SysTick,
# two threads switched by PendSV at every tick, the CMSDK timer interrupting at 10 kHz; or,
# with the command-line argument "plain", the same work in one thread without interrupts.
APP_BOARDS.bench_irq := mps2-an386
APP_CFLAGS.bench_irq := -Iapps/systick
APP_DEPS.bench_irq := apps/systick/cm4.h
