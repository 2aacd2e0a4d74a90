// Stable one-line text for messages and node state, for test failures, scenario traces and
// logs. The format is part of what tests compare: change it only with the tests that read it.
//
//   describe(message): "1->2 Append term=3 prev=5/2 entries=6..8 commit=5"
//   describe(core):    "node 1 leader term=3 vote=1 lead=1 last=8/3 commit=5 applied=5"
#pragma once

#include <string>

#include "raft/core/core.h"
#include "raft/core/message.h"

namespace ringraft::raft {

std::string describe(const Message& message);
std::string describe(const Core& core);
std::string describe(const Progress& progress);

}  // namespace ringraft::raft
