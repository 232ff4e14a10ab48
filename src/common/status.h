// Results that cross layer boundaries. A backend error says how a caller may retry
// (DESIGN.md "Errors"); add a code only when some caller reacts to it differently.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace itd {

enum class Errc {
    unavailable,          // transient: retry the same call later
    conflict,             // lost a race (compare-and-swap): retry the transaction
    failed_precondition,  // the request cannot succeed as asked: do not retry
    invalid_argument,     // bad input from a user (config, command line)
    out_of_range,         // an offset or length outside the volume
    io_error,             // the medium failed
    not_found,            // a named thing (file, volume, key) does not exist
};

const char* to_string(Errc code);

struct Error {
    Errc code;
    std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
    return std::unexpected(Error{code, std::move(message)});
}

}  // namespace itd
