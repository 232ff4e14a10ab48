#include "scsi/spc_mode_select_params.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "common/check.h"
#include "common/endian.h"

namespace itd::scsi {

namespace {

constexpr std::size_t kShortDescriptorBytes = 8;
constexpr std::size_t kLongDescriptorBytes = 16;

std::unexpected<ModeSelectError> length_error() {
    // SPC-4 6.9.1: a PARAMETER LIST LENGTH that truncates the header, a block descriptor or a
    // mode page is PARAMETER LIST LENGTH ERROR.
    return std::unexpected(ModeSelectError{SenseReason::parameter_list_length_error, {}});
}

std::unexpected<ModeSelectError> invalid_field(std::size_t byte,
                                               std::optional<std::uint8_t> bit = {}) {
    return std::unexpected(ModeSelectError{
        SenseReason::invalid_field_in_parameter_list,
        FieldPointer{false, static_cast<std::uint16_t>(std::min<std::size_t>(byte, 0xffff)),
                     bit}});
}

std::uint8_t highest_bit(std::uint8_t bits) {
    return static_cast<std::uint8_t>(7 - std::countl_zero(bits));
}

// SBC-4 6.5.2 / 6.5.3: we cannot change the capacity or the block size, so a descriptor must
// say what MODE SENSE says. NUMBER OF LOGICAL BLOCKS zero means "do not change the capacity"
// and is accepted too. `at` is the descriptor's offset in the list.
std::optional<ModeSelectError> check_descriptor(std::span<const std::uint8_t> d, std::size_t at,
                                                bool long_lba, const ModeSelectContext& ctx) {
    if (long_lba) {
        const std::uint64_t blocks = load_be64(&d[0]);
        if (blocks != 0 && blocks != ctx.block_count) return invalid_field(at).error();
        // Bytes 8-11 are reserved: zero in what MODE SENSE returns.
        for (std::size_t i = 8; i < 12; ++i) {
            if (d[i] != 0) return invalid_field(at + i, highest_bit(d[i])).error();
        }
        if (load_be32(&d[12]) != ctx.block_size_bytes) return invalid_field(at + 12).error();
        return std::nullopt;
    }
    // MODE SENSE reports FFFFFFFFh when the capacity does not fit the short descriptor.
    const std::uint64_t reported = std::min<std::uint64_t>(ctx.block_count, 0xffffffffull);
    const std::uint32_t blocks = load_be32(&d[0]);
    if (blocks != 0 && blocks != reported) return invalid_field(at).error();
    if (d[4] != 0) return invalid_field(at + 4, highest_bit(d[4])).error();  // reserved
    if (load_be24(&d[5]) != ctx.block_size_bytes) return invalid_field(at + 5).error();
    return std::nullopt;
}

}  // namespace

std::expected<ModeParameters, ModeSelectError> parse_mode_select(
    std::span<const std::uint8_t> list, const ModeSelectContext& ctx) {
    ModeParameters result = ctx.current;
    if (list.empty()) return result;

    const std::size_t header_bytes = ctx.ten ? kModeSelect10HeaderBytes : kModeSelect6HeaderBytes;
    if (list.size() < header_bytes) return length_error();

    // The header. MODE DATA LENGTH is reserved in MODE SELECT (SPC-4 7.5.5) and ignored, as is
    // the DEVICE-SPECIFIC PARAMETER: SBC-4 6.5.1 ignores WP and reserves DPOFUA for MODE
    // SELECT (initiators echo what MODE SENSE said). MEDIUM TYPE is 00h for a direct access
    // block device (SBC-4 6.5.1): anything else is a change we cannot make.
    const std::size_t medium_type_at = ctx.ten ? 2 : 1;
    if (list[medium_type_at] != 0) {
        return invalid_field(medium_type_at, highest_bit(list[medium_type_at]));
    }
    bool long_lba = false;
    std::size_t descriptor_bytes = 0;
    std::size_t length_at = 3;
    if (ctx.ten) {
        long_lba = (list[4] & 0x01) != 0;
        length_at = 6;
        descriptor_bytes = load_be16(&list[6]);
    } else {
        descriptor_bytes = list[3];
    }

    // SPC-4 7.5.5: BLOCK DESCRIPTOR LENGTH is a whole number of descriptors.
    const std::size_t one_descriptor = long_lba ? kLongDescriptorBytes : kShortDescriptorBytes;
    if (descriptor_bytes % one_descriptor != 0) return invalid_field(length_at);
    if (descriptor_bytes > list.size() - header_bytes) return length_error();
    for (std::size_t at = header_bytes; at < header_bytes + descriptor_bytes;
         at += one_descriptor) {
        if (auto bad = check_descriptor(list.subspan(at, one_descriptor), at, long_lba, ctx)) {
            return std::unexpected(*bad);
        }
    }

    std::size_t at = header_bytes + descriptor_bytes;
    // SPC-4 6.9.1: PF=0 says what follows the descriptors is vendor specific; we define no
    // vendor specific parameters, so PF=0 with anything after them is INVALID FIELD IN CDB.
    if (at < list.size() && !ctx.page_format) {
        return std::unexpected(ModeSelectError{SenseReason::invalid_field_in_cdb,
                                               FieldPointer{true, 1, std::uint8_t{4}}});
    }

    // The pages, each checked against its current value: a bit outside the changeable-values
    // mask that differs from the current value is INVALID FIELD IN PARAMETER LIST, pointing at
    // that bit (SPC-4 6.9.1 / 7.5.7).
    std::vector<std::uint8_t> current;
    std::vector<std::uint8_t> mask;
    while (at < list.size()) {
        if (list.size() - at < 2) return length_error();
        const std::uint8_t b0 = list[at];
        // PS is reserved in MODE SELECT (SPC-4 7.5.7), and what MODE SENSE says is 0.
        if ((b0 & 0x80) != 0) return invalid_field(at, 7);
        // SPF: we have no subpages (MODE SENSE refuses a subpage other than 00h too).
        if ((b0 & 0x40) != 0) return invalid_field(at, 6);
        const std::uint8_t page_code = b0 & 0x3f;
        const std::optional<std::uint8_t> length = mode_page_length(page_code);
        if (!length) return invalid_field(at, 5);
        // SPC-4 7.5.7: a PAGE LENGTH other than the one MODE SENSE returns is INVALID FIELD IN
        // PARAMETER LIST.
        if (list[at + 1] != *length) return invalid_field(at + 1);
        const std::size_t page_bytes = std::size_t{2} + *length;
        if (list.size() - at < page_bytes) return length_error();

        current.clear();
        mask.clear();
        const bool known = append_mode_page(current, page_code, ctx.current) &&
                           append_mode_page_mask(mask, page_code);
        ITD_CHECK(known && current.size() == page_bytes && mask.size() == page_bytes);
        const std::span<const std::uint8_t> wanted = list.subspan(at, page_bytes);
        for (std::size_t i = 2; i < page_bytes; ++i) {
            const auto fixed_diff = static_cast<std::uint8_t>((wanted[i] ^ current[i]) & ~mask[i]);
            if (fixed_diff != 0) return invalid_field(at + i, highest_bit(fixed_diff));
        }
        read_mode_page(page_code, wanted, result);
        at += page_bytes;
    }
    return result;
}

}  // namespace itd::scsi
