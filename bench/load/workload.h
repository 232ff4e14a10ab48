// Where each command goes: byte offsets aligned to the block size of the run (bs), and for
// randrw whether it reads or writes. One Workload per session, seeded by the session's index,
// so a run is reproducible and sessions do not follow each other.
#pragma once

#include <cstdint>

namespace itd::load {

// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): one add and three multiply-xorshift steps per number, and any seed is fine.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n) for n > 0 by multiply-high (Lemire); the bias, below n / 2^64, is far
    // under anything a benchmark can see.
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }

  private:
    std::uint64_t state_;
};

class Workload {
  public:
    struct Params {
        bool random = true;
        unsigned read_percent = 100;  // 100: reads only, 0: writes only
        std::uint64_t lun_bytes = 0;
        std::uint32_t bs_bytes = 4096;  // <= lun_bytes
        unsigned session = 0;           // this session's index, < sessions
        unsigned sessions = 1;
    };

    // A random workload covers the whole LUN (every aligned bs-sized slot that fits). A
    // sequential one walks session's share of those slots from its start, and wraps; a share
    // too small for one slot (more sessions than slots) falls back to the whole LUN.
    explicit Workload(const Params& p)
        : random_(p.random),
          read_percent_(p.read_percent),
          bs_bytes_(p.bs_bytes),
          rng_(0x17d10adull * (p.session + 1)) {
        const std::uint64_t slots = p.lun_bytes / p.bs_bytes;
        first_slot_ = slots * p.session / p.sessions;
        end_slot_ = slots * (p.session + 1) / p.sessions;
        if (random_ || first_slot_ == end_slot_) {
            first_slot_ = 0;
            end_slot_ = slots;
        }
        cursor_ = first_slot_;
    }

    // The byte offset of the next command: a multiple of bs, and offset + bs <= lun_bytes.
    std::uint64_t next_offset() {
        if (random_) return (first_slot_ + rng_.below(end_slot_ - first_slot_)) * bs_bytes_;
        const std::uint64_t slot = cursor_;
        if (++cursor_ == end_slot_) cursor_ = first_slot_;
        return slot * bs_bytes_;
    }

    bool next_is_read() {
        if (read_percent_ >= 100) return true;
        if (read_percent_ == 0) return false;
        return rng_.below(100) < read_percent_;
    }

    // The slots this workload draws from, as byte offsets: [begin, end).
    std::uint64_t begin_bytes() const { return first_slot_ * bs_bytes_; }
    std::uint64_t end_bytes() const { return end_slot_ * bs_bytes_; }

  private:
    bool random_;
    unsigned read_percent_;
    std::uint64_t bs_bytes_;
    Rng rng_;
    std::uint64_t first_slot_ = 0;
    std::uint64_t end_slot_ = 0;
    std::uint64_t cursor_ = 0;
};

}  // namespace itd::load
