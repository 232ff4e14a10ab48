#include "volume/thin/superblock.h"

#include <boost/json.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <exception>
#include <limits>
#include <new>
#include <optional>

#include "common/check.h"

namespace itd::volume::thin {

namespace json = boost::json;

namespace {

constexpr std::int64_t kFormat = 1;
constexpr std::uint32_t kMaxPagesPerSegment = 1u << 20;
constexpr std::size_t kMaxNameChars = 64;

std::unexpected<Error> damaged(const std::string& what) {
    return fail(Errc::io_error, "superblock: " + what);
}

// Input text as it may appear in a message: at most 8 characters more than a valid name, with
// anything unprintable replaced, so a hostile name cannot flood or garble a log line.
std::string printable(std::string_view s) {
    std::string out;
    const std::size_t n = std::min<std::size_t>(s.size(), kMaxNameChars + 8);
    out.reserve(n + 3);
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    if (n < s.size()) out += "...";
    return out;
}

void append_hex16(std::string& out, std::uint64_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(v >> shift) & 0xf]);
}

std::string hex16(std::uint64_t v) {
    std::string s;
    s.reserve(16);
    append_hex16(s, v);
    return s;
}

// Exactly 16 hex digits (either case; we write lowercase).
std::optional<std::uint64_t> parse_hex16(std::string_view s) {
    if (s.size() != 16) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return std::nullopt;
        }
        v = (v << 4) | digit;
    }
    return v;
}

// One or more decimal digits, no sign, no spaces, at most 2^64 - 1.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string segment_ref_text(const SegmentRef& ref) {
    std::string s;
    s.reserve(33);
    append_hex16(s, ref.tag);
    s.push_back(':');
    append_hex16(s, ref.id);
    return s;
}

Status check_origin(std::string_view origin) {
    const std::size_t at = origin.find('@');
    if (at == std::string_view::npos) {
        return fail(Errc::invalid_argument,
                    "origin '" + printable(origin) + "' is not VOLUME@SNAPSHOT");
    }
    if (auto ok = check_name("volume", origin.substr(0, at)); !ok) return ok;
    return check_name("snapshot", origin.substr(at + 1));
}

// Everything decode_superblock() promises about a superblock it returns, and so everything
// encode_superblock() requires. Messages name the field as it is spelled in the JSON.
Status validate(const Superblock& sb) {
    if (auto ok = check_name("volume", sb.name); !ok) return damaged(ok.error().message);
    if (sb.tag == 0) return damaged("\"tag\" is zero");
    const std::uint32_t bs = sb.block_size_bytes;
    if (bs < 512 || bs > 65536 || !std::has_single_bit(bs)) {
        return damaged("\"block_size_bytes\" " + std::to_string(bs) +
                       " is not a power of two between 512 and 65536");
    }
    const std::uint32_t ps = sb.page_size_bytes;
    if (ps < kMinPageSizeBytes || ps > kMaxPageSizeBytes || !std::has_single_bit(ps)) {
        return damaged("\"page_size_bytes\" " + std::to_string(ps) +
                       " is not a power of two between 4096 and 4194304");
    }
    if (ps < bs) {
        return damaged("\"page_size_bytes\" " + std::to_string(ps) +
                       " is smaller than the block size " + std::to_string(bs));
    }
    if (sb.size_bytes == 0 || sb.size_bytes % bs != 0) {
        return damaged("\"size_bytes\" " + std::to_string(sb.size_bytes) +
                       " is not a non-zero multiple of the block size " + std::to_string(bs));
    }
    // page_count() rounds the size up to whole pages: that, and every byte offset of a page,
    // must fit in 64 bits.
    if (sb.size_bytes > std::numeric_limits<std::uint64_t>::max() - (ps - 1)) {
        return damaged("\"size_bytes\" " + std::to_string(sb.size_bytes) +
                       " rounded up to whole pages does not fit in 64 bits");
    }
    const std::uint32_t pps = sb.pages_per_segment;
    if (pps == 0 || pps > kMaxPagesPerSegment || !std::has_single_bit(pps)) {
        return damaged("\"pages_per_segment\" " + std::to_string(pps) +
                       " is not a power of two between 1 and 1048576");
    }
    if (!sb.origin.empty()) {
        if (auto ok = check_origin(sb.origin); !ok) {
            return damaged("\"origin\": " + ok.error().message);
        }
    }
    if (!sb.snapshot.empty()) {
        if (auto ok = check_name("snapshot", sb.snapshot); !ok) {
            return damaged("\"snapshot\": " + ok.error().message);
        }
    }
    if (sb.segments.size() != sb.segment_count()) {
        return damaged("\"segments\" has " + std::to_string(sb.segments.size()) +
                       " elements, but " + std::to_string(sb.page_count()) + " pages of " +
                       std::to_string(pps) + " per segment need " +
                       std::to_string(sb.segment_count()));
    }
    return {};
}

// Field readers for decode: each fails naming the field, never throws.
class Reader {
public:
    explicit Reader(const json::object& obj) : obj_(obj) {}

    Result<const json::value*> field(std::string_view key) const {
        const json::value* v = obj_.if_contains(key);
        if (v == nullptr) return damaged("missing field \"" + std::string(key) + "\"");
        return v;
    }

    Result<std::string_view> string(std::string_view key) const {
        auto v = field(key);
        if (!v) return std::unexpected(v.error());
        const json::string* s = (*v)->if_string();
        if (s == nullptr) return damaged("\"" + std::string(key) + "\" is not a string");
        return std::string_view(s->data(), s->size());
    }

    // 64-bit numbers are decimal strings (JSON readers differ above 2^53).
    Result<std::uint64_t> u64(std::string_view key) const {
        auto s = string(key);
        if (!s) return std::unexpected(s.error());
        auto v = parse_decimal(*s);
        if (!v) {
            return damaged("\"" + std::string(key) + "\" '" + printable(*s) +
                           "' is not a decimal number below 2^64");
        }
        return *v;
    }

    // Small numbers are JSON integers.
    Result<std::uint32_t> u32(std::string_view key) const {
        auto v = field(key);
        if (!v) return std::unexpected(v.error());
        if (const std::int64_t* i = (*v)->if_int64();
            i != nullptr && *i >= 0 && *i <= std::numeric_limits<std::uint32_t>::max()) {
            return static_cast<std::uint32_t>(*i);
        }
        if (const std::uint64_t* u = (*v)->if_uint64();
            u != nullptr && *u <= std::numeric_limits<std::uint32_t>::max()) {
            return static_cast<std::uint32_t>(*u);
        }
        return damaged("\"" + std::string(key) + "\" is not an integer from 0 to 2^32 - 1");
    }

private:
    const json::object& obj_;
};

Result<SegmentRef> decode_segment_ref(const json::value& v, std::size_t i) {
    if (v.is_null()) return SegmentRef{};
    const json::string* s = v.if_string();
    const std::string where = "\"segments\"[" + std::to_string(i) + "]";
    if (s == nullptr) return damaged(where + " is neither null nor a \"TAG:ID\" string");
    const std::string_view text(s->data(), s->size());
    std::optional<std::uint64_t> tag;
    std::optional<std::uint64_t> id;
    if (text.size() == 33 && text[16] == ':') {
        tag = parse_hex16(text.substr(0, 16));
        id = parse_hex16(text.substr(17));
    }
    if (!tag || !id) {
        return damaged(where + " '" + printable(text) +
                       "' is not TAG:ID (two 16-digit hex numbers)");
    }
    if (*tag == 0) return damaged(where + " has tag 0");
    return SegmentRef{*tag, *id};
}

Result<json::value> parse_json(std::string_view text) {
    json::error_code ec;
    json::value v;
    try {
        v = json::parse(json::string_view(text.data(), text.size()), ec);
    } catch (const std::bad_alloc&) {
        throw;  // out of memory is not damage
    } catch (const std::exception& e) {
        // parse() reports malformed input through ec; this is for its size limits, in case
        // one of them throws instead.
        return damaged(std::string("not valid JSON: ") + e.what());
    }
    if (ec) return damaged("not valid JSON: " + ec.message());
    return v;
}

}  // namespace

std::string encode_superblock(const Superblock& sb) {
    // Writing a superblock that decode_superblock() would refuse is a bug in the caller.
    ITD_CHECK(validate(sb).has_value());
    json::object o;
    o.reserve(14);
    o.emplace("format", kFormat);
    o.emplace("name", sb.name);
    o.emplace("tag", hex16(sb.tag));
    o.emplace("size_bytes", std::to_string(sb.size_bytes));
    o.emplace("block_size_bytes", sb.block_size_bytes);
    o.emplace("page_size_bytes", sb.page_size_bytes);
    o.emplace("pages_per_segment", sb.pages_per_segment);
    o.emplace("generation", std::to_string(sb.generation));
    o.emplace("epoch", std::to_string(sb.epoch));
    o.emplace("created", std::to_string(sb.created_unix_s));
    o.emplace("origin", sb.origin);
    o.emplace("snapshot", sb.snapshot);
    o.emplace("snapshot_created", std::to_string(sb.snapshot_created_unix_s));
    json::array segments;
    segments.reserve(sb.segments.size());
    for (const SegmentRef& ref : sb.segments) {
        if (ref.tag == 0) {
            segments.emplace_back(nullptr);
        } else {
            segments.emplace_back(segment_ref_text(ref));
        }
    }
    o.emplace("segments", std::move(segments));
    return json::serialize(o);
}

Result<Superblock> decode_superblock(std::string_view text) {
    auto parsed = parse_json(text);
    if (!parsed) return std::unexpected(parsed.error());
    const json::object* obj = parsed->if_object();
    if (obj == nullptr) return damaged("not a JSON object");
    const Reader r(*obj);

    // Fields the format version does not name are ignored, so a later version can add some
    // and still be read here; it changes "format" when older readers must not read it.
    auto format = r.field("format");
    if (!format) return std::unexpected(format.error());
    const std::int64_t* format_number = (*format)->if_int64();
    if (format_number == nullptr || *format_number != kFormat) {
        return damaged("\"format\" is " + printable(json::serialize(**format)) +
                       ", this build reads format 1 only");
    }

    Superblock sb;
    auto name = r.string("name");
    if (!name) return std::unexpected(name.error());
    sb.name = *name;
    auto tag = r.string("tag");
    if (!tag) return std::unexpected(tag.error());
    auto tag_value = parse_hex16(*tag);
    if (!tag_value) {
        return damaged("\"tag\" '" + printable(*tag) + "' is not a 16-digit hex number");
    }
    sb.tag = *tag_value;

    struct U64Field {
        std::string_view key;
        std::uint64_t* out;
    };
    for (const U64Field& f :
         {U64Field{"size_bytes", &sb.size_bytes}, U64Field{"generation", &sb.generation},
          U64Field{"epoch", &sb.epoch}, U64Field{"created", &sb.created_unix_s},
          U64Field{"snapshot_created", &sb.snapshot_created_unix_s}}) {
        auto v = r.u64(f.key);
        if (!v) return std::unexpected(v.error());
        *f.out = *v;
    }
    struct U32Field {
        std::string_view key;
        std::uint32_t* out;
    };
    for (const U32Field& f : {U32Field{"block_size_bytes", &sb.block_size_bytes},
                              U32Field{"page_size_bytes", &sb.page_size_bytes},
                              U32Field{"pages_per_segment", &sb.pages_per_segment}}) {
        auto v = r.u32(f.key);
        if (!v) return std::unexpected(v.error());
        *f.out = *v;
    }
    auto origin = r.string("origin");
    if (!origin) return std::unexpected(origin.error());
    sb.origin = *origin;
    auto snapshot = r.string("snapshot");
    if (!snapshot) return std::unexpected(snapshot.error());
    sb.snapshot = *snapshot;

    auto segments = r.field("segments");
    if (!segments) return std::unexpected(segments.error());
    const json::array* array = (*segments)->if_array();
    if (array == nullptr) return damaged("\"segments\" is not an array");
    // Allocates no more than the parsed array already holds.
    sb.segments.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto ref = decode_segment_ref((*array)[i], i);
        if (!ref) return std::unexpected(ref.error());
        sb.segments.push_back(*ref);
    }

    if (auto ok = validate(sb); !ok) return std::unexpected(ok.error());
    return sb;
}

std::string volume_key(std::string_view volume) {
    return "volumes/" + std::string(volume);
}

std::string snapshot_key(std::string_view volume, std::string_view snap) {
    return snapshot_prefix(volume) + std::string(snap);
}

std::string snapshot_prefix(std::string_view volume) {
    return "snapshots/" + std::string(volume) + "/";
}

Status check_name(std::string_view what, std::string_view name) {
    const auto allowed = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    };
    // The name becomes one component of a store key (volumes/<name>, snapshots/<v>/<s>): no
    // '/', no "." or "..", nothing a shell or URL would need to quote.
    const bool ok = !name.empty() && name.size() <= kMaxNameChars && name[0] != '.' &&
                    name[0] != '-' && std::all_of(name.begin(), name.end(), allowed);
    if (ok) return {};
    return fail(Errc::invalid_argument,
                std::string(what) + " name '" + printable(name) +
                    "' is not valid: use 1..64 characters of A-Z a-z 0-9 . _ -, not starting "
                    "with . or -");
}

Status check_grow(const Superblock& sb, std::uint64_t size_bytes) {
    const std::string what = "volume " + sb.name + ": ";
    if (size_bytes < sb.size_bytes) {
        return fail(Errc::invalid_argument,
                    what + "cannot shrink from " + std::to_string(sb.size_bytes) + " to " +
                        std::to_string(size_bytes) + " bytes (a volume only grows)");
    }
    if (size_bytes % sb.block_size_bytes != 0 || size_bytes > kMaxSizeBytes) {
        return fail(Errc::invalid_argument, what + "size " + std::to_string(size_bytes) +
                                                " is not a multiple of the block size " +
                                                std::to_string(sb.block_size_bytes) +
                                                " up to 64 PiB");
    }
    return {};
}

}  // namespace itd::volume::thin
