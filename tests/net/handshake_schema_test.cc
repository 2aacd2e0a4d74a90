// The flatc-generated code is wired into the build: build, verify and read a Handshake.
#include <gtest/gtest.h>

#include <vector>

#include "net/schema/handshake_generated.h"

namespace ringraft {
namespace {

TEST(HandshakeSchema, RoundTripsThroughTheVerifier) {
  flatbuffers::FlatBufferBuilder builder(128);
  builder.Finish(wire::CreateHandshake(builder, /*cluster_id=*/0xC1u, /*node_id=*/3, /*shard=*/1,
                                       /*protocol_version=*/1));
  flatbuffers::Verifier verifier(builder.GetBufferPointer(), builder.GetSize());
  ASSERT_TRUE(wire::VerifyHandshakeBuffer(verifier));
  const wire::Handshake* handshake = wire::GetHandshake(builder.GetBufferPointer());
  EXPECT_EQ(handshake->cluster_id(), 0xC1u);
  EXPECT_EQ(handshake->node_id(), 3u);
  EXPECT_EQ(handshake->shard(), 1u);
  EXPECT_EQ(handshake->protocol_version(), 1u);
}

TEST(HandshakeSchema, VerifierRejectsATruncatedBuffer) {
  flatbuffers::FlatBufferBuilder builder(128);
  builder.Finish(wire::CreateHandshake(builder, 1, 2, 3, 4));
  std::vector<uint8_t> bytes(builder.GetBufferPointer(),
                             builder.GetBufferPointer() + builder.GetSize());
  bytes.resize(bytes.size() / 2);
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  EXPECT_FALSE(wire::VerifyHandshakeBuffer(verifier));
}

}  // namespace
}  // namespace ringraft
