// Process-wide logging: spdlog's default logger writes to stderr, one line per message with a
// timestamp, the level and the thread id. Call once, before any worker thread starts.
#pragma once

#include <string_view>

namespace itd::daemon {

// level: trace debug info warn error (is_valid_log_level(); a Config holds a valid one).
void setup_logging(std::string_view level);

}  // namespace itd::daemon
