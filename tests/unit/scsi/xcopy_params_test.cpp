// The EXTENDED COPY (LID1) parameter list decoder: every field it checks, and the sense and
// field pointer each error carries.
#include "scsi/spc_xcopy_params.h"

#include <gtest/gtest.h>

#include "scsi/spc_xcopy.h"
#include "xcopy_builder.h"

namespace itd::scsi {
namespace {

using testing::b2b_segment;
using testing::Bytes;
using testing::e4_descriptor;
using testing::xcopy_list;

constexpr XcopyLimits kLimits{.max_cscd_descriptors = 2,
                              .max_segment_descriptors = 2,
                              .max_descriptor_list_bytes = 1024,
                              .max_inline_data_bytes = 0};

Bytes simple() {
    return xcopy_list(7, 2, {e4_descriptor(0x3123456789abcdefull, 4096)},
                      {b2b_segment(0, 0, 16, 100, 200, true)});
}

// Expects an error with reason and, when given, a parameter-list field pointer at byte.
void expect_error(const Bytes& list, SenseReason reason, std::optional<std::uint16_t> byte = {},
                  std::optional<std::uint8_t> bit = {}, const XcopyLimits& limits = kLimits) {
    auto r = parse_xcopy_parameters(list, limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().reason, reason) << to_string(r.error().reason);
    if (byte) {
        ASSERT_TRUE(r.error().field.has_value());
        EXPECT_FALSE(r.error().field->in_cdb);
        EXPECT_EQ(r.error().field->byte, *byte);
        EXPECT_EQ(r.error().field->bit, bit);
    }
}

TEST(XcopyParams, DecodesHeaderDescriptorsAndSegments) {
    auto r = parse_xcopy_parameters(simple(), kLimits);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->list_id, 7);
    EXPECT_EQ(r->list_id_usage, ListIdUsage::discard);
    ASSERT_EQ(r->cscds.size(), 1u);
    const CscdDescriptor& c = r->cscds[0];
    EXPECT_EQ(c.offset, 16u);
    EXPECT_EQ(c.peripheral_type, 0);
    EXPECT_EQ(c.code_set, 1);
    EXPECT_EQ(c.association, 0);
    EXPECT_EQ(c.designator_type, 3);
    ASSERT_EQ(c.designator_bytes, 8);
    EXPECT_EQ(load_be64(c.designator.data()), 0x3123456789abcdefull);
    EXPECT_EQ(c.disk_block_bytes, 4096u);
    ASSERT_EQ(r->segments.size(), 1u);
    const BlockSegment& s = r->segments[0];
    EXPECT_EQ(s.offset, 48u);
    EXPECT_TRUE(s.dc);
    EXPECT_FALSE(s.cat);
    EXPECT_EQ(s.blocks, 16);
    EXPECT_EQ(s.source_lba, 100u);
    EXPECT_EQ(s.destination_lba, 200u);
}

TEST(XcopyParams, HeaderChecks) {
    // Shorter than the 16-byte header.
    expect_error(Bytes(15, 0), SenseReason::parameter_list_length_error);
    // A header with no descriptors is fine: nothing to copy.
    EXPECT_TRUE(parse_xcopy_parameters(Bytes(16, 0), kLimits).has_value());
    // Reserved bits of byte 1, LIST ID USAGE 01b, reserved bytes 4-7.
    Bytes l = simple();
    l[1] |= 0x80;
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 1, 7);
    l = simple();
    l[1] = 0x08;
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 1, 4);
    l = simple();
    l[5] = 1;
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 5);
    // LIST ID USAGE 11b wants LIST IDENTIFIER 0.
    l = simple();
    l[1] = 0x18;
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 0);
    l[0] = 0;
    EXPECT_TRUE(parse_xcopy_parameters(l, kLimits).has_value());
    // STR and PRIORITY are accepted.
    l = simple();
    l[1] |= 0x20 | 0x05;
    auto r = parse_xcopy_parameters(l, kLimits);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->str);
    EXPECT_EQ(r->priority, 5);
}

TEST(XcopyParams, Lengths) {
    // Truncated anywhere: PARAMETER LIST LENGTH ERROR.
    const Bytes full = simple();
    for (std::size_t n = 16; n < full.size(); ++n) {
        expect_error(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)),
                     SenseReason::parameter_list_length_error);
    }
    // Extra bytes after the lists are ignored.
    Bytes longer = full;
    longer.resize(full.size() + 5, 0);
    EXPECT_TRUE(parse_xcopy_parameters(longer, kLimits).has_value());
    // Descriptor lists beyond MAXIMUM DESCRIPTOR LIST LENGTH, even with too many descriptors.
    XcopyLimits small = kLimits;
    small.max_descriptor_list_bytes = 59;
    expect_error(full, SenseReason::parameter_list_length_error, {}, {}, small);
    small.max_descriptor_list_bytes = 60;
    EXPECT_TRUE(parse_xcopy_parameters(full, small).has_value());
    // Inline data beyond the maximum (zero).
    Bytes l = full;
    store_be32(&l[12], 4);
    l.resize(l.size() + 4, 0);
    expect_error(l, SenseReason::inline_data_length_exceeded, 12);
    // A CSCD list that does not end on a descriptor boundary.
    l = xcopy_list(1, 0, {e4_descriptor(1), Bytes(8, 0)}, {});
    l[48] = 0xe4;
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 2);
    // A segment list with a partial header, or a descriptor longer than the list.
    l = xcopy_list(1, 0, {e4_descriptor(1)}, {Bytes{0x02, 0, 0}});
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 8);
    l = full;
    store_be32(&l[8], 27);
    l.pop_back();
    expect_error(l, SenseReason::invalid_field_in_parameter_list, 50);
}

TEST(XcopyParams, CountsAndTypes) {
    const Bytes c = e4_descriptor(1);
    const Bytes s = b2b_segment(0, 0, 1, 0, 1);
    EXPECT_TRUE(parse_xcopy_parameters(xcopy_list(1, 0, {c, c}, {s, s}), kLimits).has_value());
    expect_error(xcopy_list(1, 0, {c, c, c}, {s}), SenseReason::too_many_target_descriptors, 2);
    expect_error(xcopy_list(1, 0, {c}, {s, s, s}), SenseReason::too_many_segment_descriptors, 8);
    // Fibre Channel N_Port_Name CSCD (E0h), stream-to-stream segment (03h).
    Bytes fc = c;
    fc[0] = 0xe0;
    expect_error(xcopy_list(1, 0, {c, fc}, {s}), SenseReason::unsupported_target_descriptor_type,
                 48);
    Bytes stream(20, 0);
    stream[0] = 0x03;
    stream[3] = 0x10;
    expect_error(xcopy_list(1, 0, {c}, {s, stream}),
                 SenseReason::unsupported_segment_descriptor_type, 76);
}

TEST(XcopyParams, DescriptorFields) {
    const Bytes s = b2b_segment(0, 0, 1, 0, 1);
    // E4h: reserved bits, designator longer than its 20-byte field, block reserved bits.
    Bytes c = e4_descriptor(1);
    c[4] |= 0x10;
    expect_error(xcopy_list(1, 0, {c}, {s}), SenseReason::invalid_field_in_parameter_list, 20, 4);
    c = e4_descriptor(1);
    c[6] = 1;
    expect_error(xcopy_list(1, 0, {c}, {s}), SenseReason::invalid_field_in_parameter_list, 22);
    c = e4_descriptor(1);
    c[7] = 21;
    expect_error(xcopy_list(1, 0, {c}, {s}), SenseReason::invalid_field_in_parameter_list, 23);
    c = e4_descriptor(1);
    c[28] = 0x01;
    expect_error(xcopy_list(1, 0, {c}, {s}), SenseReason::invalid_field_in_parameter_list, 44, 0);
    // LU ID TYPE, NUL and PIV are ignored; PAD is read.
    c = e4_descriptor(1);
    c[1] = 0x80 | 0x20;
    c[5] |= 0x80;
    c[28] = 0x04;
    auto r = parse_xcopy_parameters(xcopy_list(1, 0, {c}, {s}), kLimits);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->cscds[0].pad);
    // Another peripheral device type: its type specific bytes are not read.
    c = e4_descriptor(1);
    c[1] = 0x01;
    c[28] = 0xff;
    r = parse_xcopy_parameters(xcopy_list(1, 0, {c}, {s}), kLimits);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->cscds[0].peripheral_type, 1);
    // 02h: DESCRIPTOR LENGTH other than 0018h, reserved bits and bytes.
    const Bytes e = e4_descriptor(1);
    Bytes seg = s;
    store_be16(&seg[2], 0x14);
    seg.resize(24);
    expect_error(xcopy_list(1, 0, {e}, {seg}), SenseReason::invalid_field_in_parameter_list, 50);
    seg = s;
    seg[1] = 0x04;
    expect_error(xcopy_list(1, 0, {e}, {seg}), SenseReason::invalid_field_in_parameter_list, 49, 2);
    seg = s;
    seg[9] = 1;
    expect_error(xcopy_list(1, 0, {e}, {seg}), SenseReason::invalid_field_in_parameter_list, 56);
}

TEST(XcopyParams, CopyManagerLimitsAreConsistent) {
    // The limits we report must let a list with the maximum of both descriptor kinds through.
    const XcopyLimits& l = kCopyManagerLimits;
    EXPECT_LE(l.max_cscd_descriptors * kCscdDescriptorBytes +
                  l.max_segment_descriptors * kBlockToBlockSegmentBytes,
              l.max_descriptor_list_bytes);
    EXPECT_GE(kMaxSegmentBytes, 0xffffu * 512u);
    EXPECT_EQ(kMaxSegmentBytes % kCopyChunkBytes, 0u);
}

}  // namespace
}  // namespace itd::scsi
