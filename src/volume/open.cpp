#include "volume/open.h"

#include <bit>
#include <string>

#include "volume/file/file_volume.h"
#include "volume/memory/memory_volume.h"

namespace itd::volume {

namespace {

std::string describe(const VolumeSpec& spec) { return spec.backend + ":" + spec.arg; }

Status validate(const VolumeSpec& spec) {
    const std::uint32_t bs = spec.block_size_bytes;
    // SBC-4 6.3: any logical block length works on the wire, but initiators (Linux, Windows,
    // ESXi) take powers of two from 512 to 64 KiB, and our backends rely on it for alignment.
    if (bs < 512 || bs > 65536 || !std::has_single_bit(bs)) {
        return fail(Errc::invalid_argument,
                    describe(spec) + ": block size " + std::to_string(bs) +
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

}  // namespace

Result<std::shared_ptr<Volume>> open_volume(const VolumeSpec& spec) {
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
        FileVolume::Options options;
        options.path = spec.arg;
        options.size_bytes = spec.size_bytes;
        options.block_size_bytes = spec.block_size_bytes;
        auto vol = FileVolume::open(options);
        if (!vol) return std::unexpected(vol.error());
        return std::shared_ptr<Volume>(std::move(*vol));
    }
    return fail(Errc::invalid_argument,
                describe(spec) + ": unknown backend \"" + spec.backend +
                    "\" (known: memory, file)");
}

}  // namespace itd::volume
