// TEST UNIT READY (SPC-4 6.47), REQUEST SENSE (SPC-4 6.39), REPORT LUNS (SPC-4 6.33).
#include <array>
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/lun_address.h"
#include "scsi/target.h"

namespace itd::scsi {

SenseReason handle_test_unit_ready(TaskPtr&) {
    // Our logical units are always ready; a pending UA was already reported by the dispatcher,
    // and so was an ejected medium (NOT READY, MEDIUM NOT PRESENT).
    return SenseReason::none;
}

SenseReason handle_request_sense(TaskPtr& task) {
    Task& t = *task;
    const std::uint32_t allocation_length = t.cdb()[4];
    // SPC-4 6.39.2: for a LUN that does not exist the sense data says so; otherwise a pending
    // unit attention is returned (and cleared, SAM-5 5.14), else NO SENSE. Autosense (iSCSI
    // always has it) means no other sense is ever left pending.
    SenseReason reason = SenseReason::none;
    SenseDetail detail;
    if (t.lu == nullptr) {
        reason = SenseReason::lun_not_supported;
    } else if (auto ua = t.lu->unit_attentions().take(t.nexus)) {
        reason = *ua;
    } else if (t.lu->sanitizer().state() == Sanitizer::State::running) {
        // SBC-4 4.11.2: while a sanitize runs, NOT READY, SANITIZE IN PROGRESS and how far it
        // has got (libiscsi's Sanitize.Reset polls this way).
        reason = SenseReason::sanitize_in_progress;
        detail.progress = t.lu->sanitizer().progress();
    } else if (!t.lu->medium().present()) {
        // SPC-4 6.39.2: with nothing else to report, the sense data describes why the LU
        // cannot access its medium.
        reason = SenseReason::medium_not_present;
    }
    std::array<std::uint8_t, kFixedSenseBytes> sense{};
    build_fixed_sense(reason, detail, sense.data());
    t.send_data(sense, allocation_length);
    return SenseReason::none;
}

SenseReason handle_report_luns(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const std::uint8_t select_report = cdb[2];
    const std::uint32_t allocation_length = load_be32(&cdb[6]);
    // SPC-4 6.33: "the ALLOCATION LENGTH field shall be at least 16 bytes"; less is INVALID FIELD
    // IN CDB.
    if (allocation_length < 16) return t.invalid_cdb_field(6);

    std::vector<std::uint32_t> luns;
    switch (select_report) {
        case 0x00:  // logical units (no well-known LUs here)
        case 0x02:  // all logical units
            luns = t.target->luns();
            break;
        case 0x01:  // well known logical units only: we have none
            break;
        default: return t.invalid_cdb_field(2);
    }
    std::vector<std::uint8_t> data(8 + 8 * luns.size(), 0);
    store_be32(&data[0], static_cast<std::uint32_t>(8 * luns.size()));  // LUN LIST LENGTH
    for (std::size_t i = 0; i < luns.size(); ++i) {
        store_be64(&data[8 + 8 * i], encode_lun(luns[i]));
    }
    t.send_data(data, allocation_length);
    return SenseReason::none;
}

}  // namespace itd::scsi
