#include "volume/open.h"

#include <bit>
#include <charconv>
#include <string>
#include <thread>

#include "volume/file/file_volume.h"
#include "volume/memory/memory_volume.h"
#include "volume/thin/catalog.h"
#include "volume/thin/local_store.h"
#include "volume/thin/store_location.h"
#include "volume/thin/store_open.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume {

namespace {

std::string describe(const VolumeSpec& spec) {
    return spec.backend + ":" + spec.arg;
}

Status validate(const VolumeSpec& spec) {
    const std::uint32_t bs = spec.block_size_bytes;
    // SBC-4 6.3: any logical block length works on the wire, but initiators (Linux, Windows,
    // ESXi) take powers of two from 512 to 64 KiB, and our backends rely on it for alignment.
    if (bs < 512 || bs > 65536 || !std::has_single_bit(bs)) {
        return fail(Errc::invalid_argument, describe(spec) + ": block size " + std::to_string(bs) +
                                                " is not a power of two between 512 and 65536");
    }
    if (spec.size_bytes) {
        if (*spec.size_bytes == 0 || *spec.size_bytes % bs != 0) {
            return fail(Errc::invalid_argument,
                        describe(spec) + ": size " + std::to_string(*spec.size_bytes) +
                            " is not a non-zero multiple of the block size " + std::to_string(bs));
        }
    }
    return {};
}

Result<std::uint64_t> size_option(const VolumeSpec& spec, const std::string& key,
                                  std::uint64_t fallback) {
    auto it = spec.options.find(key);
    if (it == spec.options.end()) return fallback;
    std::uint64_t value = 0;
    const auto* end = it->second.data() + it->second.size();
    auto [ptr, ec] = std::from_chars(it->second.data(), end, value);
    if (it->second.empty() || ec != std::errc{} || ptr != end) {
        return fail(Errc::invalid_argument,
                    describe(spec) + ": " + key + " '" + it->second + "' is not a number of bytes");
    }
    return value;
}

// Opens the volume; on a cluster store whose lease another node holds, waits for the lease.
Result<std::shared_ptr<thin::ThinVolume>> open_owned(const VolumeSpec& spec, thin::Stores stores,
                                                     const std::string& name,
                                                     const thin::ThinOptions& thin_options,
                                                     bool cluster, const OpenOptions& options) {
    using Clock = std::chrono::steady_clock;
    Clock::time_point next_notice{};
    while (true) {
        auto vol = thin::ThinVolume::open(stores, name, thin_options);
        if (vol || !cluster || vol.error().code != Errc::failed_precondition)
            return vol;
        // Only a held lease is worth waiting for; anything else is the error it is.
        auto holder = stores.meta->lock_holder(thin::volume_key(name));
        if (!holder) return std::unexpected(holder.error());
        if (!*holder) {
            // Released between the two calls, or not a lease at all: try once more, then give up.
            auto again = thin::ThinVolume::open(stores, name, thin_options);
            if (again || again.error().code != Errc::failed_precondition) return again;
            holder = stores.meta->lock_holder(thin::volume_key(name));
            if (!holder) return std::unexpected(holder.error());
            if (!*holder) return again;
        }
        if (options.notice && Clock::now() >= next_notice) {
            options.notice(describe(spec) + ": waiting for the volume's lease, held by " +
                           **holder);
            next_notice = Clock::now() + options.notice_every;
        }
        std::this_thread::sleep_for(options.lease_poll);
    }
}

// thin:STORE/VOLUME: a volume in a local store directory or a cluster store
// (thin/store_location.h). With size= it is created when missing (and the store with it); an
// existing volume must then have that size and block size.
Result<std::shared_ptr<Volume>> open_thin(const VolumeSpec& spec, const OpenOptions& open_options) {
    auto split = thin::split_store_volume(spec.arg);
    if (!split) return fail(Errc::invalid_argument, describe(spec) + ": " + split.error().message);
    const auto& [store, name] = *split;
    auto where = thin::parse_store_location(store, spec.options);
    if (!where) return fail(Errc::invalid_argument, describe(spec) + ": " + where.error().message);
    auto page_size = size_option(spec, "page-size", thin::kDefaultPageSizeBytes);
    if (!page_size) return std::unexpected(page_size.error());
    auto cache = size_option(spec, "cache", thin::ThinOptions{}.cache_bytes);
    if (!cache) return std::unexpected(cache.error());
    if (*page_size > thin::kMaxPageSizeBytes) {
        return fail(Errc::invalid_argument, describe(spec) + ": page-size is at most 4M");
    }

    auto stores = thin::open_stores(*where, spec.size_bytes.has_value(), spec.secrets);
    if (!stores) return fail(stores.error().code, describe(spec) + ": " + stores.error().message);
    auto existing = stores->meta->get(thin::volume_key(name));
    if (!existing)
        return fail(existing.error().code, describe(spec) + ": " + existing.error().message);
    if (!*existing && spec.size_bytes) {
        thin::CreateParams params;
        params.name = name;
        params.size_bytes = *spec.size_bytes;
        params.block_size_bytes = spec.block_size_bytes;
        params.page_size_bytes = static_cast<std::uint32_t>(*page_size);
        auto created = thin::create_volume(*stores->meta, params);
        // Another process may have created it in between; the checks below then apply.
        if (!created && created.error().code != Errc::failed_precondition) {
            return fail(created.error().code, describe(spec) + ": " + created.error().message);
        }
    }
    thin::ThinOptions options;
    options.cache_bytes = *cache;
    options.owner_info = thin::process_owner_info("itd");
    options.on_event = open_options.warning;
    auto vol = open_owned(spec, std::move(*stores), name, options, where->cluster(), open_options);
    if (!vol) return fail(vol.error().code, describe(spec) + ": " + vol.error().message);
    const thin::Superblock sb = (*vol)->superblock();
    if (spec.size_bytes && *spec.size_bytes != sb.size_bytes) {
        return fail(Errc::invalid_argument,
                    describe(spec) + ": the volume exists with size " +
                        std::to_string(sb.size_bytes) + " bytes, not " +
                        std::to_string(*spec.size_bytes) +
                        " (leave size= out to serve it as it is; `itd volume grow` grows it)");
    }
    if (spec.block_size_bytes != sb.block_size_bytes &&
        (spec.size_bytes || spec.block_size_bytes != 512)) {
        return fail(Errc::invalid_argument, describe(spec) + ": the volume has block size " +
                                                std::to_string(sb.block_size_bytes) + ", not " +
                                                std::to_string(spec.block_size_bytes));
    }
    if (spec.options.contains("page-size") && *page_size != sb.page_size_bytes) {
        return fail(Errc::invalid_argument, describe(spec) + ": the volume has page size " +
                                                std::to_string(sb.page_size_bytes) + ", not " +
                                                std::to_string(*page_size));
    }
    return std::shared_ptr<Volume>(std::move(*vol));
}

}  // namespace

Result<std::shared_ptr<Volume>> open_volume(const VolumeSpec& spec, const OpenOptions& options) {
    if (auto ok = validate(spec); !ok) return std::unexpected(ok.error());
    if (spec.backend == "memory") {
        if (!spec.size_bytes) {
            return fail(Errc::invalid_argument, describe(spec) + ": a memory volume needs a size");
        }
        auto vol = MemoryVolume::create(*spec.size_bytes, spec.block_size_bytes);
        if (!vol) return std::unexpected(vol.error());
        return std::shared_ptr<Volume>(std::move(*vol));
    }
    if (spec.backend == "file") {
        FileVolume::Options file;
        file.path = spec.arg;
        file.size_bytes = spec.size_bytes;
        file.block_size_bytes = spec.block_size_bytes;
        auto vol = FileVolume::open(file);
        if (!vol) return std::unexpected(vol.error());
        return std::shared_ptr<Volume>(std::move(*vol));
    }
    if (spec.backend == "thin") return open_thin(spec, options);
    return fail(Errc::invalid_argument, describe(spec) + ": unknown backend \"" + spec.backend +
                                            "\" (known: memory, file, thin)");
}

}  // namespace itd::volume
