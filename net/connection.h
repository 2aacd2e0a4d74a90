// Connection: one TCP socket to a peer and the frames that arrive on it.
//
// Bytes arrive through a multishot receive over the transport's provided buffers (no copy into
// a per-connection buffer by the kernel). A frame that lies whole in one received chunk is
// verified and handed over in place; only a frame that straddles chunks is copied, once, into
// the FrameDecoder. Every frame is verified before anyone reads it. A chunk's buffer goes back
// to the ring as soon as its last frame is consumed (at most one held per connection). Frames are
// taken synchronously with poll_frame(); only when the decoder needs more bytes does the owner
// await receive(), so the cost is one coroutine resume per received chunk, not per frame.
//
// A frame larger than a few receive buffers is not reassembled by copies: once its header is in
// and at least `direct_receive_bytes_min` of it are still missing, the multishot receive is
// paused, the rest of the frame is received straight into the decoder's buffer (recv with
// MSG_WAITALL, exactly the missing bytes, so the next frame's bytes stay in the socket). The
// next header is then read the same way (8 bytes): another large frame follows directly, a
// small one re-arms the multishot receive (otherwise the re-armed receive would fill the ring
// with the next large frame before its header is seen). Chunks already received come first.
// The bytes are checked exactly as fed ones: length bound before any body byte, then CRC, ...
//
// A deadline (arm_deadline) ends a silent connection: when it fires, the pending receive ends
// and timed_out() says why. close() must be awaited before the Connection is destroyed; it
// cancels the receive and the deadline and waits until the kernel no longer refers to either.
#pragma once

#include <coroutine>
#include <optional>

#include "net/frame.h"
#include "reactor/cancellable_op.h"
#include "reactor/io.h"
#include "reactor/recv_stream.h"
#include "reactor/socket.h"
#include "reactor/task.h"

namespace ringraft::net {

class Connection {
 public:
  // `direct_receive_bytes_min` == 0: every frame is reassembled from the receive buffers.
  Connection(Io& io, FileDescriptor fd, BufferGroup& buffers, const FrameLimits& limits,
             FrameCounters* counters, uint32_t direct_receive_bytes_min = 0);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The next verified frame already received, nullopt when the decoder needs more bytes, or an
  // error once the stream is bad (the decoder's reason is in failure()). The frame stays valid
  // until the next poll_frame() or receive().
  Result<std::optional<DecodedFrame>> poll_frame();
  // Waits for the next received chunk. An error when the peer closed (kClosed; kInvalidInput and
  // failure() set when it closed inside a frame), the receive
  // failed (kIo), or it was cancelled by close(), cancel() or the deadline (kCancelled).
  Task<Result<void>> receive();

  // Ends the connection's receive from outside (stop, replacement): receive() returns kCancelled.
  void cancel();
  // After `timeout`, cancels the receive and marks the connection timed out.
  void arm_deadline(Duration timeout);
  void disarm_deadline();
  bool timed_out() const { return timed_out_; }
  // Cancels everything and waits for the kernel to let go. The socket closes on destruction.
  Task<void> close();

  int fd() const { return fd_.get(); }
  std::optional<FrameError> failure() const { return decoder_.failure(); }

 private:
  static void on_deadline(Operation& op, int32_t result, uint32_t flags);
  void release_chunk();
  // The decoder misses at least direct_receive_bytes_min_ of a frame whose header it holds, or
  // the header after a frame received directly.
  bool wants_direct_receive();
  // Receives the rest of the decoder's frame, or of its header, from the socket into the
  // decoder (the multishot receive paused). Success once that is whole; errors as receive().
  Task<Result<void>> receive_direct();
  Result<void> end_of_stream_error();

  Io& io_;
  FileDescriptor fd_;
  RecvStream stream_;
  FrameDecoder decoder_;
  FrameCounters* counters_;
  uint32_t direct_receive_bytes_min_;
  CancellableOp direct_op_;     // the recv of a frame's rest; cancel() ends it
  bool cancelled_ = false;      // cancel() or the deadline: nothing more is received
  bool direct_streak_ = false;  // the last frame was received directly: so is the next header
  RecvChunk chunk_;             // the received chunk being fed to the decoder
  ConstByteSpan unfed_;         // the part of chunk_ the decoder has not taken yet
  Operation deadline_op_;
  bool timed_out_ = false;
  std::coroutine_handle<> deadline_waiter_;  // close() waiting for the deadline to let go
};

}  // namespace ringraft::net
