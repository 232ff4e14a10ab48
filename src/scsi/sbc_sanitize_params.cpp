#include "scsi/sbc_sanitize_params.h"

#include <algorithm>

#include "common/check.h"
#include "common/endian.h"

namespace itd::scsi {

namespace {

std::unexpected<SanitizeParseError> param_error(SenseReason reason, std::uint16_t byte,
                                                std::optional<std::uint8_t> bit = {}) {
    return std::unexpected(SanitizeParseError{reason, FieldPointer{false, byte, bit}});
}

}  // namespace

std::expected<OverwriteParameters, SanitizeParseError> parse_overwrite_parameters(
    std::span<const std::uint8_t> list, std::uint32_t block_bytes) {
    // The handler refuses a PARAMETER LIST LENGTH below 5 in the CDB; data that arrived
    // shorter than the header is a length error.
    if (list.size() < kOverwriteHeaderBytes) {
        return std::unexpected(SanitizeParseError{SenseReason::parameter_list_length_error, {}});
    }
    OverwriteParameters p;
    p.invert = (list[0] & 0x80) != 0;
    p.test = static_cast<std::uint8_t>((list[0] >> 5) & 0x03);
    p.passes = list[0] & 0x1f;
    // SBC-4 5.30.2.2: an OVERWRITE COUNT of zero is INVALID FIELD IN PARAMETER LIST.
    if (p.passes == 0) return param_error(SenseReason::invalid_field_in_parameter_list, 0, 4);
    if (list[1] != 0) return param_error(SenseReason::invalid_field_in_parameter_list, 1, 7);
    const std::size_t pattern_bytes = load_be16(&list[2]);
    // SBC-4 5.30.2.2: a pattern length of zero, or longer than a logical block, is INVALID
    // FIELD IN PARAMETER LIST; so is one that runs past the parameter data we hold.
    if (pattern_bytes == 0 || pattern_bytes > block_bytes ||
        pattern_bytes > list.size() - kOverwriteHeaderBytes) {
        return param_error(SenseReason::invalid_field_in_parameter_list, 2);
    }
    const auto pattern = list.subspan(kOverwriteHeaderBytes, pattern_bytes);
    p.pattern.assign(pattern.begin(), pattern.end());
    return p;
}

std::vector<std::uint8_t> fill_block(std::span<const std::uint8_t> pattern, std::uint32_t block_bytes) {
    ITD_CHECK(!pattern.empty());
    std::vector<std::uint8_t> block(block_bytes);
    for (std::size_t at = 0; at < block.size(); at += pattern.size()) {
        const std::size_t n = std::min(pattern.size(), block.size() - at);
        std::copy_n(pattern.begin(), n, block.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return block;
}

}  // namespace itd::scsi
