#include "iscsi/pdu_writer.h"

#include <cstring>

#include "common/check.h"
#include "iscsi/digest.h"

namespace itd::iscsi {

namespace {

std::size_t padded(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

// BHS with its length fields, AHS and the header digest into out, which must have room for them.
std::size_t write_header(const Pdu& pdu, std::size_t data_bytes, bool header_digest,
                         std::uint8_t* out) {
    ITD_CHECK(pdu.ahs.size() % 4 == 0 && pdu.ahs.size() <= 255 * 4);
    ITD_CHECK(data_bytes < (std::size_t{1} << 24));
    const std::size_t header_bytes = kBhsBytes + pdu.ahs.size();
    Bhs bhs = pdu.bhs;
    bhs.set_total_ahs_words(static_cast<std::uint8_t>(pdu.ahs.size() / 4));
    bhs.set_data_segment_length(static_cast<std::uint32_t>(data_bytes));
    std::memcpy(out, bhs.bytes().data(), kBhsBytes);
    if (!pdu.ahs.empty()) std::memcpy(out + kBhsBytes, pdu.ahs.data(), pdu.ahs.size());
    if (!header_digest) return header_bytes;
    store_digest(out + header_bytes, crc32c(std::span(out, header_bytes)));
    return header_bytes + kDigestBytes;
}

std::size_t header_size(const Pdu& pdu, bool header_digest) {
    return kBhsBytes + pdu.ahs.size() + (header_digest ? kDigestBytes : 0);
}

// BHS with its length fields, AHS and the header digest, with room reserved for `extra` more.
std::vector<std::uint8_t> serialize_header(const Pdu& pdu, std::size_t data_bytes,
                                           bool header_digest, std::size_t extra) {
    std::vector<std::uint8_t> out;
    out.reserve(header_size(pdu, header_digest) + extra);
    out.resize(header_size(pdu, header_digest));
    write_header(pdu, data_bytes, header_digest, out.data());
    return out;
}

// The chunk's BHS and header digest in its own storage, when the PDU has no AHS.
bool header_in_chunk(const Pdu& pdu, std::size_t data_bytes, bool header_digest,
                     OutputChunk& chunk) {
    if (!pdu.ahs.empty()) return false;
    chunk.header_bytes =
        static_cast<std::uint8_t>(write_header(pdu, data_bytes, header_digest, chunk.header.data()));
    return true;
}

}  // namespace

std::vector<std::uint8_t> serialize(const Pdu& pdu, bool header_digest, bool data_digest) {
    const std::size_t padded_data = padded(pdu.data.size());
    const bool with_data_digest = data_digest && !pdu.data.empty();
    std::vector<std::uint8_t> out = serialize_header(
        pdu, pdu.data.size(), header_digest, padded_data + (with_data_digest ? kDigestBytes : 0));
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

OutputChunk serialize_chunk(const Pdu& pdu, bool header_digest, bool data_digest) {
    OutputChunk chunk;
    if (!pdu.data.empty() || !header_in_chunk(pdu, 0, header_digest, chunk))
        chunk.head = serialize(pdu, header_digest, data_digest);
    return chunk;
}

OutputChunk serialize_borrowed(const Pdu& pdu, std::span<const std::uint8_t> data,
                               std::shared_ptr<const void> owner, bool header_digest,
                               bool data_digest) {
    ITD_CHECK(pdu.data.empty());
    OutputChunk chunk;
    if (!header_in_chunk(pdu, data.size(), header_digest, chunk))
        chunk.head = serialize_header(pdu, data.size(), header_digest, 0);
    chunk.owner = std::move(owner);
    chunk.data = data;
    const std::size_t pad = padded(data.size()) - data.size();
    chunk.tail_bytes = static_cast<std::uint8_t>(pad);  // tail starts zeroed
    if (data_digest && !data.empty()) {
        chunk.tail_bytes = static_cast<std::uint8_t>(pad + kDigestBytes);
        chunk.digest_pending = true;
    }
    return chunk;
}

void finish_data_digest(OutputChunk& chunk) {
    if (!chunk.digest_pending) return;
    // The data digest covers the data and its padding (RFC 7143 11.1); the padding is zeros.
    const std::size_t pad = chunk.tail_bytes - kDigestBytes;
    Crc32c crc;
    crc.update(chunk.data);
    crc.update(std::span(chunk.tail.data(), pad));
    store_digest(chunk.tail.data() + pad, crc.value());
    chunk.digest_pending = false;
}

}  // namespace itd::iscsi
