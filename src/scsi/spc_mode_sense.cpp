// MODE SENSE (6) and (10) (SPC-4 6.11, 6.12) with the caching (SBC-4 7.5.5), control (SPC-4
// 7.5.8) and informational exceptions control (SPC-4 7.5.10) pages. MODE SELECT is not
// implemented, so nothing is changeable and the changeable-values masks are all zero.
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"

namespace itd::scsi {

namespace {

// SPC-4 6.11.2 PAGE CONTROL field.
enum class PageControl : std::uint8_t { current = 0, changeable = 1, defaults = 2, saved = 3 };

constexpr std::uint8_t kCachingPage = 0x08;
constexpr std::uint8_t kControlPage = 0x0a;
constexpr std::uint8_t kInformationalExceptionsPage = 0x1c;
constexpr std::uint8_t kAllPages = 0x3f;

void append_caching(std::vector<std::uint8_t>& d, const LogicalUnit& lu, PageControl pc) {
    const std::size_t at = d.size();
    d.resize(at + 20, 0);
    d[at] = kCachingPage;
    d[at + 1] = 0x12;
    bool wce = false;
    switch (pc) {
        case PageControl::current: wce = lu.write_cache_enabled(); break;
        case PageControl::defaults: wce = lu.volume().has_volatile_cache(); break;
        case PageControl::changeable:
        case PageControl::saved: break;
    }
    if (wce) d[at + 2] |= 0x04;  // WCE; RCD stays 0: reads may be cached
}

void append_control(std::vector<std::uint8_t>& d, PageControl pc) {
    const std::size_t at = d.size();
    d.resize(at + 12, 0);
    d[at] = kControlPage;
    d[at + 1] = 0x0a;
    if (pc == PageControl::changeable) return;
    // TST 000b (one task set for all nexuses), D_SENSE 0 (fixed format sense).
    // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering of SIMPLE tasks; QERR 00b.
    d[at + 3] = 0x10;
    // BUSY TIMEOUT PERIOD FFFFh: unlimited (libiscsi wants it specified, i.e. non-zero).
    store_be16(&d[at + 8], 0xffff);
}

void append_informational_exceptions(std::vector<std::uint8_t>& d) {
    // All zero: MRIE 0, no informational exception reporting (we have no failure prediction).
    const std::size_t at = d.size();
    d.resize(at + 12, 0);
    d[at] = kInformationalExceptionsPage;
    d[at + 1] = 0x0a;
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

    switch (page) {
        case kCachingPage: append_caching(d, lu, pc); break;
        case kControlPage: append_control(d, pc); break;
        case kInformationalExceptionsPage: append_informational_exceptions(d); break;
        case kAllPages:
            // SPC-4 6.11.1: pages in ascending page code order.
            append_caching(d, lu, pc);
            append_control(d, pc);
            append_informational_exceptions(d);
            break;
        default: return t.invalid_cdb_field(2, 5);
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
