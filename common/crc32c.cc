#include "common/crc32c.h"

#include <isa-l/crc.h>

#include <climits>

#include "common/assert.h"

namespace ringraft {

uint32_t crc32c_extend(uint32_t crc, ConstByteSpan bytes) {
  // ISA-L works on the un-inverted register; the standard CRC32C inverts in and out.
  uint32_t state = ~crc;
  auto* cursor = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(bytes.data()));
  size_t remaining = bytes.size();
  while (remaining > 0) {  // crc32_iscsi takes an int length: feed at most INT_MAX at a time
    const size_t chunk = remaining > INT_MAX ? INT_MAX : remaining;
    state = crc32_iscsi(cursor, static_cast<int>(chunk), state);
    cursor += chunk;
    remaining -= chunk;
  }
  return ~state;
}

uint32_t crc32c(ConstByteSpan bytes) {
  return crc32c_extend(0, bytes);
}

}  // namespace ringraft
