// INQUIRY (SPC-4 6.6): standard data and the vital product data pages an SBC device needs.
#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/spc_xcopy.h"
#include "scsi/sanitize.h"
#include "scsi/target.h"

namespace itd::scsi {

namespace {

// SPC-4 6.6.2: peripheral qualifier 000b / device type 00h (direct access block device), and
// 011b / 1Fh for "no logical unit here" (SPC-4 6.6.1).
constexpr std::uint8_t kDirectAccessBlock = 0x00;
constexpr std::uint8_t kNoLogicalUnit = 0x7f;

// Version descriptors (SPC-4 table 148): SAM-5, SPC-4, SBC-3 (SBC-4 has no code libiscsi
// recognises yet; what we implement is within SBC-3 anyway).
constexpr std::array<std::uint16_t, 3> kVersionDescriptors{0x00a0, 0x0460, 0x04c0};

// VPD pages we return, in ascending order (SPC-4 7.8.13: the list shall be sorted).
constexpr std::array<std::uint8_t, 7> kVpdPages{0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2};

// SPC-4 4.4.1: ASCII fields are left aligned and padded with spaces; only 20h..7Eh allowed.
void put_ascii(std::uint8_t* out, std::size_t width, std::string_view text) {
    for (std::size_t i = 0; i < width; ++i) {
        char c = i < text.size() ? text[i] : ' ';
        if (c < 0x20 || c > 0x7e) c = ' ';
        out[i] = static_cast<std::uint8_t>(c);
    }
}

std::vector<std::uint8_t> standard_inquiry(const LogicalUnit* lu) {
    // 96 bytes: through the version descriptors (byte 73) and the reserved bytes to 95.
    std::vector<std::uint8_t> d(96, 0);
    d[0] = lu != nullptr ? kDirectAccessBlock : kNoLogicalUnit;
    if (lu != nullptr && lu->removable()) d[1] = 0x80;  // RMB: the medium is removable
    d[2] = 0x06;  // VERSION: SPC-4
    // HISUP (we use hierarchical LUN addressing in REPORT LUNS), RESPONSE DATA FORMAT 2.
    d[3] = 0x10 | 0x02;
    d[4] = static_cast<std::uint8_t>(d.size() - 5);  // ADDITIONAL LENGTH
    d[5] = 0x08;  // 3PC: a copy manager answers EXTENDED COPY (spc_xcopy.cpp)
    d[7] = 0x02;  // CMDQUE: full task management model (SAM-5 8.x)
    const LunConfig defaults{};
    const LunConfig& cfg = lu != nullptr ? lu->config() : defaults;
    put_ascii(&d[8], 8, cfg.vendor);
    put_ascii(&d[16], 16, cfg.product);
    put_ascii(&d[32], 4, cfg.revision);
    for (std::size_t i = 0; i < kVersionDescriptors.size(); ++i) {
        store_be16(&d[58 + 2 * i], kVersionDescriptors[i]);
    }
    return d;
}

// Every VPD page starts with the peripheral byte, the page code and a 2-byte page length.
std::vector<std::uint8_t> vpd_header(std::uint8_t page, std::size_t body_bytes) {
    std::vector<std::uint8_t> d(4 + body_bytes, 0);
    d[0] = kDirectAccessBlock;
    d[1] = page;
    store_be16(&d[2], static_cast<std::uint16_t>(body_bytes));
    return d;
}

std::vector<std::uint8_t> vpd_supported_pages() {
    auto d = vpd_header(0x00, kVpdPages.size());
    std::copy(kVpdPages.begin(), kVpdPages.end(), d.begin() + 4);
    return d;
}

// SPC-4 7.8.15 Unit Serial Number.
std::vector<std::uint8_t> vpd_unit_serial(const LogicalUnit& lu) {
    const std::string& serial = lu.serial();
    auto d = vpd_header(0x80, serial.size());
    put_ascii(&d[4], serial.size(), serial);
    return d;
}

void append_designator(std::vector<std::uint8_t>& d, std::uint8_t code_set, std::uint8_t type_byte,
                       std::span<const std::uint8_t> designator) {
    d.push_back(code_set);
    d.push_back(type_byte);
    d.push_back(0);
    d.push_back(static_cast<std::uint8_t>(designator.size()));
    d.insert(d.end(), designator.begin(), designator.end());
}

// SPC-4 7.8.6 Device Identification. Designators:
//   NAA 3h (logical unit): the id initiators key multipath and udev's /dev/disk/by-id on;
//   T10 vendor id (logical unit): vendor + serial, for initiators that prefer text;
//   relative target port (target port): we have one port, number 1;
//   SCSI name string (target device): the target name, so the LU's device is named.
std::vector<std::uint8_t> vpd_device_identification(const LogicalUnit& lu, std::string_view target) {
    std::vector<std::uint8_t> d{kDirectAccessBlock, 0x83, 0, 0};
    constexpr std::uint8_t kBinary = 0x01, kAscii = 0x02, kUtf8 = 0x03;
    constexpr std::uint8_t kAssocLu = 0x00, kAssocPort = 0x10, kAssocDevice = 0x20;

    std::array<std::uint8_t, 8> naa{};
    store_be64(naa.data(), lu.naa_id());
    append_designator(d, kBinary, kAssocLu | 0x03, naa);

    std::vector<std::uint8_t> t10(8 + lu.serial().size());
    put_ascii(t10.data(), 8, lu.config().vendor);
    put_ascii(t10.data() + 8, lu.serial().size(), lu.serial());
    append_designator(d, kAscii, kAssocLu | 0x01, t10);

    std::array<std::uint8_t, 4> port{0, 0, 0, 1};
    append_designator(d, kBinary, kAssocPort | 0x04, port);

    // SPC-4 7.8.6.11: null terminated, padded with nulls to a multiple of 4, at most 255.
    std::vector<std::uint8_t> name(target.begin(), target.begin() + std::min<std::size_t>(
                                                                           target.size(), 250));
    name.push_back(0);
    while (name.size() % 4 != 0) name.push_back(0);
    append_designator(d, kUtf8, kAssocDevice | 0x08, name);

    store_be16(&d[2], static_cast<std::uint16_t>(d.size() - 4));
    return d;
}

// SBC-4 6.6.4 Block Limits, page length 3Ch (SBC-3 and later; libiscsi checks the length).
std::vector<std::uint8_t> vpd_block_limits(const LogicalUnit& lu) {
    auto d = vpd_header(0xb0, 0x3c);
    store_be16(&d[6], lu.optimal_granularity_blocks());
    store_be32(&d[8], lu.max_transfer_blocks());   // MAXIMUM TRANSFER LENGTH
    store_be32(&d[12], lu.max_transfer_blocks());  // OPTIMAL TRANSFER LENGTH
    // WSNZ: WRITE SAME with zero blocks ("to the end") is refused (sbc_write_same.cpp).
    d[4] = 0x01;
    d[5] = lu.max_compare_and_write_blocks();  // MAXIMUM COMPARE AND WRITE LENGTH
    // UNMAP limits only when UNMAP is there (libiscsi checks that MAXIMUM UNMAP LBA COUNT is 0
    // when LBPU is 0).
    if (lu.thin()) {
        store_be32(&d[20], lu.max_unmap_blocks());       // MAXIMUM UNMAP LBA COUNT
        store_be32(&d[24], lu.max_unmap_descriptors());  // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
        // OPTIMAL UNMAP GRANULARITY: a 4 KiB page, what a file system hole or a released
        // memory page covers; UNMAP GRANULARITY ALIGNMENT 0 with UGAVALID.
        store_be32(&d[28], lu.optimal_granularity_blocks());
        d[32] = 0x80;
    }
    store_be64(&d[36], lu.max_write_same_blocks());  // MAXIMUM WRITE SAME LENGTH
    // WRITE ATOMIC(16) (sbc_write_atomic.cpp): MAXIMUM ATOMIC TRANSFER LENGTH, ATOMIC
    // ALIGNMENT, ATOMIC TRANSFER LENGTH GRANULARITY; no atomic boundaries (bytes 56-63 zero).
    store_be32(&d[44], lu.max_atomic_transfer_blocks());
    store_be32(&d[48], lu.atomic_alignment_blocks());
    store_be32(&d[52], lu.atomic_granularity_blocks());
    return d;
}

// SBC-4 6.6.2 Block Device Characteristics.
std::vector<std::uint8_t> vpd_block_characteristics(const LogicalUnit& lu) {
    auto d = vpd_header(0xb1, 0x3c);
    store_be16(&d[4], 0x0001);  // MEDIUM ROTATION RATE: non-rotating medium
    // WABEREQ / WACEREQ 01b: a read after SANITIZE BLOCK ERASE or CRYPTOGRAPHIC ERASE succeeds
    // (it returns zeros, sbc_sanitize.cpp). WABEREQ only where BLOCK ERASE is offered.
    if (block_erase_offered(lu)) d[7] |= 0x40;
    d[7] |= 0x10;
    return d;
}

// SBC-4 6.6.6 Logical Block Provisioning. A thin LU has UNMAP (LBPU), WRITE SAME(16) and (10)
// with UNMAP (LBPWS, LBPWS10), reads zeros from deallocated blocks (LBPRZ 001b) and says
// PROVISIONING TYPE 010b, thin; others are fully provisioned (all zero).
std::vector<std::uint8_t> vpd_logical_block_provisioning(const LogicalUnit& lu) {
    auto d = vpd_header(0xb2, 4);
    if (lu.thin()) {
        d[5] = 0x80 | 0x40 | 0x20 | 0x04;
        d[6] = 0x02;
    }
    return d;
}

}  // namespace

SenseReason handle_inquiry(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool evpd = (cdb[1] & 0x01) != 0;
    const std::uint8_t page = cdb[2];
    const std::uint32_t allocation_length = load_be16(&cdb[3]);
    const LogicalUnit* lu = t.lu;

    if (!evpd) {
        // SPC-4 6.6.1: with EVPD 0 the PAGE CODE field shall be zero.
        if (page != 0) return t.invalid_cdb_field(2);
        t.send_data(standard_inquiry(lu), allocation_length);
        return SenseReason::none;
    }

    std::vector<std::uint8_t> data;
    if (lu == nullptr) {
        // No logical unit: only the list of pages, saying there is nothing behind it.
        if (page != 0x00) return t.invalid_cdb_field(2);
        data = vpd_header(0x00, 1);
        data[0] = kNoLogicalUnit;
        t.send_data(data, allocation_length);
        return SenseReason::none;
    }
    switch (page) {
        case 0x00: data = vpd_supported_pages(); break;
        case 0x80: data = vpd_unit_serial(*lu); break;
        case 0x83: data = vpd_device_identification(*lu, t.target->name()); break;
        case 0x8f: data = vpd_third_party_copy(*lu); break;
        case 0xb0: data = vpd_block_limits(*lu); break;
        case 0xb1: data = vpd_block_characteristics(*lu); break;
        case 0xb2: data = vpd_logical_block_provisioning(*lu); break;
        default: return t.invalid_cdb_field(2);
    }
    t.send_data(data, allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
