# compute: about 300 M instructions by default; override with
#   make APP_CFLAGS.compute=-DCOMPUTE_ITERS=10
APP_CFLAGS.compute ?= -DCOMPUTE_ITERS=160
