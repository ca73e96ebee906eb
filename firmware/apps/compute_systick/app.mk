# compute_systick: compute with a 1 kHz SysTick; same iteration count as compute
APP_CFLAGS.compute_systick := -Iapps/systick -DCOMPUTE_ITERS=500
APP_DEPS.compute_systick := apps/systick/cm4.h apps/compute/main.c
