#include "scsi/command_table.h"

#include <gtest/gtest.h>

#include <set>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

TEST(CommandTable, OneRowPerOpcodeAndServiceAction) {
    std::set<std::pair<int, int>> seen;
    for (const CommandSpec& row : command_table()) {
        const int sa = row.has_service_action ? row.service_action : -1;
        EXPECT_TRUE(seen.emplace(row.opcode, sa).second) << row.name;
        EXPECT_EQ(find_command(row.opcode, row.service_action), &row) << row.name;
    }
    EXPECT_TRUE(opcode_has_service_actions(0x9e));
    EXPECT_FALSE(opcode_has_service_actions(0x28));
    EXPECT_EQ(find_command(0x9e, 0x11), nullptr);
}

TEST(CommandTable, UnusedBitsPointAtFirstBadField) {
    const CommandSpec* read10 = find_command(0x28, 0);
    ASSERT_NE(read10, nullptr);
    std::uint8_t cdb[10] = {0x28, 0x20};  // RDPROTECT=1
    auto fp = find_unused_bits(*read10, cdb);
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->byte, 1);
    EXPECT_EQ(fp->bit, 5);
    std::uint8_t ok[10] = {0x28, 0x18};  // DPO, FUA
    EXPECT_FALSE(find_unused_bits(*read10, ok));
    std::uint8_t control[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0x04};  // NACA
    fp = find_unused_bits(*read10, control);
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->byte, 9);
}

TEST(CommandTable, LoadField) {
    const std::uint8_t cdb[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    EXPECT_EQ(load_field(cdb, {2, 4}), 0x02030405u);
    EXPECT_EQ(load_field(cdb, {}), 0u);
}

TEST(Dispatch, InvalidOpcode) {
    Harness h;
    Reply r = h.run({0x02, 0, 0, 0, 0, 0});
    EXPECT_TRUE(r.is(SenseReason::invalid_opcode));
    EXPECT_EQ(r.calls, 1);
}

TEST(Dispatch, UnknownServiceActionIsInvalidField) {
    Harness h;
    Reply r = h.run({0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, 32);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 1);  // field pointer: byte 1
}

TEST(Dispatch, ReservedBitRejectedWithFieldPointer) {
    Harness h;
    // TEST UNIT READY with a reserved bit in byte 3.
    Reply r = h.run({0x00, 0, 0, 0x10, 0, 0});
    ASSERT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[15], 0x80 | 0x40 | 0x08 | 4);
    EXPECT_EQ(r.result.sense[17], 3);
}

TEST(Dispatch, EmptyCdb) {
    Harness h;
    Command cmd;
    cmd.nexus = h.nexus;
    int calls = 0;
    CommandResult got;
    h.target.execute(cmd, [&](CommandResult r) {
        got = r;
        ++calls;
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(got.status, Status::check_condition);
    EXPECT_EQ(got.sense[12], 0x20);
}

TEST(Dispatch, ShortCdbField) {
    Harness h;
    std::vector<std::uint8_t> cdb{0x28, 0, 0, 0};  // READ(10) cut to 4 bytes
    Command cmd;
    cmd.nexus = h.nexus;
    cmd.cdb = cdb;
    CommandResult got;
    h.target.execute(cmd, [&](CommandResult r) { got = r; });
    EXPECT_EQ(got.status, Status::check_condition);
    EXPECT_EQ(got.sense[12], 0x24);
}

TEST(Dispatch, MissingLun) {
    Harness h;
    const std::uint64_t lun7 = 0x0007000000000000ull;
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, lun7).is(SenseReason::lun_not_supported));
    // Even an unknown opcode: the LUN is what is wrong.
    EXPECT_TRUE(h.run({0x02, 0, 0, 0, 0, 0}, 0, {}, lun7).is(SenseReason::lun_not_supported));
    EXPECT_TRUE(h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512, {}, lun7)
                    .is(SenseReason::lun_not_supported));
    // An address method we do not serve names no LU either.
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0x8000000000000000ull)
                    .is(SenseReason::lun_not_supported));

    Reply inq = h.run({0x12, 0, 0, 0, 96, 0}, 96, {}, lun7);
    ASSERT_TRUE(inq.good());
    EXPECT_EQ(inq.data[0], 0x7f);  // qualifier 011b, type 1Fh

    Reply rs = h.run({0x03, 0, 0, 0, 18, 0}, 18, {}, lun7);
    ASSERT_TRUE(rs.good());
    EXPECT_EQ(rs.data[2], 0x05);
    EXPECT_EQ(rs.data[12], 0x25);

    Reply rl = h.run({0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0}, 64, {}, lun7);
    ASSERT_TRUE(rl.good());
    EXPECT_EQ(load_be32(&rl.data[0]), 8u);
}

TEST(Dispatch, FlatAddressingReachesLun0) {
    Harness h;
    EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0x4000000000000000ull).good());
}

}  // namespace
}  // namespace itd::scsi::testing
