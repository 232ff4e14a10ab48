#include "common/status.h"

namespace itd {

const char* to_string(Errc code) {
    switch (code) {
        case Errc::unavailable: return "unavailable";
        case Errc::conflict: return "conflict";
        case Errc::failed_precondition: return "failed precondition";
        case Errc::invalid_argument: return "invalid argument";
        case Errc::out_of_range: return "out of range";
        case Errc::io_error: return "I/O error";
        case Errc::not_found: return "not found";
    }
    return "unknown";
}

}  // namespace itd
