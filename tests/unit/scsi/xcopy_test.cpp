// EXTENDED COPY (LID1) and RECEIVE COPY RESULTS through the Target: copies inside one LU and
// across LUs (also of different block sizes), in bounded chunks, under the destination's range
// lock; the sense of every way a copy can fail; what RECEIVE COPY RESULTS and VPD 8Fh report.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "harness.h"
#include "scsi/lun.h"
#include "scsi/spc_copy_results.h"
#include "scsi/spc_xcopy.h"
#include "xcopy_builder.h"

namespace itd::scsi::testing {
namespace {

constexpr std::uint64_t kLun1 = 0x0001000000000000ull;

// A memory volume that records the largest single read and write, can fail every call, and can
// complete on another thread.
class RecordingVolume : public volume::Volume {
  public:
    explicit RecordingVolume(std::uint64_t blocks, std::uint32_t block_size = 512)
        : inner_(memory_volume(blocks, block_size)) {}
    volume::Geometry geometry() const override { return inner_->geometry(); }
    void read(std::uint64_t offset, std::span<std::uint8_t> out, volume::Completion d) override {
        max_read = std::max<std::uint64_t>(max_read, out.size());
        ++reads;
        if (fail_reads) return complete(std::move(d), Errc::io_error);
        inner_->read(offset, out, wrap(std::move(d)));
    }
    void write(std::uint64_t offset, std::span<const std::uint8_t> in, volume::WriteFlags f,
               volume::Completion d) override {
        max_write = std::max<std::uint64_t>(max_write, in.size());
        ++writes;
        if (fail_writes) return complete(std::move(d), *fail_writes);
        inner_->write(offset, in, f, wrap(std::move(d)));
    }
    void flush(volume::Completion d) override { inner_->flush(std::move(d)); }
    bool has_volatile_cache() const override { return false; }

    std::atomic<std::uint64_t> max_read{0}, max_write{0}, reads{0}, writes{0};
    bool fail_reads = false;
    std::optional<Errc> fail_writes;
    bool threaded = false;

  private:
    volume::Completion wrap(volume::Completion d) {
        if (!threaded) return d;
        return [d = std::move(d)](itd::Status st) mutable {
            std::thread([d = std::move(d), st]() mutable { d(st); }).detach();
        };
    }
    void complete(volume::Completion d, Errc code) {
        itd::Status st = std::unexpected(Error{code, "injected"});
        wrap(std::move(d))(st);
    }
    std::shared_ptr<volume::Volume> inner_;
};

Bytes pattern(std::size_t n, std::uint8_t seed) {
    Bytes v(n);
    // Multiplicative hashing: no period at a power of two (a copy of the wrong chunk shows).
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = static_cast<std::uint8_t>(
            (static_cast<std::uint32_t>(i + seed * 40503u) * 2654435761u) >> 24);
    }
    return v;
}

// The LU's NAA designator, from VPD 83h (the first designator, spc_inquiry.cpp).
std::uint64_t naa_of(Harness& h, std::uint64_t lun_field = 0) {
    Reply r = h.run({0x12, 0x01, 0x83, 0, 255, 0}, 255, {}, lun_field);
    EXPECT_TRUE(r.good());
    EXPECT_EQ(r.data[5] & 0x0f, 0x03);
    return load_be64(&r.data[8]);
}

void write16(Harness& h, std::uint64_t lba, const Bytes& data, std::uint64_t lun_field = 0,
             std::uint32_t block = 512) {
    Bytes cdb(16, 0);
    cdb[0] = 0x8a;
    store_be64(&cdb[2], lba);
    store_be32(&cdb[10], static_cast<std::uint32_t>(data.size() / block));
    ASSERT_TRUE(h.run_cdb(cdb, 0, data, lun_field).good());
}

Bytes read16(Harness& h, std::uint64_t lba, std::size_t bytes, std::uint64_t lun_field = 0,
             std::uint32_t block = 512) {
    Bytes cdb(16, 0);
    cdb[0] = 0x88;
    store_be64(&cdb[2], lba);
    store_be32(&cdb[10], static_cast<std::uint32_t>(bytes / block));
    Reply r = h.run_cdb(cdb, bytes, {}, lun_field);
    EXPECT_TRUE(r.good());
    return r.data;
}

Reply xcopy(Harness& h, const Bytes& list, std::uint64_t lun_field = 0) {
    return h.run_cdb(xcopy_cdb(static_cast<std::uint32_t>(list.size())), 0, list, lun_field);
}

// The field pointer of sense data (SKSV set), or -1.
int field_pointer(const Reply& r) {
    if ((r.result.sense[15] & 0x80) == 0) return -1;
    return load_be16(&r.result.sense[16]);
}

// Harness with a second LUN on a RecordingVolume.
struct TwoLuns {
    Harness h{4096};
    std::shared_ptr<RecordingVolume> vol1;
    TwoLuns(std::uint64_t blocks1 = 4096, std::uint32_t block1 = 512, bool read_only1 = false)
        : vol1(std::make_shared<RecordingVolume>(blocks1, block1)) {
        LunConfig cfg;
        cfg.volume = vol1;
        cfg.read_only = read_only1;
        h.target.add_lun(1, std::move(cfg));
        h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, kLun1);  // power-on UA
    }
};

TEST(ExtendedCopy, CopiesWithinOneLuAndReportsStatus) {
    Harness h(4096);
    const Bytes data = pattern(64 * 512, 3);
    write16(h, 10, data);
    const std::uint64_t naa = naa_of(h);
    ASSERT_TRUE(
        xcopy(h, xcopy_list(5, 0, {e4_descriptor(naa)}, {b2b_segment(0, 0, 64, 10, 1000)})).good());
    EXPECT_EQ(read16(h, 1000, data.size()), data);

    // COPY STATUS: completed without errors, one segment, 32 KiB in bytes.
    Reply st = h.run_cdb(rcr_cdb(0x00, 5), 1024);
    ASSERT_TRUE(st.good());
    ASSERT_EQ(st.data.size(), 12u);
    EXPECT_EQ(load_be32(&st.data[0]), 8u);
    EXPECT_EQ(st.data[4], 0x01);
    EXPECT_EQ(load_be16(&st.data[5]), 1);
    EXPECT_EQ(st.data[7], 0x00);
    EXPECT_EQ(load_be32(&st.data[8]), data.size());
    // Reported once, then discarded: INVALID FIELD IN CDB at the LIST IDENTIFIER.
    Reply again = h.run_cdb(rcr_cdb(0x00, 5), 1024);
    EXPECT_TRUE(again.is(SenseReason::invalid_field_in_cdb));
    EXPECT_EQ(field_pointer(again), 2);
    // Never used, or used with LIST ID USAGE 11b: nothing to report.
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x00, 9), 1024).is(SenseReason::invalid_field_in_cdb));
    ASSERT_TRUE(
        xcopy(h, xcopy_list(0, 3, {e4_descriptor(naa)}, {b2b_segment(0, 0, 1, 0, 1)})).good());
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x00, 0), 1024).is(SenseReason::invalid_field_in_cdb));
    // A short allocation length keeps the status for another look.
    ASSERT_TRUE(
        xcopy(h, xcopy_list(6, 2, {e4_descriptor(naa)}, {b2b_segment(0, 0, 1, 0, 1)})).good());
    EXPECT_EQ(h.run_cdb(rcr_cdb(0x00, 6, 4), 4).data.size(), 4u);
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x00, 6), 1024).good());
    // ALLOCATION LENGTH zero discards it.
    ASSERT_TRUE(
        xcopy(h, xcopy_list(6, 2, {e4_descriptor(naa)}, {b2b_segment(0, 0, 1, 0, 1)})).good());
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x00, 6, 0)).good());
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x00, 6), 1024).is(SenseReason::invalid_field_in_cdb));
}

TEST(ExtendedCopy, EmptyListsAndZeroBlocks) {
    Harness h;
    // PARAMETER LIST LENGTH 0: GOOD, nothing happens.
    EXPECT_TRUE(h.run_cdb(xcopy_cdb(0)).good());
    // A header without descriptors, and a zero-block segment (even at the capacity).
    EXPECT_TRUE(xcopy(h, xcopy_list(1, 0, {}, {})).good());
    const std::uint64_t naa = naa_of(h);
    EXPECT_TRUE(xcopy(h, xcopy_list(1, 0, {e4_descriptor(naa)}, {b2b_segment(0, 0, 0, 2048, 2048)}))
                    .good());
    // The empty segment still counts as processed.
    Reply st = h.run_cdb(rcr_cdb(0x00, 1), 1024);
    ASSERT_TRUE(st.good());
    EXPECT_EQ(st.data[4], 0x01);
    EXPECT_EQ(load_be16(&st.data[5]), 1);
    EXPECT_EQ(load_be32(&st.data[8]), 0u);
}

TEST(ExtendedCopy, CopiesAcrossLusInBoundedChunks) {
    TwoLuns f(8192);
    // 4 MiB: more than one chunk.
    const Bytes data = pattern(8192 * 512 / 2, 11);
    write16(f.h, 0, Bytes(data.begin(), data.begin() + 2048 * 512));
    write16(f.h, 2048, Bytes(data.begin() + 2048 * 512, data.end()));
    const std::uint64_t naa0 = naa_of(f.h), naa1 = naa_of(f.h, kLun1);
    ASSERT_NE(naa0, naa1);
    const Bytes list = xcopy_list(1, 0, {e4_descriptor(naa0), e4_descriptor(naa1)},
                                  {b2b_segment(0, 1, 4096, 0, 100), b2b_segment(0, 1, 8, 0, 8000)});
    ASSERT_TRUE(xcopy(f.h, list).good());
    EXPECT_LE(f.vol1->max_write.load(), kCopyChunkBytes);
    EXPECT_GE(f.vol1->writes.load(), 3u);
    EXPECT_EQ(read16(f.h, 100, 2048 * 512, kLun1), Bytes(data.begin(), data.begin() + 2048 * 512));
    EXPECT_EQ(read16(f.h, 2148, 2048 * 512, kLun1), Bytes(data.begin() + 2048 * 512, data.end()));
    EXPECT_EQ(read16(f.h, 8000, 8 * 512, kLun1), Bytes(data.begin(), data.begin() + 8 * 512));
    // And back, the copy manager being LUN 1 this time; completions on other threads.
    f.vol1->threaded = true;
    ASSERT_TRUE(xcopy(f.h,
                      xcopy_list(2, 0, {e4_descriptor(naa1), e4_descriptor(naa0)},
                                 {b2b_segment(0, 1, 2048, 100, 1000)}),
                      kLun1)
                    .good());
    EXPECT_LE(f.vol1->max_read.load(), kCopyChunkBytes);
    EXPECT_EQ(read16(f.h, 1000, 2048 * 512), Bytes(data.begin(), data.begin() + 2048 * 512));
    Reply st = f.h.run_cdb(rcr_cdb(0x00, 2), 1024, {}, kLun1);
    ASSERT_TRUE(st.good());
    EXPECT_EQ(st.data[4], 0x01);
}

TEST(ExtendedCopy, DifferentBlockSizes) {
    TwoLuns f(1024, 4096);
    const Bytes data = pattern(16 * 512, 5);
    write16(f.h, 40, data);
    const std::uint64_t naa0 = naa_of(f.h), naa1 = naa_of(f.h, kLun1);
    const Bytes cscds0 = e4_descriptor(naa0, 512), cscds1 = e4_descriptor(naa1, 4096);
    // 16 source blocks of 512 = 2 destination blocks of 4096; DC=1 counts destination blocks.
    ASSERT_TRUE(
        xcopy(f.h, xcopy_list(1, 0, {cscds0, cscds1}, {b2b_segment(0, 1, 16, 40, 7)})).good());
    ASSERT_TRUE(
        xcopy(f.h, xcopy_list(1, 0, {cscds0, cscds1}, {b2b_segment(0, 1, 2, 40, 9, true)})).good());
    EXPECT_EQ(read16(f.h, 7, data.size(), kLun1, 4096), data);
    EXPECT_EQ(read16(f.h, 9, data.size(), kLun1, 4096), data);
    // Three 512-byte blocks do not fill a 4096-byte block: UNEXPECTED INEXACT SEGMENT.
    Reply r = xcopy(f.h, xcopy_list(1, 0, {cscds0, cscds1}, {b2b_segment(0, 1, 3, 40, 7)}));
    EXPECT_TRUE(r.is(SenseReason::unexpected_inexact_segment));
    EXPECT_EQ(field_pointer(r), 16 + 64 + 10);
    // A DISK BLOCK LENGTH that is not the LU's: INCORRECT COPY TARGET DEVICE TYPE.
    r = xcopy(f.h,
              xcopy_list(1, 0, {cscds0, e4_descriptor(naa1, 512)}, {b2b_segment(0, 1, 16, 40, 7)}));
    EXPECT_TRUE(r.is(SenseReason::copy_target_incorrect_type));
    EXPECT_EQ(field_pointer(r), 48 + 29);
}

TEST(ExtendedCopy, OverlappingRangesCopyAsAWhole) {
    // 3 MiB from LBA 0 to LBA 2048 (1 MiB further): forward chunks would read what they wrote.
    Harness h(16384);
    const Bytes data = pattern(6144 * 512, 9);
    for (std::size_t i = 0; i < 3; ++i) {
        write16(h, i * 2048,
                Bytes(data.begin() + static_cast<std::ptrdiff_t>(i * 2048 * 512),
                      data.begin() + static_cast<std::ptrdiff_t>((i + 1) * 2048 * 512)));
    }
    const std::uint64_t naa = naa_of(h);
    ASSERT_TRUE(xcopy(h, xcopy_list(1, 0, {e4_descriptor(naa)}, {b2b_segment(0, 0, 6144, 0, 2048)}))
                    .good());
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(read16(h, 2048 + i * 2048, 2048 * 512),
                  Bytes(data.begin() + static_cast<std::ptrdiff_t>(i * 2048 * 512),
                        data.begin() + static_cast<std::ptrdiff_t>((i + 1) * 2048 * 512)))
            << i;
    }
    // The other direction (destination before source) goes forward.
    ASSERT_TRUE(xcopy(h, xcopy_list(1, 0, {e4_descriptor(naa)}, {b2b_segment(0, 0, 6144, 2048, 1)}))
                    .good());
    EXPECT_EQ(read16(h, 1, 2048 * 512), Bytes(data.begin(), data.begin() + 2048 * 512));
}

TEST(ExtendedCopy, SegmentErrorsAreCopyAborted) {
    TwoLuns f;
    const std::uint64_t naa0 = naa_of(f.h);
    const Bytes c0 = e4_descriptor(naa0);
    // A CSCD descriptor ID past the list: UNREACHABLE COPY TARGET, pointing at the ID.
    Reply r = f.h.run_cdb(xcopy_cdb(76), 0, xcopy_list(1, 0, {c0}, {b2b_segment(0, 1, 8, 0, 8)}));
    EXPECT_TRUE(r.is(SenseReason::copy_target_unreachable));
    EXPECT_EQ(r.key(), 0x0a);
    EXPECT_EQ(field_pointer(r), 48 + 6);
    // A designator no LU has: COPY TARGET DEVICE NOT REACHABLE.
    r = xcopy(f.h, xcopy_list(1, 0, {e4_descriptor(0x3000000000000001ull)},
                              {b2b_segment(0, 0, 8, 0, 8)}));
    EXPECT_TRUE(r.is(SenseReason::copy_target_not_reachable));
    EXPECT_EQ(field_pointer(r), 16 + 4);
    // Not NAA: a T10 vendor id designator names nothing we can match.
    Bytes t10 = c0;
    t10[4] = 0x02;
    t10[5] = 0x01;
    EXPECT_TRUE(xcopy(f.h, xcopy_list(1, 0, {t10}, {b2b_segment(0, 0, 8, 0, 8)}))
                    .is(SenseReason::copy_target_not_reachable));
    // A CSCD descriptor for a tape (peripheral device type 01h).
    Bytes tape = c0;
    tape[1] = 0x01;
    EXPECT_TRUE(xcopy(f.h, xcopy_list(1, 0, {tape}, {b2b_segment(0, 0, 8, 0, 8)}))
                    .is(SenseReason::copy_target_incorrect_type));
    // Past the end of the destination, and of the source: COPY ABORTED, pointing at the LBA,
    // with the LBA in INFORMATION. Earlier segments stay copied.
    const Bytes data = pattern(8 * 512, 1);
    write16(f.h, 0, data);
    r = xcopy(f.h,
              xcopy_list(3, 0, {c0}, {b2b_segment(0, 0, 8, 0, 16), b2b_segment(0, 0, 8, 0, 4095)}));
    EXPECT_TRUE(r.is(SenseReason::copy_aborted));
    EXPECT_EQ(field_pointer(r), 16 + 32 + 28 + 20);
    EXPECT_EQ(r.result.sense[0], 0xf0);
    EXPECT_EQ(load_be32(&r.result.sense[3]), 4095u);
    EXPECT_EQ(read16(f.h, 16, data.size()), data);
    r = xcopy(f.h, xcopy_list(1, 0, {c0}, {b2b_segment(0, 0, 8, 4092, 0)}));
    EXPECT_TRUE(r.is(SenseReason::copy_aborted));
    EXPECT_EQ(field_pointer(r), 48 + 12);

    // COPY STATUS of the failed copy: completed with errors after one segment.
    Reply st = f.h.run_cdb(rcr_cdb(0x00, 3), 1024);
    ASSERT_TRUE(st.good());
    EXPECT_EQ(st.data[4], 0x02);
    EXPECT_EQ(load_be16(&st.data[5]), 1);
    EXPECT_EQ(load_be32(&st.data[8]), data.size());
}

TEST(ExtendedCopy, ReadOnlyDestinationAndFailingVolumes) {
    TwoLuns f(4096, 512, true);
    const std::uint64_t naa0 = naa_of(f.h), naa1 = naa_of(f.h, kLun1);
    const Bytes list =
        xcopy_list(1, 0, {e4_descriptor(naa0), e4_descriptor(naa1)}, {b2b_segment(0, 1, 8, 0, 0)});
    EXPECT_TRUE(xcopy(f.h, list).is(SenseReason::write_protected));
    EXPECT_EQ(f.vol1->writes.load(), 0u);
    // Reading from a read-only LU is fine.
    EXPECT_TRUE(xcopy(f.h, xcopy_list(1, 0, {e4_descriptor(naa1), e4_descriptor(naa0)},
                                      {b2b_segment(0, 1, 8, 0, 0)}))
                    .good());

    TwoLuns g;
    const std::uint64_t g0 = naa_of(g.h), g1 = naa_of(g.h, kLun1);
    const Bytes to1 =
        xcopy_list(4, 0, {e4_descriptor(g0), e4_descriptor(g1)}, {b2b_segment(0, 1, 8, 0, 0)});
    const Bytes from1 =
        xcopy_list(4, 0, {e4_descriptor(g1), e4_descriptor(g0)}, {b2b_segment(0, 1, 8, 0, 0)});
    g.vol1->fail_writes = Errc::io_error;
    Reply r = xcopy(g.h, to1);
    EXPECT_TRUE(r.is(SenseReason::copy_target_failure));
    // FAILED SEGMENT DETAILS hands back that sense, once.
    Reply fsd = g.h.run_cdb(rcr_cdb(0x04, 4), 1024);
    ASSERT_TRUE(fsd.good());
    ASSERT_EQ(fsd.data.size(), 60u + 18u);
    EXPECT_EQ(load_be32(&fsd.data[0]), 56u + 18u);
    EXPECT_EQ(fsd.data[56], 0x02);  // CHECK CONDITION
    EXPECT_EQ(load_be16(&fsd.data[58]), 18);
    EXPECT_EQ(fsd.data[60 + 2] & 0x0f, 0x0a);  // COPY ABORTED
    EXPECT_EQ(fsd.data[60 + 12], 0x0d);
    EXPECT_EQ(fsd.data[60 + 13], 0x01);
    fsd = g.h.run_cdb(rcr_cdb(0x04, 4), 1024);
    ASSERT_TRUE(fsd.good());
    EXPECT_EQ(fsd.data, Bytes(4, 0));
    // A transient backend error stays NOT READY, so the initiator retries.
    g.vol1->fail_writes = Errc::unavailable;
    EXPECT_TRUE(xcopy(g.h, to1).is(SenseReason::not_ready));
    g.vol1->fail_writes.reset();
    g.vol1->fail_reads = true;
    EXPECT_TRUE(xcopy(g.h, from1).is(SenseReason::copy_target_failure));
}

TEST(ExtendedCopy, ParameterListErrorsAreIllegalRequest) {
    Harness h;
    const std::uint64_t naa = naa_of(h);
    const Bytes list = xcopy_list(1, 0, {e4_descriptor(naa)}, {b2b_segment(0, 0, 8, 0, 8)});
    // Truncated by PARAMETER LIST LENGTH, and by the data that arrived.
    EXPECT_TRUE(h.run_cdb(xcopy_cdb(40), 0, list).is(SenseReason::parameter_list_length_error));
    EXPECT_TRUE(h.run_cdb(xcopy_cdb(76), 0, Bytes(list.begin(), list.begin() + 60))
                    .is(SenseReason::parameter_list_length_error));
    Bytes bad = list;
    bad[16] = 0xe0;
    Reply r = xcopy(h, bad);
    EXPECT_TRUE(r.is(SenseReason::unsupported_target_descriptor_type));
    EXPECT_EQ(r.result.sense[15], 0x80);  // SKSV, parameter list (C/D 0)
    EXPECT_EQ(field_pointer(r), 16);
    // LID4 (service action 01h) is not supported; reserved CDB bytes are checked.
    Bytes cdb = xcopy_cdb(static_cast<std::uint32_t>(list.size()));
    cdb[1] = 0x01;
    EXPECT_TRUE(h.run_cdb(cdb, 0, list).is(SenseReason::invalid_field_in_cdb));
    cdb[1] = 0;
    cdb[5] = 1;
    EXPECT_TRUE(h.run_cdb(cdb, 0, list).is(SenseReason::invalid_field_in_cdb));
}

TEST(ExtendedCopy, DestinationWritesWaitForTheRangeLock) {
    TwoLuns f;
    const std::uint64_t naa0 = naa_of(f.h), naa1 = naa_of(f.h, kLun1);
    LogicalUnit* lu1 = f.h.target.find_lun_by_naa(naa1);
    ASSERT_NE(lu1, nullptr);
    EXPECT_EQ(f.h.target.find_lun_by_naa(0x3000000000000001ull), nullptr);
    const Bytes data = pattern(8 * 512, 2);
    write16(f.h, 0, data);

    // Hold blocks 100..107 of LUN 1 the way a running WRITE would.
    std::optional<RangeLock::Guard> held;
    lu1->range_lock().acquire(104, 1, [&](RangeLock::Guard g) { held = std::move(g); });
    ASSERT_TRUE(held.has_value());

    const Bytes list = xcopy_list(1, 0, {e4_descriptor(naa0), e4_descriptor(naa1)},
                                  {b2b_segment(0, 1, 8, 0, 100)});
    const Bytes cdb = xcopy_cdb(static_cast<std::uint32_t>(list.size()));
    std::mutex m;
    std::condition_variable cv;
    std::optional<CommandResult> result;
    Command cmd;
    cmd.nexus = f.h.nexus;
    cmd.cdb = cdb;
    cmd.data_out = list;
    f.h.target.execute(cmd, [&](CommandResult r) {
        std::lock_guard lock(m);
        result = r;
        cv.notify_all();
    });
    {
        std::lock_guard lock(m);
        EXPECT_FALSE(result.has_value());  // waiting for the lock
    }
    EXPECT_EQ(f.vol1->writes.load(), 0u);
    EXPECT_EQ(lu1->range_lock().waiting_count(), 1u);
    held.reset();  // the grant runs the copy's write
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return result.has_value(); });
    EXPECT_EQ(result->status, Status::good);
    lock.unlock();
    EXPECT_EQ(lu1->range_lock().held_count(), 0u);
    EXPECT_EQ(read16(f.h, 100, data.size(), kLun1), data);

    // COPY STATUS while a copy waits reports it in progress.
    lu1->range_lock().acquire(104, 1, [&](RangeLock::Guard g) { held = std::move(g); });
    result.reset();
    Bytes list2 = list;
    list2[0] = 2;
    cmd.data_out = list2;
    f.h.target.execute(cmd, [&](CommandResult r) {
        std::lock_guard l(m);
        result = r;
        cv.notify_all();
    });
    Reply st = f.h.run_cdb(rcr_cdb(0x00, 2), 1024);
    ASSERT_TRUE(st.good());
    EXPECT_EQ(st.data[4], 0x00);  // operation in progress
    // The same LIST IDENTIFIER again while it runs: OPERATION IN PROGRESS.
    EXPECT_TRUE(f.h.run_cdb(cdb, 0, list2).is(SenseReason::operation_in_progress));
    held.reset();
    lock.lock();
    cv.wait(lock, [&] { return result.has_value(); });
    EXPECT_EQ(result->status, Status::good);
}

TEST(ReceiveCopyResults, OperatingParametersAndVpdAgree) {
    Harness h(2048, 4096);
    Reply op = h.run_cdb(rcr_cdb(0x03, 0), 1024);
    ASSERT_TRUE(op.good());
    ASSERT_EQ(op.data.size(), 46u);
    EXPECT_EQ(load_be32(&op.data[0]), 42u);
    EXPECT_EQ(op.data[4] & 0x01, 0x01);  // SNLID
    EXPECT_EQ(load_be16(&op.data[8]), kCopyManagerLimits.max_cscd_descriptors);
    EXPECT_EQ(load_be16(&op.data[10]), kCopyManagerLimits.max_segment_descriptors);
    EXPECT_EQ(load_be32(&op.data[12]), kCopyManagerLimits.max_descriptor_list_bytes);
    EXPECT_EQ(load_be32(&op.data[16]), kMaxSegmentBytes);
    EXPECT_EQ(load_be32(&op.data[20]), 0u);
    EXPECT_EQ(load_be16(&op.data[34]), kMaxConcurrentCopies);
    EXPECT_EQ(op.data[36], kMaxConcurrentCopies);
    EXPECT_EQ(op.data[37], 12);  // 4096-byte blocks
    EXPECT_EQ(op.data[43], 2);
    EXPECT_EQ(op.data[44], 0x02);
    EXPECT_EQ(op.data[45], 0xe4);
    // Allocation length cuts the data.
    EXPECT_EQ(h.run_cdb(rcr_cdb(0x03, 0, 8), 8).data.size(), 8u);
    // RECEIVE DATA: never any held data.
    Reply rd = h.run_cdb(rcr_cdb(0x01, 1), 1024);
    ASSERT_TRUE(rd.good());
    EXPECT_EQ(rd.data, Bytes(4, 0));
    // Service action 02h (reserved) and 05h: INVALID FIELD IN CDB.
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x02, 0), 1024).is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(h.run_cdb(rcr_cdb(0x05, 0), 1024).is(SenseReason::invalid_field_in_cdb));

    // VPD 8Fh: the same limits, and the commands the table has.
    Reply vpd = h.run({0x12, 0x01, 0x8f, 0x04, 0x00, 0}, 1024);
    ASSERT_TRUE(vpd.good());
    const Bytes& d = vpd.data;
    ASSERT_EQ(d.size(), 4u + load_be16(&d[2]));
    std::vector<std::uint16_t> types;
    for (std::size_t at = 4; at + 4 <= d.size();) {
        const std::uint16_t type = load_be16(&d[at]);
        const std::size_t len = load_be16(&d[at + 2]);
        ASSERT_EQ(len % 4, 0u);
        ASSERT_LE(at + 4 + len, d.size());
        types.push_back(type);
        const std::uint8_t* b = &d[at];
        switch (type) {
            case 0x0001: {
                const Bytes list(b + 5, b + 5 + b[4]);
                EXPECT_EQ(list, (Bytes{0x83, 1, 0x00, 0x84, 4, 0x00, 0x01, 0x03, 0x04}));
                break;
            }
            case 0x0004:
                EXPECT_EQ(load_be16(b + 8), kCopyManagerLimits.max_cscd_descriptors);
                EXPECT_EQ(load_be16(b + 10), kCopyManagerLimits.max_segment_descriptors);
                EXPECT_EQ(load_be32(b + 12), kCopyManagerLimits.max_descriptor_list_bytes);
                EXPECT_EQ(load_be32(b + 16), 0u);
                break;
            case 0x0008:
                EXPECT_EQ(Bytes(b + 4, b + 7), (Bytes{2, 0x02, 0xe4}));
                break;
            case 0x8001:
                EXPECT_EQ(load_be32(b + 4), kMaxConcurrentCopies);
                EXPECT_EQ(load_be32(b + 12), kMaxSegmentBytes);
                EXPECT_EQ(b[16], 12);
                break;
            default:
                break;
        }
        at += 4 + len;
    }
    EXPECT_EQ(types, (std::vector<std::uint16_t>{0x0001, 0x0004, 0x0008, 0x000c, 0x8001}));
    // Standard INQUIRY says there is a copy manager (3PC).
    EXPECT_EQ(h.run({0x12, 0, 0, 0, 96, 0}, 96).data[5] & 0x08, 0x08);
    // REPORT SUPPORTED OPERATION CODES knows the service actions.
    Reply one = h.run({0xa3, 0x0c, 0x02, 0x84, 0x00, 0x04, 0, 0, 0, 64, 0, 0}, 64);
    ASSERT_TRUE(one.good());
    EXPECT_EQ(one.data[1] & 0x07, 0x03);
    EXPECT_TRUE(h.run({0xa3, 0x0c, 0x02, 0x84, 0x00, 0x02, 0, 0, 0, 64, 0, 0}, 64).good());
}

TEST(CopyResults, LifecycleAndBounds) {
    CopyResults r;
    CommandResult good;
    EXPECT_FALSE(r.begin(1, 7, true, 2).has_value());
    EXPECT_EQ(r.begin(1, 7, true, 2), CopyResults::BeginError::list_id_in_use);
    // Another nexus may use the same LIST IDENTIFIER.
    EXPECT_FALSE(r.begin(2, 7, true, 2).has_value());
    EXPECT_EQ(r.begin(1, 8, false, 2), CopyResults::BeginError::too_many);
    EXPECT_EQ(r.running(), 2u);
    r.progress(1, 7, 3, 1000);
    auto s = r.copy_status(1, 7);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->state, CopyManagerStatus::in_progress);
    EXPECT_EQ(s->segments_processed, 3);
    r.discard(1, 7);  // a running copy is not discarded
    EXPECT_TRUE(r.copy_status(1, 7).has_value());
    r.complete(1, 7, true, good);
    r.complete(2, 7, true, good);
    EXPECT_EQ(r.running(), 0u);
    EXPECT_EQ(r.copy_status(1, 7)->state, CopyManagerStatus::completed_good);
    EXPECT_FALSE(r.failed_segment_details(1, 7).has_value());
    // A completed LIST IDENTIFIER may be reused; the old status goes.
    EXPECT_FALSE(r.begin(1, 7, true, 2).has_value());
    EXPECT_EQ(r.copy_status(1, 7)->state, CopyManagerStatus::in_progress);
    r.complete(1, 7, true, good);
    // Completed records are bounded: the oldest go first.
    for (std::uint32_t i = 0; i < CopyResults::kMaxCompletedRecords + 10; ++i) {
        ASSERT_FALSE(r.begin(100 + i, 1, true, 1).has_value());
        r.complete(100 + i, 1, true, good);
    }
    EXPECT_FALSE(r.copy_status(1, 7).has_value());
    EXPECT_FALSE(r.copy_status(100, 1).has_value());
    EXPECT_TRUE(r.copy_status(100 + CopyResults::kMaxCompletedRecords + 9, 1).has_value());
    // TRANSFER COUNT units.
    EXPECT_EQ(transfer_count(4096).units, 0);
    EXPECT_EQ(transfer_count(4096).count, 4096u);
    EXPECT_EQ(transfer_count(0x100000000ull).units, 1);
    EXPECT_EQ(transfer_count(0x100000000ull).count, 0x400000u);
}

}  // namespace
}  // namespace itd::scsi::testing
