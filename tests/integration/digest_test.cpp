// CRC32C digests over raw TCP (libiscsi 1.19 cannot send data digests, nor a wrong digest):
// a PDU whose digest is wrong is never acted on. A corrupt header digest drops the connection
// (the stream can no longer be trusted); a corrupt data digest gets a Reject and the data is
// not written (RFC 7143 7.8, 11.17.1). A correct digest next to them works.
#include <gtest/gtest.h>

#include <cstring>

#include "client.h"

namespace itd_it {
namespace {

constexpr std::uint8_t kNopIn = 0x20;
constexpr std::uint8_t kReject = 0x3f;

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// BHS + header digest + padded data + data digest; corrupt_* flips a bit of that digest.
std::vector<std::uint8_t> with_digests(const std::vector<std::uint8_t>& bhs,
                                       const std::vector<std::uint8_t>& data,
                                       bool corrupt_header = false, bool corrupt_data = false) {
    std::vector<std::uint8_t> out = bhs;
    put_le32(out, crc32c(bhs.data(), bhs.size()) ^ (corrupt_header ? 1u : 0u));
    if (!data.empty()) {
        std::vector<std::uint8_t> padded = data;
        padded.resize((data.size() + 3) & ~std::size_t{3}, 0);
        out.insert(out.end(), padded.begin(), padded.end());
        put_le32(out, crc32c(padded.data(), padded.size()) ^ (corrupt_data ? 1u : 0u));
    }
    return out;
}

void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

// Logs in insisting on CRC32C for both digests; false unless the target agreed to both.
bool digest_login(RawConnection& c, const std::string& initiator) {
    const std::vector<std::string> keys = {
        "InitiatorName=" + initiator, "TargetName=" + target(), "SessionType=Normal",
        "HeaderDigest=CRC32C", "DataDigest=CRC32C", "ImmediateData=Yes",
        "MaxRecvDataSegmentLength=65536"};
    if (!c.send_all(login_pdu(keys, 1))) return false;
    auto resp = c.read_pdu();
    if (!resp || ((*resp)[0] & 0x3f) != 0x23 || (*resp)[36] != 0 || ((*resp)[1] & 0x03) != 3)
        return false;
    const std::string text(resp->begin() + 48, resp->end());
    if (text.find("HeaderDigest=CRC32C") == std::string::npos ||
        text.find("DataDigest=CRC32C") == std::string::npos)
        return false;
    c.set_digests(true, true);
    return true;
}

// An immediate NOP-Out ping; the answer must be a NOP-In with the same ITT.
std::vector<std::uint8_t> nop_out(std::uint32_t itt, std::uint32_t cmd_sn) {
    std::vector<std::uint8_t> bhs(48, 0);
    bhs[0] = 0x40;  // NOP-Out, immediate
    bhs[1] = 0x80;
    put_be32(&bhs[16], itt);
    put_be32(&bhs[20], 0xffffffff);  // TTT
    put_be32(&bhs[24], cmd_sn);
    return bhs;
}

// WRITE(10) of one block at lba with the block as immediate data.
std::vector<std::uint8_t> write10(std::uint32_t itt, std::uint32_t cmd_sn, std::uint32_t lba,
                                  std::uint32_t block_size) {
    std::vector<std::uint8_t> bhs(48, 0);
    bhs[0] = 0x01;         // SCSI Command
    bhs[1] = 0x80 | 0x20;  // F, W, SIMPLE
    bhs[5] = static_cast<std::uint8_t>(block_size >> 16);
    bhs[6] = static_cast<std::uint8_t>(block_size >> 8);
    bhs[7] = static_cast<std::uint8_t>(block_size);
    bhs[9] = static_cast<std::uint8_t>(lun());  // single-level LUN, peripheral addressing
    put_be32(&bhs[16], itt);
    put_be32(&bhs[20], block_size);  // expected data transfer length
    put_be32(&bhs[24], cmd_sn);
    bhs[32] = 0x2a;  // WRITE(10)
    put_be32(&bhs[34], lba);
    bhs[39] = 1;     // one block
    return bhs;
}

class Digests : public ::testing::Test {
protected:
    void SetUp() override {
        ctx_ = connect({.initiator = "iqn.2026-11.org.itd.test:digest-bystander"});
        ASSERT_NE(ctx_, nullptr);
        Task ua(iscsi_testunitready_sync(ctx_.get(), lun()));  // the power-on unit attention
        Task cap(iscsi_readcapacity10_sync(ctx_.get(), lun(), 0, 0));
        ASSERT_NE(cap, nullptr);
        ASSERT_EQ(cap->status, SCSI_STATUS_GOOD);
        auto* rc = static_cast<scsi_readcapacity10*>(scsi_datain_unmarshall(cap.get()));
        ASSERT_NE(rc, nullptr);
        block_size_ = rc->block_size;
    }
    void write_block(std::uint32_t lba, const std::vector<std::uint8_t>& data) {
        Task t(iscsi_write10_sync(ctx_.get(), lun(), lba, const_cast<std::uint8_t*>(data.data()),
                                  static_cast<std::uint32_t>(data.size()), block_size_, 0, 0, 0,
                                  0, 0));
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->status, SCSI_STATUS_GOOD);
    }
    std::vector<std::uint8_t> read_block(std::uint32_t lba) {
        Task t(iscsi_read10_sync(ctx_.get(), lun(), lba, block_size_, block_size_, 0, 0, 0, 0, 0));
        if (!t || t->status != SCSI_STATUS_GOOD) return {};
        return {t->datain.data, t->datain.data + t->datain.size};
    }
    Context ctx_;
    std::uint32_t block_size_ = 0;
};

TEST_F(Digests, CorruptHeaderDigestDropsTheConnectionAndTheCommandNeverRuns) {
    const auto before = random_bytes(block_size_, 71);
    write_block(200, before);

    RawConnection c;
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(digest_login(c, "iqn.2026-11.org.itd.test:digest-header"));
    // A correct header digest: the ping is answered (so the digests below are right but for
    // the bit flipped on purpose).
    ASSERT_TRUE(c.send_all(with_digests(nop_out(0x10, 1), {})));
    auto pong = c.read_pdu();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ((*pong)[0] & 0x3f, kNopIn);

    const auto other = random_bytes(block_size_, 72);
    ASSERT_TRUE(c.send_all(with_digests(write10(0x11, 1, 200, block_size_), other, true)));
    EXPECT_TRUE(c.closed_within(5000)) << "a header digest error must end the connection";
    EXPECT_EQ(read_block(200), before) << "the command behind a bad header digest ran";
}

TEST_F(Digests, CorruptDataDigestIsRejectedAndTheDataNotWritten) {
    const auto before = random_bytes(block_size_, 81);
    write_block(201, before);

    RawConnection c;
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(digest_login(c, "iqn.2026-11.org.itd.test:digest-data"));
    const auto other = random_bytes(block_size_, 82);
    ASSERT_TRUE(c.send_all(with_digests(write10(0x20, 1, 201, block_size_), other, false, true)));
    auto reject = c.read_pdu();
    ASSERT_TRUE(reject.has_value());
    EXPECT_EQ((*reject)[0] & 0x3f, kReject);
    EXPECT_EQ((*reject)[2], 0x02) << "reason: data (payload) digest error";
    EXPECT_EQ(read_block(201), before) << "data with a bad digest reached the medium";
    // The connection goes on: an immediate ping is still answered.
    ASSERT_TRUE(c.send_all(with_digests(nop_out(0x21, 1), {})));
    auto pong = c.read_pdu();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ((*pong)[0] & 0x3f, kNopIn);
}

}  // namespace
}  // namespace itd_it
