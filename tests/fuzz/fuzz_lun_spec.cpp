// Parses arbitrary LUN-SPEC text (daemon/config.h parse_lun_spec), thin cluster stores included
// (volume/thin/store_location.h). Checks: no crash, sanitizer report or escaping exception; a
// thin spec that is accepted names a store that parses on its own, and that store's
// description parses again to the same description.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/check.h"
#include "daemon/config.h"
#include "volume/thin/store_location.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::volume::thin;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto lun = itd::daemon::parse_lun_spec(text);
    if (!lun || lun->volume.backend != "thin") return 0;
    auto split = split_store_volume(lun->volume.arg);
    ITD_CHECK(split.has_value());
    auto where = parse_store_location(split->first, lun->volume.options);
    ITD_CHECK(where.has_value());
    auto again = parse_store_location(where->describe(), lun->volume.options);
    ITD_CHECK(again.has_value());
    ITD_CHECK(again->describe() == where->describe());
    ITD_CHECK(again->meta_prefix == where->meta_prefix);
    return 0;
}
