// json_string: a JSON string literal for text the commands print in their --json output.
//
// The commands write their JSON with fmt (small, flat documents whose field order we choose);
// only strings need escaping, and they must all escape the same way.
#pragma once

#include <string>
#include <string_view>

namespace ringraft::tools {

// `text` quoted, with '"', '\' and control characters escaped (\n as such, the others as \u00XX).
std::string json_string(std::string_view text);

}  // namespace ringraft::tools
