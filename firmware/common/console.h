/*
 * Board console: a polling transmitter on the board's console UART.
 * One implementation per peripheral type, common/console_<kind>.c, chosen by the Makefile
 * from the board file's [console] peripheral (see tools/boardgen.py).
 */
#ifndef SIMCORE_CONSOLE_H
#define SIMCORE_CONSOLE_H

#include <stddef.h>

/* Enable the transmitter. Called by Reset_Handler before main and before constructors. */
void console_init(void);

/* Send len bytes, waiting for the transmitter as needed. Bytes go out unchanged (no \n -> \r\n). */
void console_write(const char *buf, size_t len);

#endif
