/*
 * newlib system calls for simcore firmware: stdout/stderr go to the board console
 * (console_<kind>.c), the heap lies between __HeapBase and __HeapLimit (cortex-m4.ld),
 * and _exit reports the status through semihosting SYS_EXIT_EXTENDED.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "console.h"
#include "semihosting.h"

#undef errno
extern int errno;

extern char __HeapBase[];
extern char __HeapLimit[];

/* Prototypes (newlib declares these only under some configurations). */
int _write(int fd, const void *buf, size_t len);
int _read(int fd, void *buf, size_t len);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
off_t _lseek(int fd, off_t offset, int whence);
void *_sbrk(ptrdiff_t incr);
int _kill(int pid, int sig);
int _getpid(void);
__attribute__((noreturn)) void _exit(int status);

static int is_std(int fd)
{
    return fd >= 0 && fd <= 2;
}

int _write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    console_write(buf, len);
    return (int)len;
}

int _read(int fd, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    if (fd != 0) {
        errno = EBADF;
        return -1;
    }
    return 0; /* the console has no receive path: end of file */
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    if (!is_std(fd)) {
        errno = EBADF;
        return -1;
    }
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    if (is_std(fd))
        return 1;
    errno = EBADF;
    return 0;
}

off_t _lseek(int fd, off_t offset, int whence)
{
    (void)offset;
    (void)whence;
    errno = is_std(fd) ? ESPIPE : EBADF;
    return (off_t)-1;
}

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __HeapBase;
    char *prev = brk;
    if (incr > __HeapLimit - brk || incr < __HeapBase - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += incr;
    return prev;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}

void _exit(int status)
{
    sh_exit(status);
}
