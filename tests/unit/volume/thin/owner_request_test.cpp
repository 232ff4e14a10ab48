// The request protocol to a volume's owner (owner_request.h): the JSON values, and
// ask_owner() against a thread playing the owner and against a real ThinVolume.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "thin/fake_stores.h"
#include "volume/thin/catalog.h"
#include "volume/thin/owner_request.h"
#include "volume/thin/thin_volume.h"

namespace itd::volume::thin {
namespace {

using namespace std::chrono_literals;
using testing::MemoryMetaStore;
using testing::MemoryObjectStore;

TEST(OwnerRequestCodec, RequestsRoundTrip) {
    OwnerRequest snap{"abc", OwnerRequest::Op::snapshot, "monday", 0};
    auto decoded = decode_request(encode_request(snap));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->id, "abc");
    EXPECT_EQ(decoded->op, OwnerRequest::Op::snapshot);
    EXPECT_EQ(decoded->snapshot, "monday");
    EXPECT_FALSE(is_reply(encode_request(snap)));

    OwnerRequest grow{"def", OwnerRequest::Op::grow, "", 0xFFFF'FFFF'FFFF'F000ull};
    decoded = decode_request(encode_request(grow));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->op, OwnerRequest::Op::grow);
    EXPECT_EQ(decoded->size_bytes, 0xFFFF'FFFF'FFFF'F000ull);  // above 2^53: a string in JSON
    EXPECT_NE(encode_request(grow).find("\"size_bytes\":\"18446744073709547520\""),
              std::string::npos);
}

TEST(OwnerRequestCodec, RepliesRoundTrip) {
    const std::string text = encode_reply(OwnerReply{"abc", "snapshot v@s already exists"});
    EXPECT_TRUE(is_reply(text));
    auto reply = decode_reply(text);
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply->id, "abc");
    EXPECT_EQ(reply->error, "snapshot v@s already exists");
    EXPECT_FALSE(decode_request(text));
    EXPECT_EQ(text, R"({"id":"abc","done":true,"error":"snapshot v@s already exists"})");
}

TEST(OwnerRequestCodec, RefusesWhatIsNeither) {
    for (const char* bad :
         {"", "null", "[]", "{", R"({"id":"x"})", R"({"id":"","op":"grow","size_bytes":"1"})",
          R"({"id":"x","op":"grow"})", R"({"id":"x","op":"grow","size_bytes":"-1"})",
          R"({"id":"x","op":"grow","size_bytes":"1x"})",
          R"({"id":"x","op":"grow","size_bytes":"99999999999999999999"})",
          R"({"id":"x","op":"snapshot"})", R"({"id":"x","op":"delete"})"}) {
        auto r = decode_request(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::io_error) << bad;
        }
        EXPECT_FALSE(is_reply(bad)) << bad;
    }
    EXPECT_FALSE(decode_reply(R"({"id":"x","done":false,"error":""})"));
    EXPECT_FALSE(decode_reply(R"({"id":"x","done":true})"));
    EXPECT_FALSE(
        decode_request(std::string(5000, ' ') + R"({"id":"x","op":"snapshot","snapshot":"s"})"));
}

TEST(OwnerRequestCodec, Key) {
    EXPECT_EQ(request_key("vol0"), "requests/vol0");
}

// Plays the owner: answers the first request it sees with error (empty: success).
class FakeOwner {
public:
    FakeOwner(MetaStore& meta, std::string volume, std::string error)
        : thread_([this, &meta, volume = std::move(volume),
                   error = std::move(error)](std::stop_token stop) {
              while (!stop.stop_requested()) {
                  auto v = meta.get(request_key(volume));
                  if (v && *v && !is_reply((*v)->value)) {
                      auto request = decode_request((*v)->value);
                      if (request) {
                          seen_ = *request;
                          (void)meta.put_if(request_key(volume),
                                            encode_reply(OwnerReply{request->id, error}),
                                            (*v)->revision);
                          answered_ = true;
                          return;
                      }
                  }
                  std::this_thread::sleep_for(5ms);
              }
          }) {}

    bool answered() const { return answered_; }
    OwnerRequest seen() {
        thread_.join();
        return seen_;
    }

private:
    OwnerRequest seen_;
    std::atomic<bool> answered_{false};
    std::jthread thread_;
};

TEST(AskOwner, ThreadAnswers) {
    MemoryMetaStore meta;
    FakeOwner owner(meta, "vol0", "");
    OwnerRequest request;
    request.op = OwnerRequest::Op::grow;
    request.size_bytes = 1 << 20;
    auto st = ask_owner(meta, "vol0", request, 5s);
    ASSERT_TRUE(st) << st.error().message;
    const OwnerRequest seen = owner.seen();
    EXPECT_EQ(seen.op, OwnerRequest::Op::grow);
    EXPECT_EQ(seen.size_bytes, 1u << 20);
    EXPECT_FALSE(seen.id.empty());  // ask_owner picks one
    // The reply was collected: the next request may be posted.
    auto left = meta.get(request_key("vol0"));
    ASSERT_TRUE(left);
    EXPECT_FALSE(*left);
}

TEST(AskOwner, OwnersErrorIsFailedPrecondition) {
    MemoryMetaStore meta;
    FakeOwner owner(meta, "vol0", "snapshot vol0@x already exists");
    OwnerRequest request{"", OwnerRequest::Op::snapshot, "x", 0};
    auto st = ask_owner(meta, "vol0", request, 5s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_NE(st.error().message.find("snapshot vol0@x already exists"), std::string::npos);
    auto left = meta.get(request_key("vol0"));
    ASSERT_TRUE(left);
    EXPECT_FALSE(*left);
}

TEST(AskOwner, TimeoutWithdrawsAndNamesTheOwner) {
    MemoryMetaStore meta;
    auto lock = meta.lock(volume_key("vol0"), "itd pid 42 on host1");
    ASSERT_TRUE(lock);
    const auto start = std::chrono::steady_clock::now();
    auto st = ask_owner(meta, "vol0", OwnerRequest{"", OwnerRequest::Op::snapshot, "s", 0}, 300ms);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::unavailable);
    EXPECT_NE(st.error().message.find("itd pid 42 on host1"), std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find("0.3 s"), std::string::npos) << st.error().message;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);
    auto left = meta.get(request_key("vol0"));
    ASSERT_TRUE(left);
    EXPECT_FALSE(*left) << "the unanswered request is withdrawn";
}

TEST(AskOwner, PendingRequestRefused) {
    MemoryMetaStore meta;
    ASSERT_TRUE(
        meta.put_if(request_key("vol0"),
                    encode_request(OwnerRequest{"other", OwnerRequest::Op::snapshot, "a", 0}), 0));
    auto st = ask_owner(meta, "vol0", OwnerRequest{"", OwnerRequest::Op::snapshot, "b", 0}, 1s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_NE(st.error().message.find("another request for volume vol0 is pending"),
              std::string::npos);
    // The other request is untouched.
    auto left = meta.get(request_key("vol0"));
    ASSERT_TRUE(left && *left);
    EXPECT_NE((*left)->value.find("other"), std::string::npos);
}

// The real owner: a ThinVolume that polls for requests.
class AskRealOwner : public ::testing::Test {
protected:
    void SetUp() override {
        CreateParams p;
        p.name = "vol0";
        p.size_bytes = 1 << 20;
        p.page_size_bytes = 4096;
        p.pages_per_segment = 16;
        ASSERT_TRUE(create_volume(*stores_.meta, p));
        ThinOptions options;
        options.cache_bytes = 1 << 20;
        options.request_poll_interval = 10ms;
        options.owner_info = "test owner";
        auto vol = ThinVolume::open(stores_, "vol0", options);
        ASSERT_TRUE(vol) << vol.error().message;
        vol_ = *vol;
    }

    Stores stores_{std::make_shared<MemoryObjectStore>(), std::make_shared<MemoryMetaStore>()};
    std::shared_ptr<ThinVolume> vol_;
};

TEST_F(AskRealOwner, SnapshotAndGrow) {
    auto st = ask_owner(*stores_.meta, "vol0",
                        OwnerRequest{"", OwnerRequest::Op::snapshot, "first", 0}, 10s);
    ASSERT_TRUE(st) << st.error().message;
    auto snap = stores_.meta->get(snapshot_key("vol0", "first"));
    ASSERT_TRUE(snap && *snap);
    auto sb = decode_superblock((*snap)->value);
    ASSERT_TRUE(sb);
    EXPECT_EQ(sb->snapshot, "first");

    st = ask_owner(*stores_.meta, "vol0", OwnerRequest{"", OwnerRequest::Op::grow, "", 2 << 20},
                   10s);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(vol_->geometry().size_bytes(), 2u << 20);
    EXPECT_EQ(vol_->superblock().size_bytes, 2u << 20);

    // The owner's refusals come back as failed_precondition with its message.
    st = ask_owner(*stores_.meta, "vol0", OwnerRequest{"", OwnerRequest::Op::grow, "", 1 << 20},
                   10s);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::failed_precondition);
    EXPECT_NE(st.error().message.find("cannot shrink"), std::string::npos) << st.error().message;
    st = ask_owner(*stores_.meta, "vol0", OwnerRequest{"", OwnerRequest::Op::snapshot, "first", 0},
                   10s);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("already exists"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace itd::volume::thin
