/*
 * imu_steps_bus on the Arduino Nano 33 BLE Sense: the IMU on the nRF52840's TWIM1 (internal bus, SDA P0.14,
 * SCL P0.15, 400 kHz; nRF52840 PS v1.7 6.31 TWIM: EasyDMA, a register-address write then a repeated-start
 * read through the LASTTX_STARTRX and LASTRX_STOP shortcuts).
 *
 * Rev1, LSM9DS1 at 6Bh (datasheet DocID025715): none of its interrupt outputs reaches the nRF52840 on this
 * board (see the board file), so RTC1 (on the LFRC, PS 6.22) raises COMPARE0 every 4096 ticks (125 ms) and
 * the firmware reads FIFO_SRC and drains what is there. The accelerometer alone (gyroscope off) at
 * ODR_XL 119 Hz (the chip's rate nearest 100 Hz), FS_XL +-4 g (0.122 mg/LSB), FIFO on (CTRL_REG9 FIFO_EN)
 * in continuous mode (FIFO_CTRL FMODE 110); 125 ms is 15 samples of its 32 levels. One burst read from
 * OUT_X_L_XL drains n samples (with IF_ADD_INC the address rolls back from OUT_Z_H_XL, datasheet 3.5).
 * Threshold (1.4 g / 0.122 mg)^2 = 131685030 counts^2; refractory period 36 frames (302.5 ms).
 *
 * Rev2, BMI270 at 68h (datasheet BST-BMI270-DS000): INT1 is on P0.11 (board file). Initialization as
 * section 5.2 "Quick start": PWR_CONF.adv_power_save = 0, INIT_CTRL = 0, the 8192-byte configuration
 * file burst-written to INIT_DATA, INIT_CTRL = 1, INTERNAL_STATUS.message = init_ok 20 ms later. The
 * configuration file is Bosch's (BMI270_SensorAPI); it is vendor code this repository does not carry,
 * so the firmware uploads 8192 zero bytes: simcore checks the handshake and the size, not the feature
 * engine (none of its features is used here). On a real board this upload must be Bosch's file. Then the
 * accelerometer at 100 Hz (ACC_CONF acc_odr 8), +-4 g (ACC_RANGE 1: 8192 LSB/g), headerless FIFO of
 * accelerometer frames (FIFO_CONFIG_1 fifo_acc_en, 6 bytes a frame), watermark 150 bytes = 25 frames
 * mapped to INT1 (INT_MAP_DATA fwm_int1, INT1_IO_CTRL output_en and lvl = active high), whose rising
 * edge on P0.11 sets GPIOTE IN[0] (PS 6.10). The firmware reads FIFO_LENGTH, drains the FIFO with one
 * burst read of FIFO_DATA, then reads INT_STATUS_1 (which releases INT1). Threshold (1.4 * 8192)^2 =
 * 131533373 counts^2, refractory period 30 frames (300 ms), as imu_steps.
 */
#define TWIM_TASKS_STARTTX 0x008u
#define TWIM_TASKS_STOP 0x014u
#define TWIM_EVENTS_STOPPED 0x104u
#define TWIM_EVENTS_ERROR 0x124u
#define TWIM_SHORTS 0x200u
#define TWIM_INTENSET 0x304u
#define TWIM_ERRORSRC 0x4C4u
#define TWIM_ENABLE 0x500u
#define TWIM_PSEL_SCL 0x508u
#define TWIM_PSEL_SDA 0x50Cu
#define TWIM_FREQUENCY 0x524u
#define TWIM_RXD_PTR 0x534u
#define TWIM_RXD_MAXCNT 0x538u
#define TWIM_TXD_PTR 0x544u
#define TWIM_TXD_MAXCNT 0x548u
#define TWIM_ADDRESS 0x588u
#define SHORTS_LASTTX_STARTRX (1u << 7)
#define SHORTS_LASTTX_STOP (1u << 9)
#define SHORTS_LASTRX_STOP (1u << 12)
/* P0 registers relative to the board file's P0 base (the SVD's, 0x50000500) */
#define P0_IN 0x010u
#define P0_PIN_CNF(n) (0x200u + 4u * (n))

#define IMU_ADDR DEVICE_IMU_ADDRESS
static uint32_t twim_errors;

/* One EasyDMA transfer: tx bytes, then (if rx_len) a repeated start and rx_len bytes; waits for STOPPED. */
static void twim_xfer(const uint8_t *tx, uint32_t tx_len, uint8_t *rx, uint32_t rx_len)
{
    REG(TWIM1_BASE, TWIM_ADDRESS) = IMU_ADDR;
    REG(TWIM1_BASE, TWIM_TXD_PTR) = (uint32_t)(uintptr_t)tx;
    REG(TWIM1_BASE, TWIM_TXD_MAXCNT) = tx_len;
    REG(TWIM1_BASE, TWIM_RXD_PTR) = (uint32_t)(uintptr_t)rx;
    REG(TWIM1_BASE, TWIM_RXD_MAXCNT) = rx_len;
    REG(TWIM1_BASE, TWIM_SHORTS) = rx_len ? SHORTS_LASTTX_STARTRX | SHORTS_LASTRX_STOP : SHORTS_LASTTX_STOP;
    REG(TWIM1_BASE, TWIM_TASKS_STARTTX) = 1;
    while (REG(TWIM1_BASE, TWIM_EVENTS_STOPPED) == 0) {
        if (REG(TWIM1_BASE, TWIM_EVENTS_ERROR)) { /* NACK: stop the bus, count it */
            REG(TWIM1_BASE, TWIM_EVENTS_ERROR) = 0;
            REG(TWIM1_BASE, TWIM_TASKS_STOP) = 1;
            REG(TWIM1_BASE, TWIM_ERRORSRC) = REG(TWIM1_BASE, TWIM_ERRORSRC);
            twim_errors++;
        }
        __asm volatile("wfi"); /* STOPPED or ERROR wakes the core (INTEN, PRIMASK set) */
        NVIC_ICPR[TWIM1_IRQn / 32] = 1u << (TWIM1_IRQn % 32);
    }
    REG(TWIM1_BASE, TWIM_EVENTS_STOPPED) = 0;
    NVIC_ICPR[TWIM1_IRQn / 32] = 1u << (TWIM1_IRQn % 32); /* the event is clear: so is its interrupt */
}

/* Sleep for ``us`` microseconds on TIMER1 (1 MHz, COMPARE0; PS 6.30). */
static inline void delay_us(uint32_t us)
{
    REG(TIMER1_BASE, 0x504) = 0;         /* MODE timer */
    REG(TIMER1_BASE, 0x508) = 3;         /* BITMODE 32 */
    REG(TIMER1_BASE, 0x510) = 4;         /* PRESCALER: 16 MHz / 2^4 */
    REG(TIMER1_BASE, 0x540) = us;        /* CC[0] */
    REG(TIMER1_BASE, 0x140) = 0;         /* EVENTS_COMPARE[0] */
    REG(TIMER1_BASE, 0x304) = 1u << 16;  /* INTENSET COMPARE0 */
    NVIC_ISER[TIMER1_IRQn / 32] = 1u << (TIMER1_IRQn % 32);
    REG(TIMER1_BASE, 0x00C) = 1;         /* TASKS_CLEAR */
    REG(TIMER1_BASE, 0x000) = 1;         /* TASKS_START */
    while (REG(TIMER1_BASE, 0x140) == 0) {
        __asm volatile("wfi");
        NVIC_ICPR[TIMER1_IRQn / 32] = 1u << (TIMER1_IRQn % 32);
    }
    REG(TIMER1_BASE, 0x004) = 1;         /* TASKS_STOP */
    REG(TIMER1_BASE, 0x140) = 0;
    NVIC_ICPR[TIMER1_IRQn / 32] = 1u << (TIMER1_IRQn % 32);
}

static void write_reg(uint8_t reg, uint8_t value)
{
    static uint8_t tx[2];
    tx[0] = reg;
    tx[1] = value;
    twim_xfer(tx, 2, 0, 0);
}

static void read_regs(uint8_t reg, uint8_t *buf, uint32_t n)
{
    static uint8_t tx[1];
    tx[0] = reg;
    twim_xfer(tx, 1, buf, n);
}

static void setup(void)
{
    REG(TWIM1_BASE, TWIM_PSEL_SCL) = 15u;
    REG(TWIM1_BASE, TWIM_PSEL_SDA) = 14u;
    REG(TWIM1_BASE, TWIM_FREQUENCY) = 0x06400000u; /* K400 */
    REG(TWIM1_BASE, TWIM_INTENSET) = 1u << 1 | 1u << 9; /* STOPPED, ERROR: they wake wfi */
    NVIC_ISER[TWIM1_IRQn / 32] = 1u << (TWIM1_IRQn % 32);
    REG(TWIM1_BASE, TWIM_ENABLE) = 6u;
}

static void chip_stop_twim(void)
{
    REG(TWIM1_BASE, TWIM_ENABLE) = 0;
}

#if defined(DEVICE_IMU_LSM9DS1)
#define CHIP "LSM9DS1"
#define ID_REG_NAME "WHO_AM_I"
#define CHIP_ID 0x68u
#define ODR_HZ 119u
#define STEP_M2 131685030ll /* floor((1.4 g / 0.122 mg)^2) */
#define REFRACTORY 36u      /* 302.5 ms at 119 Hz */
#define TICK 4096u          /* RTC ticks: 125 ms */
#define INT_IRQn 17u        /* RTC1 */
#define WAKE "FIFO polled on an RTC1 tick every 125 ms (no IMU interrupt line on this board)"
#define LSM_WHO_AM_I 0x0Fu
#define LSM_CTRL_REG6_XL 0x20u
#define LSM_CTRL_REG9 0x23u
#define LSM_OUT_X_L_XL 0x28u
#define LSM_FIFO_CTRL 0x2Eu
#define LSM_FIFO_SRC 0x2Fu
#define MAX_BATCH 32u

static uint8_t chip_start(void)
{
    uint8_t who = read_reg(LSM_WHO_AM_I);
    if (who != CHIP_ID)
        return who;
    write_reg(LSM_CTRL_REG9, 1u << 1);                   /* FIFO_EN */
    write_reg(LSM_FIFO_CTRL, 6u << 5);                   /* FMODE continuous */
    write_reg(LSM_CTRL_REG6_XL, 3u << 5 | 2u << 3);      /* ODR_XL 119 Hz, FS_XL +-4 g: sampling starts */
    /* RTC1 on the LFRC (PS 5.4.2: running 600 us after LFCLKSTART), COMPARE0 every TICK ticks */
    REG(CLOCK_BASE, 0x518) = 0;                          /* LFCLKSRC = RC */
    REG(CLOCK_BASE, 0x104) = 0;                          /* EVENTS_LFCLKSTARTED */
    REG(CLOCK_BASE, 0x008) = 1;                          /* TASKS_LFCLKSTART */
    while (REG(CLOCK_BASE, 0x104) == 0) {
    }
    REG(RTC1_BASE, 0x508) = 0;                           /* PRESCALER: 32768 Hz */
    REG(RTC1_BASE, 0x540) = TICK;                        /* CC[0] */
    REG(RTC1_BASE, 0x304) = 1u << 16;                    /* INTENSET COMPARE0 */
    REG(RTC1_BASE, 0x008) = 1;                           /* TASKS_CLEAR */
    REG(RTC1_BASE, 0x000) = 1;                           /* TASKS_START */
    return who;
}

/* Samples in the FIFO and whether it overran (FIFO_SRC FSS[5:0], OVRN). */
static uint32_t chip_level(int *overrun)
{
    uint8_t src = read_reg(LSM_FIFO_SRC);
    *overrun = (src >> 6) & 1u;
    return src & 0x3Fu;
}

static void chip_read(uint8_t *b, uint32_t samples)
{
    if (samples)
        read_regs(LSM_OUT_X_L_XL, b, 6u * samples);
}

static void chip_stop(void)
{
    write_reg(LSM_CTRL_REG6_XL, 0);
    REG(RTC1_BASE, 0x004) = 1; /* TASKS_STOP */
    chip_stop_twim();
}

/* Sleep until the next RTC1 COMPARE0 and move CC[0] one tick on. */
static void wait_data(void)
{
    while (REG(RTC1_BASE, 0x140) == 0) { /* EVENTS_COMPARE[0] */
        __asm volatile("wfi");
        NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    }
    REG(RTC1_BASE, 0x140) = 0;
    NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    REG(RTC1_BASE, 0x540) = (REG(RTC1_BASE, 0x540) + TICK) & 0xFFFFFFu;
}
#elif defined(DEVICE_IMU_BMI270)
#define CHIP "BMI270"
#define ID_REG_NAME "CHIP_ID"
#define CHIP_ID 0x24u
#define ODR_HZ 100u
#define STEP_M2 131533373ll /* floor((1.4 * 8192)^2) */
#define REFRACTORY 30u
#define INT_IRQn 6u /* GPIOTE */
#define WAKE "FIFO watermark 25 frames, INT1 -> P0.11 -> GPIOTE IN[0]"
#define INT_PIN DEVICE_IMU_INT1_PIN
#define BMI_CHIP_ID 0x00u
#define BMI_INT_STATUS_1 0x1Du
#define BMI_INTERNAL_STATUS 0x21u
#define BMI_FIFO_LENGTH_0 0x24u
#define BMI_FIFO_DATA 0x26u
#define BMI_ACC_CONF 0x40u
#define BMI_ACC_RANGE 0x41u
#define BMI_FIFO_WTM_0 0x46u
#define BMI_FIFO_WTM_1 0x47u
#define BMI_FIFO_CONFIG_0 0x48u
#define BMI_FIFO_CONFIG_1 0x49u
#define BMI_INT1_IO_CTRL 0x53u
#define BMI_INT_LATCH 0x55u
#define BMI_INT_MAP_DATA 0x58u
#define BMI_INIT_CTRL 0x59u
#define BMI_INIT_DATA 0x5Eu
#define BMI_PWR_CONF 0x7Cu
#define BMI_PWR_CTRL 0x7Du
#define CONFIG_SIZE 8192u
#define FIFO_BYTES 2048u
#define MAX_BATCH 32u

static uint8_t config_tx[1 + CONFIG_SIZE]; /* INIT_DATA's address, then the file (zeros: see above) */

static uint8_t chip_start(void)
{
    uint8_t who = read_reg(BMI_CHIP_ID);
    if (who != CHIP_ID)
        return who;
    write_reg(BMI_PWR_CONF, 0);     /* adv_power_save off: then writes need no 450 us pause */
    delay_us(1000);
    write_reg(BMI_INIT_CTRL, 0);
    config_tx[0] = BMI_INIT_DATA;   /* INIT_ADDR_0/1 are 0 after reset: the burst starts at word 0 */
    twim_xfer(config_tx, sizeof config_tx, 0, 0);
    write_reg(BMI_INIT_CTRL, 1);
    delay_us(20000);
    uint8_t st = read_reg(BMI_INTERNAL_STATUS);
    if ((st & 0x0Fu) != 1u) {
        printf("BMI270 initialization failed: INTERNAL_STATUS %02x\n", st);
        return 0;
    }
    write_reg(BMI_ACC_CONF, 1u << 7 | 2u << 4 | 8u); /* filter_perf, bwp normal, acc_odr 100 Hz */
    write_reg(BMI_ACC_RANGE, 1u);                  /* +-4 g */
    write_reg(BMI_FIFO_CONFIG_0, 0);               /* overwrite the oldest frames, no sensor-time frame */
    write_reg(BMI_FIFO_CONFIG_1, 1u << 6);         /* fifo_acc_en, headerless */
    write_reg(BMI_FIFO_WTM_0, 6u * WATERMARK);     /* 150 bytes */
    write_reg(BMI_FIFO_WTM_1, 0);
    write_reg(BMI_INT1_IO_CTRL, 1u << 3 | 1u << 1); /* output_en, lvl active high, push-pull */
    write_reg(BMI_INT_LATCH, 0);
    write_reg(BMI_INT_MAP_DATA, 1u << 1);          /* fwm_int1 */
    /* P0.11: input with its buffer connected; GPIOTE IN[0] on its rising edge (PS 6.9.2, 6.10) */
    REG(P0_BASE, P0_PIN_CNF(INT_PIN)) = 0;
    REG(GPIOTE_BASE, 0x510) = 1u | INT_PIN << 8 | 1u << 16; /* CONFIG[0]: event, PSEL, LOTOHI */
    REG(GPIOTE_BASE, 0x100) = 0;                            /* EVENTS_IN[0] */
    REG(GPIOTE_BASE, 0x304) = 1u;                           /* INTENSET IN[0] */
    write_reg(BMI_PWR_CTRL, 1u << 2);              /* acc_en: sampling starts */
    return who;
}

/* Frames in the FIFO (FIFO_LENGTH in bytes); a full FIFO has overwritten its oldest frames. */
static uint32_t chip_level(int *overrun)
{
    uint8_t len[2];
    read_regs(BMI_FIFO_LENGTH_0, len, 2);
    uint32_t bytes = (uint32_t)(len[1] & 0x3Fu) << 8 | len[0];
    *overrun = bytes + 6u > FIFO_BYTES;
    return bytes / 6u;
}

static void chip_read(uint8_t *b, uint32_t frames)
{
    if (frames)
        read_regs(BMI_FIFO_DATA, b, 6u * frames); /* FIFO_DATA's address does not advance */
    (void)read_reg(BMI_INT_STATUS_1);            /* clears fwm: INT1 falls */
}

static void chip_stop(void)
{
    write_reg(BMI_PWR_CTRL, 0);
    chip_stop_twim();
}

/* Sleep until INT1's rising edge set GPIOTE IN[0] (or INT1 is still high: more than a batch waits). */
static void wait_data(void)
{
    while (REG(GPIOTE_BASE, 0x100) == 0 && !(REG(P0_BASE, P0_IN) & (1u << INT_PIN))) {
        __asm volatile("wfi");
        NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
    }
    REG(GPIOTE_BASE, 0x100) = 0;
    NVIC_ICPR[INT_IRQn / 32] = 1u << (INT_IRQn % 32);
}
#else
#error "imu_steps_bus: no IMU model for this Nano board"
#endif
