// EXTENDED COPY (LID1) through a real libiscsi session: the client names the copy source and
// destination by the NAA designators it reads from VPD 83h, as VMware and sg_xcopy do, copies
// inside the LUN under test and from it to another LUN of the target (whatever its backend and
// block size), reads the destination back and asks RECEIVE COPY RESULTS how it went.
#include <gtest/gtest.h>

#include <cstring>

#include "client.h"

namespace itd_it {
namespace {

struct LunInfo {
    int lun = 0;
    std::uint32_t block_bytes = 0;
    std::uint64_t blocks = 0;
    std::vector<std::uint8_t> naa;  // the 8-byte NAA designator
};

std::optional<LunInfo> lun_info(iscsi_context* ctx, int lun) {
    LunInfo info;
    info.lun = lun;
    // A LUN this session has not used yet reports its power-on unit attention first.
    for (int i = 0; i < 5; ++i) {
        Task tur(iscsi_testunitready_sync(ctx, lun));
        if (tur && tur->status == SCSI_STATUS_GOOD) break;
    }
    Task rc(iscsi_readcapacity16_sync(ctx, lun));
    if (!rc || rc->status != SCSI_STATUS_GOOD) return std::nullopt;
    auto* cap = static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(rc.get()));
    if (cap == nullptr) return std::nullopt;
    info.block_bytes = cap->block_length;
    info.blocks = cap->returned_lba + 1;
    Task inq(iscsi_inquiry_sync(ctx, lun, 1, SCSI_INQUIRY_PAGECODE_DEVICE_IDENTIFICATION, 255));
    if (!inq || inq->status != SCSI_STATUS_GOOD) return std::nullopt;
    auto* di = static_cast<scsi_inquiry_device_identification*>(scsi_datain_unmarshall(inq.get()));
    if (di == nullptr) return std::nullopt;
    for (auto* d = di->designators; d != nullptr; d = d->next) {
        if (d->designator_type == SCSI_DESIGNATOR_TYPE_NAA &&
            d->association == SCSI_ASSOCIATION_LOGICAL_UNIT && d->designator_length == 8) {
            info.naa.assign(d->designator, d->designator + 8);
        }
    }
    if (info.naa.empty()) return std::nullopt;
    return info;
}

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

// Header, two identification CSCD descriptors (E4h), one block to block segment (02h).
std::vector<std::uint8_t> copy_list(std::uint8_t list_id, const LunInfo& src, const LunInfo& dst,
                                    std::uint16_t src_blocks, std::uint64_t src_lba,
                                    std::uint64_t dst_lba) {
    std::vector<std::uint8_t> l(16 + 64 + 28, 0);
    l[0] = list_id;  // LIST ID USAGE 00b: hold, so RECEIVE COPY RESULTS can ask
    put_be(&l[2], 64, 2);
    put_be(&l[8], 28, 4);
    const LunInfo* luns[] = {&src, &dst};
    for (int i = 0; i < 2; ++i) {
        std::uint8_t* d = &l[16 + 32 * i];
        d[0] = 0xe4;
        d[4] = 0x01;  // binary
        d[5] = 0x03;  // LU, NAA
        d[7] = 8;
        std::memcpy(d + 8, luns[i]->naa.data(), 8);
        put_be(d + 29, luns[i]->block_bytes, 3);
    }
    std::uint8_t* s = &l[80];
    s[0] = 0x02;
    put_be(s + 2, 0x18, 2);
    put_be(s + 4, 0, 2);
    put_be(s + 6, 1, 2);
    put_be(s + 10, src_blocks, 2);
    put_be(s + 12, src_lba, 8);
    put_be(s + 20, dst_lba, 8);
    return l;
}

Task run_xcopy(iscsi_context* ctx, int lun, std::vector<std::uint8_t>& list) {
    scsi_task* t = scsi_cdb_extended_copy(static_cast<int>(list.size()));
    if (t == nullptr) return nullptr;
    iscsi_data data{list.size(), list.data()};
    return Task(iscsi_scsi_command_sync(ctx, lun, t, &data));
}

void copy_and_check(iscsi_context* ctx, const LunInfo& src, const LunInfo& dst,
                    std::uint8_t list_id) {
    SCOPED_TRACE(::testing::Message() << "LUN " << src.lun << " -> LUN " << dst.lun);
    // 3 MiB: several of the copy manager's 1 MiB chunks; a whole number of blocks on both.
    constexpr std::uint32_t kBytes = 3u << 20;
    const auto data = random_bytes(kBytes, 4242u + list_id);
    const std::uint64_t src_lba = 64;
    const std::uint64_t dst_lba = dst.blocks - kBytes / dst.block_bytes - 8;
    ASSERT_GT(dst.blocks, kBytes / dst.block_bytes + 72);
    Task w(iscsi_write16_sync(ctx, src.lun, src_lba, const_cast<std::uint8_t*>(data.data()), kBytes,
                              static_cast<int>(src.block_bytes), 0, 0, 0, 0, 0));
    ASSERT_NE(w, nullptr) << iscsi_get_error(ctx);
    ASSERT_EQ(w->status, SCSI_STATUS_GOOD);

    // The copy manager is the LUN under test, whichever end it is.
    const int manager = lun();
    std::vector<std::uint8_t> list = copy_list(
        list_id, src, dst, static_cast<std::uint16_t>(kBytes / src.block_bytes), src_lba, dst_lba);
    Task x = run_xcopy(ctx, manager, list);
    ASSERT_NE(x, nullptr) << iscsi_get_error(ctx);
    ASSERT_EQ(x->status, SCSI_STATUS_GOOD)
        << "sense key " << x->sense.key << " ascq " << std::hex << x->sense.ascq;

    Task r(iscsi_read16_sync(ctx, dst.lun, dst_lba, kBytes, static_cast<int>(dst.block_bytes), 0, 0,
                             0, 0, 0));
    ASSERT_NE(r, nullptr) << iscsi_get_error(ctx);
    ASSERT_EQ(r->status, SCSI_STATUS_GOOD);
    ASSERT_EQ(r->datain.size, static_cast<int>(kBytes));
    EXPECT_EQ(std::memcmp(r->datain.data, data.data(), kBytes), 0);

    // RECEIVE COPY RESULTS, COPY STATUS: completed without errors, one segment, every byte.
    scsi_task* cs = scsi_cdb_receive_copy_results(SCSI_COPY_RESULTS_COPY_STATUS, list_id, 1024);
    ASSERT_NE(cs, nullptr);
    Task status(iscsi_scsi_command_sync(ctx, manager, cs, nullptr));
    ASSERT_NE(status, nullptr) << iscsi_get_error(ctx);
    ASSERT_EQ(status->status, SCSI_STATUS_GOOD);
    auto* st = static_cast<scsi_copy_results_copy_status*>(scsi_datain_unmarshall(status.get()));
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->copy_manager_status, 1);
    EXPECT_EQ(st->segments_processed, 1);
    EXPECT_EQ(st->transfer_count_units, 0);
    EXPECT_EQ(st->transfer_count, kBytes);
}

TEST(ExtendedCopy, WithinTheLunAndToAnotherLun) {
    Context ctx = connect();
    ASSERT_NE(ctx, nullptr);
    auto self = lun_info(ctx.get(), lun());
    ASSERT_TRUE(self.has_value());
    copy_and_check(ctx.get(), *self, *self, 1);

    // Another LUN of the same target, if there is one.
    Task rl(iscsi_reportluns_sync(ctx.get(), 0, 16384));
    ASSERT_NE(rl, nullptr);
    ASSERT_EQ(rl->status, SCSI_STATUS_GOOD);
    auto* luns = static_cast<scsi_reportluns_list*>(scsi_datain_unmarshall(rl.get()));
    ASSERT_NE(luns, nullptr);
    for (std::uint32_t i = 0; i < luns->num; ++i) {
        if (luns->luns[i] == lun()) continue;
        auto other = lun_info(ctx.get(), luns->luns[i]);
        ASSERT_TRUE(other.has_value());
        copy_and_check(ctx.get(), *self, *other, 2);
        copy_and_check(ctx.get(), *other, *self, 3);
        break;
    }
}

}  // namespace
}  // namespace itd_it
