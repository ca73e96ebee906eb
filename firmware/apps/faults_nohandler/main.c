/*
 * faults_nohandler: the faults app without HardFault/UsageFault handlers, so every fault
 * vectors to Default_Handler (a branch-to-self) and simcore must stop with a diagnosis.
 */
#define NO_HANDLERS 1
#include "../faults/main.c"
