#include "daemon/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "common/check.h"
#include "daemon/config.h"

namespace itd::daemon {

void setup_logging(std::string_view level) {
    ITD_CHECK(is_valid_log_level(level));
    // Colours only when stderr is a terminal (spdlog checks); a service manager gets plain text.
    // Built directly rather than through spdlog::stderr_color_mt so that a second call (tests)
    // replaces the logger instead of throwing "logger with name 'itd' already exists".
    auto logger = std::make_shared<spdlog::logger>(
        "itd", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%t] %v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    // Errors reach the log at once; lower levels may wait for the next flush.
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace itd::daemon
