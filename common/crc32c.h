// CRC32C (Castagnoli), the checksum of WAL batches and network frames.
//
// Backed by ISA-L's crc32_iscsi, which picks the fastest kernel for the CPU (SSE4.2 crc32
// instruction with carry-less multiply folding) at load time. We use a library rather than our
// own loop because a correct, hardware-accelerated CRC over many streams is its whole job.
#pragma once

#include <cstdint>

#include "common/bytes.h"

namespace ringraft {

// The standard CRC32C of `bytes` (crc32c("123456789") == 0xE3069283).
uint32_t crc32c(ConstByteSpan bytes);

// Continues a CRC32C: crc32c_extend(crc32c(a), b) == crc32c(a ++ b).
uint32_t crc32c_extend(uint32_t crc, ConstByteSpan bytes);

// The CRC32C of a ++ b from crc32c(a), crc32c(b) and b's length, without reading a byte of
// either: crc32c_combine(crc32c(a), crc32c(b), b.size()) == crc32c(a ++ b). Lets a frame's CRC
// come from the CRC a block already carries (the WAL's) and those of the few bytes around it.
// Costs one 32-step GF(2) multiply per set bit of `second_bytes` (under a microsecond), whatever
// the length.
uint32_t crc32c_combine(uint32_t first_crc, uint32_t second_crc, uint64_t second_bytes);

}  // namespace ringraft
