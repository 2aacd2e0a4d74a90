// The RESP2 reply writer: each reply form's exact bytes, and the bounded buffer's full
// behaviour (all or nothing, an error always fits after a rollback).
#include "tools/kv/resp_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace ringraft::kv {
namespace {

TEST(RespWriter, EveryReplyForm) {
  RespWriter writer(1024);
  ASSERT_TRUE(writer.simple_string("OK"));
  ASSERT_TRUE(writer.error("ERR no"));
  ASSERT_TRUE(writer.integer(-42));
  ASSERT_TRUE(writer.bulk(std::string("a\r\n\0", 4)));
  ASSERT_TRUE(writer.bulk(""));
  ASSERT_TRUE(writer.null_bulk());
  ASSERT_TRUE(writer.array_header(2));
  ASSERT_TRUE(writer.null_array());
  EXPECT_EQ(writer.bytes(), std::string("+OK\r\n-ERR no\r\n:-42\r\n$4\r\na\r\n\0\r\n$0\r\n\r\n"
                                        "$-1\r\n*2\r\n*-1\r\n",
                                        50));
}

TEST(RespWriter, LinesCannotBreakTheFraming) {
  RespWriter writer(1024);
  ASSERT_TRUE(writer.error("ERR unknown command 'a\r\nb'"));
  ASSERT_TRUE(writer.simple_string("x\ny"));
  EXPECT_EQ(writer.bytes(), "-ERR unknown command 'a  b'\r\n+x y\r\n");
}

TEST(RespWriter, FullAppendLeavesTheBufferUnchanged) {
  RespWriter writer(17);
  ASSERT_TRUE(writer.bulk("0123456"));  // 13 bytes
  const auto full = writer.bulk("xy");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::kFull);
  EXPECT_EQ(writer.bytes(), "$7\r\n0123456\r\n");
  ASSERT_TRUE(writer.integer(1));  // 4 bytes: exactly 17
  EXPECT_EQ(writer.size_bytes(), 17u);
}

TEST(RespWriter, ErrorFitsAfterRollbackOfAnOversizedReply) {
  RespWriter writer(32);
  const size_t reply_start = writer.size_bytes();
  ASSERT_TRUE(writer.array_header(3));
  ASSERT_TRUE(writer.bulk("first value"));
  ASSERT_FALSE(writer.bulk(std::string(100, 'v')));
  writer.rollback(reply_start);
  ASSERT_TRUE(writer.bulk(std::string(25, 'w')));  // the buffer is now full: 32 of 32 bytes
  ASSERT_TRUE(writer.error(std::string(1000, 'E')));
  EXPECT_EQ(writer.size_bytes(), 32 + RespWriter::kErrorReserveBytes);
}

TEST(RespWriter, ConsumeDropsSentBytes) {
  RespWriter writer(64);
  ASSERT_TRUE(writer.simple_string("PONG"));
  ASSERT_TRUE(writer.integer(7));
  writer.consume(7);
  EXPECT_EQ(writer.bytes(), ":7\r\n");
  writer.clear();
  EXPECT_EQ(writer.size_bytes(), 0u);
}

}  // namespace
}  // namespace ringraft::kv
