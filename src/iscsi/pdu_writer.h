// PDU serialization (RFC 7143 11.1): BHS, AHS, optional header digest, data segment padded
// to 4 bytes, optional data digest (present only when the data segment is not empty).
//
// Output leaves as OutputChunks, gather lists for one writev: a PDU's own bytes (a BHS with
// its header digest kept in the chunk itself, or a vector for anything longer), then
// optionally data it borrows from a buffer it shares ownership of (read data goes out without
// a copy), then that data's padding and digest.
//
// A borrowed segment's data digest may be left to whoever sends the chunk
// (finish_data_digest), so that the CRC reads the data just before the socket copies it,
// while it is still in cache, rather than when the command completed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "iscsi/digest.h"
#include "iscsi/pdu.h"

namespace itd::iscsi {

struct OutputChunk {
    // A PDU without AHS or owned data: its BHS and header digest, here (no allocation).
    std::array<std::uint8_t, kBhsBytes + kDigestBytes> header{};
    std::uint8_t header_bytes = 0;
    std::vector<std::uint8_t> head;          // or BHS, AHS, header digest (and owned data)
    std::shared_ptr<const void> owner;       // keeps `data` alive until it has been sent
    std::span<const std::uint8_t> data;      // borrowed data segment, sent after head
    std::array<std::uint8_t, 8> tail{};      // padding and data digest of `data`
    std::uint8_t tail_bytes = 0;
    bool digest_pending = false;  // the data digest in `tail` is still to be computed

    std::size_t size() const { return header_bytes + head.size() + data.size() + tail_bytes; }
    // The bytes to send, in order (some may be empty).
    std::array<std::span<const std::uint8_t>, 4> pieces() const {
        return {std::span(header.data(), header_bytes), std::span(head), data,
                std::span(tail.data(), tail_bytes)};
    }
};

// Sets TotalAHSLength and DataSegmentLength in the copy it writes from pdu.ahs and pdu.data.
// pdu.ahs must be a multiple of 4 bytes and at most 1020; pdu.data below 2^24 (checked: these
// come from our own code, not from the wire).
std::vector<std::uint8_t> serialize(const Pdu& pdu, bool header_digest, bool data_digest);

// The PDU as a chunk that owns all its bytes.
OutputChunk serialize_chunk(const Pdu& pdu, bool header_digest, bool data_digest);

// The PDU (whose pdu.data must be empty) with `data` as its data segment, borrowed: the chunk
// holds `owner`, which must keep `data` alive and unchanged. With data_digest the digest is
// left pending (its room in `tail` is counted in size()): finish_data_digest computes it.
OutputChunk serialize_borrowed(const Pdu& pdu, std::span<const std::uint8_t> data,
                               std::shared_ptr<const void> owner, bool header_digest,
                               bool data_digest);

// Computes the chunk's pending data digest, if it has one.
void finish_data_digest(OutputChunk& chunk);

}  // namespace itd::iscsi
