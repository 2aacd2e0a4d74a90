// Coroutine frame allocation from per-thread free lists.
//
// Every Task frame is allocated when a coroutine starts and freed when it ends; on the hot path
// (one coroutine per operation chain) a malloc/free pair per frame is measurable. Frames are
// recycled through thread-local free lists keyed by size class. Each list holds at most
// kFramesCachedMax frames, so the pool's memory is bounded by what the busiest moment needed.
#pragma once

#include <cstddef>

namespace ringraft {

void* frame_allocate(size_t size_bytes);
void frame_free(void* frame, size_t size_bytes) noexcept;

}  // namespace ringraft
