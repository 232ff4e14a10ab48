// The SCSI core on its own: Target::execute (target.h) on a memory volume, from the CDB
// through the command table and the handler to the done callback, as the iSCSI layer calls
// it. The memory volume completes inline, so each iteration is one whole command.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "alloc_count.h"
#include "common/check.h"
#include "common/endian.h"
#include "scsi/target.h"
#include "volume/memory/memory_volume.h"

namespace itd::bench {
namespace {

constexpr std::uint32_t kBlockBytes = 512;
constexpr std::uint64_t kVolumeBytes = 16 << 20;

// One target with LUN 0 on a memory volume and one I_T nexus whose power-on unit attention
// has been cleared (as tests/unit/scsi/harness.h sets it up).
class Dispatch {
  public:
    Dispatch() : target_("iqn.2026-11.org.itd.bench:disk") {
        scsi::LunConfig lun;
        auto volume = volume::MemoryVolume::create(kVolumeBytes, kBlockBytes);
        ITD_CHECK(volume.has_value());
        lun.volume = *volume;
        target_.add_lun(0, std::move(lun));
        nexus_ = target_.register_nexus("iqn.2026-11.org.itd.bench:init,i,0x1",
                                        "iqn.2026-11.org.itd.bench:disk,t,0x1");
        const std::array<std::uint8_t, 16> tur{};
        bool ready = false;
        for (int i = 0; i < 8 && !ready; ++i) ready = run(tur, {}, {}).status == scsi::Status::good;
        ITD_CHECK(ready);
    }

    // Runs one command; the memory volume answers before execute returns.
    scsi::CommandResult run(std::span<const std::uint8_t> cdb,
                            std::span<const std::uint8_t> data_out,
                            std::span<std::uint8_t> data_in) {
        scsi::Command cmd;
        cmd.nexus = nexus_;
        cmd.cdb = cdb;
        cmd.data_out = data_out;
        cmd.data_in = data_in;
        scsi::CommandResult result;
        int calls = 0;
        target_.execute(cmd, [&result, &calls](scsi::CommandResult r) {
            result = r;
            ++calls;
        });
        ITD_CHECK(calls == 1);
        return result;
    }

  private:
    scsi::Target target_;
    scsi::NexusId nexus_ = 0;
};

std::array<std::uint8_t, 16> rw10(std::uint8_t opcode, std::uint32_t lba, std::uint16_t blocks) {
    std::array<std::uint8_t, 16> cdb{};
    cdb[0] = opcode;
    store_be32(&cdb[2], lba);
    store_be16(&cdb[7], blocks);
    return cdb;
}

// Runs `cdb` every iteration and checks it answered GOOD with `transfer_bytes`.
void dispatch(benchmark::State& state, std::array<std::uint8_t, 16> cdb,
              std::uint32_t data_out_bytes, std::uint32_t data_in_bytes,
              std::uint32_t transfer_bytes) {
    Dispatch d;
    std::vector<std::uint8_t> data_out(data_out_bytes, 0x5a);
    std::vector<std::uint8_t> data_in(data_in_bytes);
    const scsi::CommandResult first = d.run(cdb, data_out, data_in);
    ITD_CHECK(first.status == scsi::Status::good && first.transfer_bytes == transfer_bytes);
    AllocCounter allocs;
    for (auto _ : state) {
        const scsi::CommandResult r = d.run(cdb, data_out, data_in);
        ITD_CHECK(r.status == scsi::Status::good);
        benchmark::DoNotOptimize(data_in.data());
        benchmark::ClobberMemory();
    }
    allocs.report(state);
    state.SetItemsProcessed(state.iterations());
    if (data_out_bytes + data_in_bytes > 0)
        state.SetBytesProcessed(
            static_cast<std::int64_t>(state.iterations() * (data_out_bytes + data_in_bytes)));
}

constexpr std::uint8_t kTestUnitReady = 0x00;
constexpr std::uint8_t kInquiry = 0x12;
constexpr std::uint8_t kRead10 = 0x28;
constexpr std::uint8_t kWrite10 = 0x2a;
constexpr std::uint16_t kBlocks4K = 4096 / kBlockBytes;

std::array<std::uint8_t, 16> inquiry(std::uint16_t allocation_length) {
    std::array<std::uint8_t, 16> cdb{};
    cdb[0] = kInquiry;
    store_be16(&cdb[3], allocation_length);
    return cdb;
}

BENCHMARK_CAPTURE(dispatch, TestUnitReady, std::array<std::uint8_t, 16>{kTestUnitReady}, 0, 0, 0)
    ->Name("Dispatch/TestUnitReady");
// Standard INQUIRY data is 96 bytes here; ask for all of it (SPC-4 6.6.2).
BENCHMARK_CAPTURE(dispatch, Inquiry, inquiry(96), 0, 96, 96)->Name("Dispatch/Inquiry");
BENCHMARK_CAPTURE(dispatch, Read10_4K, rw10(kRead10, 8, kBlocks4K), 0, 4096, 4096)
    ->Name("Dispatch/Read10_4K");
BENCHMARK_CAPTURE(dispatch, Write10_4K, rw10(kWrite10, 8, kBlocks4K), 4096, 0, 4096)
    ->Name("Dispatch/Write10_4K");

}  // namespace
}  // namespace itd::bench
