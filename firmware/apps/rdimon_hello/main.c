/*
 * rdimon_hello: a plain newlib semihosting program (--specs=rdimon.specs), as people run on
 * QEMU: no simcore start-up, no vector table, linked at the toolchain's default 0x8000.
 * Console through semihosting (stdout, and fopen(":tt", "w")), arguments from
 * SYS_GET_CMDLINE, exit status from main through SYS_EXIT_EXTENDED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("rdimon hello: argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    FILE *tt = fopen(":tt", "w");
    if (tt == NULL) {
        printf("cannot open :tt\n");
        return 1;
    }
    const char line[] = "written to :tt with fwrite\n";
    fwrite(line, 1, strlen(line), tt);
    fclose(tt);
    char *heap = malloc(1024);
    printf("malloc(1024) %s\n", heap != NULL ? "ok" : "failed");
    free(heap);
    fflush(stdout);
    return argc > 1 ? atoi(argv[argc - 1]) : 3;
}
