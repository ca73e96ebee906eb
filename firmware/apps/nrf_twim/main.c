/*
 * nrf_twim: register reads and writes of I2C and SPI chips through TWIM1 and SPIM2 with EasyDMA
 * (PS v1.7 sections 6.31 TWIM and 6.25 SPIM), as the drivers of the Arduino Nano 33 BLE Sense's
 * sensors do them (SDA P0.14, SCL P0.15 at 400 kHz):
 *
 *   I2C read   TXD = register, RXD = n bytes, SHORTS LASTTX_STARTRX | LASTRX_STOP, TASKS_STARTTX,
 *              wait for EVENTS_STOPPED (or EVENTS_ERROR: TASKS_STOP, then STOPPED);
 *   I2C write  TXD = register and value, SHORTS LASTTX_STOP, TASKS_STARTTX, wait for STOPPED;
 *   SPI read   SPIM2 mode 3 at 8 MHz, CS P0.20 driven by the firmware: TXD = 0x80 | register,
 *              RXD two bytes (the second is the register), TASKS_START, wait for EVENTS_END.
 *
 * Prints the identity registers of LSM9DS1 (0x6B and magnetometer 0x1E), HTS221 (0x5F) and
 * APDS-9960 (0x39), an APDS-9960 ATIME write read back, the NACK of an empty address (ERRORSRC)
 * and the WHO_AM_I of a LIS3DSH on SPIM2.
 */
#include <stdio.h>

#include "../nrf_clock/nrf52.h"

#define TWIM1_BASE 0x40004000u
#define TWIM_TASKS_STARTTX NRF_REG(TWIM1_BASE, 0x008u)
#define TWIM_TASKS_STOP NRF_REG(TWIM1_BASE, 0x014u)
#define TWIM_EVENTS_STOPPED NRF_REG(TWIM1_BASE, 0x104u)
#define TWIM_EVENTS_ERROR NRF_REG(TWIM1_BASE, 0x124u)
#define TWIM_SHORTS NRF_REG(TWIM1_BASE, 0x200u)
#define TWIM_ERRORSRC NRF_REG(TWIM1_BASE, 0x4C4u)
#define TWIM_ENABLE NRF_REG(TWIM1_BASE, 0x500u)
#define TWIM_PSEL_SCL NRF_REG(TWIM1_BASE, 0x508u)
#define TWIM_PSEL_SDA NRF_REG(TWIM1_BASE, 0x50Cu)
#define TWIM_FREQUENCY NRF_REG(TWIM1_BASE, 0x524u)
#define TWIM_RXD_PTR NRF_REG(TWIM1_BASE, 0x534u)
#define TWIM_RXD_MAXCNT NRF_REG(TWIM1_BASE, 0x538u)
#define TWIM_RXD_AMOUNT NRF_REG(TWIM1_BASE, 0x53Cu)
#define TWIM_TXD_PTR NRF_REG(TWIM1_BASE, 0x544u)
#define TWIM_TXD_MAXCNT NRF_REG(TWIM1_BASE, 0x548u)
#define TWIM_ADDRESS NRF_REG(TWIM1_BASE, 0x588u)
#define TWIM_SHORTS_LASTTX_STARTRX (1u << 7)
#define TWIM_SHORTS_LASTTX_STOP (1u << 9)
#define TWIM_SHORTS_LASTRX_STOP (1u << 12)
#define TWIM_ENABLE_ENABLED 6u
#define TWIM_FREQUENCY_K400 0x06400000u

#define SPIM2_BASE 0x40023000u
#define SPIM_TASKS_START NRF_REG(SPIM2_BASE, 0x010u)
#define SPIM_EVENTS_END NRF_REG(SPIM2_BASE, 0x118u)
#define SPIM_ENABLE NRF_REG(SPIM2_BASE, 0x500u)
#define SPIM_PSEL_SCK NRF_REG(SPIM2_BASE, 0x508u)
#define SPIM_PSEL_MOSI NRF_REG(SPIM2_BASE, 0x50Cu)
#define SPIM_PSEL_MISO NRF_REG(SPIM2_BASE, 0x510u)
#define SPIM_FREQUENCY NRF_REG(SPIM2_BASE, 0x524u)
#define SPIM_RXD_PTR NRF_REG(SPIM2_BASE, 0x534u)
#define SPIM_RXD_MAXCNT NRF_REG(SPIM2_BASE, 0x538u)
#define SPIM_TXD_PTR NRF_REG(SPIM2_BASE, 0x544u)
#define SPIM_TXD_MAXCNT NRF_REG(SPIM2_BASE, 0x548u)
#define SPIM_CONFIG NRF_REG(SPIM2_BASE, 0x554u)
#define SPIM_ENABLE_ENABLED 7u
#define SPIM_FREQUENCY_M8 0x80000000u
#define SPIM_CONFIG_MODE3 (3u << 1) /* CPHA trailing, CPOL active low; MSB first */
#define SPI_CS 20u

static uint8_t tx[4] __attribute__((aligned(4))); /* EasyDMA: Data RAM */
static uint8_t rx[4] __attribute__((aligned(4)));

/* Returns 0, or ERRORSRC after a NACK (the bus stopped). */
static uint32_t twim_wait(void)
{
    while (TWIM_EVENTS_STOPPED == 0) {
        if (TWIM_EVENTS_ERROR) {
            TWIM_EVENTS_ERROR = 0;
            TWIM_TASKS_STOP = 1;
            while (TWIM_EVENTS_STOPPED == 0) {
            }
            TWIM_EVENTS_STOPPED = 0;
            uint32_t err = TWIM_ERRORSRC;
            TWIM_ERRORSRC = err; /* write 1 to clear */
            return err;
        }
    }
    TWIM_EVENTS_STOPPED = 0;
    return 0;
}

static uint32_t i2c_read(uint8_t addr, uint8_t reg, uint8_t *value)
{
    tx[0] = reg;
    TWIM_ADDRESS = addr;
    TWIM_TXD_PTR = (uint32_t)(uintptr_t)tx;
    TWIM_TXD_MAXCNT = 1;
    TWIM_RXD_PTR = (uint32_t)(uintptr_t)rx;
    TWIM_RXD_MAXCNT = 1;
    TWIM_SHORTS = TWIM_SHORTS_LASTTX_STARTRX | TWIM_SHORTS_LASTRX_STOP;
    TWIM_TASKS_STARTTX = 1;
    uint32_t err = twim_wait();
    *value = err ? 0 : rx[0];
    return err;
}

static uint32_t i2c_write(uint8_t addr, uint8_t reg, uint8_t value)
{
    tx[0] = reg;
    tx[1] = value;
    TWIM_ADDRESS = addr;
    TWIM_TXD_PTR = (uint32_t)(uintptr_t)tx;
    TWIM_TXD_MAXCNT = 2;
    TWIM_SHORTS = TWIM_SHORTS_LASTTX_STOP;
    TWIM_TASKS_STARTTX = 1;
    return twim_wait();
}

static uint8_t spi_read(uint8_t reg)
{
    tx[0] = 0x80u | reg;
    tx[1] = 0;
    SPIM_TXD_PTR = (uint32_t)(uintptr_t)tx;
    SPIM_TXD_MAXCNT = 2;
    SPIM_RXD_PTR = (uint32_t)(uintptr_t)rx;
    SPIM_RXD_MAXCNT = 2;
    P0_OUTCLR = 1u << SPI_CS;
    SPIM_EVENTS_END = 0;
    SPIM_TASKS_START = 1;
    while (SPIM_EVENTS_END == 0) {
    }
    SPIM_EVENTS_END = 0;
    P0_OUTSET = 1u << SPI_CS;
    return rx[1];
}

int main(void)
{
    TWIM_PSEL_SCL = 15u;
    TWIM_PSEL_SDA = 14u;
    TWIM_FREQUENCY = TWIM_FREQUENCY_K400;
    TWIM_ENABLE = TWIM_ENABLE_ENABLED;

    static const struct {
        const char *name;
        uint8_t addr, reg;
    } ids[] = {{"LSM9DS1 WHO_AM_I", 0x6B, 0x0F}, {"LSM9DS1 WHO_AM_I_M", 0x1E, 0x0F},
               {"HTS221 WHO_AM_I", 0x5F, 0x0F}, {"APDS-9960 ID", 0x39, 0x92}};
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint8_t v;
        uint32_t err = i2c_read(ids[i].addr, ids[i].reg, &v);
        printf("%s (0x%02x): %02x%s\n", ids[i].name, ids[i].addr, v, err ? " NACK" : "");
    }
    uint8_t atime;
    uint32_t werr = i2c_write(0x39, 0x81, 0xDB); /* APDS-9960 ATIME */
    uint32_t rerr = i2c_read(0x39, 0x81, &atime);
    printf("APDS-9960 ATIME written db, read %02x (errors %lu %lu)\n", atime, (unsigned long)werr,
           (unsigned long)rerr);
    uint8_t none;
    uint32_t err = i2c_read(0x50, 0x00, &none);
    printf("empty address 0x50: ERRORSRC %lx (ANACK = 2)\n", (unsigned long)err);

    P0_PIN_CNF(SPI_CS) = PIN_CNF_OUTPUT;
    P0_OUTSET = 1u << SPI_CS;
    SPIM_PSEL_SCK = 21u;
    SPIM_PSEL_MOSI = 22u;
    SPIM_PSEL_MISO = 23u;
    SPIM_FREQUENCY = SPIM_FREQUENCY_M8;
    SPIM_CONFIG = SPIM_CONFIG_MODE3;
    SPIM_ENABLE = SPIM_ENABLE_ENABLED;
    printf("LIS3DSH WHO_AM_I over SPIM2: %02x\n", spi_read(0x0F));
    return 0;
}
