#include "iscsi/pdu_writer.h"

#include "common/check.h"
#include "iscsi/digest.h"

namespace itd::iscsi {

std::vector<std::uint8_t> serialize(const Pdu& pdu, bool header_digest, bool data_digest) {
    ITD_CHECK(pdu.ahs.size() % 4 == 0 && pdu.ahs.size() <= 255 * 4);
    ITD_CHECK(pdu.data.size() < (std::size_t{1} << 24));
    const std::size_t header_bytes = kBhsBytes + pdu.ahs.size();
    const std::size_t padded_data = (pdu.data.size() + 3) & ~std::size_t{3};
    const bool with_data_digest = data_digest && !pdu.data.empty();
    std::vector<std::uint8_t> out;
    out.reserve(header_bytes + (header_digest ? kDigestBytes : 0) + padded_data +
                (with_data_digest ? kDigestBytes : 0));

    Bhs bhs = pdu.bhs;
    bhs.set_total_ahs_words(static_cast<std::uint8_t>(pdu.ahs.size() / 4));
    bhs.set_data_segment_length(static_cast<std::uint32_t>(pdu.data.size()));
    out.insert(out.end(), bhs.bytes().begin(), bhs.bytes().end());
    out.insert(out.end(), pdu.ahs.begin(), pdu.ahs.end());
    if (header_digest) {
        const std::uint32_t crc = crc32c(std::span(out.data(), header_bytes));
        out.resize(out.size() + kDigestBytes);
        store_digest(out.data() + header_bytes, crc);
    }
    const std::size_t data_at = out.size();
    out.insert(out.end(), pdu.data.begin(), pdu.data.end());
    out.resize(data_at + padded_data, 0);
    if (with_data_digest) {
        const std::uint32_t crc = crc32c(std::span(out.data() + data_at, padded_data));
        out.resize(out.size() + kDigestBytes);
        store_digest(out.data() + data_at + padded_data, crc);
    }
    return out;
}

}  // namespace itd::iscsi
