#include "iscsi/pdu_reader.h"

#include <algorithm>

#include "common/check.h"
#include "iscsi/digest.h"

namespace itd::iscsi {

namespace {

std::size_t padded(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

}  // namespace

const char* to_string(FramingError e) {
    switch (e) {
        case FramingError::oversized_data_segment: return "oversized data segment";
        case FramingError::header_digest_mismatch: return "header digest mismatch";
        case FramingError::data_digest_mismatch: return "data digest mismatch";
    }
    return "unknown framing error";
}

std::size_t PduReader::fill(std::span<const std::uint8_t> bytes, std::size_t need) {
    const std::size_t n = std::min(bytes.size(), need - filled_);
    std::copy_n(bytes.begin(), n, buf_.begin() + static_cast<std::ptrdiff_t>(filled_));
    filled_ += n;
    return n;
}

std::expected<std::size_t, FramingError> PduReader::feed(std::span<const std::uint8_t> bytes) {
    ITD_CHECK(state_ != State::complete && "take() the PDU before feeding more bytes");
    ITD_CHECK(state_ != State::broken && "a reader that failed to frame is not reused");
    std::size_t used = 0;
    auto fail = [&](FramingError e) -> std::unexpected<FramingError> {
        last_feed_bytes_ = used;
        // After a data digest error the PDU was consumed whole and the next one may follow;
        // any other error leaves us not knowing where the next PDU starts.
        state_ = e == FramingError::data_digest_mismatch ? State::bhs : State::broken;
        buf_.clear();
        filled_ = 0;
        return std::unexpected(e);
    };
    if (state_ == State::bhs && filled_ == 0) buf_.assign(kBhsBytes, 0);

    while (state_ != State::complete) {
        if (state_ == State::placed) {
            const std::size_t n = std::min(bytes.size() - used, placed_.size() - placed_filled_);
            std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), n,
                        placed_.begin() + static_cast<std::ptrdiff_t>(placed_filled_));
            placed_filled_ += n;
            used += n;
            if (placed_filled_ < placed_.size()) break;  // out of input
            if (auto ok = after_placed(); !ok) return fail(ok.error());
            continue;
        }
        const std::size_t need = buf_.size();
        if (filled_ < need) {
            used += fill(bytes.subspan(used), need);
            if (filled_ < need) break;  // out of input
        }
        std::expected<void, FramingError> ok;
        switch (state_) {
            case State::bhs: ok = on_bhs(); break;
            case State::ahs_and_header_digest: ok = on_header_end(); break;
            case State::data: ok = on_data_end(); break;
            case State::placed:
            case State::complete:
            case State::broken: ITD_CHECK(false && "unreachable"); break;
        }
        if (!ok) return fail(ok.error());
    }
    last_feed_bytes_ = used;
    return used;
}

std::expected<void, FramingError> PduReader::on_bhs() {
    pdu_ = Pdu{};
    pdu_.bhs = Bhs(std::span<const std::uint8_t, kBhsBytes>(buf_.data(), kBhsBytes));
    // TotalAHSLength is one byte of 4-byte words, so the AHS is at most 1020 bytes
    // (RFC 7143 11.2.1.4): bounded by construction, safe to collect before anything else.
    const std::size_t ahs_bytes = pdu_.bhs.total_ahs_words() * std::size_t{4};
    const std::size_t section = ahs_bytes + (limits_.header_digest ? kDigestBytes : 0);
    if (section == 0) return on_header_end();
    // Keep the BHS in front of the AHS in buf_ so the header digest runs over one span.
    buf_.resize(kBhsBytes + section);
    state_ = State::ahs_and_header_digest;
    return {};
}

std::expected<void, FramingError> PduReader::on_header_end() {
    const std::size_t ahs_bytes = pdu_.bhs.total_ahs_words() * std::size_t{4};
    if (limits_.header_digest) {
        // RFC 7143 11.1: the header digest covers the BHS and every AHS.
        const std::size_t covered = kBhsBytes + ahs_bytes;
        const std::uint32_t want = load_digest(buf_.data() + covered);
        if (crc32c(std::span(buf_.data(), covered)) != want)
            return std::unexpected(FramingError::header_digest_mismatch);
    }
    pdu_.ahs.assign(buf_.begin() + kBhsBytes,
                    buf_.begin() + static_cast<std::ptrdiff_t>(kBhsBytes + ahs_bytes));
    // Only now is DataSegmentLength trusted: bound it before reserving memory for it.
    data_bytes_ = pdu_.bhs.data_segment_length();
    if (data_bytes_ > limits_.max_data_segment_bytes)
        return std::unexpected(FramingError::oversized_data_segment);
    start_data();
    return {};
}

void PduReader::start_data() {
    // RFC 7143 11.1: the data segment is padded to 4 bytes; the data digest (present only
    // when there is a data segment) covers data and padding.
    const bool digest = limits_.data_digest && data_bytes_ > 0;
    filled_ = 0;
    placed_ = {};
    placed_filled_ = 0;
    if (data_bytes_ > 0 && placement_) {
        placed_ = placement_(pdu_.bhs);
        ITD_CHECK(placed_.empty() || placed_.size() == data_bytes_);
        if (!placed_.empty()) {
            // The data goes to its buffer; buf_ then collects only padding and digest.
            buf_.assign(padded(data_bytes_) - data_bytes_ + (digest ? kDigestBytes : 0), 0);
            state_ = State::placed;
            return;
        }
    }
    const std::size_t section = padded(data_bytes_) + (digest ? kDigestBytes : 0);
    if (section == 0) {
        buf_.clear();
        state_ = State::complete;
        return;
    }
    buf_.assign(section, 0);
    state_ = State::data;
}

std::expected<void, FramingError> PduReader::after_placed() {
    state_ = State::data;
    return buf_.empty() ? on_data_end() : std::expected<void, FramingError>{};
}

std::span<std::uint8_t> PduReader::placement_window() const {
    if (state_ != State::placed) return {};
    return placed_.subspan(placed_filled_);
}

std::expected<void, FramingError> PduReader::placed(std::size_t n) {
    ITD_CHECK(state_ == State::placed && n <= placed_.size() - placed_filled_);
    placed_filled_ += n;
    last_feed_bytes_ = 0;
    if (placed_filled_ < placed_.size()) return {};
    auto ok = after_placed();
    if (!ok) {
        state_ = State::bhs;  // only a data digest error can happen here: the stream is in step
        buf_.clear();
        filled_ = 0;
    }
    return ok;
}

std::expected<void, FramingError> PduReader::on_data_end() {
    if (!placed_.empty()) {
        if (limits_.data_digest) {
            const std::size_t pad = padded(data_bytes_) - data_bytes_;
            Crc32c crc;
            crc.update(placed_);
            crc.update(std::span(buf_.data(), pad));
            if (crc.value() != load_digest(buf_.data() + pad))
                return std::unexpected(FramingError::data_digest_mismatch);
        }
        pdu_.placed_bytes = data_bytes_;
        placed_ = {};
        buf_.clear();
        state_ = State::complete;
        return {};
    }
    if (limits_.data_digest && data_bytes_ > 0) {
        const std::size_t covered = padded(data_bytes_);
        const std::uint32_t want = load_digest(buf_.data() + covered);
        if (crc32c(std::span(buf_.data(), covered)) != want)
            return std::unexpected(FramingError::data_digest_mismatch);
    }
    buf_.resize(data_bytes_);
    pdu_.data = std::move(buf_);
    buf_ = std::move(spare_);
    spare_ = {};
    buf_.clear();
    state_ = State::complete;
    return {};
}

void PduReader::recycle(std::vector<std::uint8_t>&& data) {
    // One spare at most, no bigger than a data segment may be (with padding and digest).
    if (data.capacity() <= spare_.capacity() ||
        data.capacity() > std::size_t{limits_.max_data_segment_bytes} + 8)
        return;
    spare_ = std::move(data);
}

Pdu PduReader::take() {
    ITD_CHECK(state_ == State::complete);
    Pdu out = std::move(pdu_);
    // Keep the header for last_header(); the PDU itself now belongs to the caller.
    pdu_ = Pdu{};
    pdu_.bhs = out.bhs;
    state_ = State::bhs;
    filled_ = 0;
    buf_.clear();
    return out;
}

}  // namespace itd::iscsi
