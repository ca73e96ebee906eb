/*
 * rdimon_files: semihosting host-file access (SYS_OPEN/READ/WRITE/SEEK/FLEN/CLOSE/RENAME/REMOVE).
 *
 * Reads input.txt from the host directory, writes it upper-cased to out.txt, reads that
 * back and removes it. (newlib's rename() is link() + unlink(), which librdimon lacks: it
 * fails with -1 on QEMU too, so only its result is printed.) simcore refuses all of it without --semihosting-root
 * (the program prints "cannot open input.txt" and exits 2); with the root it reads the file.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    FILE *in = fopen("input.txt", "rb");
    if (in == NULL) {
        printf("cannot open input.txt\n");
        return 2;
    }
    fseek(in, 0, SEEK_END);
    long len = ftell(in);
    fseek(in, 0, SEEK_SET);
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    buf[n] = '\0';
    fclose(in);
    printf("input.txt: %ld bytes, read %u: %s", len, (unsigned)n, buf);
    FILE *out = fopen("out.txt", "wb");
    if (out == NULL) {
        printf("cannot create out.txt\n");
        return 3;
    }
    for (size_t i = 0; i < n; i++) fputc(toupper((unsigned char)buf[i]), out);
    fclose(out);
    printf("rename: %d\n", rename("out.txt", "moved.txt"));
    FILE *back = fopen("out.txt", "rb");
    n = back ? fread(buf, 1, sizeof buf - 1, back) : 0;
    buf[n] = '\0';
    if (back) fclose(back);
    printf("out.txt: %s", buf);
    printf("remove: %d\n", remove("out.txt"));
    printf("reopen after remove: %s\n", fopen("out.txt", "rb") == NULL ? "gone" : "still there");
    return 0;
}
