// READ DEFECT DATA (10) and (12) (SBC-4 5.13, 5.14). Our media have no defects: a volume never
// remaps a block. The answer is the header alone, in the defect list format asked for, with the
// lists asked for marked valid (PLISTV, GLISTV) and a DEFECT LIST LENGTH of zero. With an empty
// list every address format is honoured, so nothing is ever converted to another format.
#include <array>

#include "common/endian.h"
#include "scsi/command_table.h"

namespace itd::scsi {

namespace {

// SBC-4 table "DEFECT LIST FORMAT field": 000b short block, 001b extended bytes from index,
// 010b extended physical sector, 011b long block, 100b bytes from index, 101b physical sector,
// 110b vendor specific; 111b is reserved.
constexpr std::uint8_t kReservedFormat = 0x07;

constexpr std::uint8_t kReqPlist = 0x10;
constexpr std::uint8_t kReqGlist = 0x08;

}  // namespace

SenseReason handle_read_defect_data(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool twelve = t.spec->cdb_size == 12;
    // The request bits and the format sit in byte 2 of the 10-byte CDB, byte 1 of the 12-byte.
    const std::uint16_t flags_byte = twelve ? 1 : 2;
    const std::uint8_t flags = cdb[flags_byte];
    const std::uint8_t format = flags & 0x07;
    if (format == kReservedFormat) return t.invalid_cdb_field(flags_byte, 2);
    const std::uint32_t allocation_length =
        twelve ? load_be32(&cdb[6]) : std::uint32_t{load_be16(&cdb[7])};

    // Byte 1 of either header: PLISTV (bit 4) and GLISTV (bit 3) say the list asked for is
    // there (and empty), then the format it is in.
    const auto byte1 = static_cast<std::uint8_t>((flags & (kReqPlist | kReqGlist)) | format);
    if (twelve) {
        // SBC-4 5.14.2: 8-byte header; GENERATION CODE (bytes 2-3) 0: we keep none (the list
        // never changes); DEFECT LIST LENGTH (bytes 4-7) 0. The ADDRESS DESCRIPTOR INDEX
        // points into an empty list, so whatever it says, no descriptor follows.
        std::array<std::uint8_t, 8> header{};
        header[1] = byte1;
        t.send_data(header, allocation_length);
    } else {
        // SBC-4 5.13.2: 4-byte header; DEFECT LIST LENGTH (bytes 2-3) 0.
        std::array<std::uint8_t, 4> header{};
        header[1] = byte1;
        t.send_data(header, allocation_length);
    }
    return SenseReason::none;
}

}  // namespace itd::scsi
