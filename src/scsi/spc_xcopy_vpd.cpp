// SPC-4 7.8.17 Third-party Copy VPD page (8Fh): the third-party copy commands this LU's copy
// manager supports and its limits, the same ones RECEIVE COPY RESULTS OPERATING PARAMETERS
// reports (both read spc_xcopy.h).
#include <bit>
#include <initializer_list>

#include "common/endian.h"
#include "scsi/lun.h"
#include "scsi/spc_xcopy.h"

namespace itd::scsi {

namespace {

// Appends a third-party copy descriptor: type, length, body padded to a multiple of four bytes
// (SPC-4 7.8.17.1).
void append_descriptor(std::vector<std::uint8_t>& page, std::uint16_t type,
                       std::vector<std::uint8_t> body) {
    while (body.size() % 4 != 0) body.push_back(0);
    const std::size_t at = page.size();
    page.resize(at + 4);
    store_be16(&page[at], type);
    store_be16(&page[at + 2], static_cast<std::uint16_t>(body.size()));
    page.insert(page.end(), body.begin(), body.end());
}

// 0001h Supported Commands: EXTENDED COPY (LID1) and the four RECEIVE COPY RESULTS service
// actions, as in the command table.
std::vector<std::uint8_t> supported_commands() {
    std::vector<std::uint8_t> list;
    const auto add = [&](std::uint8_t opcode, std::initializer_list<std::uint8_t> actions) {
        list.push_back(opcode);
        list.push_back(static_cast<std::uint8_t>(actions.size()));
        list.insert(list.end(), actions.begin(), actions.end());
    };
    add(0x83, {0x00});
    add(0x84, {0x00, 0x01, 0x03, 0x04});
    std::vector<std::uint8_t> body{static_cast<std::uint8_t>(list.size())};
    body.insert(body.end(), list.begin(), list.end());
    return body;
}

// 0004h Parameter Data.
std::vector<std::uint8_t> parameter_data() {
    std::vector<std::uint8_t> body(28, 0);
    store_be16(&body[4], kCopyManagerLimits.max_cscd_descriptors);
    store_be16(&body[6], kCopyManagerLimits.max_segment_descriptors);
    store_be32(&body[8], kCopyManagerLimits.max_descriptor_list_bytes);
    store_be32(&body[12], kCopyManagerLimits.max_inline_data_bytes);
    return body;
}

// 0008h Supported Descriptors.
std::vector<std::uint8_t> supported_descriptors() {
    std::vector<std::uint8_t> body{
        static_cast<std::uint8_t>(std::size(kImplementedDescriptorTypes))};
    body.insert(body.end(), std::begin(kImplementedDescriptorTypes),
                std::end(kImplementedDescriptorTypes));
    return body;
}

// 8001h General Copy Operations.
std::vector<std::uint8_t> general_copy_operations(const LogicalUnit& lu) {
    std::vector<std::uint8_t> body(32, 0);
    store_be32(&body[0], kMaxConcurrentCopies);  // TOTAL CONCURRENT COPIES
    store_be32(&body[4], kMaxConcurrentCopies);  // MAXIMUM IDENTIFIED CONCURRENT COPIES
    store_be32(&body[8], kMaxSegmentBytes);
    body[12] = static_cast<std::uint8_t>(std::countr_zero(lu.geometry().block_size_bytes));
    body[13] = 0;  // INLINE DATA GRANULARITY: 2^0
    return body;
}

}  // namespace

std::vector<std::uint8_t> vpd_third_party_copy(const LogicalUnit& lu) {
    std::vector<std::uint8_t> page{0x00, 0x8f, 0, 0};  // direct access block device
    append_descriptor(page, 0x0001, supported_commands());
    append_descriptor(page, 0x0004, parameter_data());
    append_descriptor(page, 0x0008, supported_descriptors());
    // 000Ch Supported CSCD Descriptor IDs: none of the IDs above 07FFh.
    append_descriptor(page, 0x000c, {0, 0});
    append_descriptor(page, 0x8001, general_copy_operations(lu));
    store_be16(&page[2], static_cast<std::uint16_t>(page.size() - 4));
    return page;
}

}  // namespace itd::scsi
