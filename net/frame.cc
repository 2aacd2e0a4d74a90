#include "net/frame.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "common/assert.h"
#include "common/crc32c.h"

namespace ringraft::net {
namespace {

// The smallest FlatBuffer with a file identifier: root offset u32 + identifier.
constexpr size_t kFlatBufferBytesMin = 8;

uint32_t load_u32_le(const std::byte* p) {
  uint32_t value = 0;
  std::memcpy(&value, p, sizeof(value));
  static_assert(std::endian::native == std::endian::little, "wire format is little-endian");
  return value;
}

void store_u32_le(std::byte* p, uint32_t value) {
  std::memcpy(p, &value, sizeof(value));
}

bool is_known_body(wire::Body body) {
  return body != wire::Body::NONE &&
         static_cast<uint8_t>(body) <= static_cast<uint8_t>(wire::Body::MAX);
}

}  // namespace

const char* frame_error_name(FrameError error) {
  switch (error) {
    case FrameError::kTooLarge:
      return "too_large";
    case FrameError::kBadCrc:
      return "bad_crc";
    case FrameError::kWrongRoot:
      return "wrong_root";
    case FrameError::kInvalidFlatBuffer:
      return "invalid_flatbuffer";
    case FrameError::kUnknownBody:
      return "unknown_body";
    case FrameError::kTruncated:
      return "truncated";
  }
  return "unknown";
}

size_t encode_frame(ConstByteSpan flatbuffer, ByteSpan out) {
  RR_ASSERT(!flatbuffer.empty());
  RR_ASSERT(flatbuffer.size() <= std::numeric_limits<uint32_t>::max());
  const size_t total_bytes = frame_bytes(flatbuffer.size());
  if (out.size() < total_bytes) return 0;
  store_u32_le(out.data(), static_cast<uint32_t>(flatbuffer.size()));
  store_u32_le(out.data() + 4, crc32c(flatbuffer));
  std::memcpy(out.data() + kFrameHeaderBytes, flatbuffer.data(), flatbuffer.size());
  return total_bytes;
}

FrameDecoder::FrameDecoder(const FrameLimits& limits, FrameCounters* counters)
    : limits_(limits),
      counters_(counters),
      buffer_(kFrameHeaderBytes + limits.frame_bytes_max, kWireAlignBytes) {
  RR_ASSERT(counters_ != nullptr);
  RR_ASSERT(limits_.frame_bytes_max >= kFlatBufferBytesMin);
  RR_ASSERT(limits_.verifier_depth_max > 0 && limits_.verifier_tables_max > 0);
}

void FrameDecoder::reset() {
  read_pos_ = 0;
  write_pos_ = 0;
  stream_offset_ = 0;
  failure_.reset();
  failure_offset_ = 0;
  failure_detail_ = 0;
}

void FrameDecoder::check_invariants() const {
  RR_ASSERT(read_pos_ <= write_pos_);
  RR_ASSERT(write_pos_ <= buffer_.capacity_bytes());
  RR_ASSERT(!failure_ || buffered_bytes() == 0);
}

// Moves the unconsumed bytes to the start of the buffer (which is 8-byte aligned).
void FrameDecoder::compact() {
  const size_t unread_bytes = buffered_bytes();
  if (read_pos_ > 0 && unread_bytes > 0) {
    std::memmove(buffer_.data(), buffer_.data() + read_pos_, unread_bytes);
  }
  read_pos_ = 0;
  write_pos_ = unread_bytes;
}

size_t FrameDecoder::feed(ConstByteSpan chunk) {
  if (failure_) return chunk.size();  // nothing more of this stream is read
  if (read_pos_ == write_pos_ || buffer_.capacity_bytes() - write_pos_ < chunk.size()) compact();
  const size_t copy_bytes = std::min(chunk.size(), buffer_.capacity_bytes() - write_pos_);
  if (copy_bytes > 0) std::memcpy(buffer_.data() + write_pos_, chunk.data(), copy_bytes);
  write_pos_ += copy_bytes;
  RR_ASSERT(write_pos_ <= buffer_.capacity_bytes());
  return copy_bytes;
}

Error FrameDecoder::fail(FrameError error, uint64_t offset, uint64_t detail) {
  if (!failure_) {
    failure_ = error;
    failure_offset_ = offset;
    failure_detail_ = detail;
    counters_->errors_by_reason[static_cast<size_t>(error)] += 1;
    // Nothing after a bad frame can be trusted: drop it all.
    read_pos_ = 0;
    write_pos_ = 0;
  }
  return Error(ErrorCode::kInvalidInput,
               fmt::format("frame at stream offset {}: {} ({} bytes; frame max {} bytes); closing "
                           "the connection",
                           failure_offset_, frame_error_name(*failure_), failure_detail_,
                           limits_.frame_bytes_max));
}

Result<std::optional<DecodedFrame>> FrameDecoder::next() {
  if (failure_) return fail(*failure_, failure_offset_, failure_detail_);
  if (buffered_bytes() < kFrameHeaderBytes) return std::optional<DecodedFrame>();
  const uint32_t length_bytes = load_u32_le(buffer_.data() + read_pos_);
  const uint32_t crc = load_u32_le(buffer_.data() + read_pos_ + 4);
  // Refuse an oversized length before buffering its body: it bounds memory per connection.
  if (length_bytes > limits_.frame_bytes_max) {
    return fail(FrameError::kTooLarge, stream_offset_, length_bytes);
  }
  if (buffered_bytes() < frame_bytes(length_bytes)) return std::optional<DecodedFrame>();
  // The Verifier and the generated accessors read scalars in place: the FlatBuffer must be
  // 8-byte aligned in memory. Frames we encode keep that (wire.h); others pay one move.
  if ((read_pos_ + kFrameHeaderBytes) % kWireAlignBytes != 0) compact();
  return verify(length_bytes, crc);
}

Result<std::optional<DecodedFrame>> FrameDecoder::verify(uint32_t length_bytes, uint32_t crc) {
  const std::byte* flatbuffer_begin = buffer_.data() + read_pos_ + kFrameHeaderBytes;
  RR_ASSERT(reinterpret_cast<uintptr_t>(flatbuffer_begin) % kWireAlignBytes == 0);
  RR_ASSERT(read_pos_ + frame_bytes(length_bytes) <= write_pos_);
  const ConstByteSpan flatbuffer(flatbuffer_begin, length_bytes);
  if (crc32c(flatbuffer) != crc) return fail(FrameError::kBadCrc, stream_offset_, length_bytes);

  const auto* bytes = reinterpret_cast<const uint8_t*>(flatbuffer_begin);
  if (length_bytes < kFlatBufferBytesMin ||
      !flatbuffers::BufferHasIdentifier(bytes, wire::MessageIdentifier())) {
    return fail(FrameError::kWrongRoot, stream_offset_, length_bytes);
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = limits_.verifier_depth_max;
  options.max_tables = limits_.verifier_tables_max;
  options.check_alignment = true;
  flatbuffers::Verifier verifier(bytes, length_bytes, options);
  if (!wire::VerifyMessageBuffer(verifier)) {
    return fail(FrameError::kInvalidFlatBuffer, stream_offset_, length_bytes);
  }
  const wire::Message* message = wire::GetMessage(bytes);
  if (!is_known_body(message->body_type()) || message->body() == nullptr) {
    return fail(FrameError::kUnknownBody, stream_offset_, length_bytes);
  }

  read_pos_ += frame_bytes(length_bytes);
  stream_offset_ += frame_bytes(length_bytes);
  counters_->frames_accepted += 1;
  return std::optional<DecodedFrame>(DecodedFrame{flatbuffer, message});
}

Result<void> FrameDecoder::finish() {
  if (failure_) return fail(*failure_, failure_offset_, failure_detail_);
  if (buffered_bytes() > 0) return fail(FrameError::kTruncated, stream_offset_, buffered_bytes());
  return {};
}

}  // namespace ringraft::net
