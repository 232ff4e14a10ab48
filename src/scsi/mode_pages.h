// The mode pages a logical unit has (SPC-4 7.5, SBC-4 6.5): the caching (SBC-4 7.5.5), control
// (SPC-4 7.5.8) and informational exceptions control (SPC-4 7.5.10) pages, built from one
// place so that MODE SENSE reports, and MODE SELECT accepts, exactly the same bytes.
//
// What can change lives in ModeParameters: the caching page's WCE and the control page's SWP;
// every other byte of every page is fixed, and its bit in the changeable-values mask is zero.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace itd::scsi {

// SPC-4 7.5.7 page codes.
inline constexpr std::uint8_t kCachingPage = 0x08;
inline constexpr std::uint8_t kControlPage = 0x0a;
inline constexpr std::uint8_t kInformationalExceptionsPage = 0x1c;
inline constexpr std::uint8_t kAllPages = 0x3f;

// The mode parameters MODE SELECT may change. One value per LU, shared by every I_T nexus
// (SPC-4 5.14: a change made through one nexus is a unit attention for the others).
struct ModeParameters {
    bool wce = false;  // SBC-4 7.5.5 caching page WRITE CACHE ENABLE
    // SPC-4 7.5.8 control page SOFTWARE WRITE PROTECT: while set, the LU is write protected as
    // if it had been configured read-only (SBC-4 4.11: DATA PROTECT / WRITE PROTECTED).
    bool swp = false;

    friend bool operator==(const ModeParameters&, const ModeParameters&) = default;
};

// The page codes we have, in ascending order (SPC-4 6.11.1: "all pages" lists them so).
std::span<const std::uint8_t> mode_page_codes();

// PAGE LENGTH of page code (SPC-4 7.5.7: the bytes after byte 1), or nothing for a page we do
// not have. Our pages are all page_0 format (no subpages).
std::optional<std::uint8_t> mode_page_length(std::uint8_t page_code);

// Appends page_code with the values in `values` (current or default: the caller picks) and
// returns true; false for a page we do not have.
bool append_mode_page(std::vector<std::uint8_t>& out, std::uint8_t page_code,
                      const ModeParameters& values);

// Appends page_code's changeable-values mask (SPC-4 6.11.2 PC 01b): a one for every bit MODE
// SELECT may change. The page code and page length bytes are the page's own.
bool append_mode_page_mask(std::vector<std::uint8_t>& out, std::uint8_t page_code);

// Reads the changeable fields of one whole page (page code byte first) into values. page must
// be page_code's full length; fields that cannot change are not looked at.
void read_mode_page(std::uint8_t page_code, std::span<const std::uint8_t> page,
                    ModeParameters& values);

}  // namespace itd::scsi
