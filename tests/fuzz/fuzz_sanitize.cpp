// Decodes arbitrary SANITIZE OVERWRITE parameter lists (SBC-4 5.30.2.2) against a fuzzed
// logical block length. Checks: no crash or sanitizer report; an accepted list has 1..31
// passes, a TEST value of two bits, and a non-empty pattern that fits both the block and the
// data; a refused one names a reason and points into the parameter list; the block built from
// an accepted pattern has the block's length and starts with the pattern.
//
// Input layout: bytes 0-1 the logical block length; the rest is the parameter list.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/sbc_sanitize_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::scsi;
    if (size < 2) return 0;
    const std::uint32_t block_bytes = itd::load_be16(data);
    const std::span<const std::uint8_t> list(data + 2, size - 2);

    auto parsed = parse_overwrite_parameters(list, block_bytes);
    if (!parsed) {
        ITD_CHECK(parsed.error().reason != SenseReason::none);
        if (parsed.error().field) ITD_CHECK(!parsed.error().field->in_cdb);
        return 0;
    }
    ITD_CHECK(list.size() >= kOverwriteHeaderBytes);
    ITD_CHECK(parsed->passes >= 1 && parsed->passes <= 31);
    ITD_CHECK(parsed->test <= 3);
    ITD_CHECK(!parsed->pattern.empty());
    ITD_CHECK(parsed->pattern.size() <= block_bytes);
    ITD_CHECK(parsed->pattern.size() <= list.size() - kOverwriteHeaderBytes);
    ITD_CHECK(std::equal(parsed->pattern.begin(), parsed->pattern.end(),
                         list.begin() + kOverwriteHeaderBytes));
    const auto block = fill_block(parsed->pattern, block_bytes);
    ITD_CHECK(block.size() == block_bytes);
    ITD_CHECK(std::equal(parsed->pattern.begin(), parsed->pattern.end(), block.begin()));
    return 0;
}
