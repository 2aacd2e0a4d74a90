#include "common/crc32c.h"

#include <isa-l/crc.h>

#include <climits>

#include "common/assert.h"

namespace ringraft {
namespace {

// CRC32C's polynomial, bit-reflected as the CRC register holds it: bit 31 is x^0, bit 0 x^31.
constexpr uint32_t kReflectedPolynomial = 0x82F63B78u;
constexpr uint32_t kXPower0 = 1u << 31;  // the polynomial 1, reflected

// a * b mod P over GF(2), both reflected.
constexpr uint32_t multiply_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  // Walk a's terms from x^0 up; b holds b * x^i at step i.
  for (uint32_t term = kXPower0; term != 0; term >>= 1) {
    if ((a & term) != 0) product ^= b;
    b = (b & 1u) != 0 ? (b >> 1) ^ kReflectedPolynomial : b >> 1;
  }
  return product;
}

// x^(8 * 2^k) mod P for k = 0..63: the factor that shifts a CRC register past 2^k zero bytes.
struct ZeroBytePowers {
  uint32_t power[64];
};

constexpr ZeroBytePowers make_zero_byte_powers() {
  ZeroBytePowers table{};
  uint32_t x_power_8 = kXPower0;
  for (int i = 0; i < 8; i++) x_power_8 = multiply_mod_p(x_power_8, kXPower0 >> 1);  // * x
  table.power[0] = x_power_8;
  for (int k = 1; k < 64; k++)
    table.power[k] = multiply_mod_p(table.power[k - 1], table.power[k - 1]);
  return table;
}

constexpr ZeroBytePowers kZeroBytePowers = make_zero_byte_powers();

}  // namespace

uint32_t crc32c_combine(uint32_t first_crc, uint32_t second_crc, uint64_t second_bytes) {
  // The standard CRC's inversions cancel out: crc(a ++ b) = crc(a) * x^(8 |b|) mod P ^ crc(b)
  // (the register is linear in its start value, and crc(b) carries the same ~0 start shifted).
  uint32_t shifted = first_crc;
  for (int k = 0; second_bytes != 0; k++, second_bytes >>= 1) {
    if ((second_bytes & 1u) != 0) shifted = multiply_mod_p(shifted, kZeroBytePowers.power[k]);
  }
  return shifted ^ second_crc;
}

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
