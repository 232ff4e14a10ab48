// Serial number arithmetic for CmdSN, StatSN and friends (RFC 7143 4.2.2.1, after RFC 1982):
// 32-bit counters that wrap, compared by their signed difference.
#pragma once

#include <cstdint>

namespace itd::iscsi {

inline bool sn_lt(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b) < 0;
}
inline bool sn_gt(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b) > 0;
}

}  // namespace itd::iscsi
