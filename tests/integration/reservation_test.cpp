// Persistent reservations across a restart of itd (SPC-4 5.12.5, APTPL). aptpl.sh runs
// Aptpl.Before, restarts the daemon (kill -9, or SIGTERM) on the same LUN and state file,
// then runs Aptpl.After. Both skip unless ITD_APTPL_PHASE names them, so the ordinary runs of
// this binary leave reservations alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client.h"

namespace itd_it {
namespace {

constexpr std::uint64_t kKeyA = 0xa1a1a1a1a1a1a1a1ull;
constexpr std::uint64_t kKeyB = 0xb2b2b2b2b2b2b2b2ull;

// A session as initiator port iqn.2026-11.org.itd.test:<name> with a fixed ISID (random
// format), so that it logs in as the same port after the restart.
Context port(const char* name, std::uint32_t isid) {
    const std::string initiator = std::string("iqn.2026-11.org.itd.test:") + name;
    Context ctx(iscsi_create_context(initiator.c_str()));
    if (!ctx) return nullptr;
    iscsi_set_targetname(ctx.get(), target().c_str());
    iscsi_set_session_type(ctx.get(), ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(ctx.get(), ISCSI_HEADER_DIGEST_NONE);
    iscsi_set_timeout(ctx.get(), 30);
    iscsi_set_isid_random(ctx.get(), isid, 0);
    if (iscsi_full_connect_sync(ctx.get(), portal().c_str(), lun()) != 0) {
        std::fprintf(stderr, "login failed: %s\n", iscsi_get_error(ctx.get()));
        return nullptr;
    }
    return ctx;
}

bool phase(const char* name) {
    const char* p = std::getenv("ITD_APTPL_PHASE");
    return p != nullptr && std::strcmp(p, name) == 0;
}

// TEST UNIT READY until GOOD: takes the power-on and other unit attentions.
void clear_ua(iscsi_context* c) {
    for (int i = 0; i < 8; ++i) {
        Task t(iscsi_testunitready_sync(c, lun()));
        if (t && t->status == SCSI_STATUS_GOOD) return;
    }
}

int prout(iscsi_context* c, scsi_persistent_out_sa sa, std::uint64_t key, std::uint64_t sark,
          int type = 0, bool aptpl = false) {
    scsi_persistent_reserve_out_basic params{};
    params.reservation_key = key;
    params.service_action_reservation_key = sark;
    params.aptpl = aptpl ? 1 : 0;
    Task t(iscsi_persistent_reserve_out_sync(c, lun(), sa, SCSI_PERSISTENT_RESERVE_SCOPE_LU, type,
                                             &params));
    return t ? t->status : -1;
}

int write_block(iscsi_context* c) {
    std::vector<unsigned char> block(512, 0x5a);
    Task t(iscsi_write10_sync(c, lun(), 8, block.data(), 512, 512, 0, 0, 0, 0, 0));
    return t ? t->status : -1;
}

int read_block(iscsi_context* c) {
    Task t(iscsi_read10_sync(c, lun(), 8, 512, 512, 0, 0, 0, 0, 0));
    return t ? t->status : -1;
}

TEST(Aptpl, Before) {
    if (!phase("before")) GTEST_SKIP() << "run by aptpl.sh";
    Context a = (port("aptpl-a", 0x1111));
    Context b = (port("aptpl-b", 0x2222));
    ASSERT_TRUE(a && b);
    clear_ua(a.get());
    clear_ua(b.get());
    // REPORT CAPABILITIES: PTPL_C=1 on a LUN with a state file.
    Task caps(iscsi_persistent_reserve_in_sync(a.get(), lun(),
                                               SCSI_PERSISTENT_RESERVE_REPORT_CAPABILITIES, 8));
    ASSERT_TRUE(caps && caps->status == SCSI_STATUS_GOOD);
    auto* rc = static_cast<scsi_persistent_reserve_in_report_capabilities*>(
        scsi_datain_unmarshall(caps.get()));
    ASSERT_NE(rc, nullptr);
    EXPECT_EQ(rc->ptpl_c, 1);
    // PTPL_A (byte 3 bit 0; libiscsi 1.19 does not decode it): not yet activated.
    ASSERT_GE(caps->datain.size, 4);
    EXPECT_EQ(caps->datain.data[3] & 0x01, 0);

    ASSERT_EQ(
        prout(a.get(), SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, kKeyA, 0, true),
        SCSI_STATUS_GOOD);
    ASSERT_EQ(
        prout(b.get(), SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, kKeyB, 0, true),
        SCSI_STATUS_GOOD);
    ASSERT_EQ(prout(a.get(), SCSI_PERSISTENT_RESERVE_RESERVE, kKeyA, 0,
                    SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
              SCSI_STATUS_GOOD);
    Task caps2(iscsi_persistent_reserve_in_sync(a.get(), lun(),
                                                SCSI_PERSISTENT_RESERVE_REPORT_CAPABILITIES, 8));
    ASSERT_TRUE(caps2 && caps2->status == SCSI_STATUS_GOOD);
    ASSERT_GE(caps2->datain.size, 4);
    EXPECT_EQ(caps2->datain.data[3] & 0x01, 1);  // PTPL_A: the last APTPL bit was one
}

TEST(Aptpl, After) {
    if (!phase("after")) GTEST_SKIP() << "run by aptpl.sh";
    Context a = (port("aptpl-a", 0x1111));
    Context b = (port("aptpl-b", 0x2222));
    Context c = (port("aptpl-c", 0x3333));
    ASSERT_TRUE(a && b && c);
    clear_ua(a.get());
    clear_ua(b.get());
    clear_ua(c.get());

    // The registrations came back, in order, and the reservation with its holder and type.
    Task keys(
        iscsi_persistent_reserve_in_sync(a.get(), lun(), SCSI_PERSISTENT_RESERVE_READ_KEYS, 1024));
    ASSERT_TRUE(keys && keys->status == SCSI_STATUS_GOOD);
    auto* rk =
        static_cast<scsi_persistent_reserve_in_read_keys*>(scsi_datain_unmarshall(keys.get()));
    ASSERT_NE(rk, nullptr);
    ASSERT_EQ(rk->num_keys, 2);
    EXPECT_EQ(rk->keys[0], kKeyA);
    EXPECT_EQ(rk->keys[1], kKeyB);
    EXPECT_GE(rk->prgeneration, 2u);
    Task res(iscsi_persistent_reserve_in_sync(a.get(), lun(),
                                              SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 1024));
    ASSERT_TRUE(res && res->status == SCSI_STATUS_GOOD);
    auto* rr = static_cast<scsi_persistent_reserve_in_read_reservation*>(
        scsi_datain_unmarshall(res.get()));
    ASSERT_NE(rr, nullptr);
    EXPECT_EQ(rr->reservation_key, kKeyA);
    EXPECT_EQ(rr->pr_type, SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY);

    // And it is enforced: registrants write, the unregistered port only reads.
    EXPECT_EQ(write_block(a.get()), SCSI_STATUS_GOOD);
    EXPECT_EQ(write_block(b.get()), SCSI_STATUS_GOOD);
    EXPECT_EQ(write_block(c.get()), SCSI_STATUS_RESERVATION_CONFLICT);
    EXPECT_EQ(read_block(c.get()), SCSI_STATUS_GOOD);
    // The restored holder still owns it: RELEASE, then CLEAR everything (and the file).
    EXPECT_EQ(prout(a.get(), SCSI_PERSISTENT_RESERVE_RELEASE, kKeyA, 0,
                    SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
              SCSI_STATUS_GOOD);
    EXPECT_EQ(prout(a.get(), SCSI_PERSISTENT_RESERVE_CLEAR, kKeyA, 0), SCSI_STATUS_GOOD);
    EXPECT_EQ(write_block(c.get()), SCSI_STATUS_GOOD);
}

}  // namespace
}  // namespace itd_it
