// PduReader on arbitrary bytes: the first byte picks limits and digests, the second a chunk
// size; every PDU that comes out must serialize back to the bytes that framed it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "iscsi/pdu_reader.h"

using namespace itd::iscsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = std::size_t{data[1]} + 1;
    std::span<const std::uint8_t> rest(data + 2, size - 2);
    const std::span<const std::uint8_t> all = rest;

    PduReader::Limits limits;
    limits.header_digest = mode & 1;
    limits.data_digest = mode & 2;
    limits.max_data_segment_bytes = (mode & 4) ? 512 : 65536;
    PduReader reader;
    reader.set_limits(limits);
    std::size_t pdu_start = 0;
    std::size_t offset = 0;
    while (!rest.empty()) {
        auto piece = rest.first(std::min(chunk, rest.size()));
        auto n = reader.feed(piece);
        if (!n) {
            if (n.error() != FramingError::data_digest_mismatch) return 0;
            rest = rest.subspan(reader.last_feed_bytes());
            offset += reader.last_feed_bytes();
            pdu_start = offset;
            continue;
        }
        if (*n > piece.size()) std::abort();
        rest = rest.subspan(*n);
        offset += *n;
        if (!reader.has_pdu()) continue;
        Pdu pdu = reader.take();
        if (pdu.data.size() > limits.max_data_segment_bytes) std::abort();
        // Framing and serializing agree: same bytes, padding aside (serialize writes zeros).
        auto again = serialize(pdu, limits.header_digest, limits.data_digest);
        if (again.size() != offset - pdu_start) std::abort();
        const std::size_t header = kBhsBytes + pdu.ahs.size();
        for (std::size_t i = 0; i < header; ++i)
            if (again[i] != all[pdu_start + i]) std::abort();
        pdu_start = offset;
    }
    return 0;
}
