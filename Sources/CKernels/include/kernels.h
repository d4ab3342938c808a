/* Loops MLShEngine runs in C for the instructions Swift does not reach (AVX2, chosen at run time). */
#ifndef MLSH_KERNELS_H
#define MLSH_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Copies src[i] for each i < n where mask[i] is true to dst, in order, and returns how
 * many it copied. dst holds `room` values; the copy stops once it is full, and nothing
 * is ever written past it. 8-byte and 4-byte values (any type of that size). */
size_t mlsh_compact64(const uint64_t *src, const bool *mask, size_t n, uint64_t *dst, size_t room);
size_t mlsh_compact32(const uint32_t *src, const bool *mask, size_t n, uint32_t *dst, size_t room);

#endif
