// The PDU codec on the I/O path: serialize() / serialize_borrowed() (pdu_writer.h) and the
// PduReader framer (pdu_reader.h), for SCSI Command PDUs (a bare 48-byte BHS, and with 4 KiB
// of immediate data) and Data-In PDUs of 4 KiB and 256 KiB, with header and data digests off
// and on. Bytes are wire bytes: header, data, padding and digests.
//
// The reader runs over a stream of back-to-back PDUs fed as one span, as a socket read of many
// PDUs would be: each iteration frames one PDU and takes it. Data-Out, the data PDU a target
// reads, frames exactly like Data-In; ReadPlaced shows the path write data really takes, into
// the command's buffer (PduReader::Placement).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alloc_count.h"
#include "common/check.h"
#include "iscsi/pdu_reader.h"
#include "iscsi/pdu_writer.h"

namespace itd::bench {
namespace {

using iscsi::Opcode;
using iscsi::Pdu;

enum class Shape : std::uint8_t { scsi_command, scsi_command_imm_4k, data_in_4k, data_in_256k };

const char* shape_name(Shape shape) {
    switch (shape) {
        case Shape::scsi_command:
            return "ScsiCommand";
        case Shape::scsi_command_imm_4k:
            return "ScsiCommandImm4K";
        case Shape::data_in_4k:
            return "DataIn4K";
        case Shape::data_in_256k:
            return "DataIn256K";
    }
    return "?";
}

std::vector<std::uint8_t> pattern(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 131 + 7);
    return v;
}

// The header of a READ(10) or WRITE(10) of `bytes` at LBA 0 (512-byte blocks).
Pdu scsi_command(bool write, std::uint32_t bytes) {
    Pdu pdu;
    pdu.bhs.set_opcode(Opcode::scsi_command);
    pdu.bhs.set_flags(static_cast<std::uint8_t>(
        iscsi::flag::final_bit | (write ? iscsi::flag::write : iscsi::flag::read) | 1));  // SIMPLE
    pdu.bhs.set_itt(0x10);
    pdu.bhs.set_expected_data_transfer_length(bytes);
    pdu.bhs.set_cmd_sn(1);
    auto cdb = pdu.bhs.bytes().subspan(32, 10);
    cdb[0] = write ? 0x2a : 0x28;
    store_be16(&cdb[7], static_cast<std::uint16_t>(bytes / 512));
    return pdu;
}

// A Data-In header with the status in it (the last PDU of a read).
Pdu data_in_header() {
    Pdu pdu;
    pdu.bhs.set_opcode(Opcode::data_in);
    pdu.bhs.set_flags(iscsi::flag::final_bit | iscsi::flag::status);
    pdu.bhs.set_itt(0x10);
    pdu.bhs.set_ttt(iscsi::kReservedTag);
    pdu.bhs.set_stat_sn(1);
    pdu.bhs.set_exp_cmd_sn(2);
    pdu.bhs.set_max_cmd_sn(129);
    pdu.bhs.set_data_sn(0);
    pdu.bhs.set_buffer_offset(0);
    return pdu;
}

Pdu make_pdu(Shape shape) {
    switch (shape) {
        case Shape::scsi_command:
            return scsi_command(false, 4096);
        case Shape::scsi_command_imm_4k: {
            Pdu pdu = scsi_command(true, 4096);
            pdu.data = pattern(4096);
            return pdu;
        }
        case Shape::data_in_4k:
        case Shape::data_in_256k: {
            const std::uint32_t n = shape == Shape::data_in_4k ? 4096 : 256 << 10;
            Pdu pdu = data_in_header();
            pdu.data = pattern(n);
            return pdu;
        }
    }
    ITD_CHECK(false && "unknown shape");
    return {};
}

void set_throughput(benchmark::State& state, std::size_t wire_bytes_per_pdu) {
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire_bytes_per_pdu));
}

// serialize(): the PDU copied whole into one buffer (what Connection::send does).
void serialize_owned(benchmark::State& state, Shape shape, bool digests) {
    const Pdu pdu = make_pdu(shape);
    std::size_t wire_bytes = 0;
    AllocCounter allocs;
    for (auto _ : state) {
        std::vector<std::uint8_t> out = iscsi::serialize(pdu, digests, digests);
        wire_bytes = out.size();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    allocs.report(state);
    set_throughput(state, wire_bytes);
}

// serialize_borrowed(): the header only, the data borrowed from its buffer (what
// Connection::send_borrowed does for read data); the data digest still reads all of it.
void serialize_borrowed(benchmark::State& state, Shape shape, bool digests) {
    Pdu full = make_pdu(shape);
    auto owner = std::make_shared<const std::vector<std::uint8_t>>(std::move(full.data));
    full.data.clear();
    const Pdu header = full;
    std::size_t wire_bytes = 0;
    AllocCounter allocs;
    for (auto _ : state) {
        iscsi::OutputChunk chunk =
            iscsi::serialize_borrowed(header, *owner, owner, digests, digests);
        wire_bytes = chunk.size();
        benchmark::DoNotOptimize(chunk.header.data());
        benchmark::DoNotOptimize(chunk.head.data());
        benchmark::DoNotOptimize(chunk.tail.data());
        benchmark::ClobberMemory();
    }
    allocs.report(state);
    set_throughput(state, wire_bytes);
}

// About 1 MiB of back-to-back copies of one PDU (at least one, at most 256).
std::vector<std::uint8_t> stream_of(const Pdu& pdu, bool digests, std::size_t& wire_bytes) {
    const std::vector<std::uint8_t> one = iscsi::serialize(pdu, digests, digests);
    wire_bytes = one.size();
    const std::size_t copies = std::clamp<std::size_t>((1u << 20) / one.size(), 1, 256);
    std::vector<std::uint8_t> stream;
    stream.reserve(copies * one.size());
    for (std::size_t i = 0; i < copies; ++i) stream.insert(stream.end(), one.begin(), one.end());
    return stream;
}

iscsi::PduReader::Limits reader_limits(bool digests) {
    iscsi::PduReader::Limits limits;
    limits.max_data_segment_bytes = 1u << 20;
    limits.header_digest = digests;
    limits.data_digest = digests;
    return limits;
}

// PduReader: frame one PDU from the stream and take it, the data collected into Pdu::data.
void read_collected(benchmark::State& state, Shape shape, bool digests) {
    const Pdu pdu = make_pdu(shape);
    std::size_t wire_bytes = 0;
    const std::vector<std::uint8_t> stream = stream_of(pdu, digests, wire_bytes);
    iscsi::PduReader reader;
    reader.set_limits(reader_limits(digests));
    std::span<const std::uint8_t> rest = stream;
    AllocCounter allocs;
    for (auto _ : state) {
        auto used = reader.feed(rest);
        ITD_CHECK(used.has_value() && reader.has_pdu());
        Pdu got = reader.take();
        benchmark::DoNotOptimize(got.data.data());
        rest = rest.subspan(*used);
        if (rest.empty()) rest = stream;
    }
    allocs.report(state);
    set_throughput(state, wire_bytes);
}

// PduReader with a placement: a 256 KiB Data-Out's data goes straight into the command's
// buffer; the reader still checks its padding and digest.
void read_placed(benchmark::State& state, bool digests) {
    constexpr std::uint32_t kBytes = 256 << 10;
    Pdu pdu = make_pdu(Shape::data_in_256k);
    pdu.bhs.set_opcode(Opcode::data_out);
    pdu.bhs.set_flags(iscsi::flag::final_bit);
    std::size_t wire_bytes = 0;
    const std::vector<std::uint8_t> stream = stream_of(pdu, digests, wire_bytes);
    std::vector<std::uint8_t> command_buffer(kBytes);
    iscsi::PduReader reader;
    reader.set_limits(reader_limits(digests));
    reader.set_placement([&command_buffer](const iscsi::Bhs& bhs) {
        return bhs.data_segment_length() == kBytes ? std::span(command_buffer)
                                                   : std::span<std::uint8_t>();
    });
    std::span<const std::uint8_t> rest = stream;
    AllocCounter allocs;
    for (auto _ : state) {
        auto used = reader.feed(rest);
        ITD_CHECK(used.has_value() && reader.has_pdu());
        Pdu got = reader.take();
        ITD_CHECK(got.placed_bytes == kBytes);
        benchmark::DoNotOptimize(command_buffer.data());
        rest = rest.subspan(*used);
        if (rest.empty()) rest = stream;
    }
    allocs.report(state);
    set_throughput(state, wire_bytes);
}

std::string name(const char* what, const char* shape, bool digests) {
    return std::string(what) + "/" + shape + (digests ? "/digests" : "/nodigests");
}

const bool registered = [] {
    constexpr Shape kShapes[] = {Shape::scsi_command, Shape::scsi_command_imm_4k, Shape::data_in_4k,
                                 Shape::data_in_256k};
    for (bool digests : {false, true}) {
        for (Shape shape : kShapes)
            benchmark::RegisterBenchmark(name("Serialize", shape_name(shape), digests).c_str(),
                                         serialize_owned, shape, digests);
        for (Shape shape : {Shape::data_in_4k, Shape::data_in_256k})
            benchmark::RegisterBenchmark(
                name("SerializeBorrowed", shape_name(shape), digests).c_str(), serialize_borrowed,
                shape, digests);
        for (Shape shape : kShapes)
            benchmark::RegisterBenchmark(name("Read", shape_name(shape), digests).c_str(),
                                         read_collected, shape, digests);
        benchmark::RegisterBenchmark(name("ReadPlaced", "DataOut256K", digests).c_str(),
                                     read_placed, digests);
    }
    return true;
}();

}  // namespace
}  // namespace itd::bench
