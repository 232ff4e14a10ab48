// Removable media: START STOP UNIT (SBC-4 5.25), PREVENT ALLOW MEDIUM REMOVAL (SBC-4 5.10), and
// what commands meet while the medium is ejected. Suites named like libiscsi's.
#include <gtest/gtest.h>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

LunConfig removable_lun() {
    LunConfig cfg;
    cfg.volume = memory_volume(2048);
    cfg.removable = true;
    return cfg;
}

// START STOP UNIT: byte 1 IMMED; byte 3 POWER CONDITION MODIFIER; byte 4 POWER CONDITION,
// NO_FLUSH, LOEJ, START.
Reply start_stop(Harness& h, bool immed, bool loej, bool start, std::uint8_t power_condition = 0,
                 std::optional<NexusId> on = {}) {
    const auto b4 = static_cast<std::uint8_t>((power_condition << 4) | (loej ? 0x02 : 0) |
                                              (start ? 0x01 : 0));
    return h.run({0x1b, static_cast<std::uint8_t>(immed ? 1 : 0), 0, 0, b4, 0}, 0, {}, 0, on);
}
Reply eject(Harness& h, std::optional<NexusId> on = {}) {
    return start_stop(h, false, true, false, 0, on);
}
Reply load(Harness& h, std::optional<NexusId> on = {}) {
    return start_stop(h, false, true, true, 0, on);
}
Reply prevent(Harness& h, std::uint8_t value, std::optional<NexusId> on = {}) {
    return h.run({0x1e, 0, 0, 0, value, 0}, 0, {}, 0, on);
}
Reply tur(Harness& h, std::optional<NexusId> on = {}) {
    return h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, on);
}

TEST(StartStopUnit, InquiryReportsRmb) {
    Harness removable(removable_lun());
    Reply r = removable.run({0x12, 0, 0, 0, 96, 0}, 96);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[1] & 0x80, 0x80);
    Harness fixed;
    Reply f = fixed.run({0x12, 0, 0, 0, 96, 0}, 96);
    ASSERT_TRUE(f.good());
    EXPECT_EQ(f.data[1] & 0x80, 0);
}

TEST(StartStopUnit, EjectAndLoad) {
    Harness h(removable_lun());
    EXPECT_TRUE(tur(h).good());
    EXPECT_TRUE(start_stop(h, /*immed=*/true, true, false).good());
    EXPECT_TRUE(tur(h).is(SenseReason::medium_not_present));
    Reply r = tur(h);
    EXPECT_EQ(r.key(), 0x02);  // NOT READY
    EXPECT_EQ(r.asc(), 0x3a);  // MEDIUM NOT PRESENT
    // Ejecting again is no error.
    EXPECT_TRUE(eject(h).good());
    EXPECT_TRUE(start_stop(h, true, true, true).good());
    EXPECT_TRUE(tur(h).good());  // the loader itself gets no unit attention
    EXPECT_TRUE(eject(h).good());
    EXPECT_TRUE(tur(h).is(SenseReason::medium_not_present));
    EXPECT_TRUE(load(h).good());
    EXPECT_TRUE(tur(h).good());
}

TEST(StartStopUnit, LoadIsAUnitAttentionForOtherNexuses) {
    Harness h(removable_lun());
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    ASSERT_TRUE(eject(h).good());
    EXPECT_TRUE(tur(h, other).is(SenseReason::medium_not_present));
    ASSERT_TRUE(load(h).good());
    EXPECT_TRUE(tur(h).good());
    EXPECT_TRUE(tur(h, other).is(SenseReason::ua_medium_may_have_changed));
    EXPECT_TRUE(tur(h, other).good());
}

TEST(StartStopUnit, PowerConditionIgnoresStartAndLoej) {
    Harness h(removable_lun());
    for (std::uint8_t pc = 1; pc < 16; ++pc) {
        EXPECT_TRUE(start_stop(h, true, true, false, pc).good()) << int(pc);
        EXPECT_TRUE(tur(h).good()) << int(pc);
    }
    // SBC-4 5.25: a POWER CONDITION MODIFIER the POWER CONDITION does not define is refused.
    Reply bad = h.run({0x1b, 0, 0, 0x01, 0x00, 0});
    EXPECT_TRUE(bad.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(load_be16(&bad.result.sense[16]), 3);
    EXPECT_TRUE(h.run({0x1b, 0, 0, 0x02, 0x20, 0}).good());   // IDLE_C
    EXPECT_TRUE(h.run({0x1b, 0, 0, 0x03, 0x20, 0}).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x1b, 0, 0, 0x01, 0x30, 0}).good());   // STANDBY_Y
}

TEST(StartStopUnit, NoLoejLeavesTheMediumInPlace) {
    Harness h(removable_lun());
    for (int bits = 0; bits < 8; ++bits) {
        const auto immed = static_cast<std::uint8_t>(bits & 1);
        const auto b4 = static_cast<std::uint8_t>(((bits & 2) ? 0x04 : 0) | ((bits & 4) ? 1 : 0));
        EXPECT_TRUE(h.run({0x1b, immed, 0, 0, b4, 0}).good()) << bits;
        EXPECT_TRUE(tur(h).good()) << bits;
    }
}

TEST(StartStopUnit, FixedMediumCannotBeEjected) {
    Harness h;
    // START and stop are accepted on a non-removable LU; LOEJ points at an invalid field.
    EXPECT_TRUE(start_stop(h, false, false, false).good());
    EXPECT_TRUE(start_stop(h, false, false, true).good());
    Reply r = eject(h);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[15], 0x80 | 0x40 | 0x08 | 1);  // SKSV, C/D, BPV, bit 1
    EXPECT_EQ(load_be16(&r.result.sense[16]), 4);
    EXPECT_TRUE(tur(h).good());
    // Reserved bits are refused by the command table.
    EXPECT_TRUE(h.run({0x1b, 0x02, 0, 0, 0x01, 0}).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run({0x1b, 0, 0, 0, 0x09, 0}).is(SenseReason::invalid_field_in_cdb));
}

TEST(PreventAllow, PreventBlocksEjectAndLoad) {
    Harness h(removable_lun());
    EXPECT_TRUE(prevent(h, 1).good());
    EXPECT_TRUE(eject(h).is(SenseReason::medium_removal_prevented));
    Reply r = eject(h);
    EXPECT_EQ(r.key(), 0x05);
    EXPECT_EQ(r.asc(), 0x53);
    EXPECT_EQ(r.ascq(), 0x02);
    EXPECT_TRUE(tur(h).good());
    EXPECT_TRUE(prevent(h, 0).good());
    EXPECT_TRUE(eject(h).good());
    EXPECT_TRUE(prevent(h, 1).good());
    EXPECT_TRUE(load(h).is(SenseReason::medium_removal_prevented));
    EXPECT_TRUE(tur(h).is(SenseReason::medium_not_present));
    EXPECT_TRUE(prevent(h, 0).good());
    EXPECT_TRUE(load(h).good());
    EXPECT_TRUE(tur(h).good());
}

TEST(PreventAllow, ObsoleteValuesAreInvalid) {
    Harness h(removable_lun());
    EXPECT_TRUE(prevent(h, 2).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(prevent(h, 3).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(prevent(h, 4).is(SenseReason::invalid_field_in_cdb));  // reserved bit
    EXPECT_TRUE(eject(h).good());  // nothing was prevented
}

TEST(PreventAllow, EveryNexusPreventsForItself) {
    Harness h(removable_lun());
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    EXPECT_TRUE(prevent(h, 1).good());
    EXPECT_TRUE(eject(h, other).is(SenseReason::medium_removal_prevented));
    // ALLOW from the other nexus does not lift this nexus's prevention.
    EXPECT_TRUE(prevent(h, 0, other).good());
    EXPECT_TRUE(eject(h, other).is(SenseReason::medium_removal_prevented));
    EXPECT_TRUE(prevent(h, 1, other).good());
    EXPECT_TRUE(prevent(h, 0).good());
    EXPECT_TRUE(eject(h).is(SenseReason::medium_removal_prevented));
    EXPECT_TRUE(prevent(h, 0, other).good());
    EXPECT_TRUE(eject(h).good());
}

TEST(PreventAllow, ITNexusLossEndsThatNexusPrevention) {
    Harness h(removable_lun());
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    EXPECT_TRUE(prevent(h, 1).good());
    EXPECT_TRUE(prevent(h, 1, other).good());
    h.target.nexus_lost(other);
    EXPECT_TRUE(eject(h).is(SenseReason::medium_removal_prevented));  // ours still holds
    h.target.nexus_lost(h.nexus);
    EXPECT_TRUE(eject(h).good());
}

TEST(PreventAllow, LunResetAndTargetResetEndEveryPrevention) {
    Harness h(removable_lun());
    const NexusId other = h.add_nexus("iqn.other,i,0x2");
    EXPECT_TRUE(prevent(h, 1).good());
    EXPECT_TRUE(prevent(h, 1, other).good());
    h.target.reset_lun(0, h.nexus);
    EXPECT_TRUE(tur(h).is(SenseReason::ua_bus_device_reset));  // the requester's nexus too
    EXPECT_TRUE(eject(h).good());
    EXPECT_TRUE(load(h).good());
    EXPECT_TRUE(prevent(h, 1, other).is(SenseReason::ua_bus_device_reset));
    EXPECT_TRUE(prevent(h, 1, other).is(SenseReason::ua_medium_may_have_changed));
    EXPECT_TRUE(prevent(h, 1, other).good());
    h.target.reset_target(other);
    EXPECT_TRUE(tur(h).is(SenseReason::ua_bus_device_reset));
    EXPECT_TRUE(eject(h).good());
    // A reset leaves the medium where it is.
    h.target.reset_lun(0, h.nexus);
    EXPECT_TRUE(tur(h).is(SenseReason::ua_bus_device_reset));
    EXPECT_TRUE(tur(h).is(SenseReason::medium_not_present));
}

TEST(NoMedia, MediumCommandsAreNotReady) {
    Harness h(removable_lun());
    ASSERT_TRUE(eject(h).good());
    std::vector<std::uint8_t> block(512, 0x5a);
    const std::vector<std::vector<std::uint8_t>> medium_cdbs = {
        {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // READ(10)
        {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // WRITE(10)
        {0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0},        // READ(16)
        {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0},                          // READ CAPACITY(10)
        {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0},    // READ CAPACITY(16)
        {0x35, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // SYNCHRONIZE CACHE(10)
        {0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // VERIFY(10)
        {0x34, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // PRE-FETCH(10)
        {0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0},                         // UNMAP (not even thin)
        {0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0},                          // WRITE SAME(10)
    };
    for (const auto& cdb : medium_cdbs) {
        Reply r = h.run_cdb(cdb, 512, block);
        EXPECT_TRUE(r.is(SenseReason::medium_not_present)) << std::hex << int(cdb[0]);
        EXPECT_TRUE(r.data.empty());
    }
    // What describes or controls the LU still runs: INQUIRY, MODE SENSE, REPORT LUNS, REPORT
    // SUPPORTED OPERATION CODES, PREVENT ALLOW.
    EXPECT_TRUE(h.run({0x12, 0, 0, 0, 96, 0}, 96).good());
    EXPECT_TRUE(h.run({0x1a, 0, 0x3f, 0, 255, 0}, 255).good());
    EXPECT_TRUE(h.run({0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, 256).good());
    EXPECT_TRUE(h.run({0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 4096).good());
    EXPECT_TRUE(prevent(h, 0).good());
    // REQUEST SENSE returns the condition as its data.
    Reply sense = h.run({0x03, 0, 0, 0, 18, 0}, 18);
    ASSERT_TRUE(sense.good());
    ASSERT_EQ(sense.data.size(), 18u);
    EXPECT_EQ(sense.data[2] & 0x0f, 0x02);
    EXPECT_EQ(sense.data[12], 0x3a);
    // A pending unit attention still comes first.
    h.target.reset_lun(0, h.nexus + 100);
    EXPECT_TRUE(tur(h).is(SenseReason::ua_bus_device_reset));
    EXPECT_TRUE(tur(h).is(SenseReason::medium_not_present));
    ASSERT_TRUE(load(h).good());
    EXPECT_TRUE(h.run_cdb({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512).good());
}

}  // namespace
}  // namespace itd::scsi::testing
