// SANITIZE: the OVERWRITE parameter list, each service action on thick and thin LUs, the
// operation running in the background (IMMED) with other commands held off, and failure mode.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "common/endian.h"
#include "gated_volume.h"
#include "harness.h"
#include "scsi/sbc_sanitize_params.h"

namespace itd::scsi::testing {
namespace {

constexpr std::uint8_t kOverwrite = 0x01, kBlockErase = 0x02, kCryptoErase = 0x03,
                       kExitFailureMode = 0x1f;
constexpr std::uint8_t kImmed = 0x80, kAuse = 0x20;

Reply sanitize(Harness& h, std::uint8_t byte1, std::vector<std::uint8_t> list = {},
               std::optional<std::uint16_t> length = {}) {
    const std::uint16_t n = length.value_or(static_cast<std::uint16_t>(list.size()));
    return h.run({0x48, byte1, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(n >> 8),
                  static_cast<std::uint8_t>(n), 0},
                 0, std::move(list));
}

std::vector<std::uint8_t> overwrite_list(std::vector<std::uint8_t> pattern, std::uint8_t passes,
                                         bool invert = false) {
    // Sized once and filled by index: GCC 12 at -O2 misreads an insert after a 4-byte vector
    // as an out-of-bounds copy (-Warray-bounds).
    std::vector<std::uint8_t> d(4 + pattern.size(), 0);
    d[0] = static_cast<std::uint8_t>((invert ? 0x80 : 0) | passes);
    store_be16(&d[2], static_cast<std::uint16_t>(pattern.size()));
    for (std::size_t i = 0; i < pattern.size(); ++i) d[4 + i] = pattern[i];
    return d;
}

std::vector<std::uint8_t> read_all(Harness& h, std::uint32_t blocks) {
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x88;
    store_be32(&cdb[10], blocks);
    Reply r = h.run_cdb(cdb, blocks * 512u);
    EXPECT_TRUE(r.good());
    return r.data;
}

void fill(Harness& h, std::uint32_t blocks, std::uint8_t byte) {
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x8a;
    store_be32(&cdb[10], blocks);
    ASSERT_TRUE(h.run_cdb(cdb, 0, std::vector<std::uint8_t>(blocks * 512u, byte)).good());
}

TEST(OverwriteParameters, Decodes) {
    auto p = parse_overwrite_parameters(overwrite_list({1, 2, 3}, 5, true), 512);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(p->invert);
    EXPECT_EQ(p->passes, 5);
    EXPECT_EQ(p->test, 0);
    EXPECT_EQ(p->pattern, (std::vector<std::uint8_t>{1, 2, 3}));
    auto list = overwrite_list({1}, 1);
    list[0] |= 0x40;  // TEST 10b is decoded; the handler refuses it
    EXPECT_EQ(parse_overwrite_parameters(list, 512)->test, 2);
    // Bytes past the pattern are ignored.
    list = overwrite_list({9, 8}, 1);
    list.push_back(7);
    EXPECT_EQ(parse_overwrite_parameters(list, 512)->pattern.size(), 2u);
}

TEST(OverwriteParameters, Rejects) {
    EXPECT_EQ(parse_overwrite_parameters(std::vector<std::uint8_t>(3), 512).error().reason,
              SenseReason::parameter_list_length_error);
    auto e = parse_overwrite_parameters(overwrite_list({1}, 0), 512).error();  // count 0
    EXPECT_EQ(e.reason, SenseReason::invalid_field_in_parameter_list);
    EXPECT_EQ(e.field->byte, 0);
    EXPECT_FALSE(e.field->in_cdb);
    auto list = overwrite_list({1}, 1);
    list[1] = 1;  // reserved
    EXPECT_EQ(parse_overwrite_parameters(list, 512).error().field->byte, 1);
    EXPECT_EQ(parse_overwrite_parameters(overwrite_list({}, 1), 512).error().field->byte, 2);
    EXPECT_EQ(parse_overwrite_parameters(overwrite_list(std::vector<std::uint8_t>(513), 1), 512)
                  .error()
                  .reason,
              SenseReason::invalid_field_in_parameter_list);
    // A pattern length that runs past the data.
    list = overwrite_list({1, 2}, 1);
    store_be16(&list[2], 3);
    EXPECT_EQ(parse_overwrite_parameters(list, 512).error().field->byte, 2);
}

TEST(OverwriteParameters, FillBlock) {
    const std::vector<std::uint8_t> pattern{1, 2, 3};
    auto block = fill_block(pattern, 8);
    EXPECT_EQ(block, (std::vector<std::uint8_t>{1, 2, 3, 1, 2, 3, 1, 2}));
}

TEST(Sanitize, OverwriteWritesThePatternEverywhere) {
    // 3 MiB: more than one 1 MiB chunk, and not a whole number of them plus the last.
    Harness h(6144 + 5);
    fill(h, 64, 0x11);
    ASSERT_TRUE(sanitize(h, kOverwrite, overwrite_list({0xde, 0xad}, 1)).good());
    auto data = read_all(h, 6149);
    for (std::size_t i = 0; i < data.size(); ++i) {
        ASSERT_EQ(data[i], i % 2 == 0 ? 0xde : 0xad) << i;
    }
    // INVERT with two passes: the last pass wrote the inverted pattern; three: the pattern.
    ASSERT_TRUE(sanitize(h, kOverwrite, overwrite_list({0x0f}, 2, true)).good());
    EXPECT_EQ(read_all(h, 1)[0], 0xf0);
    EXPECT_EQ(read_all(h, 6149)[6149 * 512 - 1], 0xf0);
    ASSERT_TRUE(sanitize(h, kOverwrite, overwrite_list({0x0f}, 3, true)).good());
    EXPECT_EQ(read_all(h, 1)[0], 0x0f);
    // A pattern of a whole block.
    std::vector<std::uint8_t> block(512);
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<std::uint8_t>(i * 7);
    ASSERT_TRUE(sanitize(h, kOverwrite, overwrite_list(block, 1)).good());
    data = read_all(h, 2);
    EXPECT_TRUE(std::equal(block.begin(), block.end(), data.begin() + 512));
}

TEST(Sanitize, OverwriteChecks) {
    Harness h;
    // PARAMETER LIST LENGTH 0..4 and block + 5: INVALID FIELD IN CDB at byte 7.
    for (std::uint16_t n : {0, 1, 4, 517}) {
        Reply r = sanitize(h, kOverwrite, std::vector<std::uint8_t>(520, 0), n);
        EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb)) << n;
        EXPECT_EQ(r.result.sense[17], 7) << n;
    }
    // The parameter list's own errors point into it (C/D = 0).
    Reply r = sanitize(h, kOverwrite, overwrite_list({1}, 0));
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_EQ(r.result.sense[15] & 0x40, 0);
    auto list = overwrite_list({1}, 1);
    list[0] |= 0x20;  // TEST 01b
    EXPECT_TRUE(sanitize(h, kOverwrite, list).is(SenseReason::invalid_field_in_parameter_list));
    // Reserved CDB bits and bytes.
    EXPECT_TRUE(sanitize(h, kOverwrite | 0x40, overwrite_list({1}, 1)).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x48, kOverwrite, 0, 0, 1, 0, 0, 0, 5, 0}, 0, overwrite_list({1}, 1))
                    .is(SenseReason::invalid_field_in_cdb));
    // Unknown service actions.
    for (std::uint8_t sa : {0x00, 0x04, 0x1e}) {
        EXPECT_TRUE(sanitize(h, sa).is(SenseReason::invalid_field_in_cdb)) << int{sa};
    }
    // Read-only: DATA PROTECT, for every erase.
    Harness ro(2048, 512, true, true);
    EXPECT_TRUE(sanitize(ro, kOverwrite, overwrite_list({1}, 1)).is(SenseReason::write_protected));
    EXPECT_TRUE(sanitize(ro, kBlockErase).is(SenseReason::write_protected));
    EXPECT_TRUE(sanitize(ro, kCryptoErase).is(SenseReason::write_protected));
    EXPECT_TRUE(sanitize(ro, kExitFailureMode).good());
}

TEST(Sanitize, EraseOnThinDeallocatesEverything) {
    Harness h(2048, 512, false, true);
    fill(h, 2048, 0x61);
    for (std::uint8_t sa : {kBlockErase, kCryptoErase}) {
        // A parameter list is not allowed.
        EXPECT_TRUE(sanitize(h, sa, std::vector<std::uint8_t>(8), 8).is(SenseReason::invalid_field_in_cdb));
        fill(h, 16, 0x61);
        ASSERT_TRUE(sanitize(h, sa).good());
        auto data = read_all(h, 2048);
        EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0; }));
        // GET LBA STATUS: one descriptor, every block deallocated.
        Reply s = h.run({0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 256);
        ASSERT_TRUE(s.good());
        ASSERT_EQ(load_be32(&s.data[0]), 4u + 16u);
        EXPECT_EQ(load_be32(&s.data[16]), 2048u);
        EXPECT_EQ(s.data[20] & 0x0f, 0x01);
    }
    // VPD B1h: WABEREQ and WACEREQ 01b.
    Reply b1 = h.run({0x12, 0x01, 0xb1, 0, 255, 0}, 255);
    EXPECT_EQ(b1.data[7] & 0xf0, 0x50);
}

TEST(Sanitize, EraseOnThickZeroes) {
    Harness h;
    fill(h, 2048, 0x61);
    // BLOCK ERASE is not offered on a fully provisioned LU.
    Reply r = sanitize(h, kBlockErase);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 1);
    EXPECT_EQ(read_all(h, 1)[0], 0x61);
    ASSERT_TRUE(sanitize(h, kCryptoErase).good());
    auto data = read_all(h, 2048);
    EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0; }));
    Reply b1 = h.run({0x12, 0x01, 0xb1, 0, 255, 0}, 255);
    EXPECT_EQ(b1.data[7] & 0xf0, 0x10);  // WACEREQ only
}

TEST(Sanitize, RunsInTheBackgroundWithImmed) {
    auto gated = std::make_shared<GatedVolume>(memory_volume(4096));
    Harness h(4096, 512, false, false, gated);
    gated->close_gate();
    // IMMED: GOOD at once, the operation goes on.
    ASSERT_TRUE(sanitize(h, kOverwrite | kImmed, overwrite_list({0x77}, 1)).good());
    while (gated->writes_started() < 1) std::this_thread::yield();
    // TEST UNIT READY, READ, WRITE, another SANITIZE: NOT READY, SANITIZE IN PROGRESS, with a
    // progress indication.
    Reply r = h.run({0x00, 0, 0, 0, 0, 0});
    EXPECT_TRUE(r.is(SenseReason::sanitize_in_progress));
    EXPECT_EQ(r.result.sense[15], 0x80);  // SKSV: progress indication
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).is(SenseReason::sanitize_in_progress));
    EXPECT_TRUE(h.run({0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 0, std::vector<std::uint8_t>(512))
                    .is(SenseReason::sanitize_in_progress));
    EXPECT_TRUE(sanitize(h, kCryptoErase).is(SenseReason::sanitize_in_progress));
    // So do an opcode we do not know and one that runs without a medium (START STOP UNIT):
    // every command but three waits.
    EXPECT_TRUE(h.run({0xc0, 0, 0, 0, 0, 0}).is(SenseReason::sanitize_in_progress));
    EXPECT_TRUE(h.run({0x1b, 0, 0, 0, 1, 0}).is(SenseReason::sanitize_in_progress));
    // INQUIRY and REPORT LUNS run; REQUEST SENSE reports the sanitize as its data.
    EXPECT_TRUE(h.run({0x12, 0, 0, 0, 96, 0}, 96).good());
    EXPECT_TRUE(h.run({0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 256).good());
    r = h.run({0x03, 0, 0, 0, 18, 0}, 18);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 18u);
    EXPECT_EQ(r.data[2] & 0x0f, 0x02);
    EXPECT_EQ(r.data[12], 0x04);
    EXPECT_EQ(r.data[13], 0x1b);
    EXPECT_EQ(r.data[15], 0x80);
    // A new nexus (power-on UA pending) hears SANITIZE IN PROGRESS first; the UA waits.
    const NexusId other = h.target.register_nexus("iqn.other,i,0x2", "iqn.target,t,0x1");
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other).is(SenseReason::sanitize_in_progress));

    gated->open_gate();
    for (int i = 0; i < 2000 && !h.run({0x00, 0, 0, 0, 0, 0}).good(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}).good());
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, other).is(SenseReason::ua_power_on));
    auto data = read_all(h, 4096);
    EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0x77; }));
    r = h.run({0x03, 0, 0, 0, 18, 0}, 18);
    EXPECT_EQ(r.data[2] & 0x0f, 0x00);
}

TEST(Sanitize, FailureModeAndExit) {
    auto gated = std::make_shared<GatedVolume>(memory_volume(2048));
    Harness h(2048, 512, false, false, gated);
    // EXIT FAILURE MODE without a failure: nothing to do; with a parameter list: refused.
    EXPECT_TRUE(sanitize(h, kExitFailureMode).good());
    EXPECT_TRUE(sanitize(h, kExitFailureMode, std::vector<std::uint8_t>(8), 8).is(SenseReason::invalid_field_in_cdb));

    gated->fail_writes(true);
    // AUSE=0: the command fails, and so do media accesses until a sanitize succeeds.
    EXPECT_TRUE(sanitize(h, kOverwrite, overwrite_list({1}, 1)).is(SenseReason::sanitize_failed));
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).is(SenseReason::sanitize_failed));
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}).good());
    EXPECT_TRUE(sanitize(h, kExitFailureMode).is(SenseReason::invalid_field_in_cdb));
    gated->fail_writes(false);
    ASSERT_TRUE(sanitize(h, kOverwrite, overwrite_list({1}, 1)).good());
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).good());

    // AUSE=1: EXIT FAILURE MODE ends the failure mode.
    gated->fail_writes(true);
    EXPECT_TRUE(sanitize(h, kCryptoErase | kAuse).is(SenseReason::sanitize_failed));
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).is(SenseReason::sanitize_failed));
    gated->fail_writes(false);
    EXPECT_TRUE(sanitize(h, kExitFailureMode).good());
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).good());
}

TEST(Sanitize, AbortAnswersAtOnceAndTheEraseGoesOn) {
    auto gated = std::make_shared<GatedVolume>(memory_volume(2048));
    Harness h(2048, 512, false, false, gated);
    gated->close_gate();
    // SANITIZE with IMMED=0, started the way a transport does, with an abort token.
    std::vector<std::uint8_t> cdb{0x48, kOverwrite, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};
    std::vector<std::uint8_t> list = overwrite_list({0x3c}, 1);
    std::stop_source abort;
    std::mutex m;
    std::condition_variable cv;
    int calls = 0;
    Command cmd;
    cmd.nexus = h.nexus;
    cmd.cdb = cdb;
    cmd.data_out = list;
    cmd.abort = abort.get_token();
    h.target.execute(cmd, [&](CommandResult) {
        std::lock_guard lock(m);
        ++calls;
        cv.notify_all();
    });
    while (gated->writes_started() < 1) std::this_thread::yield();
    {
        std::lock_guard lock(m);
        EXPECT_EQ(calls, 0);  // held by the erase
    }
    // The abort answers the command (the transport drops that answer) ...
    abort.request_stop();
    {
        std::unique_lock lock(m);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return calls == 1; }));
    }
    // ... and the erase goes on, then ends without answering twice.
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}).is(SenseReason::sanitize_in_progress));
    gated->open_gate();
    for (int i = 0; i < 2000 && !h.run({0x00, 0, 0, 0, 0, 0}).good(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(read_all(h, 2048)[2047 * 512], 0x3c);
    std::lock_guard lock(m);
    EXPECT_EQ(calls, 1);
}

TEST(Sanitize, KeepsToTheRate) {
    Target target("iqn.2026-11.org.example:test");
    LunConfig cfg;
    cfg.volume = memory_volume(4096);  // 2 MiB: two 1 MiB chunks
    cfg.sanitize_rate_bytes_per_s = 4u << 20;  // the second chunk waits 250 ms
    target.add_lun(0, std::move(cfg));
    const NexusId nexus = target.register_nexus("iqn.init,i,0x1", "iqn.target,t,0x1");
    auto run = [&](std::vector<std::uint8_t> cdb, std::vector<std::uint8_t> out = {}) {
        cdb.resize(16, 0);
        std::mutex m;
        std::condition_variable cv;
        std::optional<CommandResult> result;
        Command cmd;
        cmd.nexus = nexus;
        cmd.cdb = cdb;
        cmd.data_out = out;
        target.execute(cmd, [&](CommandResult r) {
            std::lock_guard lock(m);
            result = r;
            cv.notify_all();
        });
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return result.has_value(); });
        return *result;
    };
    (void)run({0x00});  // the power-on unit attention
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(run({0x48, kOverwrite, 0, 0, 0, 0, 0, 0, 5, 0}, overwrite_list({1}, 1)).status,
              Status::good);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(240));
}

}  // namespace
}  // namespace itd::scsi::testing
