// Backend errors become the sense an initiator acts on, and asynchronous completions on
// another thread still answer exactly once.
#include "scsi/volume_errors.h"

#include <gtest/gtest.h>

#include <thread>

#include "harness.h"

namespace itd::scsi::testing {
namespace {

// Completes every call on a fresh thread with a chosen status.
class FaultyVolume : public volume::Volume {
public:
    std::optional<Error> error;
    volume::Geometry geometry() const override { return {512, 64}; }
    void read(std::uint64_t, std::span<std::uint8_t>, volume::Completion d) override {
        complete(std::move(d));
    }
    void write(std::uint64_t, std::span<const std::uint8_t>, volume::WriteFlags flags,
               volume::Completion d) override {
        last_fua = flags.fua;
        complete(std::move(d));
    }
    void flush(volume::Completion d) override { complete(std::move(d)); }
    bool has_volatile_cache() const override { return true; }
    bool last_fua = false;

private:
    void complete(volume::Completion d) {
        itd::Status st = {};
        if (error) st = std::unexpected(*error);
        std::thread([d = std::move(d), st]() mutable { d(st); }).detach();
    }
};

struct Fixture {
    std::shared_ptr<FaultyVolume> vol = std::make_shared<FaultyVolume>();
    Harness h;
    Fixture() {
        LunConfig cfg;
        cfg.volume = vol;
        h.target.add_lun(1, std::move(cfg));
        h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, kLun1);  // power on UA
    }
    static constexpr std::uint64_t kLun1 = 0x0001000000000000ull;
    Reply read() { return h.run({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 512, {}, kLun1); }
    Reply write(std::uint8_t flags = 0) {
        return h.run({0x2a, flags, 0, 0, 0, 0, 0, 0, 1, 0}, 0, std::vector<std::uint8_t>(512),
                     kLun1);
    }
    Reply sync() { return h.run({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, {}, kLun1); }
};

TEST(VolumeErrors, Mapping) {
    EXPECT_EQ(sense_for_volume_error({Errc::io_error, ""}, IoKind::read),
              SenseReason::unrecovered_read_error);
    EXPECT_EQ(sense_for_volume_error({Errc::io_error, ""}, IoKind::write), SenseReason::write_error);
    EXPECT_EQ(sense_for_volume_error({Errc::unavailable, ""}, IoKind::write), SenseReason::not_ready);
    EXPECT_EQ(sense_for_volume_error({Errc::failed_precondition, ""}, IoKind::write),
              SenseReason::write_error);
}

TEST(VolumeErrors, ThroughTheTarget) {
    Fixture f;
    EXPECT_TRUE(f.read().good());
    EXPECT_TRUE(f.write().good());
    EXPECT_TRUE(f.sync().good());
    f.vol->error = Error{Errc::io_error, "boom"};
    Reply r = f.read();
    EXPECT_TRUE(r.is(SenseReason::unrecovered_read_error));
    EXPECT_EQ(r.result.data_in_bytes, 0u);
    EXPECT_TRUE(f.write().is(SenseReason::write_error));
    EXPECT_TRUE(f.sync().is(SenseReason::medium_error));
    f.vol->error = Error{Errc::unavailable, "later"};
    EXPECT_TRUE(f.read().is(SenseReason::not_ready));
    EXPECT_EQ(f.read().calls, 1);
}

TEST(VolumeErrors, FuaPassedThrough) {
    Fixture f;
    // The volume has a volatile cache, so WCE=1 and only FUA asks for write-through.
    ASSERT_TRUE(f.write().good());
    EXPECT_FALSE(f.vol->last_fua);
    ASSERT_TRUE(f.write(0x08).good());
    EXPECT_TRUE(f.vol->last_fua);
}

TEST(FlushAll, FlushesEveryVolume) {
    Fixture f;
    EXPECT_TRUE(f.h.target.flush_all());
    f.vol->error = Error{Errc::io_error, "disk gone"};
    auto st = f.h.target.flush_all();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "disk gone");
}

}  // namespace
}  // namespace itd::scsi::testing
