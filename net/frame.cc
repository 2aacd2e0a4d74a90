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

// The FlatBuffers Verifier (2.0) checks a vector's length field for alignment, not its
// elements: a [uint64] vector at 4 mod 8 passes it and every element read is a misaligned load
// (found by net_frame_in_place_fuzz). Our only such vectors are InstallSnapshot's.
bool has_misaligned_vectors(const wire::Message& message) {
  const wire::InstallSnapshot* snapshot = message.body_as_InstallSnapshot();
  if (snapshot == nullptr) return false;
  for (const flatbuffers::Vector<uint64_t>* ids : {snapshot->voters(), snapshot->learners()}) {
    // An empty vector has no element to read, and the builder does not align its (absent)
    // data: a cluster without learners sends one in every snapshot chunk.
    if (ids != nullptr && ids->size() > 0 &&
        reinterpret_cast<uintptr_t>(ids->data()) % alignof(uint64_t) != 0) {
      return true;
    }
  }
  return false;
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
  buffered_bytes_ = 0;
  body_crc_ = 0;
  stream_offset_ = 0;
  failure_.reset();
  failure_offset_ = 0;
  failure_detail_ = 0;
}

void FrameDecoder::check_invariants() const {
  RR_ASSERT(buffered_bytes_ <= buffer_.capacity_bytes());
  RR_ASSERT(!failure_ || buffered_bytes_ == 0);
  if (buffered_bytes_ >= kFrameHeaderBytes) {
    const uint32_t length_bytes = load_u32_le(buffer_.data());
    RR_ASSERT(length_bytes > limits_.frame_bytes_max ||
              buffered_bytes_ <= frame_bytes(length_bytes));
  }
}

size_t FrameDecoder::wanted_bytes() const {
  if (buffered_bytes_ < kFrameHeaderBytes) return kFrameHeaderBytes - buffered_bytes_;
  const uint32_t length_bytes = load_u32_le(buffer_.data());
  if (length_bytes > limits_.frame_bytes_max) return 0;  // next() refuses it
  return frame_bytes(length_bytes) - buffered_bytes_;
}

size_t FrameDecoder::feed(ConstByteSpan chunk) {
  if (failure_) return chunk.size();  // nothing more of this stream is read
  size_t taken_bytes = 0;
  // Twice at most: the rest of the header, then the rest of the body it announces.
  while (taken_bytes < chunk.size()) {
    const size_t copy_bytes = std::min(wanted_bytes(), chunk.size() - taken_bytes);
    if (copy_bytes == 0) break;
    const bool body = buffered_bytes_ >= kFrameHeaderBytes;
    std::memcpy(buffer_.data() + buffered_bytes_, chunk.data() + taken_bytes, copy_bytes);
    // The body's CRC is taken while its bytes are hot from the copy, not in a second pass
    // over the whole frame in next().
    if (body) body_crc_ = crc32c_extend(body_crc_, chunk.subspan(taken_bytes, copy_bytes));
    if (!body && buffered_bytes_ + copy_bytes == kFrameHeaderBytes) body_crc_ = crc32c({});
    buffered_bytes_ += copy_bytes;
    taken_bytes += copy_bytes;
  }
  RR_ASSERT(buffered_bytes_ <= buffer_.capacity_bytes());
  return taken_bytes;
}

ByteSpan FrameDecoder::receive_space() {
  if (failure_) return {};
  // wanted_bytes() is 0 for an oversized length: next() refuses the frame instead.
  return ByteSpan(buffer_.data() + buffered_bytes_, wanted_bytes());
}

void FrameDecoder::commit_received(size_t received_bytes) {
  RR_ASSERT(!failure_);
  RR_ASSERT(received_bytes <= wanted_bytes());  // so never across the header's end
  if (buffered_bytes_ < kFrameHeaderBytes) {
    buffered_bytes_ += received_bytes;
    if (buffered_bytes_ == kFrameHeaderBytes) body_crc_ = crc32c({});
    return;
  }
  const ConstByteSpan received(buffer_.data() + buffered_bytes_, received_bytes);
  body_crc_ = crc32c_extend(body_crc_, received);
  buffered_bytes_ += received_bytes;
}

Error FrameDecoder::fail(FrameError error, uint64_t offset, uint64_t detail) {
  if (!failure_) {
    failure_ = error;
    failure_offset_ = offset;
    failure_detail_ = detail;
    counters_->errors_by_reason[static_cast<size_t>(error)] += 1;
    // Nothing after a bad frame can be trusted: drop it all.
    buffered_bytes_ = 0;
  }
  return Error(ErrorCode::kInvalidInput,
               fmt::format("frame at stream offset {}: {} ({} bytes; frame max {} bytes); closing "
                           "the connection",
                           failure_offset_, frame_error_name(*failure_), failure_detail_,
                           limits_.frame_bytes_max));
}

Result<std::optional<DecodedFrame>> FrameDecoder::next() {
  if (failure_) return fail(*failure_, failure_offset_, failure_detail_);
  if (buffered_bytes_ < kFrameHeaderBytes) return std::optional<DecodedFrame>();
  const uint32_t length_bytes = load_u32_le(buffer_.data());
  const uint32_t crc = load_u32_le(buffer_.data() + 4);
  // Refuse an oversized length before buffering its body: it bounds memory per connection.
  if (length_bytes > limits_.frame_bytes_max) {
    return fail(FrameError::kTooLarge, stream_offset_, length_bytes);
  }
  if (buffered_bytes_ < frame_bytes(length_bytes)) return std::optional<DecodedFrame>();
  RR_ASSERT(buffered_bytes_ == frame_bytes(length_bytes));  // feed() stops at the frame's end
  Result<std::optional<DecodedFrame>> frame =
      verify(buffer_.data() + kFrameHeaderBytes, length_bytes, crc, body_crc_);
  // The frame stays readable in the buffer until the next feed(), which starts over at 0.
  if (frame.ok()) buffered_bytes_ = 0;
  return frame;
}

Result<std::optional<DecodedFrame>> FrameDecoder::next_in_place(ConstByteSpan bytes,
                                                                size_t* consumed_bytes) {
  *consumed_bytes = 0;
  if (failure_) return fail(*failure_, failure_offset_, failure_detail_);
  if (buffered_bytes_ > 0 || bytes.size() < kFrameHeaderBytes) return std::optional<DecodedFrame>();
  const uint32_t length_bytes = load_u32_le(bytes.data());
  const uint32_t crc = load_u32_le(bytes.data() + 4);
  if (length_bytes > limits_.frame_bytes_max) {
    return fail(FrameError::kTooLarge, stream_offset_, length_bytes);
  }
  const std::byte* flatbuffer_begin = bytes.data() + kFrameHeaderBytes;
  // The Verifier and the generated accessors read scalars in place: a misaligned FlatBuffer
  // (a chunk that began mid-frame at an odd offset) takes the copying path instead.
  if (bytes.size() < frame_bytes(length_bytes) ||
      reinterpret_cast<uintptr_t>(flatbuffer_begin) % kWireAlignBytes != 0) {
    return std::optional<DecodedFrame>();
  }
  const uint32_t computed_crc = crc32c(ConstByteSpan(flatbuffer_begin, length_bytes));
  Result<std::optional<DecodedFrame>> frame =
      verify(flatbuffer_begin, length_bytes, crc, computed_crc);
  if (frame.ok()) {
    *consumed_bytes = frame_bytes(length_bytes);
    counters_->frames_in_place += 1;
  }
  return frame;
}

Result<std::optional<DecodedFrame>> FrameDecoder::poll(ConstByteSpan* unconsumed) {
  while (true) {
    size_t in_place_bytes = 0;
    Result<std::optional<DecodedFrame>> frame = next_in_place(*unconsumed, &in_place_bytes);
    if (frame.ok() && !frame.value().has_value()) frame = next();
    if (!frame.ok()) {
      *unconsumed = {};
      return frame;
    }
    *unconsumed = unconsumed->subspan(in_place_bytes);
    if (frame.value().has_value() || unconsumed->empty()) return frame;
    // next() returned nullopt, so feed() takes at least one byte (see feed()).
    const size_t taken = feed(*unconsumed);
    RR_ASSERT(taken > 0);
    *unconsumed = unconsumed->subspan(taken);
  }
}

Result<std::optional<DecodedFrame>> FrameDecoder::verify(const std::byte* flatbuffer_begin,
                                                         uint32_t length_bytes, uint32_t crc,
                                                         uint32_t computed_crc) {
  RR_ASSERT(reinterpret_cast<uintptr_t>(flatbuffer_begin) % kWireAlignBytes == 0);
  const ConstByteSpan flatbuffer(flatbuffer_begin, length_bytes);
  if (computed_crc != crc) return fail(FrameError::kBadCrc, stream_offset_, length_bytes);

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
  if (!wire::VerifyMessageBuffer(verifier) || has_misaligned_vectors(*wire::GetMessage(bytes))) {
    return fail(FrameError::kInvalidFlatBuffer, stream_offset_, length_bytes);
  }
  const wire::Message* message = wire::GetMessage(bytes);
  if (!is_known_body(message->body_type()) || message->body() == nullptr) {
    return fail(FrameError::kUnknownBody, stream_offset_, length_bytes);
  }

  stream_offset_ += frame_bytes(length_bytes);
  counters_->frames_accepted += 1;
  return std::optional<DecodedFrame>(DecodedFrame{flatbuffer, message});
}

Result<void> FrameDecoder::finish() {
  if (failure_) return fail(*failure_, failure_offset_, failure_detail_);
  if (buffered_bytes_ > 0) return fail(FrameError::kTruncated, stream_offset_, buffered_bytes_);
  return {};
}

}  // namespace ringraft::net
