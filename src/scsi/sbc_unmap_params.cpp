#include "scsi/sbc_unmap_params.h"

#include <algorithm>

#include "common/endian.h"

namespace itd::scsi {

namespace {

std::unexpected<UnmapParseError> param_error(SenseReason reason, std::size_t byte,
                                             std::optional<std::uint64_t> information = {}) {
    return std::unexpected(UnmapParseError{
        reason, FieldPointer{false, static_cast<std::uint16_t>(std::min<std::size_t>(byte, 0xffff)),
                             std::nullopt},
        information});
}

}  // namespace

std::expected<std::vector<UnmapDescriptor>, UnmapParseError> parse_unmap_parameters(
    std::span<const std::uint8_t> list, const UnmapLimits& limits) {
    // SBC-4 5.30.1: a parameter list shorter than its 8-byte header is PARAMETER LIST LENGTH
    // ERROR (a zero-length one never gets here: it is not an error, and unmaps nothing).
    if (list.size() < kUnmapHeaderBytes) {
        return std::unexpected(UnmapParseError{SenseReason::parameter_list_length_error, {}, {}});
    }
    // SBC-4 5.30.2: descriptors are what the BLOCK DESCRIPTOR DATA LENGTH says, as far as the
    // data that arrived reaches; an incomplete last descriptor is ignored. Like LIO we trust
    // neither length beyond the bytes we hold, and ignore UNMAP DATA LENGTH (it only repeats
    // the descriptor length plus 6).
    const std::size_t said = load_be16(&list[2]);
    const std::size_t have = list.size() - kUnmapHeaderBytes;
    const std::size_t count = std::min(said, have) / kUnmapDescriptorBytes;
    // SBC-4 5.30.2: more descriptors than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT is INVALID FIELD
    // IN PARAMETER LIST. Checked before anything is reserved for them.
    if (count > limits.max_descriptors) {
        return param_error(SenseReason::invalid_field_in_parameter_list, 2);
    }
    std::vector<UnmapDescriptor> out;
    out.reserve(count);
    std::uint64_t total_blocks = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t at = kUnmapHeaderBytes + i * kUnmapDescriptorBytes;
        const std::uint64_t lba = load_be64(&list[at]);
        const std::uint32_t blocks = load_be32(&list[at + 8]);
        // SBC-4 5.30.2: an LBA plus NUMBER OF LOGICAL BLOCKS beyond the capacity is LOGICAL
        // BLOCK ADDRESS OUT OF RANGE. Zero blocks at the capacity itself ends at the capacity,
        // which libiscsi's Unmap.ZeroBlocks expects to be GOOD.
        if (lba > limits.block_count || blocks > limits.block_count - lba) {
            return param_error(SenseReason::lba_out_of_range, at, lba);
        }
        total_blocks += blocks;  // at most 256 * 2^32: no overflow
        // SBC-4 5.30.2: more blocks in total than MAXIMUM UNMAP LBA COUNT is INVALID FIELD IN
        // PARAMETER LIST.
        if (total_blocks > limits.max_blocks) {
            return param_error(SenseReason::invalid_field_in_parameter_list, at + 8);
        }
        // SBC-4 5.30.2: a descriptor with zero blocks is not an error and unmaps nothing.
        if (blocks != 0) out.push_back(UnmapDescriptor{lba, blocks});
    }
    return out;
}

}  // namespace itd::scsi
