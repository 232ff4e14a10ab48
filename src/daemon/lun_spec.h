// The shared core of LUN parsing: the LUN-SPEC text form (parse_lun_spec in config.h) and the
// config file's [[target.lun]] tables both come apart into LunParts and are checked here, so
// the two forms accept exactly the same things.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config.h"

namespace itd::daemon {

// KEY=VALUE (value set) or FLAG (no value), in the order given.
using OptionList = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct LunParts {
    std::string backend;  // "memory", "file", "thin"
    std::string arg;      // memory: the size; file: the path; thin: STORE/VOLUME
    OptionList options;
};

// ",KEY=VALUE,FLAG..." (the text after a LUN-SPEC's ARG, each item after a ','): no quoting,
// so no value contains ','. Empty text gives no options.
[[nodiscard]] OptionList split_option_list(std::string_view text);

struct LunSpecError {
    std::string key;      // what is wrong: "backend", "arg", or an option's name
    std::string message;  // one line, without the LUN's name
};

[[nodiscard]] std::expected<LunSpec, LunSpecError> build_lun_spec(const LunParts& parts);

}  // namespace itd::daemon
