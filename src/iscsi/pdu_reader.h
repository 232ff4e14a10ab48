// Incremental PDU framer (RFC 7143 11.1-11.2): bytes from the socket in, whole PDUs out.
//
// feed() consumes bytes until one PDU is complete and then stops, so the caller can change
// the limits between PDUs (digests and the negotiated MaxRecvDataSegmentLength take effect
// with the first PDU after the final Login Response, RFC 7143 13.12). It works with any
// split of the stream, down to one byte at a time.
//
//   [bhs] --48 bytes--> [ahs + header digest] --digest ok, length within limit--> [data]
//     ^                                           \--placement given--> [placed] --> |
//     +---------------- take() / data digest error (PDU dropped) <-- data+pad+digest
//
// A placement callback may name, from the header, the buffer the data segment belongs in
// (write data of a known command): the data then goes there straight from the input, or from
// the socket itself through placement_window(), and the PDU arrives with placed_bytes set and
// an empty data vector. Padding and digest are still read and checked here.
//
// The header is validated before any payload memory is reserved (STYLE.md #5): the AHS is at
// most 255 words (1020 bytes) by the width of its field, and DataSegmentLength is checked
// against the limit once the header digest (if on) has vouched for it.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <vector>

#include "iscsi/pdu.h"
#include "iscsi/pdu_writer.h"  // the other half of the codec: serialize()

namespace itd::iscsi {

enum class FramingError : std::uint8_t {
    // DataSegmentLength exceeds our MaxRecvDataSegmentLength: the stream cannot be trusted;
    // close the connection (RFC 7143 7.4: a PDU format error).
    oversized_data_segment,
    // The header is corrupt, so the PDU's length is unknown: close the connection
    // (RFC 7143 7.8, "header digest error ... the connection must be dropped").
    header_digest_mismatch,
    // The PDU was consumed whole and dropped; the stream is still in step. The caller answers
    // with Reject reason 0x02 for last_header() and goes on (RFC 7143 7.8, 11.17.1).
    data_digest_mismatch,
};

const char* to_string(FramingError e);

class PduReader {
public:
    struct Limits {
        std::uint32_t max_data_segment_bytes = 8192;  // RFC 7143 13.12 default
        bool header_digest = false;
        bool data_digest = false;
    };

    // Returns the buffer for the data segment of the PDU with this header, or an empty span
    // to have it collected into Pdu::data. A non-empty span must be exactly
    // DataSegmentLength bytes and stay valid until the PDU has been taken.
    using Placement = std::function<std::span<std::uint8_t>(const Bhs&)>;
    void set_placement(Placement placement) { placement_ = std::move(placement); }

    void set_limits(const Limits& limits) { limits_ = limits; }
    const Limits& limits() const { return limits_; }

    // Consumes bytes until one PDU is complete (then has_pdu() is true) or the input runs out.
    // Returns how many bytes it consumed. Must not be called while has_pdu().
    // On error, last_feed_bytes() says how many bytes this call consumed: after
    // data_digest_mismatch the bad PDU's bytes are all consumed and the next PDU starts right
    // after them; after the other errors the stream is lost and the reader must be discarded.
    [[nodiscard]] std::expected<std::size_t, FramingError> feed(std::span<const std::uint8_t> bytes);

    bool has_pdu() const { return state_ == State::complete; }

    // While a placed data segment is being read: the part of its buffer still to fill, for
    // the caller to read into directly; then placed(n) says how many bytes it put there.
    std::span<std::uint8_t> placement_window() const;
    [[nodiscard]] std::expected<void, FramingError> placed(std::size_t n);
    Pdu take();
    // Hands back a taken PDU's data vector once its bytes are no longer needed: the next data
    // segment is read into its room instead of a new allocation.
    void recycle(std::vector<std::uint8_t>&& data);

    // The header of the PDU being read, or of the last PDU read or dropped (for a Reject).
    const Bhs& last_header() const { return pdu_.bhs; }
    std::size_t last_feed_bytes() const { return last_feed_bytes_; }

    // True when no partial PDU is buffered (a clean point to close the stream).
    bool idle() const { return state_ == State::bhs && filled_ == 0; }

private:
    enum class State : std::uint8_t { bhs, ahs_and_header_digest, placed, data, complete, broken };

    // Copies up to `need` bytes into buf_, returns how many bytes it took.
    std::size_t fill(std::span<const std::uint8_t> bytes, std::size_t need);
    std::expected<void, FramingError> on_bhs();
    std::expected<void, FramingError> on_header_end();
    std::expected<void, FramingError> on_data_end();
    void start_data();
    std::expected<void, FramingError> after_placed();  // the placed part is full

    Limits limits_;
    State state_ = State::bhs;
    std::vector<std::uint8_t> buf_;  // the current section being collected
    std::vector<std::uint8_t> spare_;  // room for buf_ once it leaves as a PDU's data (recycle)
    std::size_t filled_ = 0;         // bytes of buf_ collected so far
    std::uint32_t data_bytes_ = 0;   // DataSegmentLength of the current PDU
    Pdu pdu_;
    std::size_t last_feed_bytes_ = 0;
    Placement placement_;
    std::span<std::uint8_t> placed_;  // the placement buffer of the current PDU
    std::size_t placed_filled_ = 0;
};

}  // namespace itd::iscsi
