/* it_blocks: IT blocks whose conditions pass and fail (it_blocks.S); prints a checksum. */
#include <stdint.h>
#include <stdio.h>

uint32_t it_mix(uint32_t x);
uint32_t it_ret(uint32_t x);
uint32_t it_pop(uint32_t x);
uint32_t it_across_page(uint32_t x);

int main(void)
{
    uint32_t sum = 0;
    for (uint32_t x = 0; x < 16; x++) {
        sum = sum * 31u + it_mix(x);
        sum = sum * 31u + it_ret(x);
        sum = sum * 31u + it_pop(x & 3u);
        sum = sum * 31u + it_across_page(x & 3u);
    }
    printf("it_blocks: checksum %08lx\n", (unsigned long)sum);
    return 0;
}
