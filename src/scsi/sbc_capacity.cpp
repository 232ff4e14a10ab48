// READ CAPACITY (10) and (16) (SBC-4 5.19, 5.20).
#include <array>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"

namespace itd::scsi {

SenseReason handle_read_capacity10(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    // SBC-3 5.16: with PMI zero the LOGICAL BLOCK ADDRESS field shall be zero (both are obsolete
    // in SBC-4, but SBC-3 devices enforce it and libiscsi's ReadCapacity10 tests know that).
    const bool pmi = (cdb[8] & 0x01) != 0;
    if (!pmi && load_be32(&cdb[2]) != 0) return t.invalid_cdb_field(2);

    const volume::Geometry g = t.lu->geometry();
    const std::uint64_t last_lba = g.block_count - 1;
    std::array<std::uint8_t, 8> data{};
    // SBC-4 5.20.2: a last LBA that does not fit says FFFFFFFFh, telling the initiator to ask
    // READ CAPACITY(16).
    store_be32(&data[0], last_lba > 0xfffffffeull ? 0xffffffffu
                                                  : static_cast<std::uint32_t>(last_lba));
    store_be32(&data[4], g.block_size_bytes);
    t.send_data(data, static_cast<std::uint32_t>(data.size()));
    return SenseReason::none;
}

SenseReason handle_read_capacity16(TaskPtr& task) {
    Task& t = *task;
    const std::uint32_t allocation_length = load_be32(&t.cdb()[10]);
    const volume::Geometry g = t.lu->geometry();
    // SBC-4 5.20.2 table: 32 bytes. No protection (P_TYPE/PROT_EN 0), one logical block per
    // physical block, lowest aligned LBA 0. A thin LU sets LBPME (logical block provisioning
    // management) and LBPRZ (deallocated blocks read as zeros).
    std::array<std::uint8_t, 32> data{};
    store_be64(&data[0], g.block_count - 1);
    store_be32(&data[8], g.block_size_bytes);
    if (t.lu->thin()) data[14] = 0x80 | 0x40;
    // An allocation length below 32 (even 0) is not an error: the data is cut (SPC-4 4.2.5.6;
    // libiscsi ReadCapacity16.Alloclen).
    t.send_data(data, allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
