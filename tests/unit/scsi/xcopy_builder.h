// Builds EXTENDED COPY (LID1) parameter lists for tests (SPC-4 6.4; the layout is in
// src/scsi/spc_xcopy_params.h).
#pragma once

#include <cstdint>
#include <vector>

#include "common/endian.h"

namespace itd::scsi::testing {

using Bytes = std::vector<std::uint8_t>;

// An identification CSCD descriptor (E4h) naming a block device by its 8-byte NAA designator.
inline Bytes e4_descriptor(std::uint64_t naa, std::uint32_t block_bytes = 512) {
    Bytes d(32, 0);
    d[0] = 0xe4;
    d[4] = 0x01;  // CODE SET binary
    d[5] = 0x03;  // ASSOCIATION logical unit, DESIGNATOR TYPE NAA
    d[7] = 8;
    store_be64(&d[8], naa);
    store_be24(&d[29], block_bytes);
    return d;
}

// A block device to block device segment descriptor (02h).
inline Bytes b2b_segment(std::uint16_t source, std::uint16_t destination, std::uint16_t blocks,
                         std::uint64_t source_lba, std::uint64_t destination_lba, bool dc = false) {
    Bytes d(28, 0);
    d[0] = 0x02;
    d[1] = dc ? 0x02 : 0x00;
    store_be16(&d[2], 0x18);
    store_be16(&d[4], source);
    store_be16(&d[6], destination);
    store_be16(&d[10], blocks);
    store_be64(&d[12], source_lba);
    store_be64(&d[20], destination_lba);
    return d;
}

// Header plus descriptors; the lengths in the header follow what is appended.
// list_id_usage: 0 hold, 2 discard, 3 none.
inline Bytes xcopy_list(std::uint8_t list_id, std::uint8_t list_id_usage,
                        const std::vector<Bytes>& cscds, const std::vector<Bytes>& segments) {
    Bytes list(16, 0);
    list[0] = list_id;
    list[1] = static_cast<std::uint8_t>(list_id_usage << 3);
    std::size_t cscd_bytes = 0, segment_bytes = 0;
    for (const Bytes& c : cscds) {
        list.insert(list.end(), c.begin(), c.end());
        cscd_bytes += c.size();
    }
    for (const Bytes& s : segments) {
        list.insert(list.end(), s.begin(), s.end());
        segment_bytes += s.size();
    }
    store_be16(&list[2], static_cast<std::uint16_t>(cscd_bytes));
    store_be32(&list[8], static_cast<std::uint32_t>(segment_bytes));
    return list;
}

// The 16-byte EXTENDED COPY(LID1) CDB for a parameter list of length bytes.
inline Bytes xcopy_cdb(std::uint32_t length) {
    Bytes cdb(16, 0);
    cdb[0] = 0x83;
    store_be32(&cdb[10], length);
    return cdb;
}

// RECEIVE COPY RESULTS with service action sa.
inline Bytes rcr_cdb(std::uint8_t sa, std::uint8_t list_id, std::uint32_t allocation = 1024) {
    Bytes cdb(16, 0);
    cdb[0] = 0x84;
    cdb[1] = sa;
    cdb[2] = list_id;
    store_be32(&cdb[10], allocation);
    return cdb;
}

}  // namespace itd::scsi::testing
