#include "volume/thin/catalog.h"

#include <bit>
#include <chrono>
#include <random>

namespace itd::volume::thin {

namespace {

// Big enough for any disk an initiator addresses with 64-bit LBAs of 512 bytes and small
// enough that byte arithmetic on it never overflows.
constexpr std::uint64_t kMaxSizeBytes = 1ull << 56;

std::uint64_t random_tag() {
    std::random_device rd;
    std::uint64_t tag = 0;
    while (tag == 0) tag = (std::uint64_t{rd()} << 32) | rd();
    return tag;
}

Status check_geometry(const CreateParams& p) {
    const std::string what = "volume " + p.name + ": ";
    const std::uint32_t bs = p.block_size_bytes;
    if (bs < 512 || bs > 65536 || !std::has_single_bit(bs)) {
        return fail(Errc::invalid_argument, what + "block size " + std::to_string(bs) +
                                                " is not a power of two between 512 and 65536");
    }
    const std::uint32_t ps = p.page_size_bytes;
    if (ps < kMinPageSizeBytes || ps > kMaxPageSizeBytes || !std::has_single_bit(ps) || ps < bs) {
        return fail(Errc::invalid_argument,
                    what + "page size " + std::to_string(ps) +
                        " is not a power of two between 4K and 4M and at least the block size");
    }
    if (p.size_bytes == 0 || p.size_bytes % bs != 0 || p.size_bytes > kMaxSizeBytes) {
        return fail(Errc::invalid_argument, what + "size " + std::to_string(p.size_bytes) +
                                                " is not a non-zero multiple of the block size " +
                                                std::to_string(bs) + " up to 64 PiB");
    }
    if (p.pages_per_segment == 0 || p.pages_per_segment > (1u << 20) ||
        !std::has_single_bit(p.pages_per_segment)) {
        return fail(Errc::invalid_argument, what + "pages per segment must be a power of two up to 2^20");
    }
    return {};
}

}  // namespace

Result<Superblock> create_volume(MetaStore& meta, const CreateParams& params) {
    if (auto ok = check_name("volume", params.name); !ok) return std::unexpected(ok.error());
    if (auto ok = check_geometry(params); !ok) return std::unexpected(ok.error());
    Superblock sb;
    sb.name = params.name;
    sb.tag = random_tag();
    sb.size_bytes = params.size_bytes;
    sb.block_size_bytes = params.block_size_bytes;
    sb.page_size_bytes = params.page_size_bytes;
    sb.pages_per_segment = params.pages_per_segment;
    sb.created_unix_s = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    sb.segments.resize(sb.segment_count());
    auto revision = meta.put_if(volume_key(sb.name), encode_superblock(sb), 0);
    if (!revision) {
        if (revision.error().code == Errc::conflict) {
            return fail(Errc::failed_precondition, "volume " + sb.name + " already exists");
        }
        return std::unexpected(revision.error());
    }
    return sb;
}

}  // namespace itd::volume::thin
