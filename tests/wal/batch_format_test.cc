// The batch format: every record kind round-trips, and the decoder rejects anything else
// without reading outside its span.
#include "wal/batch_format.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "common/crc32c.h"
#include "tests/wal/wal_test_util.h"

namespace ringraft::wal {
namespace {

using testing::payload_bytes;

struct Encoded {
  std::vector<std::byte> buffer;
  std::vector<std::byte> batch;  // the finished, padded batch
};

// One batch with every record kind.
Encoded encode_sample(Seq seq = Seq(7)) {
  Encoded encoded;
  encoded.buffer.resize(4096);
  BatchEncoder encoder(encoded.buffer);
  encoder.begin(seq);
  const std::vector<uint32_t> lengths = {3, 0, 17, 100};
  const std::vector<std::byte> payload = payload_bytes(1, 120);
  EXPECT_TRUE(encoder.add_entries(GroupId(5), Term(3), LogIndex(10), lengths, payload));
  EXPECT_TRUE(encoder.add_hard_state(GroupId(5), Term(4), NodeId(2), LogIndex(9)));
  EXPECT_TRUE(encoder.add_snapshot_mark(GroupId(6), LogIndex(1000), Term(2)));
  EXPECT_TRUE(encoder.add_truncate(GroupId(5), LogIndex(12)));
  EXPECT_TRUE(encoder.add_entries(GroupId(6), Term(2), LogIndex(1001), {}, {}));
  const ConstByteSpan batch = encoder.finish();
  encoded.batch.assign(batch.begin(), batch.end());
  return encoded;
}

// Recomputes a batch's CRC after a test changed its structure, so the structural checks (not
// the CRC) are what must catch the change.
void reseal(std::vector<std::byte>& batch) {
  uint32_t batch_bytes;
  std::memcpy(&batch_bytes, batch.data() + 4, 4);
  batch_bytes = std::min<uint32_t>(batch_bytes, static_cast<uint32_t>(batch.size()));
  if (batch_bytes < kBatchHeaderBytes) return;
  const ConstByteSpan bytes(batch.data(), batch_bytes);
  const uint32_t crc = crc32c_extend(crc32c(bytes.first(16)), bytes.subspan(20));
  std::memcpy(batch.data() + 16, &crc, 4);
}

TEST(BatchFormat, EveryRecordKindRoundTrips) {
  const Encoded encoded = encode_sample();
  EXPECT_EQ(encoded.batch.size() % kBatchAlignBytes, 0u);
  Result<DecodedBatch> decoded = decode_batch(encoded.batch);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded.value().seq, Seq(7));
  EXPECT_EQ(decoded.value().record_count, 5u);
  EXPECT_EQ(decoded.value().padded_batch_bytes, encoded.batch.size());

  RecordCursor cursor(decoded.value());
  Record record;
  ASSERT_TRUE(cursor.next(&record));
  EXPECT_EQ(record.kind, RecordKind::kEntries);
  EXPECT_EQ(record.group, GroupId(5));
  EXPECT_EQ(record.term, Term(3));
  EXPECT_EQ(record.index, LogIndex(10));
  ASSERT_EQ(record.entry_count, 4u);
  EXPECT_EQ(record.entry_length_bytes(0), 3u);
  EXPECT_EQ(record.entry_length_bytes(1), 0u);
  EXPECT_EQ(record.entry_length_bytes(2), 17u);
  EXPECT_EQ(record.entry_length_bytes(3), 100u);
  const std::vector<std::byte> payload = payload_bytes(1, 120);
  EXPECT_TRUE(
      std::equal(record.payload.begin(), record.payload.end(), payload.begin(), payload.end()));

  ASSERT_TRUE(cursor.next(&record));
  EXPECT_EQ(record.kind, RecordKind::kHardState);
  EXPECT_EQ(record.group, GroupId(5));
  EXPECT_EQ(record.term, Term(4));
  EXPECT_EQ(record.vote, NodeId(2));
  EXPECT_EQ(record.commit, LogIndex(9));

  ASSERT_TRUE(cursor.next(&record));
  EXPECT_EQ(record.kind, RecordKind::kSnapshotMark);
  EXPECT_EQ(record.group, GroupId(6));
  EXPECT_EQ(record.index, LogIndex(1000));
  EXPECT_EQ(record.term, Term(2));

  ASSERT_TRUE(cursor.next(&record));
  EXPECT_EQ(record.kind, RecordKind::kTruncate);
  EXPECT_EQ(record.group, GroupId(5));
  EXPECT_EQ(record.index, LogIndex(12));

  ASSERT_TRUE(cursor.next(&record));
  EXPECT_EQ(record.kind, RecordKind::kEntries);
  EXPECT_EQ(record.entry_count, 0u);
  EXPECT_TRUE(record.payload.empty());
  EXPECT_FALSE(cursor.next(&record));
}

TEST(BatchFormat, EmptyBatchRoundTrips) {
  std::vector<std::byte> buffer(64);
  BatchEncoder encoder(buffer);
  encoder.begin(Seq(1));
  const ConstByteSpan batch = encoder.finish();
  EXPECT_EQ(batch.size(), kBatchHeaderBytes);
  Result<DecodedBatch> decoded = decode_batch(batch);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded.value().record_count, 0u);
}

TEST(BatchFormat, EncoderRefusesWhatDoesNotFitAndKeepsWhatDid) {
  std::vector<std::byte> buffer(256, std::byte{0xee});
  std::vector<std::byte> guard(64, std::byte{0xab});
  BatchEncoder encoder(ByteSpan(buffer).first(192));
  encoder.begin(Seq(3));
  const std::vector<uint32_t> lengths = {50};
  const std::vector<std::byte> payload = payload_bytes(2, 50);
  EXPECT_TRUE(encoder.add_entries(GroupId(1), Term(1), LogIndex(1), lengths, payload));
  const size_t used_bytes = encoder.batch_bytes();
  EXPECT_FALSE(encoder.add_entries(GroupId(1), Term(1), LogIndex(2), lengths, payload));
  EXPECT_EQ(encoder.batch_bytes(), used_bytes);  // nothing of the refused record was kept
  EXPECT_TRUE(encoder.add_truncate(GroupId(1), LogIndex(2)));
  while (encoder.add_hard_state(GroupId(1), Term(1), NodeId(1), LogIndex(1))) {
  }
  const ConstByteSpan batch = encoder.finish();
  EXPECT_LE(batch.size(), 192u);
  for (size_t i = 192; i < buffer.size(); i++) EXPECT_EQ(buffer[i], std::byte{0xee}) << i;
  Result<DecodedBatch> decoded = decode_batch(batch);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded.value().record_count, encoder.record_count());
}

TEST(BatchFormat, BatchPaddedToABlockRoundTripsAndHidesItsPadding) {
  for (const size_t block_bytes : {size_t{512}, size_t{4096}}) {
    std::vector<std::byte> buffer(8192);
    BatchEncoder encoder(buffer, block_bytes);
    encoder.begin(Seq(9));
    const std::vector<uint32_t> lengths = {100};
    const std::vector<std::byte> payload = payload_bytes(3, 100);
    EXPECT_TRUE(encoder.add_entries(GroupId(2), Term(1), LogIndex(1), lengths, payload));
    EXPECT_TRUE(encoder.add_hard_state(GroupId(2), Term(1), NodeId(1), LogIndex(1)));
    EXPECT_EQ(encoder.batch_bytes(), block_bytes);
    const ConstByteSpan batch = encoder.finish();
    ASSERT_EQ(batch.size(), block_bytes);
    Result<DecodedBatch> decoded = decode_batch(batch);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(decoded.value().record_count, 2u);
    EXPECT_EQ(decoded.value().padded_batch_bytes, block_bytes);  // the next batch starts there
    RecordCursor cursor(decoded.value());
    Record record;
    int shown = 0;
    while (cursor.next(&record)) shown++;
    EXPECT_EQ(shown, 2);
    // A non-zero byte in the padding's body is refused even under a valid CRC.
    std::vector<std::byte> dirty(batch.begin(), batch.end());
    dirty[block_bytes - 1] = std::byte{1};
    reseal(dirty);
    EXPECT_FALSE(decode_batch(dirty).ok());
    // And so is a padding record that does not reach the end of the batch.
    std::vector<std::byte> short_padding(batch.begin(), batch.end());
    const size_t padding_at =
        kBatchHeaderBytes + entries_record_bytes(1, 100) + kHardStateRecordBytes;
    const uint32_t wrong_bytes = static_cast<uint32_t>(block_bytes - padding_at - 8);
    std::memcpy(short_padding.data() + padding_at + 4, &wrong_bytes, 4);
    reseal(short_padding);
    EXPECT_FALSE(decode_batch(short_padding).ok());
  }
}

TEST(BatchFormat, EveryTruncationIsRejected) {
  const Encoded encoded = encode_sample();
  for (size_t size = 0; size < encoded.batch.size(); size++) {
    // A copy of exactly `size` bytes, so ASan catches any read past it.
    const std::vector<std::byte> cut(encoded.batch.begin(), encoded.batch.begin() + size);
    EXPECT_FALSE(decode_batch(cut).ok()) << "accepted a batch cut to " << size << " bytes";
  }
}

TEST(BatchFormat, EverySingleBitFlipIsDetected) {
  const Encoded encoded = encode_sample();
  for (size_t bit = 0; bit < encoded.batch.size() * 8; bit++) {
    std::vector<std::byte> flipped = encoded.batch;
    flipped[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_FALSE(decode_batch(flipped).ok()) << "bit " << bit << " flipped went unnoticed";
  }
}

TEST(BatchFormat, ErrorsNameTheOffset) {
  Encoded encoded = encode_sample();
  encoded.batch[40] ^= std::byte{1};
  Result<DecodedBatch> decoded = decode_batch(encoded.batch, 8192);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(decoded.error().message().find("offset 8192"), std::string::npos)
      << decoded.error().message();
  EXPECT_NE(decoded.error().message().find("CRC"), std::string::npos);
}

TEST(BatchFormat, BadStructureWithAValidCrcIsRejected) {
  const Encoded encoded = encode_sample();
  const size_t first_record = kBatchHeaderBytes;
  struct Case {
    const char* what;
    size_t offset;
    uint32_t value;
  } cases[] = {
      {"unknown kind", first_record, 99},
      {"record length not a multiple of 8", first_record + 4, 13},
      {"record length past the batch", first_record + 4, 1u << 20},
      {"entry count past the record", first_record + 8 + 24, 1u << 30},
      {"entry length past the record", first_record + 8 + 28, 1u << 31},
      {"record count too high", 20, 6},
      {"record count too low", 20, 4},
      {"batch length below the header", 4, 8},
  };
  for (const Case& c : cases) {
    std::vector<std::byte> batch = encoded.batch;
    std::memcpy(batch.data() + c.offset, &c.value, 4);
    reseal(batch);
    Result<DecodedBatch> decoded = decode_batch(batch);
    EXPECT_FALSE(decoded.ok()) << c.what;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code(), ErrorCode::kInvalidInput) << c.what;
    }
  }
}

TEST(BatchFormat, RandomBytesNeverCrashTheDecoder) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 random(seed);
  const Encoded encoded = encode_sample();
  uint32_t accepted = 0;
  for (int round = 0; round < 20000; round++) {
    std::vector<std::byte> bytes;
    if (round % 2 == 0) {
      // Pure garbage, sometimes starting with the magic.
      bytes.resize(random() % 512);
      for (std::byte& b : bytes) b = std::byte(static_cast<uint8_t>(random()));
      if (bytes.size() >= 4 && random() % 2 == 0) std::memcpy(bytes.data(), &kBatchMagic, 4);
    } else {
      // A valid batch with a few random bytes changed and the CRC made to match again, so the
      // structural checks are what is exercised; sometimes also cut short.
      bytes = encoded.batch;
      for (int changes = 1 + static_cast<int>(random() % 4); changes > 0; changes--) {
        bytes[random() % bytes.size()] = std::byte(static_cast<uint8_t>(random()));
      }
      if (random() % 4 == 0) bytes.resize(random() % bytes.size());
      reseal(bytes);
    }
    Result<DecodedBatch> decoded = decode_batch(bytes);
    if (!decoded.ok()) continue;
    accepted++;
    // Whatever was accepted must be walkable to the end.
    RecordCursor cursor(decoded.value());
    Record record;
    uint32_t records = 0;
    while (cursor.next(&record)) records++;
    EXPECT_EQ(records, decoded.value().record_count);
  }
  RecordProperty("accepted", static_cast<int>(accepted));
}

}  // namespace
}  // namespace ringraft::wal
