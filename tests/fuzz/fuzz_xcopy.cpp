// Decodes arbitrary EXTENDED COPY (LID1) parameter lists (SPC-4 6.4) against fuzzed limits,
// then runs the same list as an EXTENDED COPY through a Target with two small LUNs (512- and
// 4096-byte blocks, fixed NAA designators so that inputs can name them). Checks: no crash or
// sanitizer report; a decoded list respects its limits and its descriptors lie inside it; an
// error carries a reason and a field pointer inside the list; the command answers exactly once
// and RECEIVE COPY RESULTS then answers too.
//
// Input layout: byte 0 the CSCD descriptor limit, byte 1 the segment descriptor limit, bytes
// 2-3 the descriptor list length limit, byte 4 the inline data limit; the rest is the list.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "common/endian.h"
#include "scsi/spc_xcopy_params.h"
#include "scsi/target.h"
#include "volume/memory/memory_volume.h"

namespace {

using namespace itd;

struct World {
    scsi::Target target{"iqn.2026-11.org.example:fuzz"};
    scsi::NexusId nexus = 0;

    World() {
        add(0, 64, 512, 0x3000000000000a00ull, false);
        add(1, 16, 4096, 0x3000000000000a01ull, false);
        add(2, 16, 512, 0x3000000000000a02ull, true);
        nexus = target.register_nexus("iqn.fuzz,i,0x1", "tp");
        // Clear the power-on unit attentions.
        for (std::uint64_t lun = 0; lun < 3; ++lun) run({0x00, 0, 0, 0, 0, 0}, lun << 48, {}, 0);
    }

    void add(std::uint32_t lun, std::uint64_t blocks, std::uint32_t block, std::uint64_t naa,
             bool read_only) {
        auto vol = volume::MemoryVolume::create(blocks * block, block);
        ITD_CHECK(vol.has_value());
        scsi::LunConfig cfg;
        cfg.volume = *vol;
        cfg.naa_id = naa;
        cfg.read_only = read_only;
        target.add_lun(lun, std::move(cfg));
    }

    scsi::CommandResult run(std::vector<std::uint8_t> cdb, std::uint64_t lun_field,
                            std::span<const std::uint8_t> data_out, std::size_t data_in_bytes) {
        cdb.resize(16, 0);
        std::vector<std::uint8_t> data_in(data_in_bytes);
        scsi::Command cmd;
        cmd.nexus = nexus;
        cmd.lun_field = lun_field;
        cmd.cdb = cdb;
        cmd.data_out = data_out;
        cmd.data_in = data_in;
        int calls = 0;
        scsi::CommandResult result;
        // Memory volumes complete inline, so the answer is there when execute returns.
        target.execute(cmd, [&](scsi::CommandResult r) {
            ++calls;
            result = r;
        });
        ITD_CHECK(calls == 1);
        ITD_CHECK(result.data_in_bytes <= data_in.size());
        return result;
    }
};

void check_parse(std::span<const std::uint8_t> list, const scsi::XcopyLimits& limits) {
    using namespace itd::scsi;
    auto parsed = parse_xcopy_parameters(list, limits);
    if (!parsed) {
        ITD_CHECK(parsed.error().reason != SenseReason::none);
        if (parsed.error().field) {
            ITD_CHECK(!parsed.error().field->in_cdb);
            ITD_CHECK(parsed.error().field->byte < list.size() ||
                      parsed.error().field->byte < kXcopyHeaderBytes);
        }
        return;
    }
    ITD_CHECK(list.size() >= kXcopyHeaderBytes);
    const std::size_t cscd_bytes = load_be16(&list[2]);
    const std::size_t segment_bytes = load_be32(&list[8]);
    ITD_CHECK(cscd_bytes + segment_bytes <= limits.max_descriptor_list_bytes);
    ITD_CHECK(parsed->cscds.size() <= limits.max_cscd_descriptors);
    ITD_CHECK(parsed->segments.size() <= limits.max_segment_descriptors);
    ITD_CHECK(parsed->cscds.size() * kCscdDescriptorBytes == cscd_bytes);
    for (std::size_t i = 0; i < parsed->cscds.size(); ++i) {
        const CscdDescriptor& c = parsed->cscds[i];
        ITD_CHECK(c.offset == kXcopyHeaderBytes + i * kCscdDescriptorBytes);
        ITD_CHECK(c.designator_bytes <= kMaxCscdDesignatorBytes);
    }
    for (const BlockSegment& s : parsed->segments) {
        ITD_CHECK(s.offset >= kXcopyHeaderBytes + cscd_bytes);
        ITD_CHECK(s.offset + kBlockToBlockSegmentBytes <=
                  kXcopyHeaderBytes + cscd_bytes + segment_bytes);
    }
    if (parsed->list_id_usage == ListIdUsage::none) ITD_CHECK(parsed->list_id == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 5) return 0;
    scsi::XcopyLimits limits;
    limits.max_cscd_descriptors = data[0];
    limits.max_segment_descriptors = data[1];
    limits.max_descriptor_list_bytes = load_be16(data + 2);
    limits.max_inline_data_bytes = data[4];
    const std::span<const std::uint8_t> list(data + 5, size - 5);
    check_parse(list, limits);

    static World world;
    std::vector<std::uint8_t> cdb(16, 0);
    cdb[0] = 0x83;
    store_be32(&cdb[10], static_cast<std::uint32_t>(list.size()));
    // Sent to LUN 0 or LUN 1 (the copy manager may be either end).
    const std::uint64_t lun_field = std::uint64_t{data[0] & 1u} << 48;
    world.run(cdb, lun_field, list, 0);
    // Whatever happened, RECEIVE COPY RESULTS answers for the LIST IDENTIFIER.
    const std::uint8_t list_id = list.empty() ? 0 : list[0];
    for (const std::uint8_t sa : {0x00, 0x01, 0x03, 0x04}) {
        const auto r = world.run({0x84, sa, list_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0},
                                 lun_field, {}, 256);
        ITD_CHECK(r.status == scsi::Status::good || r.status == scsi::Status::check_condition);
    }
    return 0;
}
