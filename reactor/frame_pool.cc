#include "reactor/frame_pool.h"

#include <array>
#include <cstdint>
#include <new>

namespace ringraft {
namespace {

constexpr size_t kClassBytes = 64;
constexpr size_t kClassCount = 32;  // frames up to 2 KiB are pooled; larger go to operator new
constexpr uint32_t kFramesCachedMax = 1024;

struct FreeFrame {
  FreeFrame* next;
};

struct FreeList {
  FreeFrame* head = nullptr;
  uint32_t count = 0;
};

struct FramePool {
  std::array<FreeList, kClassCount> lists{};
  ~FramePool() {
    for (FreeList& list : lists) {
      while (list.head != nullptr) {
        FreeFrame* frame = list.head;
        list.head = frame->next;
        ::operator delete(frame);
      }
    }
  }
};

thread_local FramePool t_pool;

size_t class_of(size_t size_bytes) {
  return (size_bytes + kClassBytes - 1) / kClassBytes - 1;
}

}  // namespace

void* frame_allocate(size_t size_bytes) {
  const size_t size_class = class_of(size_bytes);
  if (size_class >= kClassCount) return ::operator new(size_bytes);
  FreeList& list = t_pool.lists[size_class];
  if (list.head != nullptr) {
    FreeFrame* frame = list.head;
    list.head = frame->next;
    list.count--;
    return frame;
  }
  return ::operator new((size_class + 1) * kClassBytes);
}

void frame_free(void* frame, size_t size_bytes) noexcept {
  const size_t size_class = class_of(size_bytes);
  if (size_class >= kClassCount) {
    ::operator delete(frame);
    return;
  }
  FreeList& list = t_pool.lists[size_class];
  if (list.count >= kFramesCachedMax) {
    ::operator delete(frame);
    return;
  }
  auto* free_frame = static_cast<FreeFrame*>(frame);
  free_frame->next = list.head;
  list.head = free_frame;
  list.count++;
}

}  // namespace ringraft
