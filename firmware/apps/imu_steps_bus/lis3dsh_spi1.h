/*
 * imu_steps_bus on the STM32F4 Discovery: the LIS3DSH (datasheet DocID022405) on SPI1 (PA5/PA6/PA7,
 * mode 3, chip select PE3 driven by the firmware) at 100 Hz, +-4 g (0.12 mg/digit), FIFO in stream mode
 * with a watermark of 25 samples routed to INT1 (P1_WTM, active high), which reaches EXTI0 through PE0
 * (SYSCFG_EXTICR1 = port E, rising edge; RM0090 12.2.5). At each watermark interrupt the firmware reads
 * FIFO_SRC and drains the FIFO with one multiple-byte read of OUT_X_L..OUT_Z_H per sample.
 * Threshold (1.4 / 0.00012)^2 = 136111111 counts^2, refractory period 30 frames (300 ms).
 */
#include "discovery_lis3dsh.h"

#define CHIP "LIS3DSH"
#define CHIP_ID LIS3DSH_ID
#define ODR_HZ 100u
#define STEP_M2 136111111ll /* floor((1.4 g / 0.12 mg)^2) */
#define REFRACTORY 30u
#define INT_IRQn LIS_EXTI0_IRQn
#define WAKE "FIFO watermark 25 samples, INT1 -> EXTI0"

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n) { lis_read(reg, buf, n); }

static void setup(void) { lis_setup(); }

static uint8_t chip_start(void) { return lis3dsh_start(6u /* 100 Hz */, WATERMARK); }

static uint32_t chip_level(int *overrun) { return lis3dsh_level(overrun); }

static void chip_read(uint8_t *b, uint32_t samples) { lis3dsh_read_samples(b, samples); }

static void chip_stop(void) { lis3dsh_stop(); }

static void wait_data(void) { lis3dsh_wait_int1(); }
