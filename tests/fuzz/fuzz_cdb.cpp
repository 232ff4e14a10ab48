// Decodes and executes arbitrary CDBs (with arbitrary data-out and data-in sizes, LUN fields and
// nexuses) against a small memory LUN. Checks: no crash or sanitizer report, done runs exactly
// once (SANITIZE's on its worker thread), and the result stays within its bounds.
//
// Input layout: byte 0 selects the LUN field form, byte 1 the nexus, bytes 2-3 the data-in
// size, byte 4 the CDB length; then the CDB; the rest is data-out.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "common/check.h"
#include "scsi/target.h"
#include "volume/memory/memory_volume.h"

namespace {

using namespace itd;

struct World {
    scsi::Target target{"iqn.2026-11.org.example:fuzz"};
    scsi::NexusId nexus[2]{};

    World() {
        // 64 blocks of 512 bytes: small enough that any READ is cheap, big enough for ranges.
        auto vol = volume::MemoryVolume::create(64 * 512, 512);
        ITD_CHECK(vol.has_value());
        scsi::LunConfig cfg;
        cfg.volume = *vol;
        cfg.thin = true;  // UNMAP, WRITE SAME with UNMAP and GET LBA STATUS run too
        target.add_lun(0, std::move(cfg));
        auto ro = volume::MemoryVolume::create(16 * 4096, 4096);
        ITD_CHECK(ro.has_value());
        scsi::LunConfig ro_cfg;
        ro_cfg.volume = *ro;
        ro_cfg.read_only = true;
        ro_cfg.removable = true;  // START STOP UNIT may eject it; PREVENT ALLOW holds it in
        target.add_lun(3, std::move(ro_cfg));
        nexus[0] = target.register_nexus("iqn.fuzz,i,0x1", "tp");
        nexus[1] = target.register_nexus("iqn.fuzz,i,0x2", "tp");
    }
};

std::uint64_t lun_field(std::uint8_t selector, const std::uint8_t* raw, std::size_t raw_size) {
    switch (selector % 4) {
        case 0: return 0;                       // LUN 0, peripheral
        case 1: return 0x0003000000000000ull;   // LUN 3
        case 2: return 0x4000000000000000ull;   // LUN 0, flat
        default: {
            std::uint64_t v = 0;  // anything at all
            for (std::size_t i = 0; i < 8 && i < raw_size; ++i) v = (v << 8) | raw[i];
            return v;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    if (size < 5) return 0;
    const std::uint8_t lun_selector = data[0];
    const scsi::NexusId nexus = world.nexus[data[1] & 1];
    // Up to 64 KiB of data-in room: enough for every READ that fits the LUN and every
    // parameter list.
    const std::size_t data_in_size = (std::size_t{data[2]} << 8) | data[3];
    const std::size_t cdb_size = std::min<std::size_t>(data[4] % 33, size - 5);
    std::vector<std::uint8_t> cdb(data + 5, data + 5 + cdb_size);
    std::vector<std::uint8_t> data_out(data + 5 + cdb_size, data + size);
    std::vector<std::uint8_t> data_in(data_in_size);

    scsi::Command cmd;
    cmd.nexus = nexus;
    cmd.lun_field = lun_field(lun_selector, cdb.data(), cdb.size());
    cmd.cdb = cdb;
    cmd.data_out = data_out;
    cmd.data_in = data_in;

    // The memory backend completes inline, but SANITIZE finishes on its own worker thread:
    // wait for done, and count every call it ever gets (the state outlives this input).
    struct Answer {
        std::mutex mutex;
        std::condition_variable cv;
        int calls = 0;
        scsi::CommandResult result;
    };
    auto answer = std::make_shared<Answer>();
    world.target.execute(cmd, [answer](scsi::CommandResult r) {
        std::lock_guard lock(answer->mutex);
        if (++answer->calls != 1) std::abort();
        answer->result = r;
        answer->cv.notify_all();
    });
    std::unique_lock lock(answer->mutex);
    if (!answer->cv.wait_for(lock, std::chrono::seconds(10), [&] { return answer->calls > 0; }))
        std::abort();
    const scsi::CommandResult result = answer->result;
    if (result.data_in_bytes > data_in.size()) std::abort();
    if (result.sense_bytes > result.sense.size()) std::abort();
    if (result.status == scsi::Status::check_condition && result.sense_bytes < 18) std::abort();
    if (result.status == scsi::Status::good && result.sense_bytes != 0) std::abort();
    return 0;
}
