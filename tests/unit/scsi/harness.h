// Runs commands against a Target backed by memory volumes and waits for their answers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/sense.h"
#include "scsi/target.h"
#include "volume/memory/memory_volume.h"

namespace itd::scsi::testing {

struct Reply {
    CommandResult result;
    std::vector<std::uint8_t> data;  // data_in cut to data_in_bytes, or data_in_view
    bool untouched_data_in = false;  // a view came back and data_in was left as it was
    int calls = 0;

    std::uint8_t key() const { return result.sense[2] & 0x0f; }
    std::uint8_t asc() const { return result.sense[12]; }
    std::uint8_t ascq() const { return result.sense[13]; }
    bool good() const { return result.status == Status::good; }
    // Whether the result is CHECK CONDITION with exactly reason's sense code.
    bool is(SenseReason reason) const {
        const SenseCode c = sense_code(reason);
        return result.status == c.status && result.sense_bytes >= 14 && key() == c.key &&
               asc() == c.asc && ascq() == c.ascq;
    }
};

inline std::shared_ptr<volume::Volume> memory_volume(std::uint64_t blocks,
                                                     std::uint32_t block_size = 512) {
    auto v = volume::MemoryVolume::create(blocks * block_size, block_size);
    ITD_CHECK(v.has_value());
    return *v;
}

class Harness {
public:
    explicit Harness(std::uint64_t blocks = 2048, std::uint32_t block_size = 512,
                     bool read_only = false, bool thin = false,
                     std::shared_ptr<volume::Volume> vol = nullptr)
        : target("iqn.2026-11.org.example:test") {
        LunConfig cfg;
        cfg.volume = vol ? std::move(vol) : memory_volume(blocks, block_size);
        cfg.read_only = read_only;
        cfg.thin = thin;
        target.add_lun(0, std::move(cfg));
        nexus = target.register_nexus("iqn.init,i,0x1", "iqn.target,t,0x1");
        // Clear the power-on unit attention most tests do not care about.
        clear_ua();
    }

    // A LUN 0 exactly as configured (removable, a volume of one's own, ...).
    explicit Harness(LunConfig cfg) : target("iqn.2026-11.org.example:test") {
        if (!cfg.volume) cfg.volume = memory_volume(2048);
        target.add_lun(0, std::move(cfg));
        nexus = target.register_nexus("iqn.init,i,0x1", "iqn.target,t,0x1");
        clear_ua();
    }

    // A second I_T nexus (another initiator port), its power-on unit attention cleared.
    NexusId add_nexus(std::string_view initiator_port) {
        const NexusId n = target.register_nexus(initiator_port, "iqn.target,t,0x1");
        while (run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, n).key() == 0x06) {  // UNIT ATTENTION
        }
        return n;
    }

    void clear_ua() {
        while (run({0x00, 0, 0, 0, 0, 0}).result.status != Status::good) {
        }
    }

    Reply run(std::initializer_list<std::uint8_t> cdb, std::size_t data_in_bytes = 0,
              std::vector<std::uint8_t> data_out = {}, std::uint64_t lun_field = 0,
              std::optional<NexusId> on = {}) {
        return run_cdb(std::vector<std::uint8_t>(cdb), data_in_bytes, std::move(data_out),
                       lun_field, on);
    }

    Reply run_cdb(std::vector<std::uint8_t> cdb, std::size_t data_in_bytes = 0,
                  std::vector<std::uint8_t> data_out = {}, std::uint64_t lun_field = 0,
                  std::optional<NexusId> on = {}) {
        // Like iSCSI, hand over the whole 16-byte CDB field.
        if (cdb.size() < 16) cdb.resize(16, 0);
        std::vector<std::uint8_t> data_in(data_in_bytes, 0xee);
        Command cmd;
        cmd.nexus = on.value_or(nexus);
        cmd.lun_field = lun_field;
        cmd.cdb = cdb;
        cmd.data_out = data_out;
        cmd.data_in = data_in;
        cmd.accepts_data_in_view = accept_views;
        std::mutex m;
        std::condition_variable cv;
        Reply reply;
        target.execute(cmd, [&](CommandResult r) {
            std::lock_guard lock(m);
            reply.result = r;
            ++reply.calls;
            cv.notify_all();
        });
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return reply.calls > 0; });
        EXPECT_LE(reply.result.data_in_bytes, data_in.size());
        if (!reply.result.data_in_view.empty()) {
            EXPECT_TRUE(accept_views);
            EXPECT_EQ(reply.result.data_in_view.size(), reply.result.data_in_bytes);
            EXPECT_NE(reply.result.data_in_owner, nullptr);
            reply.data.assign(reply.result.data_in_view.begin(), reply.result.data_in_view.end());
            reply.untouched_data_in =
                std::all_of(data_in.begin(), data_in.end(), [](auto b) { return b == 0xee; });
        } else {
            reply.data.assign(data_in.begin(), data_in.begin() + reply.result.data_in_bytes);
        }
        return reply;
    }

    // Commands say they accept read data as a view (Command::accepts_data_in_view).
    bool accept_views = false;
    Target target;
    NexusId nexus = 0;
};

}  // namespace itd::scsi::testing
