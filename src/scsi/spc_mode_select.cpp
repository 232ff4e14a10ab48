// MODE SELECT (6) and (10) (SPC-4 6.9, 6.10). The parameter list is decoded and checked by
// spc_mode_select_params.cpp; what can change is the caching page's WCE (mode_pages.h), and
// write-like handlers read it for every write (sbc_read_write.cpp locked_write: WCE=0 makes a
// write FUA).
#include <algorithm>
#include <memory>

#include "common/endian.h"
#include "scsi/command_table.h"
#include "scsi/lun.h"
#include "scsi/sbc_common.h"
#include "scsi/spc_mode_select_params.h"
#include "scsi/volume_errors.h"

namespace itd::scsi {

SenseReason handle_mode_select(TaskPtr& task) {
    Task& t = *task;
    const auto cdb = t.cdb();
    const bool ten = t.spec->cdb_size == 10;
    const bool page_format = (cdb[1] & 0x10) != 0;
    const bool save_pages = (cdb[1] & 0x01) != 0;
    const std::uint32_t list_length = ten ? load_be16(&cdb[7]) : cdb[4];
    LogicalUnit& lu = *t.lu;

    // SPC-4 6.9.1: "If the logical unit does not implement saved mode pages and the SP bit is
    // set to one", INVALID FIELD IN CDB. We save nothing (MODE SENSE reports PS=0).
    if (save_pages) return t.invalid_cdb_field(1, 0);
    // SPC-4 6.9.1: a PARAMETER LIST LENGTH of zero is not an error, and changes nothing.
    if (list_length == 0) return SenseReason::none;

    const volume::Geometry g = lu.geometry();
    const ModeSelectContext ctx{.ten = ten,
                                .page_format = page_format,
                                .block_count = g.block_count,
                                .block_size_bytes = g.block_size_bytes,
                                .current = lu.mode_parameters()};
    const auto list = t.data_out.first(std::min<std::size_t>(list_length, t.data_out.size()));
    auto parsed = parse_mode_select(list, ctx);
    if (!parsed) {
        t.detail.field = parsed.error().field;
        return parsed.error().reason;
    }

    const bool cache_was_enabled = lu.write_cache_enabled();
    if (lu.set_mode_parameters(*parsed)) {
        // SPC-4 6.9.1 / 5.14: parameters shared by every I_T nexus changed: MODE PARAMETERS
        // CHANGED for every nexus but this one.
        lu.unit_attentions().establish_for_others(SenseReason::ua_mode_parameters_changed,
                                                  t.nexus);
    }
    if (cache_was_enabled && !parsed->wce) {
        // Write-through from now on (every write is FUA). What the cache holds from before is
        // flushed before GOOD, so that nothing acknowledged stays volatile once the initiator
        // believes the cache is off.
        finish_after_flush(std::move(task));
    }
    return SenseReason::none;
}

}  // namespace itd::scsi
