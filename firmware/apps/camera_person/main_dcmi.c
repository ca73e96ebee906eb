/*
 * camera_person on an STM32F407 with an OV7670 on its DCMI (board stm32f407-ov7670): the same person
 * detector as main.c, fed by a real camera path.
 *
 *   OV7670 over SCCB on I2C2 (PB10 SCL, PB11 SDA; 7-bit address 21h; RM0090 27.3.3 master sequences,
 *   a STOP between the sub-address write and the read as SCCB wants): COM7 reset, PID/VER read
 *   (76h/73h), QVGA YUV with DCW down-sampling by 2 (QQVGA 160x120), COM15 full output range 00h-FFh
 *   (a gray scene gives Y = gray level), F = 24 MHz XCLK / (2 x 3) = 4 MHz (CLKRC 2) with 16 dummy
 *   pixels (EXHCL) and 115 dummy lines (ADVFL): 2 x 800 x 625 clocks = exactly 4 frames per second.
 *   -> DCMI (RM0090 section 15): hardware sync (PCKPOL rising, VSPOL high, HSPOL low: the OV7670's
 *   reset polarities), continuous capture, crop window 96x96 pixels at (32, 12) = 192 pixel clocks
 *   from clock 64 of lines 12..107, FRAME and OVR interrupts (IRQ 78)
 *   -> DMA2 stream 1 channel 1 (RM0090 Table 43), words, double buffer (DBM): frame k lands in
 *   buffer k & 1 while the CPU classifies frame k - 1
 *   -> int8 input = Y - 128 (every other byte of YUYV) -> person.tflite -> scores (nobody, person).
 *
 * Output lines are main.c's ("frame K at T ms: scores ...", events), plus the sum of the frame's
 * bytes, so tests compare the detections with the generic board's and the bytes with the recording.
 * "frames=N" on the command line stops after N frames (default 32: the demo recording).
 * Exit status 0; 1 if frames were lost (not classified in time) or the DCMI overran (the run stops: the
 * DMA buffers are out of step with the frames); 2 if the camera or the model could not be set up.
 */
#include "board.h" /* first: which camera the board has */
#if defined(DEVICE_CAMERA_OV7670)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_config.h"
#include "person.h"
#include "semihosting.h"
#include "stm32_io.h"
#include "tinyml_app.h"
#include "tm.h"
#include "vclock.h"

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
_Static_assert(DCMI_IRQn == 78, "IRQ78_Handler below is the DCMI's (RM0090 Table 61)");
#define NPIX (CAM_WIDTH * CAM_HEIGHT)
#define FRAME_BYTES (2u * NPIX) /* YUYV */
#define OV7670 0x21u

/* RM0090 15.8: DCMI registers and bits */
#define DCMI_CR 0x00u
#define DCMI_RIS 0x08u
#define DCMI_IER 0x0Cu
#define DCMI_MIS 0x10u
#define DCMI_ICR 0x14u
#define DCMI_CWSTRT 0x20u
#define DCMI_CWSIZE 0x24u
#define DCMI_DR 0x28u
#define CR_CAPTURE (1u << 0)
#define CR_CROP (1u << 2)
#define CR_PCKPOL (1u << 5)
#define CR_VSPOL (1u << 7)
#define CR_ENABLE (1u << 14)
#define IT_FRAME (1u << 0)
#define IT_OVR (1u << 1)
/* RM0090 10.5: DMA2 stream 1 */
#define S1CR (0x10u + 0x18u * 1u)
#define S1NDTR (S1CR + 0x04u)
#define S1PAR (S1CR + 0x08u)
#define S1M0AR (S1CR + 0x0Cu)
#define S1M1AR (S1CR + 0x10u)
#define SxCR_CT (1u << 19)
/* RM0090 27.6: I2C */
#define I2C_CR1 0x00u
#define I2C_CR2 0x04u
#define I2C_DR 0x10u
#define I2C_SR1 0x14u
#define I2C_SR2 0x18u
#define I2C_CCR 0x1Cu
#define I2C_TRISE 0x20u
#define CR1_PE (1u << 0)
#define CR1_START (1u << 8)
#define CR1_STOP (1u << 9)
#define CR1_ACK (1u << 10)
#define SR1_SB (1u << 0)
#define SR1_ADDR (1u << 1)
#define SR1_BTF (1u << 2)
#define SR1_RXNE (1u << 6)
#define SR1_TXE (1u << 7)
#define SR1_AF (1u << 10)

static tm_interp_t interp;
static uint8_t arena[64 * 1024] __attribute__((aligned(16)));
uint8_t frames[2][FRAME_BYTES] __attribute__((aligned(4))); /* the DMA's two buffers (tests read them) */
static volatile uint32_t frames_done, overruns;

void IRQ78_Handler(void) /* DCMI */
{
    const uint32_t mis = REG(DCMI_BASE, DCMI_MIS);
    REG(DCMI_BASE, DCMI_ICR) = mis;
    if (mis & IT_FRAME)
        frames_done++;
    if (mis & IT_OVR)
        overruns++;
}

/* --- SCCB on I2C2 ------------------------------------------------------------------------------ */
static int i2c_wait(uint32_t flag)
{
    for (uint32_t n = 0; n < 100000u; n++) {
        const uint32_t sr1 = REG(I2C2_BASE, I2C_SR1);
        if (sr1 & SR1_AF)
            return 0;
        if (sr1 & flag)
            return 1;
    }
    return 0;
}

static int sccb_address(uint32_t read)
{
    REG(I2C2_BASE, I2C_CR1) |= CR1_START;
    if (!i2c_wait(SR1_SB))
        return 0;
    REG(I2C2_BASE, I2C_DR) = OV7670 << 1 | read;
    if (!i2c_wait(SR1_ADDR)) {
        REG(I2C2_BASE, I2C_SR1) = 0; /* clear AF */
        REG(I2C2_BASE, I2C_CR1) |= CR1_STOP;
        return 0;
    }
    return 1;
}

static int sccb_write(uint8_t reg, uint8_t value)
{
    if (!sccb_address(0))
        return 0;
    (void)REG(I2C2_BASE, I2C_SR2); /* ADDR cleared by SR1 then SR2 */
    REG(I2C2_BASE, I2C_DR) = reg;
    if (!i2c_wait(SR1_TXE))
        return 0;
    REG(I2C2_BASE, I2C_DR) = value;
    const int ok = i2c_wait(SR1_BTF);
    REG(I2C2_BASE, I2C_CR1) |= CR1_STOP;
    return ok;
}

static int sccb_read(uint8_t reg)
{
    if (!sccb_address(0))
        return -1;
    (void)REG(I2C2_BASE, I2C_SR2);
    REG(I2C2_BASE, I2C_DR) = reg;
    if (!i2c_wait(SR1_BTF))
        return -1;
    REG(I2C2_BASE, I2C_CR1) |= CR1_STOP; /* SCCB: STOP between the sub-address and the read */
    if (!sccb_address(1))
        return -1;
    REG(I2C2_BASE, I2C_CR1) &= ~CR1_ACK; /* one byte: NACK it, STOP after it (RM0090 27.3.3, N = 1) */
    (void)REG(I2C2_BASE, I2C_SR2);
    REG(I2C2_BASE, I2C_CR1) |= CR1_STOP;
    if (!i2c_wait(SR1_RXNE))
        return -1;
    return (int)(REG(I2C2_BASE, I2C_DR) & 0xFFu);
}

static void delay_ms(uint32_t ms)
{
    const uint32_t t0 = vclock_ms();
    while (vclock_ms() - t0 < ms) {
    }
}

/* --- pins, clocks, the camera ------------------------------------------------------------------ */
static int camera_setup(void)
{
    REG(RCC_BASE, 0x30) |= 0x1Fu | 1u << 22;  /* AHB1ENR: GPIOA-E, DMA2 */
    REG(RCC_BASE, 0x34) |= 1u << 0;           /* AHB2ENR: DCMI */
    REG(RCC_BASE, 0x40) |= 1u << 22;          /* APB1ENR: I2C2 */
    gpio_af(GPIOB_BASE, 10, 4);               /* I2C2_SCL */
    gpio_af(GPIOB_BASE, 11, 4);               /* I2C2_SDA */
    GPIO_OTYPER(GPIOB_BASE) |= 3u << 10;      /* open drain */
    static const struct { uint32_t port; unsigned pin; } dcmi_pins[] = {
        {GPIOA_BASE, 4}, {GPIOA_BASE, 6}, {GPIOB_BASE, 7},                     /* HSYNC, PIXCLK, VSYNC */
        {GPIOC_BASE, 6}, {GPIOC_BASE, 7}, {GPIOE_BASE, 0}, {GPIOE_BASE, 1},    /* D0-D3 */
        {GPIOE_BASE, 4}, {GPIOB_BASE, 6}, {GPIOE_BASE, 5}, {GPIOE_BASE, 6},    /* D4-D7 */
    };
    for (unsigned i = 0; i < sizeof dcmi_pins / sizeof dcmi_pins[0]; i++)
        gpio_af(dcmi_pins[i].port, dcmi_pins[i].pin, 13); /* AF13: DCMI (DS8626 Table 9) */
    /* I2C2 at 100 kHz from PCLK1 = 42 MHz: CCR = 42 MHz / (2 x 100 kHz), TRISE = 1000 ns x 42 MHz + 1 */
    REG(I2C2_BASE, I2C_CR2) = 42u;
    REG(I2C2_BASE, I2C_CCR) = 210u;
    REG(I2C2_BASE, I2C_TRISE) = 43u;
    REG(I2C2_BASE, I2C_CR1) = CR1_PE;

    if (!sccb_write(0x12, 0x80)) /* COM7: reset every register */
        return 0;
    delay_ms(1);
    const int pid = sccb_read(0x0A), ver = sccb_read(0x0B);
    printf("OV7670 over SCCB: PID %02x VER %02x\n", pid, ver);
    if (pid != 0x76 || ver != 0x73)
        return 0;
    static const uint8_t regs[][2] = {
        {0x12, 0x10}, /* COM7: QVGA, YUV */
        {0x0C, 0x04}, /* COM3: DCW enable */
        {0x72, 0x11}, /* SCALING_DCWCTR: down-sample by 2 both ways: 160x120 */
        {0x40, 0xC0}, /* COM15: output range 00h-FFh */
        {0x11, 0x02}, /* CLKRC: F = XCLK / (2 x 3) = 4 MHz */
        {0x2B, 16},   /* EXHCL: 16 dummy pixels per line (800 pixel times) */
        {0x2D, 115},  /* ADVFL: 115 dummy lines (625 lines): 4 fps */
    };
    for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++)
        if (!sccb_write(regs[i][0], regs[i][1]))
            return 0;
    return 1;
}

static void capture_start(void)
{
    REG(DMA2_BASE, S1PAR) = DCMI_BASE + DCMI_DR;
    REG(DMA2_BASE, S1M0AR) = (uint32_t)(uintptr_t)frames[0];
    REG(DMA2_BASE, S1M1AR) = (uint32_t)(uintptr_t)frames[1];
    REG(DMA2_BASE, S1NDTR) = FRAME_BYTES / 4u;
    /* CHSEL 1, MSIZE/PSIZE word, MINC, double buffer (circular), peripheral to memory, EN */
    REG(DMA2_BASE, S1CR) = 1u << 25 | 1u << 18 | 2u << 13 | 2u << 11 | 1u << 10 | 1u << 8 | 1u;
    REG(DCMI_BASE, DCMI_CWSTRT) = 12u << 16 | 2u * 32u;                          /* VST 12, HOFFCNT 64 */
    REG(DCMI_BASE, DCMI_CWSIZE) = (CAM_HEIGHT - 1u) << 16 | (2u * CAM_WIDTH - 1u); /* VLINE, CAPCNT */
    REG(DCMI_BASE, DCMI_IER) = IT_FRAME | IT_OVR;
    NVIC_ISER(DCMI_IRQn / 32) = 1u << (DCMI_IRQn % 32);
    REG(DCMI_BASE, DCMI_CR) = CR_PCKPOL | CR_VSPOL | CR_CROP; /* continuous, all frames, 8-bit, HSPOL low */
    vclock_start(); /* virtual time 0 = DCMI enabled: the camera's frame k completes at (k + 1) / 4 s */
    REG(DCMI_BASE, DCMI_CR) |= CR_ENABLE;
    REG(DCMI_BASE, DCMI_CR) |= CR_CAPTURE;
}

int main(void)
{
    uint32_t want = app_cmdline_value("frames=", 32);
    if (want < 1)
        want = 32;
    stm32_clock(1); /* 168 MHz from the 8 MHz HSE (RM0090 7.2): APB1 42 MHz for I2C2 */
    vclock_start(); /* after the clock change: semihosting gives the new core clock */
    if (!app_model_init(&interp, arena, sizeof arena, NPIX, 2, "camera_person"))
        return 2;
    tm_tensor_t *in = tm_input(&interp, 0), *out = tm_output(&interp, 0);
    printf("camera_person on %s: OV7670 QQVGA YUV, DCMI crop %ux%u at %u fps, DMA2 double buffer -> person.tflite "
           "(%lu bytes, arena %lu bytes), person when its score + 128 >= %u\n", BOARD_NAME, CAM_WIDTH, CAM_HEIGHT,
           CAM_FPS, (unsigned long)app_model_bytes(), (unsigned long)tm_arena_used(&interp),
           (unsigned)CAM_PERSON_THRESHOLD);
    if (!camera_setup()) {
        printf("camera error: no OV7670 answers on I2C2 at 21h\n");
        return 2;
    }
    capture_start();

    uint32_t lost = 0;
    person_stats_t st = {0};
    while (st.frames < want) {
        __asm volatile("cpsid i" ::: "memory"); /* no FRAME between the test and wfi (wfi wakes on it anyway) */
        while (frames_done == st.frames + lost && !overruns) {
            __asm volatile("wfi");
            __asm volatile("cpsie i\n\tisb\n\tcpsid i" ::: "memory"); /* let the handler run */
        }
        __asm volatile("cpsie i" ::: "memory");
        if (overruns) { /* the frame's words stopped short: the DMA buffers no longer hold frame k in k & 1 */
            printf("camera error: DCMI overrun in frame %lu: stopping\n", (unsigned long)(st.frames + lost));
            lost++;
            break;
        }
        const uint32_t index = st.frames + lost;
        if (frames_done - index > 1) { /* the DMA already wrote into this frame's buffer again */
            lost += frames_done - index - 1;
            continue;
        }
        /* frame k went to buffer k & 1; the DMA is filling the other one */
        const uint8_t *f = frames[index & 1u];
        int8_t *x = (int8_t *)in->data;
        uint32_t sum = 0;
        for (uint32_t i = 0; i < NPIX; i++) {
            x[i] = (int8_t)(f[2 * i] ^ 0x80u); /* Y - 128 */
            sum += f[2 * i] + f[2 * i + 1];
        }
        uint32_t cycles = 0;
        if (!app_timed_invoke(&interp, "camera_person", index, &cycles))
            return 2;
        char extra[32];
        snprintf(extra, sizeof extra, ", bytes sum %lu", (unsigned long)sum);
        person_report(&st, (const int8_t *)out->data, index, cycles, extra);
    }
    REG(DCMI_BASE, DCMI_CR) = 0;
    person_done(&st, lost, "lost");
    return lost ? 1 : 0;
}
#endif
