# compute: about 300 M instructions by default (600 k per iteration); override with
#   make APP_CFLAGS.compute=-DCOMPUTE_ITERS=10
APP_CFLAGS.compute ?= -DCOMPUTE_ITERS=500
