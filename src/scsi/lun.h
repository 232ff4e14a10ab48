// One logical unit: its volume, its identity (INQUIRY and VPD data), its mode parameters and
// its unit attentions. Shared by every nexus; the mutable parts are atomics or behind the
// unit-attention mutex, and no lock is held across volume I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "scsi/range_lock.h"
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

    std::uint32_t lun() const { return lun_; }
    volume::Volume& volume() const { return *config_.volume; }
    volume::Geometry geometry() const { return config_.volume->geometry(); }
    const LunConfig& config() const { return config_; }
    bool read_only() const { return config_.read_only; }
    // SBC-4 4.7.3: thin provisioned with UNMAP support (LBPME=1, LBPU=1, LBPRZ=1).
    bool thin() const { return config_.thin && config_.volume->supports_unmap(); }

    // VPD 80h.
    const std::string& serial() const { return serial_; }
    // VPD 83h NAA 3h designator (8 bytes).
    std::uint64_t naa_id() const { return naa_id_; }

    // SBC-4 7.5.5 caching mode page WCE: starts as the volume's has_volatile_cache().
    bool write_cache_enabled() const { return wce_.load(std::memory_order_relaxed); }

    // MAXIMUM TRANSFER LENGTH in blocks (VPD B0h), enforced on READ and WRITE.
    std::uint32_t max_transfer_blocks() const;
    // OPTIMAL TRANSFER LENGTH GRANULARITY in blocks: 4 KiB, the page size of every backend.
    std::uint16_t optimal_granularity_blocks() const;

    UnitAttentions& unit_attentions() { return unit_attentions_; }
    // Held by every write-like command over its range (COMPARE AND WRITE atomicity).
    RangeLock& range_lock() { return range_lock_; }

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
    UnitAttentions unit_attentions_;
    RangeLock range_lock_;
    // Last: a running operation holds range_lock_ and the volume, so it stops first.
    Sanitizer sanitizer_;
};

// FNV-1a, 64 bits: a hash that is the same on every build, for identifiers that must survive
// restarts and upgrades (std::hash promises neither).
std::uint64_t stable_hash(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ull);

}  // namespace itd::scsi
