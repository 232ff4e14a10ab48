#include "scsi/unit_attention.h"

#include <gtest/gtest.h>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

constexpr std::initializer_list<std::uint8_t> kTur = {0x00, 0, 0, 0, 0, 0};

TEST(UnitAttention, QueueRules) {
    UnitAttentions ua;
    ua.establish(1, SenseReason::ua_capacity_changed);  // unknown nexus: ignored
    EXPECT_FALSE(ua.pending(1));
    ua.add_nexus(1);
    ua.add_nexus(2);
    EXPECT_EQ(ua.take(1), SenseReason::ua_power_on);
    EXPECT_EQ(ua.take(1), std::nullopt);
    ua.add_nexus(1);  // known: no new power-on
    EXPECT_FALSE(ua.pending(1));
    ua.establish_for_others(SenseReason::ua_bus_device_reset, 2);
    ua.establish(1, SenseReason::ua_bus_device_reset);  // duplicate folded
    ua.establish(1, SenseReason::ua_capacity_changed);
    EXPECT_EQ(ua.take(1), SenseReason::ua_bus_device_reset);
    EXPECT_EQ(ua.take(1), SenseReason::ua_capacity_changed);
    EXPECT_FALSE(ua.pending(1));
    // Power on replaces what was queued.
    ua.establish(2, SenseReason::ua_mode_parameters_changed);
    ua.establish(2, SenseReason::ua_power_on);
    EXPECT_EQ(ua.take(2), SenseReason::ua_power_on);
    EXPECT_FALSE(ua.pending(2));
}

TEST(UnitAttention, ReportedOncePerNexusThenCleared) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    const NexusId b = h.target.register_nexus("iqn.b,i,0x1", "tp");
    EXPECT_NE(a, b);
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).is(SenseReason::ua_power_on));
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).good());
    // b still has its own.
    Reply rb = h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512, {}, 0, b);
    EXPECT_TRUE(rb.is(SenseReason::ua_power_on));
    EXPECT_EQ(rb.result.data_in_bytes, 0u);
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, b).good());
}

TEST(UnitAttention, SameNamesSameNexusKeepsState) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    EXPECT_EQ(h.target.register_nexus("iqn.a,i,0x1", "tp"), a);
    EXPECT_NE(h.target.register_nexus("iqn.a,i,0x1", "tp2"), a);
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).is(SenseReason::ua_power_on));
    EXPECT_EQ(h.target.register_nexus("iqn.a,i,0x1", "tp"), a);
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).good());  // reinstatement did not re-arm power on
}

TEST(UnitAttention, RequestSenseReturnsAndClears) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    Reply r = h.run({0x03, 0, 0, 0, 252, 0}, 252, {}, 0, a);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 18u);
    EXPECT_EQ(r.data[0], 0x70);
    EXPECT_EQ(r.data[2], 0x06);
    EXPECT_EQ(r.data[12], 0x29);
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).good());
    Reply again = h.run({0x03, 0, 0, 0, 18, 0}, 18, {}, 0, a);
    ASSERT_TRUE(again.good());
    EXPECT_EQ(again.data[2], 0x00);  // NO SENSE
    EXPECT_EQ(again.data[12], 0x00);
    // DESC=1: we only have fixed format.
    EXPECT_TRUE(h.run({0x03, 0x01, 0, 0, 18, 0}, 18).is(SenseReason::invalid_field_in_cdb));
}

TEST(UnitAttention, ReportLunsDoesNotClear) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    EXPECT_TRUE(h.run({0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0}, 16, {}, 0, a).good());
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).is(SenseReason::ua_power_on));
}

TEST(UnitAttention, LunResetForEveryNexus) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    h.run(kTur, 0, {}, 0, a);  // clear power on
    h.target.reset_lun(0, h.nexus);
    EXPECT_TRUE(h.run(kTur).is(SenseReason::ua_bus_device_reset));  // the requester too
    EXPECT_TRUE(h.run(kTur).good());
    Reply r = h.run(kTur, 0, {}, 0, a);
    EXPECT_TRUE(r.is(SenseReason::ua_bus_device_reset));
    EXPECT_TRUE(h.run(kTur, 0, {}, 0, a).good());
    h.target.reset_lun(42, a);  // no such LUN: ignored
    h.target.reset_target(a);
    EXPECT_TRUE(h.run(kTur).is(SenseReason::ua_bus_device_reset));
}

TEST(UnitAttention, UnknownOpcodeStillReportsUa) {
    Harness h;
    const NexusId a = h.target.register_nexus("iqn.a,i,0x1", "tp");
    EXPECT_TRUE(h.run({0x02, 0, 0, 0, 0, 0}, 0, {}, 0, a).is(SenseReason::ua_power_on));
    EXPECT_TRUE(h.run({0x02, 0, 0, 0, 0, 0}, 0, {}, 0, a).is(SenseReason::invalid_opcode));
}

TEST(UnitAttention, LunAddedLaterStartsWithPowerOn) {
    Harness h;
    LunConfig cfg;
    cfg.volume = memory_volume(16);
    h.target.add_lun(1, std::move(cfg));
    EXPECT_TRUE(h.run(kTur, 0, {}, 0x0001000000000000ull).is(SenseReason::ua_power_on));
    EXPECT_TRUE(h.run(kTur, 0, {}, 0x0001000000000000ull).good());
}

}  // namespace
}  // namespace itd::scsi::testing
