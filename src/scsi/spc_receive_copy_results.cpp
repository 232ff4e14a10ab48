// RECEIVE COPY RESULTS (LID1), opcode 84h: the service actions SPC-4 names RECEIVE COPY
// STATUS(LID1), RECEIVE COPY DATA(LID1), RECEIVE COPY OPERATING PARAMETERS and RECEIVE COPY
// FAILURE DETAILS(LID1). What the copy manager of this LU knows about the EXTENDED COPY
// commands an I_T nexus sent it (spc_copy_results.h), and its operating parameters
// (spc_xcopy.h).
#include <bit>
#include <vector>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/spc_xcopy.h"

namespace itd::scsi {

namespace {

constexpr std::uint8_t kCopyStatus = 0x00;
constexpr std::uint8_t kReceiveData = 0x01;
constexpr std::uint8_t kOperatingParameters = 0x03;
constexpr std::uint8_t kFailedSegmentDetails = 0x04;

// SPC-4 RECEIVE COPY STATUS(LID1) parameter data, 12 bytes.
std::vector<std::uint8_t> copy_status_data(const CopyRecord& r) {
    std::vector<std::uint8_t> d(12, 0);
    store_be32(&d[0], static_cast<std::uint32_t>(d.size() - 4));  // AVAILABLE DATA
    // HDD (bit 7) zero: we never hold data, so none was discarded.
    d[4] = static_cast<std::uint8_t>(r.state);
    store_be16(&d[5], r.segments_processed);
    const TransferCount count = transfer_count(r.bytes_transferred);
    d[7] = count.units;
    store_be32(&d[8], count.count);
    return d;
}

// SPC-4 RECEIVE COPY OPERATING PARAMETERS parameter data.
std::vector<std::uint8_t> operating_parameters(const LogicalUnit& lu) {
    std::vector<std::uint8_t> d(44 + std::size(kImplementedDescriptorTypes), 0);
    store_be32(&d[0], static_cast<std::uint32_t>(d.size() - 4));  // AVAILABLE DATA
    d[4] = 0x01;  // SNLID: LIST ID USAGE 11b (no list identifier) is supported
    store_be16(&d[8], kCopyManagerLimits.max_cscd_descriptors);
    store_be16(&d[10], kCopyManagerLimits.max_segment_descriptors);
    store_be32(&d[12], kCopyManagerLimits.max_descriptor_list_bytes);
    store_be32(&d[16], kMaxSegmentBytes);
    store_be32(&d[20], kCopyManagerLimits.max_inline_data_bytes);
    // HELD DATA LIMIT and MAXIMUM STREAM DEVICE TRANSFER SIZE (bytes 24-31): zero, we hold no
    // data and copy no streams.
    store_be16(&d[34], kMaxConcurrentCopies);  // TOTAL CONCURRENT COPIES
    d[36] = kMaxConcurrentCopies;              // MAXIMUM CONCURRENT COPIES
    // DATA SEGMENT GRANULARITY (log2): a segment moves whole blocks of this LU.
    d[37] = static_cast<std::uint8_t>(std::countr_zero(lu.geometry().block_size_bytes));
    // INLINE and HELD DATA GRANULARITY (bytes 38, 39): 2^0, unused.
    d[43] = static_cast<std::uint8_t>(std::size(kImplementedDescriptorTypes));
    std::copy(std::begin(kImplementedDescriptorTypes), std::end(kImplementedDescriptorTypes),
              d.begin() + 44);
    return d;
}

// SPC-4 RECEIVE COPY FAILURE DETAILS(LID1) parameter data; just AVAILABLE DATA (zero) when the
// copy did not fail (or is unknown, or still running).
std::vector<std::uint8_t> failed_segment_details(const std::optional<CopyRecord>& r) {
    if (!r) return std::vector<std::uint8_t>(4, 0);
    std::vector<std::uint8_t> d(60 + r->sense_bytes, 0);
    store_be32(&d[0], static_cast<std::uint32_t>(d.size() - 4));
    d[56] = static_cast<std::uint8_t>(r->status);  // COPY COMMAND STATUS
    store_be16(&d[58], r->sense_bytes);            // SENSE DATA LENGTH
    std::copy_n(r->sense.begin(), r->sense_bytes, d.begin() + 60);
    return d;
}

}  // namespace

SenseReason handle_receive_copy_results(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const std::uint8_t service_action = cdb[1] & 0x1f;
    const std::uint8_t list_id = cdb[2];
    const std::uint32_t allocation_length = load_be32(&cdb[10]);
    CopyResults& results = t.lu->copy_results();

    switch (service_action) {
        case kCopyStatus: {
            auto r = results.copy_status(t.nexus, list_id);
            // SPC-4 RECEIVE COPY STATUS(LID1): a LIST IDENTIFIER that names no copy of this I_T
            // nexus (never sent, sent with LIST ID USAGE 11b, or already reported) is INVALID FIELD
            // IN CDB.
            if (!r) return t.invalid_cdb_field(2);
            const auto data = copy_status_data(*r);
            t.send_data(data, allocation_length);
            // A completed copy's status is discarded once it went out whole, or when asked for
            // with an ALLOCATION LENGTH of zero.
            if (r->state != CopyManagerStatus::in_progress &&
                (allocation_length == 0 || allocation_length >= data.size())) {
                results.discard(t.nexus, list_id);
            }
            return SenseReason::none;
        }
        case kReceiveData: {
            // SPC-4 RECEIVE COPY DATA(LID1): no segment descriptor we support holds data, so there
            // is never any to return: AVAILABLE DATA zero.
            const std::vector<std::uint8_t> data(4, 0);
            t.send_data(data, allocation_length);
            return SenseReason::none;
        }
        case kOperatingParameters: {
            // The LIST IDENTIFIER field is ignored: the parameters are the copy manager's.
            t.send_data(operating_parameters(*t.lu), allocation_length);
            return SenseReason::none;
        }
        case kFailedSegmentDetails: {
            auto r = results.failed_segment_details(t.nexus, list_id);
            const auto data = failed_segment_details(r);
            t.send_data(data, allocation_length);
            // Discarded like COPY STATUS.
            if (r && (allocation_length == 0 || allocation_length >= data.size())) {
                results.discard(t.nexus, list_id);
            }
            return SenseReason::none;
        }
        default:
            break;
    }
    // The command table only routes the service actions above here.
    return t.invalid_cdb_field(1, 4);
}

}  // namespace itd::scsi
