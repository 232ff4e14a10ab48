// Stateful fuzzer for the full-feature phase of a connection: a real login first (so the
// input reaches SCSI commands, Data-Out, R2T bookkeeping, TMF and logout), then the fuzz input
// as a byte stream in chunks whose sizes the input also picks. Completions are delivered
// between chunks, as the I/O layer would. Anything that crashes, trips an invariant check or a
// sanitizer is a bug; a closed connection is a fine answer.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "iscsi/connection.h"
#include "volume/open.h"

namespace {

using namespace itd;
using namespace itd::iscsi;

struct Runner : CommandRunner {
    std::deque<std::pair<std::uint32_t, scsi::CommandResult>> completed;
    void run(scsi::Target& target, std::uint32_t itt, const scsi::Command& command) override {
        target.execute(command, [this, itt](scsi::CommandResult r) { completed.emplace_back(itt, r); });
    }
};

std::vector<std::uint8_t> login_request() {
    const std::string keys[] = {
        "InitiatorName=iqn.2026-11.org.itd.fuzz:initiator",
        "TargetName=iqn.2026-11.org.itd.fuzz:disk",
        "SessionType=Normal",
        "InitialR2T=No",
        "ImmediateData=Yes",
        "MaxRecvDataSegmentLength=4096",
        "FirstBurstLength=8192",
        "MaxBurstLength=16384",
        "MaxOutstandingR2T=2",
    };
    std::vector<std::uint8_t> data;
    for (const auto& k : keys) {
        data.insert(data.end(), k.begin(), k.end());
        data.push_back(0);
    }
    Bhs bhs;
    bhs.set_opcode(Opcode::login_request, true);
    bhs.set_flags(flag::transit | (1 << 2) | 3);
    bhs.set_isid(0x23d000000001ull);
    bhs.set_cmd_sn(1);
    bhs.set_data_segment_length(static_cast<std::uint32_t>(data.size()));
    std::vector<std::uint8_t> out(bhs.bytes().begin(), bhs.bytes().end());
    out.insert(out.end(), data.begin(), data.end());
    out.resize((out.size() + 3) & ~std::size_t{3});
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto login = login_request();
    PortalGroup portal_group;
    auto target = std::make_shared<scsi::Target>("iqn.2026-11.org.itd.fuzz:disk");
    volume::VolumeSpec spec;
    spec.backend = "memory";
    spec.size_bytes = 1 << 20;
    scsi::LunConfig lun;
    lun.volume = volume::open_volume(spec).value();
    target->add_lun(0, std::move(lun));
    portal_group.targets.push_back(TargetEntry{"iqn.2026-11.org.itd.fuzz:disk", "", target, {}, {}, {}});

    Runner runner;
    auto conn = std::make_unique<Connection>(portal_group, runner);
    conn->receive(login);
    auto deliver = [&] {
        while (!runner.completed.empty()) {
            auto [itt, result] = runner.completed.front();
            runner.completed.pop_front();
            conn->on_scsi_done(itt, result);
        }
        (void)conn->take_output();
    };
    deliver();

    std::size_t pos = 0;
    while (pos < size && !conn->closing()) {
        const std::size_t chunk = 1 + (data[pos] % 97);
        ++pos;
        const std::size_t n = std::min(chunk, size - pos);
        conn->receive(std::span(data + pos, n));
        pos += n;
        deliver();
    }
    // Commands still running when the connection closes complete afterwards.
    conn->close();
    deliver();
    return 0;
}
