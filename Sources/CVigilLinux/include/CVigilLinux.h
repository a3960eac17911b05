#ifndef CVIGIL_LINUX_H
#define CVIGIL_LINUX_H

#include <stddef.h>
#include <stdint.h>

/// Continues a CRC-32C (Castagnoli) over `length` bytes from the running state `crc`
/// (start with 0xFFFFFFFF, finish by inverting). Uses the SSE 4.2 or ARMv8 CRC instructions
/// when the CPU has them, a table otherwise.
uint32_t vigil_crc32c_update(uint32_t crc, const void *bytes, size_t length);

#endif
