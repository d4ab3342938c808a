#include "kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* For each 4-bit mask, the 32-bit lane pairs of the kept 64-bit values, moved to the front. */
static const uint32_t pack64[16][8] = {
#define P(a, b, c, d) {2*a, 2*a+1, 2*b, 2*b+1, 2*c, 2*c+1, 2*d, 2*d+1}
    P(0,0,0,0), P(0,0,0,0), P(1,0,0,0), P(0,1,0,0),
    P(2,0,0,0), P(0,2,0,0), P(1,2,0,0), P(0,1,2,0),
    P(3,0,0,0), P(0,3,0,0), P(1,3,0,0), P(0,1,3,0),
    P(2,3,0,0), P(0,2,3,0), P(1,2,3,0), P(0,1,2,3),
#undef P
};

/* For each 8-bit mask, the kept 32-bit lanes moved to the front, one byte each. */
static uint64_t pack32[256];
/* Whether this CPU runs the AVX2 loops. */
static bool avx2;

__attribute__((constructor)) static void mlsh_compact_setup(void) {
    for (uint32_t m = 0; m < 256; m++) {
        uint64_t packed = 0;
        uint32_t k = 0;
        for (uint32_t lane = 0; lane < 8; lane++)
            if (m & (1u << lane)) packed |= (uint64_t)lane << (8 * k++);
        pack32[m] = packed;
    }
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
}

/* 32 mask bytes (each 0 or 1) as 32 bits. */
__attribute__((target("avx2"))) static inline uint32_t bits32(const bool *m) {
    __m256i v = _mm256_loadu_si256((const __m256i *)m);
    return (uint32_t)_mm256_movemask_epi8(_mm256_slli_epi16(v, 7));
}

__attribute__((target("avx2,popcnt"))) static size_t compact64_avx2(const uint64_t *src, const bool *mask, size_t n,
                                                                     uint64_t *dst, size_t room, size_t *done) {
    size_t i = 0, k = 0;
    /* Each block of 32 rows writes at most 32 slots from k (4 at a time, each store at
     * most 3 past the last kept value), so it runs only while they fit. */
    for (; i + 32 <= n && k + 32 <= room; i += 32) {
        uint32_t bits = bits32(mask + i);
        if (bits == 0) continue;
        if (bits == 0xFFFFFFFFu) { memcpy(dst + k, src + i, 32 * sizeof *src); k += 32; continue; }
        for (int g = 0; g < 8; g++) {
            uint32_t nib = (bits >> (4 * g)) & 0xF;
            __m256i v = _mm256_loadu_si256((const __m256i *)(src + i + 4 * g));
            __m256i perm = _mm256_loadu_si256((const __m256i *)pack64[nib]);
            _mm256_storeu_si256((__m256i *)(dst + k), _mm256_permutevar8x32_epi32(v, perm));
            k += (size_t)__builtin_popcount(nib);
        }
    }
    *done = i;
    return k;
}

__attribute__((target("avx2,popcnt"))) static size_t compact32_avx2(const uint32_t *src, const bool *mask, size_t n,
                                                                          uint32_t *dst, size_t room, size_t *done) {
    size_t i = 0, k = 0;
    for (; i + 32 <= n && k + 32 <= room; i += 32) {
        uint32_t bits = bits32(mask + i);
        if (bits == 0) continue;
        if (bits == 0xFFFFFFFFu) { memcpy(dst + k, src + i, 32 * sizeof *src); k += 32; continue; }
        for (int g = 0; g < 4; g++) {
            uint32_t byte = (bits >> (8 * g)) & 0xFF;
            __m256i v = _mm256_loadu_si256((const __m256i *)(src + i + 8 * g));
            __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)pack32[byte]));
            _mm256_storeu_si256((__m256i *)(dst + k), _mm256_permutevar8x32_epi32(v, perm));
            k += (size_t)__builtin_popcount(byte);
        }
    }
    *done = i;
    return k;
}

#endif

/* Branch-free: every row is written where the next kept value goes and the position
 * advances by the mask, while there is room. */
#define COMPACT_TAIL(src, mask, n, dst, room, i, k) \
    for (; i < n && k < room; i++) { dst[k] = src[i]; k += mask[i]; }

size_t mlsh_compact64(const uint64_t *src, const bool *mask, size_t n, uint64_t *dst, size_t room) {
    size_t i = 0, k = 0;
#if defined(__x86_64__)
    if (avx2) k = compact64_avx2(src, mask, n, dst, room, &i);
#endif
    COMPACT_TAIL(src, mask, n, dst, room, i, k)
    return k;
}

size_t mlsh_compact32(const uint32_t *src, const bool *mask, size_t n, uint32_t *dst, size_t room) {
    size_t i = 0, k = 0;
#if defined(__x86_64__)
    if (avx2) k = compact32_avx2(src, mask, n, dst, room, &i);
#endif
    COMPACT_TAIL(src, mask, n, dst, room, i, k)
    return k;
}
