// Sizes as users write them. Binary multiples only: storage people read "1G" as 2^30, and a
// volume of 10^9 bytes would not even be a whole number of 4 KiB blocks.
#include <array>
#include <cctype>
#include <limits>
#include <string>

#include "daemon/config.h"

namespace itd::daemon {

namespace {

struct Suffix {
    std::string_view text;  // lowercase
    unsigned shift;
};

constexpr std::array suffixes = {
    Suffix{"", 0},   Suffix{"b", 0},    Suffix{"k", 10}, Suffix{"kib", 10},
    Suffix{"m", 20}, Suffix{"mib", 20}, Suffix{"g", 30}, Suffix{"gib", 30},
    Suffix{"t", 40}, Suffix{"tib", 40}, Suffix{"p", 50}, Suffix{"pib", 50},
};

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::unexpected<Error> bad_size(std::string_view text, std::string_view why) {
    return fail(Errc::invalid_argument,
                "invalid size '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) return bad_size(text, "expected a number such as 512, 64K, 1G or 2TiB");

    std::uint64_t value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return bad_size(text, "too large");
        value = value * 10 + digit;
    }

    const std::string suffix = lowercase(text.substr(digits));
    unsigned shift = 0;
    bool known = false;
    for (const auto& s : suffixes) {
        if (s.text == suffix) {
            shift = s.shift;
            known = true;
            break;
        }
    }
    if (!known) {
        // "1GB" could mean 10^9 to some readers: ask for an unambiguous form.
        if (suffix.size() == 2 && suffix[1] == 'b' &&
            std::string_view("kmgtp").find(suffix[0]) != std::string_view::npos)
            return bad_size(text, "write " + std::string(text.substr(0, digits + 1)) + " or " +
                                      std::string(text.substr(0, digits + 1)) +
                                      "iB (sizes are binary)");
        return bad_size(text, "unknown suffix (use K, M, G, T, P or KiB … PiB)");
    }
    if (value == 0) return bad_size(text, "must not be zero");
    if (value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return bad_size(text, "too large");
    return value << shift;
}

}  // namespace itd::daemon
