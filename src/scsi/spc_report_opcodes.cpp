// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), generated from the command table so it can
// never disagree with dispatch (STYLE #7).
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"

namespace itd::scsi {

namespace {

// SPC-4 6.35.4 command timeouts descriptor: zero timeouts mean "not specified".
void append_timeouts(std::vector<std::uint8_t>& d) {
    const std::size_t at = d.size();
    d.resize(at + 12, 0);
    store_be16(&d[at], 0x0a);
}

void append_one_command(std::vector<std::uint8_t>& d, const CommandSpec* spec, bool rctd) {
    if (spec == nullptr) {
        // SUPPORT 001b: not supported.
        d = {0x00, 0x01, 0x00, 0x00};
        return;
    }
    // SPC-4 6.35.3: CTDP, SUPPORT 011b (supported as the standard says), CDB SIZE, usage data.
    d = {0x00, static_cast<std::uint8_t>((rctd ? 0x80 : 0x00) | 0x03), 0x00, spec->cdb_size};
    d.insert(d.end(), spec->usage.begin(), spec->usage.begin() + spec->cdb_size);
    if (rctd) append_timeouts(d);
}

}  // namespace

SenseReason handle_report_supported_opcodes(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool rctd = (cdb[2] & 0x80) != 0;
    const std::uint8_t options = cdb[2] & 0x07;
    const std::uint8_t opcode = cdb[3];
    const std::uint16_t service_action = load_be16(&cdb[4]);
    const std::uint32_t allocation_length = load_be32(&cdb[6]);

    // A row this LU does not offer is reported as not supported (SPC-4 6.35.1: the commands
    // the logical unit supports).
    const auto offered = [&t](const CommandSpec* spec) -> const CommandSpec* {
        return spec != nullptr && command_offered(*spec, *t.lu) ? spec : nullptr;
    };
    std::vector<std::uint8_t> d;
    switch (options) {
        case 0x00: {
            // All commands: 4-byte header, then one 8-byte descriptor (+12 with RCTD) each.
            d.resize(4, 0);
            for (const CommandSpec& row : command_table()) {
                if (!command_offered(row, *t.lu)) continue;
                const std::size_t at = d.size();
                d.resize(at + 8, 0);
                d[at] = row.opcode;
                if (row.has_service_action) {
                    store_be16(&d[at + 2], row.service_action);
                    d[at + 5] |= 0x01;  // SERVACTV
                }
                if (rctd) d[at + 5] |= 0x02;  // CTDP
                store_be16(&d[at + 6], row.cdb_size);
                if (rctd) append_timeouts(d);
            }
            store_be32(&d[0], static_cast<std::uint32_t>(d.size() - 4));
            break;
        }
        case 0x01:
            // By opcode alone: an opcode with service actions is INVALID FIELD IN CDB.
            if (opcode_has_service_actions(opcode)) return t.invalid_cdb_field(3);
            append_one_command(d, offered(find_command(opcode, 0)), rctd);
            break;
        case 0x02:
            // By opcode and service action: an opcode without them is INVALID FIELD IN CDB.
            if (!opcode_has_service_actions(opcode)) return t.invalid_cdb_field(3);
            append_one_command(
                d, service_action > 0x1f
                       ? nullptr
                       : offered(find_command(opcode, static_cast<std::uint8_t>(service_action))),
                rctd);
            break;
        case 0x03:
            // SPC-4 r37: by opcode, and by service action when the opcode has them.
            if (opcode_has_service_actions(opcode) && service_action > 0x1f) {
                append_one_command(d, nullptr, rctd);
            } else {
                append_one_command(
                    d, offered(find_command(opcode, static_cast<std::uint8_t>(service_action))),
                    rctd);
            }
            break;
        default: return t.invalid_cdb_field(2, 2);
    }
    t.send_data(d, allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
