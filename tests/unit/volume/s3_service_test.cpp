// S3ObjectStore against a real S3 service (radosgw from scripts/cluster/ceph.sh, MinIO, AWS).
// Runs only when the environment names one, as `ceph.sh env DIR` prints it:
//   ITD_S3_ENDPOINT=http://127.0.0.1:37480 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…
//   [ITD_S3_BUCKET=itd] [AWS_DEFAULT_REGION=us-east-1]
// Every key it writes is under a prefix of its own ("itd-s3-test-PID-TIME/") and removed again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "volume/store/s3_object_store.h"

namespace itd::volume {
namespace {

using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

class S3Service : public ::testing::Test {
  protected:
    void SetUp() override {
        if (env("ITD_S3_ENDPOINT").empty() || env("AWS_ACCESS_KEY_ID").empty() ||
            env("AWS_SECRET_ACCESS_KEY").empty()) {
            GTEST_SKIP() << "no S3 service: set ITD_S3_ENDPOINT, AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY (eval \"$(scripts/cluster/ceph.sh env DIR)\")";
        }
        prefix_ = "itd-s3-test-" + std::to_string(::getpid()) + "-" +
                  std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "/";
    }

    S3Options options() const {
        S3Options o;
        o.endpoint = env("ITD_S3_ENDPOINT");
        o.bucket = env("ITD_S3_BUCKET").empty() ? "itd-s3-test" : env("ITD_S3_BUCKET");
        o.create_bucket = true;
        o.key_prefix = prefix_;
        if (!env("AWS_DEFAULT_REGION").empty()) o.region = env("AWS_DEFAULT_REGION");
        o.credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                         env("AWS_SESSION_TOKEN")};
        o.http.max_connections = 16;
        return o;
    }

    std::unique_ptr<S3ObjectStore> open(S3Options o) {
        auto store = S3ObjectStore::open(std::move(o));
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }

    // Removes what a test left under its prefix.
    static void clean(S3ObjectStore& store) {
        auto all = store.list("");
        ASSERT_TRUE(all) << all.error().message;
        for (const ObjectInfo& o : *all) ASSERT_TRUE(store.remove(o.key));
    }

    std::string prefix_;
};

TEST_F(S3Service, PutGetRangeListRemove) {
    auto store = open(options());
    ASSERT_TRUE(store);
    std::printf("store: %s\n", store->describe().c_str());
    ASSERT_TRUE(store->put("objects/1", bytes("hello world")));
    ASSERT_TRUE(store->put("objects/2", bytes("")));
    ASSERT_TRUE(store->put("super", bytes("zz")));
    ASSERT_TRUE(store->sync());

    std::vector<std::uint8_t> part(5);
    ASSERT_TRUE(store->get("objects/1", 6, part));
    EXPECT_EQ(part, bytes("world"));
    auto short_read = store->get("objects/1", 8, part);
    ASSERT_FALSE(short_read);
    EXPECT_EQ(short_read.error().code, Errc::io_error);
    short_read = store->get("objects/1", 11, part);
    ASSERT_FALSE(short_read);
    EXPECT_EQ(short_read.error().code, Errc::io_error) << short_read.error().message;
    std::span<std::uint8_t> none;
    EXPECT_TRUE(store->get("objects/1", 11, none));
    EXPECT_EQ(store->get_all("objects/1").value(), bytes("hello world"));
    EXPECT_TRUE(store->get_all("objects/2").value().empty());

    auto missing = store->get_all("objects/3");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found) << missing.error().message;

    const auto now = std::chrono::system_clock::now();
    auto l = store->list("objects/");
    ASSERT_TRUE(l) << l.error().message;
    ASSERT_EQ(l->size(), 2u);
    EXPECT_EQ((*l)[0].key, "objects/1");
    EXPECT_EQ((*l)[0].size_bytes, 11u);
    EXPECT_EQ((*l)[1].key, "objects/2");
    EXPECT_LT(std::chrono::abs(now - (*l)[0].modified), std::chrono::minutes(5));

    ASSERT_TRUE(store->remove("objects/1"));
    ASSERT_TRUE(store->remove("objects/1"));
    EXPECT_EQ(store->list("objects/").value().size(), 1u);
    clean(*store);
    EXPECT_TRUE(store->list("").value().empty());
}

TEST_F(S3Service, ListsMoreThanOnePage) {
    auto store = open(options());
    ASSERT_TRUE(store);
    constexpr int count = 1100;  // ListObjectsV2 returns at most 1000 keys per page
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = t; i < count; i += 8) {
                char key[32];
                std::snprintf(key, sizeof key, "many/%05d", i);
                if (!store->put(key, bytes(key))) ++failed;
            }
        });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(failed.load(), 0);
    auto l = store->list("many/");
    ASSERT_TRUE(l) << l.error().message;
    ASSERT_EQ(l->size(), std::size_t(count));
    for (int i = 0; i < count; ++i) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%05d", i);
        ASSERT_EQ((*l)[i].key, key);
    }
    clean(*store);
}

TEST_F(S3Service, RefusalsAreClear) {
    S3Options wrong = options();
    wrong.credentials.secret_access_key = "not-the-secret-0123456789";
    auto refused = S3ObjectStore::open(wrong);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::failed_precondition);
    EXPECT_EQ(refused.error().message.find("not-the-secret"), std::string::npos);
    EXPECT_NE(refused.error().message.find("SignatureDoesNotMatch"), std::string::npos);
    std::printf("wrong secret: %s\n", refused.error().message.c_str());

    S3Options absent = options();
    absent.bucket = "itd-no-such-bucket-" + std::to_string(::getpid());
    absent.create_bucket = false;
    auto missing = S3ObjectStore::open(absent);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    std::printf("missing bucket: %s\n", missing.error().message.c_str());

    // An access key the service does not know.
    S3Options other = options();
    other.credentials.access_key_id = "NOSUCHKEYID";
    auto unknown = S3ObjectStore::open(other);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, Errc::failed_precondition);
    EXPECT_NE(unknown.error().message.find("InvalidAccessKeyId"), std::string::npos)
        << unknown.error().message;
}

// The gateway goes away for a few seconds and comes back: calls stall within the retry policy
// and none fails. Runs when the commands to stop and start it are given, e.g.
//   ITD_S3_STOP_CMD="scripts/cluster/ceph.sh stop-rgw DIR"
//   ITD_S3_START_CMD="scripts/cluster/ceph.sh start-rgw DIR"
TEST_F(S3Service, SurvivesAGatewayRestart) {
    if (env("ITD_S3_STOP_CMD").empty() || env("ITD_S3_START_CMD").empty()) {
        GTEST_SKIP() << "set ITD_S3_STOP_CMD and ITD_S3_START_CMD to stop and start the gateway";
    }
    auto store = open(options());
    ASSERT_TRUE(store);
    std::atomic<bool> done{false};
    std::atomic<int> ops{0}, failed{0};
    std::atomic<std::int64_t> longest_ms{0};
    std::string first_failure;
    std::thread worker([&] {
        const std::vector<std::uint8_t> data(64 * 1024, 0x5a);
        for (int i = 0; !done && i < 100000; ++i) {
            const auto start = Clock::now();
            const std::string key = "restart/" + std::to_string(i % 50);
            Status st = store->put(key, data);
            if (st) {
                auto back = store->get_all(key);
                if (!back) st = std::unexpected(back.error());
            }
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
            if (ms > longest_ms) longest_ms = ms;
            if (!st) {
                if (failed++ == 0) first_failure = st.error().message;
            }
            ++ops;
        }
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto down = Clock::now();
    EXPECT_EQ(std::system(env("ITD_S3_STOP_CMD").c_str()), 0);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(std::system(env("ITD_S3_START_CMD").c_str()), 0);
    const double outage_s = std::chrono::duration<double>(Clock::now() - down).count();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    done = true;
    worker.join();
    std::printf(
        "gateway down %.1f s: %d put+get pairs, %d failed, longest pair %lld ms, %llu "
        "retries\n",
        outage_s, ops.load(), failed.load(), static_cast<long long>(longest_ms.load()),
        static_cast<unsigned long long>(store->retries()));
    EXPECT_EQ(failed.load(), 0) << first_failure;
    clean(*store);
}

// Not a timed test: prints PUT and GET throughput of 256 KiB objects (the default page size),
// one caller and several, for the benchmark notes.
TEST_F(S3Service, Throughput256KiB) {
    auto store = open(options());
    ASSERT_TRUE(store);
    constexpr std::size_t object_bytes = 256 * 1024;
    const int objects = std::atoi(
        env("ITD_S3_BENCH_OBJECTS").empty() ? "200" : env("ITD_S3_BENCH_OBJECTS").c_str());
    std::vector<std::uint8_t> data(object_bytes);
    std::mt19937 rng(7);
    for (auto& b : data) b = std::uint8_t(rng());

    for (int threads : {1, 4, 8}) {
        std::atomic<int> next{0}, failed{0};
        const auto run = [&](auto&& op) {
            next = 0;
            std::vector<std::thread> pool;
            const auto start = Clock::now();
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&] {
                    for (int i = next++; i < objects; i = next++) {
                        if (!op("bench/" + std::to_string(i))) ++failed;
                    }
                });
            }
            for (auto& th : pool) th.join();
            const double secs = std::chrono::duration<double>(Clock::now() - start).count();
            return double(objects) * object_bytes / (1 << 20) / secs;
        };
        const double put_mibs =
            run([&](const std::string& k) { return bool(store->put(k, data)); });
        const double get_mibs = run([&](const std::string& k) {
            auto got = store->get_all(k);
            return got && got->size() == object_bytes;
        });
        std::vector<std::uint8_t> four_k(4096);
        // run() counts 256 KiB per operation: four operations make one MiB.
        const double range_iops =
            4 * run([&](const std::string& k) { return bool(store->get(k, 64 * 1024, four_k)); });
        ASSERT_EQ(failed.load(), 0);
        std::printf(
            "256 KiB objects x %d, %d caller(s): PUT %.1f MiB/s, GET %.1f MiB/s, "
            "4 KiB range GET %.0f IOPS\n",
            objects, threads, put_mibs, get_mibs, range_iops);
    }
    clean(*store);
}

}  // namespace
}  // namespace itd::volume
