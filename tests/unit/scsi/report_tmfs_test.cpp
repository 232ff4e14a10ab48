// REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS, and REPORT SUPPORTED OPERATION CODES listing the
// commands added with it.
#include <gtest/gtest.h>

#include <set>

#include "common/endian.h"
#include "harness.h"

namespace itd::scsi::testing {
namespace {

TEST(ReportSupportedTmfs, BasicAndExtended) {
    Harness h;
    Reply r = h.run({0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 4u);
    // ABORT TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, TARGET RESET (iSCSI's
    // warm and cold resets); no ACA, no QUERY functions.
    EXPECT_EQ(r.data[0], 0x80 | 0x40 | 0x10 | 0x08 | 0x02);
    EXPECT_EQ(r.data[1], 0x00);
    EXPECT_EQ(r.data[3], 0x00);
    r = h.run({0xa3, 0x0d, 0x80, 0, 0, 0, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 16u);
    EXPECT_EQ(r.data[0], 0xda);
    EXPECT_EQ(r.data[3], 0x0c);  // ADDITIONAL DATA LENGTH of the extended format
    // The allocation length cuts; below 4 is INVALID FIELD IN CDB.
    r = h.run({0xa3, 0x0d, 0x80, 0, 0, 0, 0, 0, 0, 6, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data.size(), 6u);
    r = h.run({0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0}, 64);
    EXPECT_TRUE(r.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(r.result.sense[17], 6);
    // Reserved bits of byte 2.
    EXPECT_TRUE(h.run({0xa3, 0x0d, 0x40, 0, 0, 0, 0, 0, 0, 64, 0, 0}, 64)
                    .is(SenseReason::invalid_field_in_cdb));
}

std::set<std::pair<int, int>> listed(Harness& h) {
    Reply r = h.run({0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 4096);
    EXPECT_TRUE(r.good());
    std::set<std::pair<int, int>> out;
    for (std::size_t at = 4; at + 8 <= r.data.size(); at += 8) {
        const bool sa = (r.data[at + 5] & 0x01) != 0;
        out.emplace(r.data[at], sa ? load_be16(&r.data[at + 2]) : -1);
    }
    return out;
}

TEST(ReportSupportedOpcodes, ListsTheNewCommands) {
    Harness thick;
    Harness thin(2048, 512, false, true);
    for (Harness* h : {&thick, &thin}) {
        const auto rows = listed(*h);
        EXPECT_TRUE(rows.contains({0x37, -1}));    // READ DEFECT DATA(10)
        EXPECT_TRUE(rows.contains({0xb7, -1}));    // READ DEFECT DATA(12)
        EXPECT_TRUE(rows.contains({0x9c, -1}));    // WRITE ATOMIC(16)
        EXPECT_TRUE(rows.contains({0xa3, 0x0d}));  // REPORT SUPPORTED TMFs
        EXPECT_TRUE(rows.contains({0x48, 0x01}));  // SANITIZE OVERWRITE
        EXPECT_TRUE(rows.contains({0x48, 0x03}));  // CRYPTOGRAPHIC ERASE
        EXPECT_TRUE(rows.contains({0x48, 0x1f}));  // EXIT FAILURE MODE
    }
    // BLOCK ERASE only where it deallocates: on a thin LU.
    EXPECT_FALSE(listed(thick).contains({0x48, 0x02}));
    EXPECT_TRUE(listed(thin).contains({0x48, 0x02}));
    // One command by opcode and service action: SUPPORT 001b on the thick LU, 011b on thin,
    // with the usage data of the row.
    Reply r = thick.run({0xa3, 0x0c, 0x02, 0x48, 0, 0x02, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[1] & 0x07, 0x01);
    r = thin.run({0xa3, 0x0c, 0x02, 0x48, 0, 0x02, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[1] & 0x07, 0x03);
    EXPECT_EQ(r.data[3], 10);
    EXPECT_EQ(r.data[5], 0xbf);  // IMMED, AUSE, service action
    // WRITE ATOMIC(16) says DPO and FUA, and no ATOMIC BOUNDARY.
    r = thick.run({0xa3, 0x0c, 0x01, 0x9c, 0, 0, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data[4 + 1], 0x18);
    EXPECT_EQ(r.data[4 + 10], 0x00);
    EXPECT_EQ(r.data[4 + 11], 0x00);
}

}  // namespace
}  // namespace itd::scsi::testing
