/*
 * stackoverflow: stackhog recursing deeper than the 8 KiB default stack, so the stack
 * pointer goes below __StackLimit into the heap area (RAM is still there, so nothing
 * faults on its own). simcore's stack-overflow detection must report it.
 */
#define STACKHOG_DEPTH 128
#define STACKHOG_FRAME 128
#include "../stackhog/main.c"
