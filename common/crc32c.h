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

}  // namespace ringraft
