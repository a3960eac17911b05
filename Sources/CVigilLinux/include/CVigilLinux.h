#ifndef CVIGIL_LINUX_H
#define CVIGIL_LINUX_H

#include <stddef.h>
#include <stdint.h>

/// Continues a CRC-32C (Castagnoli) over `length` bytes from the running state `crc`
/// (start with 0xFFFFFFFF, finish by inverting). Uses the SSE 4.2 or ARMv8 CRC instructions
/// when the CPU has them, a table otherwise.
uint32_t vigil_crc32c_update(uint32_t crc, const void *bytes, size_t length);

/// One needle of a multi-needle search: `length` bytes at `start` in the shared needle bytes,
/// lowercase where `fold` (then ASCII letters of the text match either case). Two of its
/// positions, `anchor1` <= `anchor2` (rare bytes, chosen by the caller), are compared for all
/// needles at once, 16 or 32 text positions a step; only where both agree is the needle compared.
typedef struct {
    uint32_t start;
    uint32_t length;
    uint32_t anchor1;
    uint32_t anchor2;
    uint8_t fold;
} vigil_needle;

/// The smallest position p in [from, to) where some needle lies whole inside [p, to) and
/// matches, or -1.
int64_t vigil_needles_find(const uint8_t *text, int64_t from, int64_t to,
                           const vigil_needle *needles, int32_t count, const uint8_t *needle_bytes);

/// Whether needle `k` matches the text at `p` (the needle must fit before `to`).
int32_t vigil_needle_matches(const uint8_t *text, int64_t p, int64_t to,
                             const vigil_needle *needle, const uint8_t *needle_bytes);

#endif
