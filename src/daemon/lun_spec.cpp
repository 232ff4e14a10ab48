// LUN-SPEC: BACKEND:ARG[,KEY=VALUE|,FLAG]...  (DESIGN.md "How a user meets it"; scripts depend
// on this grammar, so keep it stable). An option is never silently ignored: one that does not
// apply to the backend or store is an error, since ignoring it could be a data hazard.
#include "daemon/lun_spec.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "volume/thin/store_location.h"

namespace itd::daemon {

namespace {

// SPC-4 7.8.15: the serial number is ASCII; we take printable characters without spaces (a
// space would be indistinguishable from the padding) and keep it short enough for any
// initiator's buffers.
constexpr std::size_t max_serial_chars = 64;

constexpr std::uint32_t min_block_size_bytes = 512;
constexpr std::uint32_t max_block_size_bytes = 65536;

std::unexpected<LunSpecError> lun_error(std::string key, std::string message) {
    return std::unexpected(LunSpecError{std::move(key), std::move(message)});
}

std::expected<std::uint32_t, LunSpecError> parse_block_size(const std::string& text) {
    auto value = parse_size(text);
    // A power of two so that LBAs convert by shifting; 512 and 4096 are what initiators expect.
    if (!value || *value < min_block_size_bytes || *value > max_block_size_bytes ||
        (*value & (*value - 1)) != 0)
        return lun_error("block-size", "invalid block-size '" + text +
                                           "' (use 512 or 4096; any power of two 512..65536)");
    return static_cast<std::uint32_t>(*value);
}

std::expected<std::string, LunSpecError> parse_serial(const std::string& text) {
    const bool printable = std::all_of(text.begin(), text.end(),
                                       [](char c) { return c > 0x20 && c < 0x7f; });
    if (text.empty() || text.size() > max_serial_chars || !printable)
        return lun_error("serial", "invalid serial '" + text + "' (1.." +
                                       std::to_string(max_serial_chars) +
                                       " printable ASCII characters, no spaces)");
    return text;
}

// An 8-byte NAA designator (SPC-4 7.8.6.6): 16 hex digits, optionally after "0x" or "naa.".
// The first digit is the NAA: 2h, 3h (locally assigned) or 5h (IEEE registered); 6h needs 16
// bytes and does not fit.
std::expected<std::uint64_t, LunSpecError> parse_wwn(const std::string& text) {
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
    else if (digits.starts_with("naa.")) digits.remove_prefix(4);
    const bool hex = std::all_of(digits.begin(), digits.end(),
                                 [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (digits.size() != 16 || !hex || (digits[0] != '2' && digits[0] != '3' && digits[0] != '5'))
        return lun_error("wwn", "invalid wwn '" + text +
                                    "' (16 hex digits, NAA 2, 3 or 5 first, e.g. "
                                    "wwn=3000000000000001)");
    return std::stoull(std::string(digits), nullptr, 16);
}

}  // namespace

std::expected<LunSpec, LunSpecError> build_lun_spec(const LunParts& parts) {
    const bool memory = parts.backend == "memory";
    const bool thin_backend = parts.backend == "thin";
    if (!memory && !thin_backend && parts.backend != "file")
        return lun_error("backend",
                         "unknown backend '" + parts.backend + "' (use memory, file or thin)");

    LunSpec lun;
    Result<std::pair<std::string, std::string>> store_and_volume;  // thin only
    lun.volume.backend = parts.backend;
    lun.volume.arg = parts.arg;
    if (memory) {
        if (parts.arg.empty()) return lun_error("arg", "memory needs a size, e.g. memory:1G");
        auto size = parse_size(parts.arg);
        if (!size) return lun_error("arg", size.error().message);
        lun.volume.size_bytes = *size;
    } else if (parts.arg.empty()) {
        return lun_error("arg", thin_backend ? "empty path, e.g. thin:/var/lib/itd/store/vol0"
                                             : "empty path, e.g. file:/srv/disk0.img");
    } else if (thin_backend) {
        // STORE/VOLUME; the name itself is checked when the store is opened.
        store_and_volume = volume::thin::split_store_volume(parts.arg);
        if (!store_and_volume)
            return lun_error("arg", "thin needs STORE/VOLUME, e.g. thin:/var/lib/itd/store/vol0 "
                                    "or thin:s3://BUCKET/vol0,endpoint=...,meta=...");
        // A thin volume always provisions thinly: UNMAP, WRITE SAME with UNMAP, GET LBA STATUS.
        lun.thin = true;
    }

    std::vector<std::string> seen;
    for (const auto& [key, value] : parts.options) {
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            return lun_error(key, "option '" + key + "' given twice");
        seen.push_back(key);

        if (key == "size" || key == "block-size") {
            if (!value || value->empty())
                return lun_error(key, "option '" + key + "' needs a value, e.g. " + key +
                                          (key == "size" ? "=20G" : "=4096"));
            if (key == "block-size") {
                auto block_size = parse_block_size(*value);
                if (!block_size) return std::unexpected(block_size.error());
                lun.volume.block_size_bytes = *block_size;
            } else if (memory) {
                return lun_error(key, "memory takes its size as ARG (memory:1G), not size=");
            } else {
                auto size = parse_size(*value);
                if (!size) return lun_error(key, size.error().message);
                lun.volume.size_bytes = *size;
            }
        } else if (key == "thin" || key == "readonly" || key == "removable") {
            if (value)
                return lun_error(key, "option '" + key + "' is a flag and takes no value");
            (key == "thin" ? lun.thin : key == "readonly" ? lun.read_only : lun.removable) = true;
        } else if (key == "serial" || key == "wwn") {
            if (!value || value->empty())
                return lun_error(key, "option '" + key + "' needs a value, e.g. " + key +
                                          (key == "serial" ? "=DISK0001" : "=3000000000000001"));
            if (key == "serial") {
                auto serial = parse_serial(*value);
                if (!serial) return std::unexpected(serial.error());
                lun.serial = *serial;
            } else {
                auto wwn = parse_wwn(*value);
                if (!wwn) return std::unexpected(wwn.error());
                lun.wwn = *wwn;
            }
        } else if (key == "sanitize-rate") {
            if (!value || value->empty())
                return lun_error(key, "option 'sanitize-rate' needs a value, e.g. sanitize-rate=64M "
                                      "(bytes per second)");
            auto rate = parse_size(*value);
            if (!rate) return lun_error(key, rate.error().message);
            lun.sanitize_rate_bytes_per_s = *rate;
        } else if (key == "page-size" || key == "cache") {
            if (!thin_backend)
                return lun_error(key, "option '" + key + "' is for thin volumes only");
            if (!value || value->empty())
                return lun_error(key, "option '" + key + "' needs a value, e.g. " + key +
                                          (key == "cache" ? "=256M" : "=256K"));
            auto bytes = parse_size(*value);
            if (!bytes) return lun_error(key, bytes.error().message);
            if (key == "page-size" && (*bytes < 4096 || *bytes > (4u << 20) ||
                                       (*bytes & (*bytes - 1)) != 0))
                return lun_error(key, "invalid page-size '" + *value +
                                          "' (a power of two from 4K to 4M; default 256K)");
            lun.volume.options[key] = std::to_string(*bytes);
        } else if (volume::thin::is_store_option(key)) {
            if (!thin_backend)
                return lun_error(key, "option '" + key + "' is for thin volumes on s3:// or "
                                                         "rados:// stores only");
            if (!value || value->empty())
                return lun_error(key, "option '" + key + "' needs a value");
            lun.volume.options[key] = *value;
        } else if (key.empty()) {
            return lun_error(key, "empty option (stray ',')");
        } else {
            return lun_error(key, "unknown option '" + key +
                                      "' (use size=, block-size=, thin, readonly, removable, "
                                      "serial=, wwn=, sanitize-rate=, page-size=, cache=, "
                                      "or for cluster stores endpoint=, region=, addressing=, "
                                      "ceph-conf=, ceph-user=, meta=, lease-ttl=, meta-prefix=)");
        }
    }

    if (thin_backend) {
        // The store and its options as one: s3:// needs endpoint= and meta=, a directory takes
        // neither. Checked here so a bad config fails before anything is opened.
        auto where =
            volume::thin::parse_store_location(store_and_volume->first, lun.volume.options);
        if (!where) {
            std::string key = "arg";
            for (const auto& [option, value] : lun.volume.options)
                if (where.error().message.find("'" + option + "'") != std::string::npos)
                    key = option;
            return lun_error(key, where.error().message);
        }
    }

    if (lun.volume.size_bytes && *lun.volume.size_bytes % lun.volume.block_size_bytes != 0)
        return lun_error(memory ? "arg" : "size", "size " + std::to_string(*lun.volume.size_bytes) +
                                                      " is not a multiple of block-size " +
                                                      std::to_string(lun.volume.block_size_bytes));
    return lun;
}

OptionList split_option_list(std::string_view text) {
    OptionList options;
    while (!text.empty()) {
        text.remove_prefix(1);  // the ','
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const auto equals = item.find('=');
        if (equals == std::string_view::npos)
            options.emplace_back(std::string(item), std::nullopt);
        else
            options.emplace_back(std::string(item.substr(0, equals)),
                                 std::string(item.substr(equals + 1)));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma);
    }
    return options;
}

Result<LunSpec> parse_lun_spec(std::string_view text) {
    const auto prefix = "LUN-SPEC '" + std::string(text) + "': ";
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return fail(Errc::invalid_argument, prefix + "expected BACKEND:ARG, e.g. memory:1G");

    LunParts parts;
    parts.backend = std::string(text.substr(0, colon));
    // A path may not contain ','; that keeps the grammar free of quoting.
    const std::string_view rest = text.substr(colon + 1);
    const auto comma = rest.find(',');
    parts.arg = std::string(rest.substr(0, comma));
    if (comma != std::string_view::npos) parts.options = split_option_list(rest.substr(comma));

    auto lun = build_lun_spec(parts);
    if (!lun) return fail(Errc::invalid_argument, prefix + lun.error().message);
    return std::move(*lun);
}

}  // namespace itd::daemon
