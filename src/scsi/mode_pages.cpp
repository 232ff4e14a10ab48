#include "scsi/mode_pages.h"

#include <array>

#include "common/check.h"
#include "common/endian.h"

namespace itd::scsi {

namespace {

constexpr std::array<std::uint8_t, 3> kPageCodes{kCachingPage, kControlPage,
                                                 kInformationalExceptionsPage};

// SBC-4 7.5.5 caching page, byte 2.
constexpr std::uint8_t kWceBit = 0x04;
// SPC-4 7.5.8 control page, byte 4.
constexpr std::uint8_t kSwpBit = 0x08;

// Starts a page_0 format page (SPC-4 7.5.7): PS 0 (we save nothing), SPF 0, the page code and
// the page length; the body is zero.
std::uint8_t* start_page(std::vector<std::uint8_t>& out, std::uint8_t page_code) {
    const std::optional<std::uint8_t> length = mode_page_length(page_code);
    ITD_CHECK(length.has_value());
    const std::size_t at = out.size();
    out.resize(at + 2 + *length, 0);
    out[at] = page_code;
    out[at + 1] = *length;
    return &out[at];
}

// values null: the changeable-values mask.
void append_caching(std::vector<std::uint8_t>& out, const ModeParameters* values) {
    std::uint8_t* p = start_page(out, kCachingPage);
    if (values == nullptr) {
        p[2] = kWceBit;  // WCE is the one bit MODE SELECT may change
        return;
    }
    // RCD stays 0: reads may come from a cache; nothing else of the page applies to us.
    if (values->wce) p[2] |= kWceBit;
}

void append_control(std::vector<std::uint8_t>& out, const ModeParameters* values) {
    std::uint8_t* p = start_page(out, kControlPage);
    if (values == nullptr) {
        p[4] = kSwpBit;  // SWP is the one bit MODE SELECT may change
        return;
    }
    if (values->swp) p[4] |= kSwpBit;
    // TST 000b (one task set for all nexuses), D_SENSE 0 (fixed format sense).
    // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering of SIMPLE tasks; QERR 00b.
    p[3] = 0x10;
    // BUSY TIMEOUT PERIOD FFFFh: unlimited (libiscsi wants it specified, i.e. non-zero).
    store_be16(&p[8], 0xffff);
}

void append_informational_exceptions(std::vector<std::uint8_t>& out, const ModeParameters*) {
    // All zero: MRIE 0, no informational exception reporting (we have no failure prediction);
    // nothing changeable.
    start_page(out, kInformationalExceptionsPage);
}

bool append(std::vector<std::uint8_t>& out, std::uint8_t page_code, const ModeParameters* values) {
    switch (page_code) {
        case kCachingPage: append_caching(out, values); return true;
        case kControlPage: append_control(out, values); return true;
        case kInformationalExceptionsPage:
            append_informational_exceptions(out, values);
            return true;
        default: return false;
    }
}

}  // namespace

std::span<const std::uint8_t> mode_page_codes() { return kPageCodes; }

std::optional<std::uint8_t> mode_page_length(std::uint8_t page_code) {
    switch (page_code) {
        case kCachingPage: return 0x12;
        case kControlPage: return 0x0a;
        case kInformationalExceptionsPage: return 0x0a;
        default: return std::nullopt;
    }
}

bool append_mode_page(std::vector<std::uint8_t>& out, std::uint8_t page_code,
                      const ModeParameters& values) {
    return append(out, page_code, &values);
}

bool append_mode_page_mask(std::vector<std::uint8_t>& out, std::uint8_t page_code) {
    return append(out, page_code, nullptr);
}

void read_mode_page(std::uint8_t page_code, std::span<const std::uint8_t> page,
                    ModeParameters& values) {
    const std::optional<std::uint8_t> length = mode_page_length(page_code);
    ITD_CHECK(length.has_value() && page.size() == std::size_t{2} + *length);
    switch (page_code) {
        case kCachingPage: values.wce = (page[2] & kWceBit) != 0; break;
        case kControlPage: values.swp = (page[4] & kSwpBit) != 0; break;
        default: break;  // nothing changeable
    }
}

}  // namespace itd::scsi
