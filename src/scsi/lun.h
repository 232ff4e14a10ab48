// One logical unit: its volume, its identity (INQUIRY and VPD data), its mode parameters, its
// medium (removable or not) and its unit attentions. Shared by every nexus; the mutable parts
// are atomics or behind their own mutexes (unit attentions, medium), and no lock is held across
// volume I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "scsi/medium.h"
#include "scsi/mode_pages.h"
#include "scsi/range_lock.h"
#include "scsi/spc_copy_results.h"
#include "scsi/reservations.h"
#include "scsi/sanitize.h"
#include "scsi/target.h"
#include "scsi/unit_attention.h"
#include "volume/volume.h"

namespace itd::scsi {

// SBC-4 6.6.4 / VPD B0h MAXIMUM TRANSFER LENGTH, in bytes; the block count depends on the block
// size. 8 MiB bounds the memory one command can pin, and is what Linux splits requests to anyway.
inline constexpr std::uint32_t kMaxTransferBytes = 8u << 20;


class LogicalUnit {
public:
    LogicalUnit(std::uint32_t lun, LunConfig config, std::string_view target_name);
    ~LogicalUnit();
    LogicalUnit(const LogicalUnit&) = delete;
    LogicalUnit& operator=(const LogicalUnit&) = delete;

    std::uint32_t lun() const { return lun_; }
    volume::Volume& volume() const { return *config_.volume; }
    volume::Geometry geometry() const { return config_.volume->geometry(); }
    const LunConfig& config() const { return config_; }
    // Write protected: configured read-only, or SWP set in the control mode page.
    bool read_only() const {
        return config_.read_only || swp_.load(std::memory_order_relaxed);
    }
    // SBC-4 4.7.3: thin provisioned with UNMAP support (LBPME=1, LBPU=1, LBPRZ=1).
    bool thin() const { return config_.thin && config_.volume->supports_unmap(); }

    // VPD 80h.
    const std::string& serial() const { return serial_; }
    // VPD 83h NAA 3h designator (8 bytes).
    std::uint64_t naa_id() const { return naa_id_; }

    // SBC-4 7.5.5 caching mode page WCE: starts as the volume's has_volatile_cache().
    bool write_cache_enabled() const { return wce_.load(std::memory_order_relaxed); }

    // Mode parameters MODE SELECT may change (mode_pages.h): now, and their defaults (power
    // on, and again after a logical unit reset).
    ModeParameters mode_parameters() const {
        return {.wce = write_cache_enabled(), .swp = swp_.load(std::memory_order_relaxed)};
    }
    ModeParameters default_mode_parameters() const;
    // Makes p current; returns whether any value changed (the caller establishes MODE
    // PARAMETERS CHANGED for the other nexuses, SPC-4 6.9.1).
    bool set_mode_parameters(const ModeParameters& p);

    // RMB=1 in standard INQUIRY: START STOP UNIT may eject and load the medium.
    bool removable() const { return config_.removable; }
    MediumState& medium() { return medium_; }
    const MediumState& medium() const { return medium_; }

    // MAXIMUM TRANSFER LENGTH in blocks (VPD B0h), enforced on READ and WRITE.
    std::uint32_t max_transfer_blocks() const;
    // OPTIMAL TRANSFER LENGTH GRANULARITY in blocks: 4 KiB, the page size of every backend.
    std::uint16_t optimal_granularity_blocks() const;

    UnitAttentions& unit_attentions() { return unit_attentions_; }
    // Persistent and SPC-2 reservations (reservations.h).
    Reservations& reservations() { return reservations_; }
    const Reservations& reservations() const { return reservations_; }

    // LOGICAL UNIT RESET and the LU's part of a target reset (SAM-5 6.3.3): the reset unit
    // attention for every nexus, and every piece of reset-scoped state
    // (SPC-2 reservations, medium removal prevention, ...) back to its power-on value.
    void reset(NexusId requester);
    // I_T nexus loss (Target::nexus_lost): drops the per-nexus state that ends with it.
    void nexus_lost(NexusId nexus);
    // Held by every write-like command over its range (COMPARE AND WRITE atomicity).
    RangeLock& range_lock() { return range_lock_; }
    // The copy manager's record of EXTENDED COPY commands (RECEIVE COPY RESULTS).
    CopyResults& copy_results() { return copy_results_; }

    // VPD B0h limits (SBC-4 6.6.4), enforced by the commands they limit.
    std::uint32_t max_unmap_blocks() const { return 0xffffffffu; }  // FFFFFFFFh: no limit
    std::uint32_t max_unmap_descriptors() const { return 256; }
    std::uint64_t max_write_same_blocks() const;
    std::uint8_t max_compare_and_write_blocks() const;
    // WRITE ATOMIC(16) limits (SBC-4 4.29, VPD B0h), in blocks (sbc_write_atomic.cpp).
    std::uint32_t max_atomic_transfer_blocks() const;
    std::uint32_t atomic_alignment_blocks() const;
    std::uint32_t atomic_granularity_blocks() const;

    // The sanitize operation (SBC-4 4.11), idle unless SANITIZE started one.
    Sanitizer& sanitizer() { return sanitizer_; }

private:
    std::uint32_t lun_;
    LunConfig config_;
    std::string serial_;
    std::uint64_t naa_id_;
    std::atomic<bool> wce_;
    std::atomic<bool> swp_{false};
    MediumState medium_;
    UnitAttentions unit_attentions_;
    Reservations reservations_;
    RangeLock range_lock_;
    CopyResults copy_results_;
    // Last: a running operation holds range_lock_ and the volume, so it stops first.
    Sanitizer sanitizer_;
};

// FNV-1a, 64 bits: a hash that is the same on every build, for identifiers that must survive
// restarts and upgrades (std::hash promises neither).
std::uint64_t stable_hash(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ull);

}  // namespace itd::scsi
