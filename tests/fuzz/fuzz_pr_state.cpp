// Decodes arbitrary APTPL state files (pr_state_file.h): what a corrupt or hand-edited file
// holds must be refused cleanly. Checks: no crash or sanitizer report; a file that decodes
// keeps the documented bounds (registration count, holder index, holder only for types that
// have one) and survives encode/decode unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "scsi/pr_state_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::scsi;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto state = decode_pr_state(text);
    if (!state) {
        ITD_CHECK(!state.error().message.empty());
        return 0;
    }
    ITD_CHECK(state->registrations.size() <= kMaxStoredRegistrations);
    if (state->reservation) {
        ITD_CHECK(!state->registrations.empty());
        const std::uint8_t type = state->reservation->type;
        const bool all = type == 7 || type == 8;
        ITD_CHECK(all != state->reservation->holder.has_value());
        if (state->reservation->holder)
            ITD_CHECK(*state->reservation->holder < state->registrations.size());
    }
    auto again = decode_pr_state(encode_pr_state(*state));
    ITD_CHECK(again.has_value() && *again == *state);
    return 0;
}
