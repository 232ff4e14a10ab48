#include "scsi/spc_pr_out_params.h"

#include <gtest/gtest.h>

#include "common/endian.h"

namespace itd::scsi {
namespace {

std::vector<std::uint8_t> basic(std::uint64_t key, std::uint64_t sark, std::uint8_t flags = 0) {
    std::vector<std::uint8_t> p(24, 0);
    store_be64(&p[0], key);
    store_be64(&p[8], sark);
    p[20] = flags;
    return p;
}

std::vector<std::uint8_t> move(std::string_view port, std::uint8_t flags = 0) {
    std::vector<std::uint8_t> p = basic(1, 2);
    p[20] = 0;
    p[17] = flags;
    store_be16(&p[18], 1);
    const auto tid = iscsi_port_transport_id(port);
    store_be32(&p[20], static_cast<std::uint32_t>(tid.size()));
    p.insert(p.end(), tid.begin(), tid.end());
    return p;
}

TEST(PrOutParams, Basic) {
    auto p = parse_pr_out_parameters(PrOutAction::register_key, basic(0x1122, 0x3344, 0x05));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->reservation_key, 0x1122u);
    EXPECT_EQ(p->service_action_key, 0x3344u);
    EXPECT_TRUE(p->aptpl);
    EXPECT_TRUE(p->all_tg_pt);
    EXPECT_FALSE(p->spec_i_pt);
}

TEST(PrOutParams, LengthAndSpecIPt) {
    std::vector<std::uint8_t> short_list(23, 0);
    EXPECT_EQ(parse_pr_out_parameters(PrOutAction::reserve, short_list).error().reason,
              SenseReason::parameter_list_length_error);
    auto longer = basic(1, 2);
    longer.resize(32);
    EXPECT_EQ(parse_pr_out_parameters(PrOutAction::reserve, longer).error().reason,
              SenseReason::parameter_list_length_error);
    // SPEC_I_PT (not supported): INVALID FIELD IN PARAMETER LIST, byte 20 bit 3.
    auto spec = basic(1, 2, 0x08);
    spec.resize(28);
    auto e = parse_pr_out_parameters(PrOutAction::register_key, spec);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().reason, SenseReason::invalid_field_in_parameter_list);
    ASSERT_TRUE(e.error().field.has_value());
    EXPECT_FALSE(e.error().field->in_cdb);
    EXPECT_EQ(e.error().field->byte, 20);
    EXPECT_EQ(e.error().field->bit, std::optional<std::uint8_t>{3});
}

TEST(PrOutParams, RegisterAndMove) {
    auto p = parse_pr_out_parameters(PrOutAction::register_and_move,
                                     move("iqn.2026-01.org.x:Host,I,0x23d000000001", 0x03));
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(p->unreg);
    EXPECT_TRUE(p->aptpl);
    EXPECT_EQ(p->relative_target_port, 1);
    EXPECT_EQ(p->move_to_initiator_port, "iqn.2026-01.org.x:host,i,0x23d000000001");
    // The TRANSPORTID PARAMETER DATA LENGTH must match the list.
    auto bad = move("iqn.x,i,0x1");
    bad.push_back(0);
    EXPECT_EQ(parse_pr_out_parameters(PrOutAction::register_and_move, bad).error().reason,
              SenseReason::parameter_list_length_error);
    // Another protocol (FC, 0h) or format 00b (no ISID): INVALID FIELD IN PARAMETER LIST at 24.
    for (std::uint8_t first : {std::uint8_t{0x40}, std::uint8_t{0x05}}) {
        auto other = move("iqn.x,i,0x1");
        other[24] = first;
        auto e = parse_pr_out_parameters(PrOutAction::register_and_move, other);
        ASSERT_FALSE(e.has_value());
        EXPECT_EQ(e.error().reason, SenseReason::invalid_field_in_parameter_list);
        EXPECT_EQ(e.error().field->byte, 24);
    }
}

TEST(TransportId, RoundTripAndRejects) {
    const auto tid = iscsi_port_transport_id("iqn.a,i,0x1");
    EXPECT_EQ(tid.size(), 24u);  // ADDITIONAL LENGTH at least 20
    EXPECT_EQ(tid[0], 0x45);
    EXPECT_EQ(load_be16(&tid[2]), 20);
    EXPECT_EQ(parse_iscsi_port_transport_id(tid).value(), "iqn.a,i,0x000000000001");
    const std::string long_name = "iqn.2026-01.org.example:" + std::string(150, 'z') + ",i,0xabc";
    const auto long_tid = iscsi_port_transport_id(long_name);
    EXPECT_EQ(long_tid.size() % 4, 0u);
    EXPECT_EQ(parse_iscsi_port_transport_id(long_tid).value(),
              "iqn.2026-01.org.example:" + std::string(150, 'z') + ",i,0x000000000abc");
    for (const char* bad : {"iqn.a", "iqn.a,i,0x", "iqn.a,i,0x1234567890123", "iqn.a,i,0xzz",
                            ",i,0x1", "iqn a,i,0x1"}) {
        EXPECT_FALSE(parse_iscsi_port_transport_id(iscsi_port_transport_id(bad)).has_value())
            << bad;
    }
    auto no_nul = iscsi_port_transport_id("iqn.a,i,0x1");
    std::fill(no_nul.begin() + 4, no_nul.end(), 'a');
    EXPECT_FALSE(parse_iscsi_port_transport_id(no_nul).has_value());
    auto lying = iscsi_port_transport_id("iqn.a,i,0x1");
    store_be16(&lying[2], 40);
    EXPECT_FALSE(parse_iscsi_port_transport_id(lying).has_value());
}

}  // namespace
}  // namespace itd::scsi
