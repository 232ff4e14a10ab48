// Decodes arbitrary UNMAP parameter lists (SBC-4 5.30.2) against fuzzed limits. Checks: no
// crash or sanitizer report, and every descriptor that comes back lies inside the capacity,
// is non-empty, and respects the descriptor and block-count limits.
//
// Input layout: bytes 0-7 the capacity in blocks, byte 8 the descriptor limit, bytes 9-12 the
// block-count limit; the rest is the parameter list.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/sbc_unmap_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::scsi;
    if (size < 13) return 0;
    UnmapLimits limits;
    limits.block_count = itd::load_be64(data);
    limits.max_descriptors = data[8];
    limits.max_blocks = itd::load_be32(data + 9);
    const std::span<const std::uint8_t> list(data + 13, size - 13);

    auto parsed = parse_unmap_parameters(list, limits);
    if (!parsed) {
        ITD_CHECK(parsed.error().reason != SenseReason::none);
        return 0;
    }
    ITD_CHECK(list.size() >= kUnmapHeaderBytes);
    ITD_CHECK(parsed->size() <= limits.max_descriptors);
    ITD_CHECK(parsed->size() <= (list.size() - kUnmapHeaderBytes) / kUnmapDescriptorBytes);
    std::uint64_t total = 0;
    for (const UnmapDescriptor& d : *parsed) {
        ITD_CHECK(d.blocks != 0);
        ITD_CHECK(d.lba < limits.block_count && d.blocks <= limits.block_count - d.lba);
        total += d.blocks;
    }
    ITD_CHECK(total <= limits.max_blocks);
    return 0;
}
