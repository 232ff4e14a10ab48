#include "scsi/sense.h"

#include <gtest/gtest.h>

#include <array>

namespace itd::scsi {
namespace {

TEST(Sense, FixedFormatBytes) {
    std::array<std::uint8_t, kFixedSenseBytes> s{};
    ASSERT_EQ(build_fixed_sense(SenseReason::lba_out_of_range, {}, s.data()), 18u);
    EXPECT_EQ(s[0], 0x70);  // current error, VALID 0
    EXPECT_EQ(s[2], 0x05);  // ILLEGAL REQUEST
    EXPECT_EQ(s[7], 10);    // additional sense length
    EXPECT_EQ(s[12], 0x21);
    EXPECT_EQ(s[13], 0x00);
    EXPECT_EQ(s[15], 0x00);  // no sense-key specific data
}

TEST(Sense, InformationFieldSetsValid) {
    std::array<std::uint8_t, kFixedSenseBytes> s{};
    SenseDetail d;
    d.information = 0x01020304;
    build_fixed_sense(SenseReason::lba_out_of_range, d, s.data());
    EXPECT_EQ(s[0], 0xf0);
    EXPECT_EQ(s[3], 0x01);
    EXPECT_EQ(s[6], 0x04);
    // Too large for the 4-byte field: left out, VALID clear.
    d.information = 0x100000000ull;
    build_fixed_sense(SenseReason::lba_out_of_range, d, s.data());
    EXPECT_EQ(s[0], 0x70);
}

TEST(Sense, FieldPointerForIllegalRequest) {
    std::array<std::uint8_t, kFixedSenseBytes> s{};
    SenseDetail d;
    d.field = FieldPointer{true, 2, 5};
    build_fixed_sense(SenseReason::invalid_field_in_cdb, d, s.data());
    EXPECT_EQ(s[12], 0x24);
    EXPECT_EQ(s[15], 0x80 | 0x40 | 0x08 | 5);  // SKSV, C/D, BPV, bit 5
    EXPECT_EQ(s[16], 0);
    EXPECT_EQ(s[17], 2);
    // Not for other sense keys.
    build_fixed_sense(SenseReason::write_error, d, s.data());
    EXPECT_EQ(s[15], 0);
}

TEST(Sense, TableRows) {
    struct Row {
        SenseReason reason;
        std::uint8_t key, asc, ascq;
    };
    const Row rows[] = {
        {SenseReason::invalid_opcode, 0x5, 0x20, 0x00},
        {SenseReason::invalid_field_in_cdb, 0x5, 0x24, 0x00},
        {SenseReason::lba_out_of_range, 0x5, 0x21, 0x00},
        {SenseReason::parameter_list_length_error, 0x5, 0x1a, 0x00},
        {SenseReason::invalid_field_in_parameter_list, 0x5, 0x26, 0x00},
        {SenseReason::invalid_field_in_command_iu, 0x5, 0x0e, 0x03},
        {SenseReason::saving_parameters_not_supported, 0x5, 0x39, 0x00},
        {SenseReason::lun_not_supported, 0x5, 0x25, 0x00},
        {SenseReason::write_protected, 0x7, 0x27, 0x00},
        {SenseReason::unrecovered_read_error, 0x3, 0x11, 0x00},
        {SenseReason::write_error, 0x3, 0x0c, 0x00},
        {SenseReason::not_ready, 0x2, 0x04, 0x00},
        {SenseReason::internal_target_failure, 0x4, 0x44, 0x00},
        {SenseReason::data_phase_error, 0xb, 0x4b, 0x00},
        {SenseReason::ua_power_on, 0x6, 0x29, 0x00},
        {SenseReason::ua_bus_device_reset, 0x6, 0x29, 0x03},
        {SenseReason::ua_capacity_changed, 0x6, 0x2a, 0x09},
        {SenseReason::ua_mode_parameters_changed, 0x6, 0x2a, 0x01},
        {SenseReason::invalid_release_of_persistent_reservation, 0x5, 0x26, 0x04},
        {SenseReason::insufficient_registration_resources, 0x5, 0x55, 0x04},
        {SenseReason::ua_reservations_preempted, 0x6, 0x2a, 0x03},
        {SenseReason::ua_reservations_released, 0x6, 0x2a, 0x04},
        {SenseReason::ua_registrations_preempted, 0x6, 0x2a, 0x05},
    };
    for (const Row& r : rows) {
        const SenseCode c = sense_code(r.reason);
        EXPECT_EQ(c.status, Status::check_condition) << to_string(r.reason);
        EXPECT_EQ(c.key, r.key) << to_string(r.reason);
        EXPECT_EQ(c.asc, r.asc) << to_string(r.reason);
        EXPECT_EQ(c.ascq, r.ascq) << to_string(r.reason);
    }
    // RESERVATION CONFLICT is a status of its own, without sense data (SAM-5 5.3.1).
    CommandResult result;
    apply_sense(SenseReason::reservation_conflict, {}, result);
    EXPECT_EQ(result.status, Status::reservation_conflict);
    EXPECT_EQ(result.sense_bytes, 0u);
    EXPECT_EQ(sense_code(SenseReason::none).status, Status::good);
    EXPECT_TRUE(is_unit_attention(SenseReason::ua_power_on));
    EXPECT_FALSE(is_unit_attention(SenseReason::write_error));
}

TEST(Sense, ApplySetsStatusAndLength) {
    CommandResult r;
    apply_sense(SenseReason::none, {}, r);
    EXPECT_EQ(r.status, Status::good);
    EXPECT_EQ(r.sense_bytes, 0);
    apply_sense(SenseReason::invalid_opcode, {}, r);
    EXPECT_EQ(r.status, Status::check_condition);
    EXPECT_EQ(r.sense_bytes, 18);
}

}  // namespace
}  // namespace itd::scsi
