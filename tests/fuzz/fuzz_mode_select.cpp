// Decodes arbitrary MODE SELECT parameter lists (SPC-4 6.9, 6.10) against fuzzed LU state.
// Checks: no crash or sanitizer report; an error is one of the three reasons MODE SELECT
// answers with, and its field pointer lies inside the list (or names the CDB's PF bit); a
// list that is accepted is at least a whole header (or empty), and decoding is deterministic.
//
// Input layout: byte 0 flags (bit 0 MODE SELECT(10), bit 1 PF, bit 2 current WCE), bytes 1-8
// the capacity in blocks, bytes 9-12 the block size; the rest is the parameter list.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/spc_mode_select_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::scsi;
    if (size < 13) return 0;
    ModeSelectContext ctx;
    ctx.ten = (data[0] & 0x01) != 0;
    ctx.page_format = (data[0] & 0x02) != 0;
    ctx.current.wce = (data[0] & 0x04) != 0;
    ctx.block_count = itd::load_be64(data + 1);
    ctx.block_size_bytes = itd::load_be32(data + 9);
    const std::span<const std::uint8_t> list(data + 13, size - 13);

    auto parsed = parse_mode_select(list, ctx);
    auto again = parse_mode_select(list, ctx);
    ITD_CHECK(parsed.has_value() == again.has_value());
    if (!parsed) {
        const ModeSelectError& e = parsed.error();
        ITD_CHECK(e.reason == SenseReason::parameter_list_length_error ||
                  e.reason == SenseReason::invalid_field_in_parameter_list ||
                  e.reason == SenseReason::invalid_field_in_cdb);
        ITD_CHECK(e.reason == again.error().reason);
        if (e.reason == SenseReason::invalid_field_in_cdb) {
            // Only PF=0 with page data is a CDB error.
            ITD_CHECK(e.field && e.field->in_cdb && e.field->byte == 1 && !ctx.page_format);
        } else if (e.field) {
            ITD_CHECK(!e.field->in_cdb && e.field->byte < list.size());
            ITD_CHECK(!e.field->bit || *e.field->bit < 8);
        }
        return 0;
    }
    ITD_CHECK(*parsed == *again);
    const std::size_t header = ctx.ten ? kModeSelect10HeaderBytes : kModeSelect6HeaderBytes;
    ITD_CHECK(list.empty() || list.size() >= header);
    if (list.empty()) ITD_CHECK(*parsed == ctx.current);
    return 0;
}
