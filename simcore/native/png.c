/*
 * PNG scanline reconstruction for camera recordings (simcore/sources/png.py; Pillow decodes every file this
 * does not take, and is what the tests compare it with).
 *
 * W3C PNG specification (Second Edition, ISO/IEC 15948:2003), section 9 "Filtering": each scanline is one
 * filter-type byte followed by the filtered bytes; the reconstruction adds the predictor to each byte modulo
 * 256, with a = the byte bpp bytes to the left, b = the byte above, c = the byte above and to the left (0 outside
 * the image): type 0 None, 1 Sub (a), 2 Up (b), 3 Average (floor((a + b) / 2)), 4 Paeth (9.4: the one of a, b, c
 * closest to a + b - c, ties in the order a, b, c). The zlib stream is inflated by Python's zlib before this.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int64_t png_abi_version(void) { return 1; }

static uint8_t paeth(int a, int b, int c)
{
    const int p = a + b - c;
    const int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return (uint8_t)a;
    return (uint8_t)(pb <= pc ? b : c);
}

/* One scanline of type 1-4 (``up`` is the previous reconstructed scanline, zeros above the first). Inlined with
 * bpp a constant (1 gray, 3 RGB), the byte to the left stays in a register. */
__attribute__((always_inline)) static inline int unfilter_row(uint8_t type, const uint8_t *restrict src, const uint8_t *restrict up,
                               uint8_t *restrict dst, int64_t stride,
                               const int64_t bpp)
{
    int64_t i = 0;
    const int64_t first = stride < bpp ? stride : bpp;
    switch (type) {
    case 1:
        for (; i < first; i++)
            dst[i] = src[i];
        for (; i < stride; i++)
            dst[i] = (uint8_t)(src[i] + dst[i - bpp]);
        return 0;
    case 2:
        for (; i < stride; i++)
            dst[i] = (uint8_t)(src[i] + up[i]);
        return 0;
    case 3:
        for (; i < first; i++)
            dst[i] = (uint8_t)(src[i] + (up[i] >> 1));
        for (; i < stride; i++)
            dst[i] = (uint8_t)(src[i] + ((dst[i - bpp] + up[i]) >> 1));
        return 0;
    case 4:
        for (; i < first; i++)
            dst[i] = (uint8_t)(src[i] + up[i]); /* a = c = 0: Paeth picks b */
        for (; i < stride; i++)
            dst[i] = (uint8_t)(src[i] + paeth(dst[i - bpp], up[i], up[i - bpp]));
        return 0;
    default:
        return 1;
    }
}

/* raw: h scanlines of 1 + stride bytes; out: h * stride bytes (stride = width * bytes per pixel, bpp = bytes per
 * pixel, both at 8 bits per sample). Returns 0, or 1 + the index of the first scanline whose filter type is not
 * 0-4 (out is then incomplete), or -1 when memory for a row of zeros was not available. */
int64_t png_unfilter(const uint8_t *raw, int64_t h, int64_t stride, int64_t bpp, uint8_t *out)
{
    uint8_t *zeros = calloc((size_t)(stride > 0 ? stride : 1), 1); /* the scanline "above" the first */
    if (!zeros)
        return -1;
    const uint8_t *up = zeros;
    int64_t bad = 0;
    for (int64_t y = 0; y < h && !bad; y++) {
        const uint8_t *src = raw + y * (stride + 1);
        const uint8_t type = *src++;
        uint8_t *dst = out + y * stride;
        int fail;
        if (type == 0) {
            memcpy(dst, src, (size_t)stride);
            fail = 0;
        } else if (bpp == 1) {
            fail = unfilter_row(type, src, up, dst, stride, 1);
        } else if (bpp == 3) {
            fail = unfilter_row(type, src, up, dst, stride, 3);
        } else {
            fail = unfilter_row(type, src, up, dst, stride, bpp);
        }
        if (fail)
            bad = y + 1;
        up = dst;
    }
    free(zeros);
    return bad;
}
