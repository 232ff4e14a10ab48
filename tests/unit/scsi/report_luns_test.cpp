#include <gtest/gtest.h>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

Reply run_report_luns(Harness& h, std::uint8_t select, std::uint32_t alloc) {
    std::vector<std::uint8_t> cdb(12, 0);
    cdb[0] = 0xa0;
    cdb[2] = select;
    store_be32(&cdb[6], alloc);
    return h.run_cdb(cdb, alloc);
}

TEST(ReportLuns, EncodesEveryLun) {
    Harness h;
    for (std::uint32_t lun : {5u, 300u}) {
        LunConfig cfg;
        cfg.volume = memory_volume(8);
        h.target.add_lun(lun, std::move(cfg));
    }
    for (std::uint8_t select : {0, 2}) {
        Reply r = run_report_luns(h, select, 4096);
        ASSERT_TRUE(r.good());
        ASSERT_EQ(r.data.size(), 8u + 3 * 8);
        EXPECT_EQ(load_be32(&r.data[0]), 24u);
        EXPECT_EQ(load_be64(&r.data[8]), 0u);
        EXPECT_EQ(load_be64(&r.data[16]), 0x0005000000000000ull);
        EXPECT_EQ(load_be64(&r.data[24]), 0x412c000000000000ull);  // flat addressing
        EXPECT_EQ(r.result.transfer_bytes, 32u);
    }
    // Well-known LUs only: none.
    Reply wk = run_report_luns(h, 1, 64);
    ASSERT_TRUE(wk.good());
    EXPECT_EQ(load_be32(&wk.data[0]), 0u);
    // Truncated to the allocation length, but the list length says the truth.
    Reply cut = run_report_luns(h, 0, 16);
    ASSERT_TRUE(cut.good());
    EXPECT_EQ(cut.data.size(), 16u);
    EXPECT_EQ(load_be32(&cut.data[0]), 24u);
}

TEST(ReportLuns, Errors) {
    Harness h;
    Reply small = run_report_luns(h, 0, 15);
    EXPECT_TRUE(small.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(small.result.sense[17], 6);
    EXPECT_TRUE(run_report_luns(h, 3, 64).is(SenseReason::invalid_field_in_cdb));
}

}  // namespace
}  // namespace itd::scsi::testing
