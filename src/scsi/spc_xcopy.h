// The copy manager (SPC-4, third-party copy): EXTENDED COPY (LID1) between the logical units of
// one Target, RECEIVE COPY RESULTS, and the Third-party Copy VPD page. Every limit the copy manager
// enforces is stated here once, and reported from here: RECEIVE COPY RESULTS OPERATING
// PARAMETERS (spc_receive_copy_results.cpp) and VPD 8Fh (spc_xcopy_vpd.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "scsi/spc_xcopy_params.h"

namespace itd::scsi {

class LogicalUnit;

// VMware asks for two CSCD descriptors and one segment per command; sg_xcopy and ddpt likewise.
// 16 of each fit MAXIMUM DESCRIPTOR LIST LENGTH (16 * 32 + 16 * 28 = 960 <= 1024).
inline constexpr XcopyLimits kCopyManagerLimits{
    .max_cscd_descriptors = 16,
    .max_segment_descriptors = 16,
    .max_descriptor_list_bytes = 1024,
    .max_inline_data_bytes = 0,  // no segment descriptor we support uses inline data
};
// MAXIMUM SEGMENT LENGTH in bytes. NUMBER OF BLOCKS is 16 bits, so with 512-byte blocks no
// segment can ask for more; a command copies at most 16 of them (512 MiB), which keeps one
// EXTENDED COPY well inside an initiator's command timeout.
inline constexpr std::uint32_t kMaxSegmentBytes = 32u << 20;
// The copy moves through a buffer of this size (never one allocation of a whole segment).
inline constexpr std::uint32_t kCopyChunkBytes = 1u << 20;
// TOTAL CONCURRENT COPIES and MAXIMUM CONCURRENT COPIES, per logical unit: copies beyond it
// are refused with INSUFFICIENT RESOURCES. Each running copy holds one chunk buffer.
inline constexpr std::uint8_t kMaxConcurrentCopies = 16;
// The descriptor type codes we implement, ascending (SPC-4 RECEIVE COPY OPERATING PARAMETERS).
inline constexpr std::uint8_t kImplementedDescriptorTypes[] = {kBlockToBlockSegment,
                                                               kIdentificationCscd};

// SPC-4 7.8.17 Third-party Copy VPD page (8Fh) for lu.
std::vector<std::uint8_t> vpd_third_party_copy(const LogicalUnit& lu);

}  // namespace itd::scsi
