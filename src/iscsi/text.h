// The text key=value codec of Login and Text PDUs (RFC 7143 6.1): a data segment is a run of
// NUL-terminated "key=value" strings. Parsing checks the syntax only; what each key means is
// negotiation.h's business.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace itd::iscsi {

struct TextPair {
    std::string key;
    std::string value;
    friend bool operator==(const TextPair&, const TextPair&) = default;
};

// RFC 7143 6.1: a key name is at most 63 bytes. A value's string form is bounded by the
// longest legal value: 8192 bytes of binary in hex ("0x" + 16384 digits). Most keys allow
// only 255 bytes (RFC 7143 6.1, "text-value"); negotiation.h enforces that per key.
inline constexpr std::size_t kMaxKeyBytes = 63;
inline constexpr std::size_t kMaxValueBytes = 2 + 2 * 8192;
inline constexpr std::size_t kMaxTextValueBytes = 255;

enum class TextError : std::uint8_t {
    unterminated,    // the last pair has no NUL
    missing_equals,  // "key" without '='
    bad_key,         // empty, longer than 63 bytes, or a character outside RFC 7143 6.1's set
    value_too_long,
    too_long,        // accumulated text beyond the accumulator's bound
};

const char* to_string(TextError e);

// Parses a whole data segment. Empty input is an empty list. NUL bytes after the last pair are
// tolerated (some initiators pad the text); an empty pair in the middle is an error.
[[nodiscard]] std::expected<std::vector<TextPair>, TextError> parse_text(
    std::span<const std::uint8_t> bytes);

std::vector<std::uint8_t> encode_text(std::span<const TextPair> pairs);
void append_text(std::vector<std::uint8_t>& out, std::string_view key, std::string_view value);

// Joins the data segments of a sequence of PDUs sent with the C (continue) bit (RFC 7143
// 6.1.1, 11.10.2, 11.12.2): a key=value may be split anywhere, so the bytes are joined first
// and parsed once the final segment (C=0) arrives. Bounded to keep a peer from making us
// buffer without end.
class TextAccumulator {
public:
    explicit TextAccumulator(std::size_t max_total_bytes = 64 * 1024)
        : max_total_bytes_(max_total_bytes) {}

    // Adds one PDU's segment; on the segment with C=0 returns the parsed pairs of all of
    // them (and resets), else std::nullopt while more is expected.
    [[nodiscard]] std::expected<std::optional<std::vector<TextPair>>, TextError> add(
        std::span<const std::uint8_t> segment, bool continues);

    bool pending() const { return !bytes_.empty() || in_sequence_; }
    void reset() {
        bytes_.clear();
        in_sequence_ = false;
    }

private:
    std::size_t max_total_bytes_;
    std::vector<std::uint8_t> bytes_;
    bool in_sequence_ = false;
};

// ---- Value forms (RFC 7143 6.1) ----------------------------------------------------------

// A numerical value: decimal, or hex with a 0x/0X prefix; base64 (0b/0B) only when allowed
// (large-numerical and binary keys). Values above 2^64-1 are rejected.
std::optional<std::uint64_t> parse_number(std::string_view value, bool allow_base64 = false);

// "Yes" or "No".
std::optional<bool> parse_boolean(std::string_view value);
inline const char* boolean_text(bool v) { return v ? "Yes" : "No"; }

// A comma-separated list of values; empty members are an error.
std::optional<std::vector<std::string_view>> split_list(std::string_view value);

// A binary value (CHAP challenges and responses): 0x + hex digits, or 0b + base64.
std::optional<std::vector<std::uint8_t>> parse_binary(std::string_view value);
std::string hex_binary(std::span<const std::uint8_t> bytes);  // "0x..." upper-case digits

}  // namespace itd::iscsi
