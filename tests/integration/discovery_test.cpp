// Discovery and session set-up through libiscsi.
#include <gtest/gtest.h>

#include "client.h"

namespace itd_it {
namespace {

TEST(Discovery, SendTargetsAllListsTheTargetAndItsPortal) {
    iscsi_context* ctx = iscsi_create_context("iqn.2026-11.org.itd.test:discovery");
    ASSERT_NE(ctx, nullptr);
    iscsi_set_session_type(ctx, ISCSI_SESSION_DISCOVERY);
    ASSERT_EQ(iscsi_connect_sync(ctx, portal().c_str()), 0) << iscsi_get_error(ctx);
    ASSERT_EQ(iscsi_login_sync(ctx), 0) << iscsi_get_error(ctx);
    iscsi_discovery_address* list = iscsi_discovery_sync(ctx);
    ASSERT_NE(list, nullptr) << iscsi_get_error(ctx);
    bool found = false;
    for (auto* a = list; a; a = a->next) {
        if (target() != a->target_name) continue;
        found = true;
        ASSERT_NE(a->portals, nullptr);
        // The portal we connected to, with the portal group tag: "127.0.0.1:PORT,1".
        EXPECT_EQ(std::string(a->portals->portal), portal() + ",1");
    }
    EXPECT_TRUE(found) << "target " << target() << " not in SendTargets";
    iscsi_free_discovery_data(ctx, list);
    iscsi_logout_sync(ctx);
    iscsi_destroy_context(ctx);
}

TEST(Session, LoginReadCapacityLogout) {
    Context ctx = connect();
    ASSERT_NE(ctx, nullptr);
    Task t(iscsi_readcapacity16_sync(ctx.get(), lun()));
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->status, SCSI_STATUS_GOOD);
    auto* rc = static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(t.get()));
    ASSERT_NE(rc, nullptr);
    EXPECT_GT(rc->returned_lba, 0u);
    EXPECT_TRUE(rc->block_length == 512 || rc->block_length == 4096);
    EXPECT_EQ(iscsi_logout_sync(ctx.get()), 0);
}

TEST(Session, UnknownTargetIsRefused) {
    iscsi_context* ctx = iscsi_create_context("iqn.2026-11.org.itd.test:lost");
    ASSERT_NE(ctx, nullptr);
    iscsi_set_targetname(ctx, "iqn.2026-11.org.itd:no-such-target");
    iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
    EXPECT_NE(iscsi_full_connect_sync(ctx, portal().c_str(), 0), 0);
    iscsi_destroy_context(ctx);
}

}  // namespace
}  // namespace itd_it
