// Test helpers for net/: one sample of every wire message, framing helpers, and a reader that
// touches every field of a verified Message (so sanitizers see any read outside the frame).
// Shared by the net tests and the fuzz seed generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/frame.h"
#include "net/wire.h"

namespace ringraft::net::testing {

struct SampleMessage {
  wire::Body body_type = wire::Body::NONE;
  std::vector<std::byte> flatbuffer;  // a finished Message
};

// One Message of every Body member, with distinctive field values (see wire_samples.cc).
std::vector<SampleMessage> one_of_each_message();

// Builds, in `builder`, an AppendEntries from node 1 to node 2 whose entry block is
// `entries_bytes` bytes of `fill` (begin_message to finish_message).
void build_append_entries(flatbuffers::FlatBufferBuilder& builder, uint64_t group,
                          uint32_t entry_count, size_t entries_bytes, uint8_t fill);

// The same as a finished FlatBuffer of its own.
std::vector<std::byte> append_entries_message(uint64_t group, uint32_t entry_count,
                                              size_t entries_bytes, uint8_t fill);

std::vector<std::byte> builder_bytes(const flatbuffers::FlatBufferBuilder& builder);

// The frame around `flatbuffer` (encode_frame into a vector of the exact size).
std::vector<std::byte> frame_of(const std::vector<std::byte>& flatbuffer);

// Reads every field, vector element and byte of a verified message; returns a digest.
uint64_t read_every_field(const wire::Message& message);

// Feeds `chunk` through `decoder` the documented way, appending each accepted frame's
// FlatBuffer to `frames`. Returns false once the decoder fails.
bool feed_and_drain(FrameDecoder& decoder, ConstByteSpan chunk,
                    std::vector<std::vector<std::byte>>* frames);

// The seed of a randomized test: RINGRAFT_NET_SEED if set (to replay a failure), else a fresh
// one. Prints it either way.
uint64_t test_seed();

}  // namespace ringraft::net::testing
