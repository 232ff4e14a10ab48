#include "scsi/lun.h"

#include <algorithm>
#include <cstdio>

#include "common/check.h"

namespace itd::scsi {

std::uint64_t stable_hash(std::string_view text, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (const char c : text) {
        h ^= static_cast<std::uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

namespace {

std::uint64_t identity_hash(std::string_view target_name, std::uint32_t lun) {
    return stable_hash(std::to_string(lun), stable_hash(target_name));
}

}  // namespace

LogicalUnit::LogicalUnit(std::uint32_t lun, LunConfig config, std::string_view target_name)
    : lun_(lun),
      config_(std::move(config)),
      reservations_(unit_attentions_, config_.pr_state_path) {
    ITD_CHECK(config_.volume != nullptr);
    const std::uint64_t h = identity_hash(target_name, lun);
    if (config_.serial.empty()) {
        char text[17];
        std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
        serial_ = text;
    } else {
        serial_ = config_.serial;
    }
    // SPC-4 7.8.6.6.4: NAA 3h, locally assigned, 60 bits of our choosing. (NAA 6h would need an
    // IEEE company id we do not have.)
    const std::uint64_t id_bits = config_.naa_id.value_or(h);
    const std::uint64_t naa = id_bits >> 60;
    naa_id_ = config_.naa_id && (naa == 0x2 || naa == 0x3 || naa == 0x5)
                  ? id_bits
                  : (std::uint64_t{0x3} << 60) | (id_bits & 0x0fffffffffffffffull);
    wce_.store(default_mode_parameters().wce, std::memory_order_relaxed);
    // SBC-4 4.6 / SPC-4 6.4: a volume grown underneath (itd volume grow) tells every nexus,
    // with CAPACITY DATA HAS CHANGED, to read the capacity again.
    config_.volume->set_resize_listener([this] {
        unit_attentions_.establish_for_others(SenseReason::ua_capacity_changed, std::nullopt);
    });
}

LogicalUnit::~LogicalUnit() { config_.volume->set_resize_listener({}); }

ModeParameters LogicalUnit::default_mode_parameters() const {
    // SBC-4 7.5.5: WCE starts as the volume's has_volatile_cache(); SWP starts clear.
    return {.wce = config_.volume->has_volatile_cache(), .swp = false};
}

bool LogicalUnit::set_mode_parameters(const ModeParameters& p) {
    const bool wce_changed = wce_.exchange(p.wce, std::memory_order_relaxed) != p.wce;
    const bool swp_changed = swp_.exchange(p.swp, std::memory_order_relaxed) != p.swp;
    return wce_changed || swp_changed;
}

void LogicalUnit::reset(NexusId) {
    // SAM-5 6.3.3: the unit attention goes to every I_T nexus, the requester's too (libiscsi's
    // MultipathIO.Reset expects it on every path).
    unit_attentions_.establish_for_others(SenseReason::ua_bus_device_reset, std::nullopt);
    // SPC-4 6.9.1 / SAM-5 6.3.3: after a reset the mode parameters are the saved ones, and we
    // save none, so the defaults.
    set_mode_parameters(default_mode_parameters());
    // SBC-4 5.10: a logical unit reset ends every medium removal prevention.
    medium_.reset();
    // SPC-2 5.5.1: a reset ends SPC-2 reservations; persistent ones stay (SPC-4 5.12.1).
    reservations_.reset();
}

void LogicalUnit::nexus_lost(NexusId nexus) {
    // Unit attentions stay queued for the nexus's next session (the same initiator port gets
    // the same NexusId back), as do its persistent reservations. Its medium removal prevention
    // (SBC-4 5.10) and an SPC-2 reservation end with it.
    medium_.nexus_lost(nexus);
    reservations_.nexus_lost(nexus);
}

std::uint32_t LogicalUnit::max_transfer_blocks() const {
    return kMaxTransferBytes / geometry().block_size_bytes;
}

std::uint64_t LogicalUnit::max_write_same_blocks() const {
    // VPD B0h MAXIMUM WRITE SAME LENGTH: as for READ and WRITE, 8 MiB per command. libiscsi's
    // WriteSame16.Unmap assumes it may WRITE(16) as many blocks as MAXIMUM WRITE SAME LENGTH
    // allows in one command, which our MAXIMUM TRANSFER LENGTH would refuse if this were larger.
    return max_transfer_blocks();
}

std::uint8_t LogicalUnit::max_compare_and_write_blocks() const {
    // SBC-4 5.3: the data-out buffer holds twice the blocks (compare, then write), and must fit
    // MAXIMUM TRANSFER LENGTH; the VPD field is one byte.
    return static_cast<std::uint8_t>(std::min<std::uint32_t>(255, max_transfer_blocks() / 2));
}

std::uint16_t LogicalUnit::optimal_granularity_blocks() const {
    return static_cast<std::uint16_t>(std::max<std::uint32_t>(1, 4096 / geometry().block_size_bytes));
}

}  // namespace itd::scsi
