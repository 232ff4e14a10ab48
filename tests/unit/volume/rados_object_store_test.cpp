// RadosObjectStore against a real Ceph cluster (scripts/cluster/ceph.sh), run by
// tests/cluster/rados_test.sh. Tests that need the cluster skip unless CEPH_CONF and
// ITD_RADOS_POOL are set; those that need more of the wrapper skip without it too:
//   ITD_RADOS_READONLY_ID   a cephx user that may read the pool but not write it
//   ITD_RADOS_NOACCESS_ID   a cephx user without caps on the pool
//   ITD_CEPH_OSD_PID        the OSD's PID: a test stops it (SIGSTOP) for a few seconds
// Each test works in a RADOS namespace of its own, so tests never see each other's objects.
#include "volume/store/rados_object_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <rados/librados.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "object_store_contract.h"

namespace itd::volume::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::vector<std::uint8_t> bytes(std::string_view s) {
    return {s.begin(), s.end()};
}

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
}

constexpr const char* no_cluster =
    "CEPH_CONF and ITD_RADOS_POOL are not set: tests/cluster/rados_test.sh starts a cluster "
    "and runs these (or: scripts/cluster/ceph.sh start DIR; eval \"$(scripts/cluster/ceph.sh "
    "env DIR)\")";

bool have_cluster() {
    return env("CEPH_CONF") && env("ITD_RADOS_POOL");
}

RadosOptions cluster_options(std::string ns) {
    RadosOptions o;
    o.pool = env("ITD_RADOS_POOL").value_or("");
    o.ceph_conf = env("CEPH_CONF").value_or("");
    o.rados_namespace = std::move(ns);
    o.op_timeout = seconds(20);
    o.connect_timeout = seconds(20);
    return o;
}

void remove_all(ObjectStore* store) {
    if (store == nullptr) return;
    auto l = store->list("");
    if (!l) return;
    for (const ObjectInfo& o : *l) (void)store->remove(o.key);
}

StoreUnderTest make_rados_store(const std::string& test_id) {
    StoreUnderTest s;
    if (!have_cluster()) {
        s.skip_reason = no_cluster;
        return s;
    }
    auto store = RadosObjectStore::open(cluster_options("itd-test-" + test_id));
    if (!store) {
        s.error = store.error().message;
        return s;
    }
    // A namespace of the same name left by an earlier process with this PID is emptied first.
    remove_all(store->get());
    s.store = std::move(*store);
    s.cleanup = remove_all;
    return s;
}

INSTANTIATE_TEST_SUITE_P(Rados, ObjectStoreContract,
                         ::testing::Values(StoreFactory{"Rados", make_rados_store}),
                         ObjectStoreContract::name_of);

// A temporary directory, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() /
               ("itd-rados-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

// A cephx keyring for client.admin with a random key (the format ceph.sh's write_keyring
// describes): the cluster does not know it.
void write_random_keyring(const fs::path& file) {
    std::string raw = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0};
    std::random_device rd;
    for (int i = 0; i < 16; ++i) raw.push_back(static_cast<char>(rd()));
    static constexpr char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string key;
    for (std::size_t i = 0; i < raw.size(); i += 3) {
        const auto b = [&](std::size_t j) {
            return j < raw.size() ? static_cast<unsigned>(static_cast<unsigned char>(raw[j])) : 0u;
        };
        const unsigned n = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
        key += b64[(n >> 18) & 63];
        key += b64[(n >> 12) & 63];
        key += i + 1 < raw.size() ? b64[(n >> 6) & 63] : '=';
        key += i + 2 < raw.size() ? b64[n & 63] : '=';
    }
    std::ofstream(file) << "[client.admin]\n\tkey = " << key << "\n";
}

// A ceph.conf for mon_host and the keyring file, quiet on stderr.
void write_conf(const fs::path& file, const std::string& mon_host, const fs::path& keyring) {
    std::ofstream(file) << "[global]\nmon_host = " << mon_host << "\nkeyring = " << keyring.string()
                        << "\nauth_client_required = cephx\nms_bind_ipv6 = false\n"
                        << "log_to_stderr = false\nerr_to_stderr = false\n";
}

// The cluster's mon_host line from CEPH_CONF.
std::string cluster_mon_host() {
    std::ifstream in(env("CEPH_CONF").value_or(""));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("mon_host")) return line.substr(line.find('=') + 1);
    }
    return "";
}

TEST(RadosObjectStore, OpenRefusesBadOptions) {
    const auto refused = [](RadosOptions o, std::string_view what) {
        auto s = RadosObjectStore::open(std::move(o));
        ASSERT_FALSE(s.has_value()) << what;
        EXPECT_EQ(s.error().code, Errc::invalid_argument) << what << ": " << s.error().message;
    };
    RadosOptions good;
    good.pool = "itd";
    RadosOptions o = good;
    o.pool = "";
    refused(o, "empty pool");
    o = good;
    o.client_id = "";
    refused(o, "empty client id");
    o = good;
    o.rados_namespace = "a/b";
    refused(o, "namespace with '/'");
    o = good;
    o.rados_namespace = "\001";
    refused(o, "the all-namespaces marker");
    o = good;
    o.op_timeout = seconds(0);
    refused(o, "op timeout 0");
    o = good;
    o.connect_timeout = seconds(0);
    refused(o, "connect timeout 0");
    o = good;
    o.list_stats_in_flight = 0;
    refused(o, "no stats in flight");
}

TEST(RadosObjectStore, UnreadableConfIsFailedPrecondition) {
    RadosOptions o;
    o.pool = "itd";
    o.ceph_conf = "/nonexistent/itd/ceph.conf";
    auto s = RadosObjectStore::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::failed_precondition);
    EXPECT_NE(s.error().message.find("/nonexistent/itd/ceph.conf"), std::string::npos)
        << s.error().message;
}

// Nothing listens on the monitor's port (36769, in the test's port range): open() gives up
// after connect_timeout instead of waiting for ever.
TEST(RadosObjectStore, UnreachableMonitorIsUnavailableInBoundedTime) {
    TempDir dir;
    write_random_keyring(dir.path / "keyring");
    write_conf(dir.path / "ceph.conf", "v2:127.0.0.1:36769", dir.path / "keyring");
    RadosOptions o;
    o.pool = "itd";
    o.ceph_conf = (dir.path / "ceph.conf").string();
    o.connect_timeout = seconds(2);
    o.op_timeout = seconds(2);
    const auto start = Clock::now();
    auto s = RadosObjectStore::open(o);
    const auto took = Clock::now() - start;
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::unavailable) << s.error().message;
    EXPECT_LT(took, seconds(15));
    std::cout << "     open against a dead monitor failed after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
              << " ms: " << s.error().message << "\n";
}

TEST(RadosObjectStore, MissingPoolIsNotFound) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    RadosOptions o = cluster_options("");
    o.pool = "itd-no-such-pool";
    auto s = RadosObjectStore::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::not_found) << s.error().message;
    EXPECT_NE(s.error().message.find("itd-no-such-pool"), std::string::npos);
}

TEST(RadosObjectStore, UserWithoutKeyringIsRefused) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    RadosOptions o = cluster_options("");
    o.client_id = "itd-nobody";
    auto s = RadosObjectStore::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::failed_precondition) << s.error().message;
    EXPECT_NE(s.error().message.find("client.itd-nobody"), std::string::npos) << s.error().message;
    std::cout << "     " << s.error().message << "\n";
}

TEST(RadosObjectStore, WrongKeyIsRefused) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const std::string mon_host = cluster_mon_host();
    ASSERT_FALSE(mon_host.empty()) << "no mon_host in " << *env("CEPH_CONF");
    TempDir dir;
    write_random_keyring(dir.path / "keyring");
    write_conf(dir.path / "ceph.conf", mon_host, dir.path / "keyring");
    RadosOptions o = cluster_options("");
    o.ceph_conf = (dir.path / "ceph.conf").string();
    o.connect_timeout = seconds(5);
    auto s = RadosObjectStore::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::failed_precondition) << s.error().message;
    std::cout << "     " << s.error().message << "\n";
}

TEST(RadosObjectStore, ReadOnlyUserCannotPut) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const auto id = env("ITD_RADOS_READONLY_ID");
    if (!id) GTEST_SKIP() << "ITD_RADOS_READONLY_ID is not set (tests/cluster/rados_test.sh)";
    // The admin writes an object the reader can then read.
    auto admin = RadosObjectStore::open(cluster_options("itd-test-readonly"));
    ASSERT_TRUE(admin.has_value()) << admin.error().message;
    ASSERT_TRUE((*admin)->put("k", bytes("data")));

    RadosOptions o = cluster_options("itd-test-readonly");
    o.client_id = *id;
    auto reader = RadosObjectStore::open(o);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    auto got = (*reader)->get_all("k");
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, bytes("data"));
    auto put = (*reader)->put("k", bytes("other"));
    ASSERT_FALSE(put.has_value());
    EXPECT_EQ(put.error().code, Errc::failed_precondition) << put.error().message;
    EXPECT_NE(put.error().message.find("client." + *id), std::string::npos) << put.error().message;
    auto rm = (*reader)->remove("k");
    ASSERT_FALSE(rm.has_value());
    EXPECT_EQ(rm.error().code, Errc::failed_precondition) << rm.error().message;
    EXPECT_TRUE((*admin)->remove("k"));
}

TEST(RadosObjectStore, UserWithoutCapsCannotOpen) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const auto id = env("ITD_RADOS_NOACCESS_ID");
    if (!id) GTEST_SKIP() << "ITD_RADOS_NOACCESS_ID is not set (tests/cluster/rados_test.sh)";
    RadosOptions o = cluster_options("");
    o.client_id = *id;
    auto s = RadosObjectStore::open(o);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, Errc::failed_precondition) << s.error().message;
    std::cout << "     " << s.error().message << "\n";
}

TEST(RadosObjectStore, NamespacesKeepKeysApart) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const std::string pid = std::to_string(::getpid());
    auto a = RadosObjectStore::open(cluster_options("itd-test-ns-a-" + pid));
    auto b = RadosObjectStore::open(cluster_options("itd-test-ns-b-" + pid));
    ASSERT_TRUE(a.has_value()) << a.error().message;
    ASSERT_TRUE(b.has_value()) << b.error().message;
    ASSERT_TRUE((*a)->put("k", bytes("in a")));
    auto in_b = (*b)->get_all("k");
    ASSERT_FALSE(in_b.has_value());
    EXPECT_EQ(in_b.error().code, Errc::not_found);
    ASSERT_TRUE((*b)->put("k", bytes("in b")));
    EXPECT_EQ(*(*a)->get_all("k"), bytes("in a"));
    EXPECT_EQ(*(*b)->get_all("k"), bytes("in b"));
    auto la = (*a)->list("");
    ASSERT_TRUE(la.has_value());
    ASSERT_EQ(la->size(), 1u);
    EXPECT_EQ((*la)[0].size_bytes, 4u);
    EXPECT_TRUE((*a)->remove("k"));
    EXPECT_TRUE((*b)->get_all("k").has_value());
    EXPECT_TRUE((*b)->remove("k"));
}

// Another client's objects in the same namespace, under names that are not keys, stay out of
// list() (and the store never touches them).
TEST(RadosObjectStore, ObjectsNamedOtherwiseAreNotListed) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const std::string ns = "itd-test-foreign-" + std::to_string(::getpid());
    librados::Rados rados;
    ASSERT_EQ(rados.init2("client.admin", "ceph", 0), 0);
    ASSERT_EQ(rados.conf_read_file(env("CEPH_CONF")->c_str()), 0);
    ASSERT_EQ(rados.connect(), 0);
    librados::IoCtx io;
    ASSERT_EQ(rados.ioctx_create(env("ITD_RADOS_POOL")->c_str(), io), 0);
    io.set_namespace(ns);
    const std::vector<std::string> foreign = {"a b", "a//b", "x/../y", "/abs", "tail/"};
    for (const std::string& name : foreign) {
        librados::bufferlist bl;
        bl.append("foreign");
        ASSERT_EQ(io.write_full(name, bl), 0) << name;
    }

    auto store = RadosObjectStore::open(cluster_options(ns));
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE((*store)->put("a/b", bytes("mine")));
    auto l = (*store)->list("");
    ASSERT_TRUE(l.has_value()) << l.error().message;
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].key, "a/b");
    auto prefixed = (*store)->list("a");
    ASSERT_TRUE(prefixed.has_value());
    ASSERT_EQ(prefixed->size(), 1u);
    EXPECT_TRUE((*store)->remove("a/b"));
    for (const std::string& name : foreign) EXPECT_EQ(io.remove(name), 0) << name;
}

TEST(RadosObjectStore, DescribeNamesPoolNamespaceAndUser) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    auto s = RadosObjectStore::open(cluster_options("itd-test-describe"));
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ((*s)->describe(),
              "rados://" + *env("ITD_RADOS_POOL") + "/itd-test-describe as client.admin");
}

// Sends SIGCONT to the OSD when the test ends, however it ends.
struct ContinueAtExit {
    pid_t pid;
    ~ContinueAtExit() { ::kill(pid, SIGCONT); }
};

// The OSD stops answering (SIGSTOP): puts and gets fail with unavailable after op_timeout,
// and open() too; once the OSD runs again, the same store works.
TEST(RadosObjectStore, StoppedOsdGivesUnavailableThenRecovers) {
    if (!have_cluster()) GTEST_SKIP() << no_cluster;
    const auto pid_text = env("ITD_CEPH_OSD_PID");
    if (!pid_text) GTEST_SKIP() << "ITD_CEPH_OSD_PID is not set (tests/cluster/rados_test.sh)";
    const pid_t pid = static_cast<pid_t>(std::stol(*pid_text));
    ASSERT_GT(pid, 1);
    const std::string ns = "itd-test-fault-" + std::to_string(::getpid());
    RadosOptions o = cluster_options(ns);
    o.op_timeout = seconds(2);
    o.connect_timeout = seconds(2);
    auto store = RadosObjectStore::open(o);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE((*store)->put("before", bytes("kept")));

    {
        ASSERT_EQ(::kill(pid, SIGSTOP), 0) << "cannot stop the OSD, PID " << pid;
        const ContinueAtExit resume{pid};
        const auto check_unavailable = [](const auto& result, Clock::time_point start,
                                          std::string_view what) {
            const auto took = Clock::now() - start;
            ASSERT_FALSE(result.has_value()) << what;
            EXPECT_EQ(result.error().code, Errc::unavailable)
                << what << ": " << result.error().message;
            EXPECT_LT(took, seconds(10)) << what;
            std::cout << "     " << what << " with the OSD stopped: "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms, " << result.error().message << "\n";
        };
        auto start = Clock::now();
        check_unavailable((*store)->put("during", bytes("lost")), start, "put");
        start = Clock::now();
        check_unavailable((*store)->get_all("before"), start, "get_all");
        start = Clock::now();
        check_unavailable(RadosObjectStore::open(o), start, "open");
    }

    // Running again: the next calls succeed (within a bounded number of tries, while the
    // OSD catches up).
    bool recovered = false;
    const auto deadline = Clock::now() + seconds(30);
    while (!recovered && Clock::now() < deadline) {
        recovered = (*store)->put("after", bytes("new")).has_value();
        if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(recovered);
    EXPECT_EQ(*(*store)->get_all("before"), bytes("kept"));
    EXPECT_EQ(*(*store)->get_all("after"), bytes("new"));
    remove_all(store->get());
}

}  // namespace
}  // namespace itd::volume::testing
