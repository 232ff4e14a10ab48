// Text codec and negotiation on arbitrary bytes: parse, re-encode and re-parse; feed the
// pairs to a Negotiator in both stages and check what it agreed stays within its ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "iscsi/negotiation.h"
#include "iscsi/text.h"

using namespace itd::iscsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t mode = data[0];
    std::span<const std::uint8_t> bytes(data + 1, size - 1);

    // Split into two continued segments at a point chosen by the input.
    TextAccumulator acc(8192);
    const std::size_t cut = bytes.empty() ? 0 : (mode * 31u) % bytes.size();
    auto first = acc.add(bytes.first(cut), true);
    if (!first) return 0;
    auto joined = acc.add(bytes.subspan(cut), false);
    auto direct = parse_text(bytes);
    if (joined.has_value() != direct.has_value() && bytes.size() <= 8192) std::abort();
    if (!direct) return 0;

    auto encoded = encode_text(*direct);
    auto reparsed = parse_text(encoded);
    if (!reparsed || *reparsed != *direct) std::abort();

    TargetLimits limits;
    limits.immediate_data = mode & 1;
    limits.initial_r2t = mode & 2;
    Negotiator n(limits);
    std::vector<TextPair> answers;
    const Stage stage = (mode & 4) ? Stage::security : Stage::operational;
    // A failed negotiation fails the login, so what it agreed so far is never used.
    if (!n.on_request(*direct, stage, answers)) return 0;
    n.target_keys(answers);
    // The same keys again: an identical repeat is answered the same way.
    if (!n.on_request(*direct, Stage::operational, answers)) return 0;
    for (const auto& a : answers)
        if (a.key.empty() || a.value.empty()) std::abort();
    const SessionParams& p = n.params();
    if (p.first_burst_bytes > p.max_burst_bytes && p.max_burst_bytes >= 512) std::abort();
    if (p.max_burst_bytes > limits.max_burst_bytes && p.max_burst_bytes != 262144) std::abort();
    if (p.max_outstanding_r2t < 1 || p.max_outstanding_r2t > limits.max_outstanding_r2t) std::abort();
    if (p.error_recovery_level != 0 || p.max_connections != 1) std::abort();
    if (p.initiator_max_recv_data_segment_bytes < 512 ||
        p.initiator_max_recv_data_segment_bytes > (1u << 24) - 1)
        std::abort();
    return 0;
}
