// WRITE ATOMIC(16): the VPD B0h limits, their enforcement, and atomicity against other writes.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/endian.h"
#include "gated_volume.h"
#include "harness.h"

namespace itd::scsi::testing {
namespace {

std::vector<std::uint8_t> atomic16(std::uint64_t lba, std::uint16_t blocks, std::uint8_t byte1 = 0) {
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x9c;
    cdb[1] = byte1;
    store_be64(&cdb[2], lba);
    store_be16(&cdb[12], blocks);
    return cdb;
}

std::vector<std::uint8_t> read16(Harness& h, std::uint64_t lba, std::uint32_t blocks,
                                 std::uint32_t block_bytes = 512) {
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x88;
    store_be64(&cdb[2], lba);
    store_be32(&cdb[10], blocks);
    Reply r = h.run_cdb(cdb, blocks * block_bytes);
    EXPECT_TRUE(r.good());
    return r.data;
}

TEST(WriteAtomic, VpdLimits) {
    Harness h512;
    Reply b0 = h512.run({0x12, 0x01, 0xb0, 0, 255, 0}, 255);
    ASSERT_TRUE(b0.good());
    EXPECT_EQ(load_be32(&b0.data[44]), 2048u);  // MAXIMUM ATOMIC TRANSFER LENGTH: 1 MiB
    EXPECT_EQ(load_be32(&b0.data[48]), 8u);     // ATOMIC ALIGNMENT: 4 KiB
    EXPECT_EQ(load_be32(&b0.data[52]), 8u);     // ATOMIC TRANSFER LENGTH GRANULARITY
    EXPECT_EQ(load_be32(&b0.data[56]), 0u);     // no atomic boundaries
    EXPECT_EQ(load_be32(&b0.data[60]), 0u);
    EXPECT_LE(load_be32(&b0.data[44]), load_be32(&b0.data[8]));  // within MAXIMUM TRANSFER LENGTH
    Harness h4k(1024, 4096);
    b0 = h4k.run({0x12, 0x01, 0xb0, 0, 255, 0}, 255);
    EXPECT_EQ(load_be32(&b0.data[44]), 256u);
    EXPECT_EQ(load_be32(&b0.data[48]), 1u);
    EXPECT_EQ(load_be32(&b0.data[52]), 1u);
}

TEST(WriteAtomic, WritesAndEnforcesLimits) {
    Harness h(4096);
    ASSERT_TRUE(h.run_cdb(atomic16(8, 16), 0, std::vector<std::uint8_t>(16 * 512, 0x6b)).good());
    auto data = read16(h, 7, 18);
    EXPECT_EQ(data[0], 0x00);
    EXPECT_EQ(data[512], 0x6b);
    EXPECT_EQ(data[16 * 512], 0x6b);
    EXPECT_EQ(data[17 * 512], 0x00);
    // DPO and FUA are accepted.
    EXPECT_TRUE(h.run_cdb(atomic16(0, 8, 0x18), 0, std::vector<std::uint8_t>(8 * 512, 1)).good());
    // Zero blocks is not an error.
    EXPECT_TRUE(h.run_cdb(atomic16(0, 0)).good());

    const std::vector<std::uint8_t> eight(8 * 512, 2);
    // Misaligned LBA: INVALID FIELD IN CDB at the LBA; a length off the granularity: at the
    // length; more than the maximum: at the length.
    Reply r = h.run_cdb(atomic16(1, 8), 0, eight);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 2);
    r = h.run_cdb(atomic16(0, 1), 0, std::vector<std::uint8_t>(512, 2));
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 12);
    EXPECT_TRUE(h.run_cdb(atomic16(0, 2056), 0, std::vector<std::uint8_t>(2056 * 512, 2))
                    .is(SenseReason::invalid_field_in_cdb));
    // The range must lie inside the medium (checked before the limits).
    EXPECT_TRUE(h.run_cdb(atomic16(4088, 16), 0, std::vector<std::uint8_t>(16 * 512)).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(atomic16(0x8000000000000000ull, 8), 0, eight).is(SenseReason::lba_out_of_range));
    EXPECT_TRUE(h.run_cdb(atomic16(4096 + 8, 0)).is(SenseReason::lba_out_of_range));
    // ATOMIC BOUNDARY is not supported; WRPROTECT neither.
    auto cdb = atomic16(0, 8);
    cdb[11] = 1;
    r = h.run_cdb(cdb, 0, eight);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 11);
    EXPECT_TRUE(h.run_cdb(atomic16(0, 8, 0x20), 0, eight).is(SenseReason::invalid_field_in_cdb));
    // All of the data or nothing: a short data-out writes nothing.
    r = h.run_cdb(atomic16(64, 16), 0, std::vector<std::uint8_t>(8 * 512, 9));
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_command_iu));
    EXPECT_EQ(read16(h, 64, 1)[0], 0x00);
    // Read-only LU.
    Harness ro(4096, 512, true);
    EXPECT_TRUE(ro.run_cdb(atomic16(0, 8), 0, eight).is(SenseReason::write_protected));
}

TEST(WriteAtomic, NoOtherWriteLandsInside) {
    auto gated = std::make_shared<GatedVolume>(memory_volume(4096));
    Harness h(4096, 512, false, false, gated);
    // The atomic write reaches the volume and is held there.
    gated->close_gate();
    std::thread atomic_writer([&] {
        EXPECT_TRUE(h.run_cdb(atomic16(0, 64), 0, std::vector<std::uint8_t>(64 * 512, 0xaa)).good());
    });
    while (gated->writes_started() < 1) std::this_thread::yield();
    // A WRITE(10) over the middle of its range must wait for it: it does not reach the volume
    // while the atomic write is in flight.
    std::thread writer([&] {
        EXPECT_TRUE(h.run({0x2a, 0, 0, 0, 0, 16, 0, 0, 8, 0}, 0,
                          std::vector<std::uint8_t>(8 * 512, 0xbb))
                        .good());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(gated->writes_started(), 1);
    gated->open_gate();
    atomic_writer.join();
    writer.join();
    EXPECT_EQ(gated->writes_started(), 2);
    // The later write landed after the whole atomic one.
    auto data = read16(h, 0, 64);
    EXPECT_EQ(data[15 * 512], 0xaa);
    EXPECT_EQ(data[16 * 512], 0xbb);
    EXPECT_EQ(data[23 * 512 + 511], 0xbb);
    EXPECT_EQ(data[24 * 512], 0xaa);
}

}  // namespace
}  // namespace itd::scsi::testing
