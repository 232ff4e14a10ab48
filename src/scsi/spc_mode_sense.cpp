// MODE SENSE (6) and (10) (SPC-4 6.11, 6.12). The pages themselves (caching, control,
// informational exceptions) and their changeable-values masks come from mode_pages.h, which
// MODE SELECT (spc_mode_select.cpp) reads too.
#include <vector>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/mode_pages.h"

namespace itd::scsi {

namespace {

// SPC-4 6.11.2 PAGE CONTROL field.
enum class PageControl : std::uint8_t { current = 0, changeable = 1, defaults = 2, saved = 3 };

void append_page(std::vector<std::uint8_t>& d, std::uint8_t page, const LogicalUnit& lu,
                 PageControl pc) {
    bool known = false;
    switch (pc) {
        case PageControl::current: known = append_mode_page(d, page, lu.mode_parameters()); break;
        case PageControl::defaults:
            known = append_mode_page(d, page, lu.default_mode_parameters());
            break;
        case PageControl::changeable: known = append_mode_page_mask(d, page); break;
        case PageControl::saved: break;  // refused before any page is built
    }
    ITD_CHECK(known);
}

}  // namespace

SenseReason handle_mode_sense(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool ten = t.spec->cdb_size == 10;
    const bool dbd = (cdb[1] & 0x08) != 0;
    const bool llbaa = ten && (cdb[1] & 0x10) != 0;
    const auto pc = static_cast<PageControl>(cdb[2] >> 6);
    const std::uint8_t page = cdb[2] & 0x3f;
    const std::uint8_t subpage = cdb[3];
    const std::uint32_t allocation_length = ten ? load_be16(&cdb[7]) : cdb[4];
    const LogicalUnit& lu = *t.lu;

    // SPC-4 6.11.2: saved values we do not keep answer SAVING PARAMETERS NOT SUPPORTED.
    if (pc == PageControl::saved) return SenseReason::saving_parameters_not_supported;
    // We have no subpages: subpage 00h, or FFh together with "all pages".
    if (subpage != 0x00 && !(page == kAllPages && subpage == 0xff)) {
        return t.invalid_cdb_field(3);
    }

    // Header (filled in below), then the block descriptor, then the pages.
    const std::size_t header_bytes = ten ? 8 : 4;
    std::vector<std::uint8_t> d(header_bytes, 0);
    std::size_t descriptor_bytes = 0;
    if (!dbd) {
        // SBC-4 6.5.2 / 6.5.3 block descriptors. Changeable values: nothing is.
        const volume::Geometry g = lu.geometry();
        const bool values = pc != PageControl::changeable;
        descriptor_bytes = llbaa ? 16 : 8;
        d.resize(header_bytes + descriptor_bytes, 0);
        std::uint8_t* bd = &d[header_bytes];
        if (values && llbaa) {
            store_be64(bd, g.block_count);
            store_be32(bd + 12, g.block_size_bytes);
        } else if (values) {
            store_be32(bd, g.block_count > 0xffffffffull ? 0xffffffffu
                                                         : static_cast<std::uint32_t>(g.block_count));
            store_be24(bd + 5, g.block_size_bytes);
        }
    }

    if (page == kAllPages) {
        // SPC-4 6.11.1: pages in ascending page code order.
        for (const std::uint8_t code : mode_page_codes()) append_page(d, code, lu, pc);
    } else if (mode_page_length(page)) {
        append_page(d, page, lu, pc);
    } else {
        return t.invalid_cdb_field(2, 5);
    }

    // SBC-4 6.5.1 DEVICE-SPECIFIC PARAMETER: WP, and DPOFUA (we accept DPO and FUA; libiscsi's
    // *.DpoFua tests read it to decide what to expect).
    std::uint8_t device_specific = 0x10;
    if (lu.read_only()) device_specific |= 0x80;
    if (ten) {
        store_be16(&d[0], static_cast<std::uint16_t>(d.size() - 2));  // MODE DATA LENGTH
        d[3] = device_specific;
        if (llbaa && descriptor_bytes != 0) d[4] = 0x01;  // LONGLBA
        store_be16(&d[6], static_cast<std::uint16_t>(descriptor_bytes));
    } else {
        d[0] = static_cast<std::uint8_t>(d.size() - 1);
        d[2] = device_specific;
        d[3] = static_cast<std::uint8_t>(descriptor_bytes);
    }
    t.send_data(d, allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
