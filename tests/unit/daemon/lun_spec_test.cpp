#include <gtest/gtest.h>

#include "daemon/config.h"

namespace itd::daemon {
namespace {

LunSpec lun(std::string_view text) {
    auto l = parse_lun_spec(text);
    EXPECT_TRUE(l) << text << ": " << (l ? "" : l.error().message);
    return l.value_or(LunSpec{});
}

std::string error_of(std::string_view text) {
    auto l = parse_lun_spec(text);
    EXPECT_FALSE(l) << text;
    if (l) return "";
    EXPECT_EQ(l.error().code, Errc::invalid_argument);
    return l.error().message;
}

TEST(ParseLunSpec, Memory) {
    const LunSpec l = lun("memory:1G");
    EXPECT_EQ(l.volume.backend, "memory");
    EXPECT_EQ(l.volume.arg, "1G");
    EXPECT_EQ(l.volume.size_bytes, 1ull << 30);
    EXPECT_EQ(l.volume.block_size_bytes, 512u);
    EXPECT_TRUE(l.volume.options.empty());
}

TEST(ParseLunSpec, MemoryWithBlockSize) {
    const LunSpec l = lun("memory:64M,block-size=4096");
    EXPECT_EQ(l.volume.size_bytes, 64ull << 20);
    EXPECT_EQ(l.volume.block_size_bytes, 4096u);
    EXPECT_EQ(lun("memory:64M,block-size=4K").volume.block_size_bytes, 4096u);
    EXPECT_EQ(lun("memory:1M,block-size=65536").volume.block_size_bytes, 65536u);
    EXPECT_EQ(lun("memory:1M,block-size=1024").volume.block_size_bytes, 1024u);
}

TEST(ParseLunSpec, FileWithSize) {
    const LunSpec l = lun("file:/srv/disk.img,size=20G");
    EXPECT_EQ(l.volume.backend, "file");
    EXPECT_EQ(l.volume.arg, "/srv/disk.img");
    EXPECT_EQ(l.volume.size_bytes, 20ull << 30);
    EXPECT_EQ(l.volume.block_size_bytes, 512u);
}

TEST(ParseLunSpec, ExistingFile) {
    const LunSpec l = lun("file:/srv/disk.img");
    EXPECT_EQ(l.volume.arg, "/srv/disk.img");
    EXPECT_FALSE(l.volume.size_bytes);
}

TEST(ParseLunSpec, FileKeepsColonsInPathAndTakesOptionsInAnyOrder) {
    const LunSpec l = lun("file:relative/dir:x/disk.img,block-size=4096,size=1G");
    EXPECT_EQ(l.volume.arg, "relative/dir:x/disk.img");
    EXPECT_EQ(l.volume.size_bytes, 1ull << 30);
    EXPECT_EQ(l.volume.block_size_bytes, 4096u);
}

TEST(ParseLunSpec, GrammarErrors) {
    EXPECT_EQ(error_of("memory"), "LUN-SPEC 'memory': expected BACKEND:ARG, e.g. memory:1G");
    EXPECT_EQ(error_of(""), "LUN-SPEC '': expected BACKEND:ARG, e.g. memory:1G");
    EXPECT_EQ(error_of(":1G"), "LUN-SPEC ':1G': expected BACKEND:ARG, e.g. memory:1G");
    EXPECT_EQ(error_of("memory:1G,"), "LUN-SPEC 'memory:1G,': empty option (stray ',')");
    EXPECT_EQ(error_of("memory:1G,,block-size=512"),
              "LUN-SPEC 'memory:1G,,block-size=512': empty option (stray ',')");
}

TEST(ParseLunSpec, UnknownBackend) {
    EXPECT_EQ(error_of("fil:/x"),
              "LUN-SPEC 'fil:/x': unknown backend 'fil' (use memory, file or thin)");
    EXPECT_EQ(error_of("Memory:1G"),
              "LUN-SPEC 'Memory:1G': unknown backend 'Memory' (use memory, file or thin)");
}

TEST(ParseLunSpec, Thin) {
    auto lun = parse_lun_spec("thin:/var/lib/itd/store/vol0,size=100G,page-size=64K,cache=1G");
    ASSERT_TRUE(lun.has_value()) << lun.error().message;
    EXPECT_EQ(lun->volume.backend, "thin");
    EXPECT_EQ(lun->volume.arg, "/var/lib/itd/store/vol0");
    EXPECT_EQ(lun->volume.size_bytes, 100ull << 30);
    EXPECT_EQ(lun->volume.options.at("page-size"), "65536");
    EXPECT_EQ(lun->volume.options.at("cache"), std::to_string(1ull << 30));
    EXPECT_TRUE(lun->thin);  // a thin volume always offers UNMAP

    auto existing = parse_lun_spec("thin:store/vol0");
    ASSERT_TRUE(existing.has_value()) << existing.error().message;
    EXPECT_FALSE(existing->volume.size_bytes.has_value());

    const std::string needs = "thin needs STORE/VOLUME, e.g. thin:/var/lib/itd/store/vol0 or "
                              "thin:s3://BUCKET/vol0,endpoint=...,meta=...";
    EXPECT_EQ(error_of("thin:vol0"), "LUN-SPEC 'thin:vol0': " + needs);
    EXPECT_EQ(error_of("thin:/store/"), "LUN-SPEC 'thin:/store/': " + needs);
    EXPECT_EQ(error_of("thin:s3://vol0"), "LUN-SPEC 'thin:s3://vol0': " + needs);
    EXPECT_EQ(error_of("thin:/s/v,page-size=1M3"),
              "LUN-SPEC 'thin:/s/v,page-size=1M3': invalid size '1M3': unknown suffix (use K, M, G, "
              "T, P or KiB \u2026 PiB)");
    EXPECT_EQ(error_of("thin:/s/v,page-size=8M"),
              "LUN-SPEC 'thin:/s/v,page-size=8M': invalid page-size '8M' (a power of two from "
              "4K to 4M; default 256K)");
    EXPECT_EQ(error_of("memory:1G,cache=1G"),
              "LUN-SPEC 'memory:1G,cache=1G': option 'cache' is for thin volumes only");
}

TEST(ParseLunSpec, MemorySizeErrors) {
    EXPECT_EQ(error_of("memory:"), "LUN-SPEC 'memory:': memory needs a size, e.g. memory:1G");
    EXPECT_EQ(error_of("memory:,block-size=512"),
              "LUN-SPEC 'memory:,block-size=512': memory needs a size, e.g. memory:1G");
    EXPECT_EQ(error_of("memory:1X"),
              "LUN-SPEC 'memory:1X': invalid size '1X': unknown suffix (use K, M, G, T, P or "
              "KiB … PiB)");
    EXPECT_EQ(error_of("memory:0"), "LUN-SPEC 'memory:0': invalid size '0': must not be zero");
    EXPECT_EQ(error_of("memory:1G,size=2G"),
              "LUN-SPEC 'memory:1G,size=2G': memory takes its size as ARG (memory:1G), not size=");
}

TEST(ParseLunSpec, SizeNotMultipleOfBlockSize) {
    EXPECT_EQ(error_of("memory:1000"),
              "LUN-SPEC 'memory:1000': size 1000 is not a multiple of block-size 512");
    EXPECT_EQ(error_of("memory:6K,block-size=4096"),
              "LUN-SPEC 'memory:6K,block-size=4096': size 6144 is not a multiple of block-size "
              "4096");
    EXPECT_EQ(error_of("file:/x,size=1000"),
              "LUN-SPEC 'file:/x,size=1000': size 1000 is not a multiple of block-size 512");
}

TEST(ParseLunSpec, FileErrors) {
    EXPECT_EQ(error_of("file:"), "LUN-SPEC 'file:': empty path, e.g. file:/srv/disk0.img");
    EXPECT_EQ(error_of("file:,size=1G"),
              "LUN-SPEC 'file:,size=1G': empty path, e.g. file:/srv/disk0.img");
    EXPECT_EQ(error_of("file:/x,size=abc"),
              "LUN-SPEC 'file:/x,size=abc': invalid size 'abc': expected a number such as 512, "
              "64K, 1G or 2TiB");
    EXPECT_EQ(error_of("file:/x,size="),
              "LUN-SPEC 'file:/x,size=': option 'size' needs a value, e.g. size=20G");
    EXPECT_EQ(error_of("file:/x,size"),
              "LUN-SPEC 'file:/x,size': option 'size' needs a value, e.g. size=20G");
    EXPECT_EQ(error_of("file:/x,size=1G,size=2G"),
              "LUN-SPEC 'file:/x,size=1G,size=2G': option 'size' given twice");
}

TEST(ParseLunSpec, BlockSizeErrors) {
    for (const char* bad : {"256", "1000", "3072", "131072", "0", "x", "-512"}) {
        const std::string text = "memory:1G,block-size=" + std::string(bad);
        EXPECT_EQ(error_of(text), "LUN-SPEC '" + text + "': invalid block-size '" + bad +
                                      "' (use 512 or 4096; any power of two 512..65536)");
    }
    EXPECT_EQ(error_of("memory:1G,block-size"),
              "LUN-SPEC 'memory:1G,block-size': option 'block-size' needs a value, e.g. "
              "block-size=4096");
}

TEST(ParseLunSpec, UnknownOption) {
    EXPECT_EQ(error_of("memory:1G,blocksize=4096"),
              "LUN-SPEC 'memory:1G,blocksize=4096': unknown option 'blocksize' (use size=, "
              "block-size=, thin, readonly, removable, serial=, wwn=, sanitize-rate=, page-size=, "
              "cache=, or for cluster stores endpoint=, region=, addressing=, ceph-conf=, "
              "ceph-user=, meta=, lease-ttl=, meta-prefix=)");
    EXPECT_NE(error_of("file:/x,sync").find("unknown option 'sync' (use size="), std::string::npos);
}

TEST(ParseLunSpec, SanitizeRate) {
    auto lun = parse_lun_spec("memory:128M,sanitize-rate=16M");
    ASSERT_TRUE(lun.has_value()) << lun.error().message;
    EXPECT_EQ(lun->sanitize_rate_bytes_per_s, 16u << 20);
    EXPECT_EQ(parse_lun_spec("memory:128M")->sanitize_rate_bytes_per_s, 0u);
    EXPECT_FALSE(parse_lun_spec("memory:128M,sanitize-rate").has_value());
    EXPECT_FALSE(parse_lun_spec("memory:128M,sanitize-rate=fast").has_value());
}

TEST(ParseLunSpec, ThinReadonlySerialWwn) {
    auto lun = parse_lun_spec("file:/x,size=1G,thin,readonly,serial=DISK-0001,wwn=0x3000000000000abc");
    ASSERT_TRUE(lun.has_value()) << lun.error().message;
    EXPECT_TRUE(lun->thin);
    EXPECT_TRUE(lun->read_only);
    EXPECT_EQ(lun->serial, "DISK-0001");
    EXPECT_EQ(lun->wwn, 0x3000000000000abcull);
    auto plain = parse_lun_spec("memory:1G");
    ASSERT_TRUE(plain.has_value());
    EXPECT_FALSE(plain->thin);
    EXPECT_FALSE(plain->read_only);
    EXPECT_TRUE(plain->serial.empty());
    EXPECT_FALSE(plain->wwn.has_value());
    EXPECT_EQ(parse_lun_spec("memory:1G,wwn=naa.5001405abcdef012")->wwn, 0x5001405abcdef012ull);
}

TEST(ParseLunSpec, ThinReadonlySerialWwnErrors) {
    EXPECT_EQ(error_of("memory:1G,thin=yes"),
              "LUN-SPEC 'memory:1G,thin=yes': option 'thin' is a flag and takes no value");
    EXPECT_EQ(error_of("memory:1G,serial"),
              "LUN-SPEC 'memory:1G,serial': option 'serial' needs a value, e.g. serial=DISK0001");
    EXPECT_EQ(error_of("memory:1G,serial=a b"),
              "LUN-SPEC 'memory:1G,serial=a b': invalid serial 'a b' (1..64 printable ASCII "
              "characters, no spaces)");
    for (const char* wwn : {"0x5000", "6001405abcdef0123", "6001405abcdef012", "3xyz000000000000"}) {
        const std::string text = "memory:1G,wwn=" + std::string(wwn);
        EXPECT_EQ(error_of(text), "LUN-SPEC '" + text + "': invalid wwn '" + wwn +
                                      "' (16 hex digits, NAA 2, 3 or 5 first, e.g. "
                                      "wwn=3000000000000001)");
    }
}

TEST(ParseLunSpec, Removable) {
    auto lun = parse_lun_spec("memory:128M,removable");
    ASSERT_TRUE(lun.has_value()) << lun.error().message;
    EXPECT_TRUE(lun->removable);
    EXPECT_FALSE(lun->thin);
    EXPECT_FALSE(lun->read_only);
    auto both = parse_lun_spec("file:/x,size=1G,thin,removable,readonly");
    ASSERT_TRUE(both.has_value()) << both.error().message;
    EXPECT_TRUE(both->removable);
    EXPECT_TRUE(both->thin);
    EXPECT_TRUE(both->read_only);
    EXPECT_FALSE(parse_lun_spec("memory:1G")->removable);
    EXPECT_EQ(error_of("memory:1G,removable=1"),
              "LUN-SPEC 'memory:1G,removable=1': option 'removable' is a flag and takes no "
              "value");
    EXPECT_EQ(error_of("memory:1G,removable,removable"),
              "LUN-SPEC 'memory:1G,removable,removable': option 'removable' given twice");
}

TEST(ParseLunSpec, ThinOnS3) {
    const LunSpec l = lun("thin:s3://itd-bucket/vols/vol0,endpoint=http://127.0.0.1:7480,"
                          "meta=etcd://127.0.0.1:2379+127.0.0.1:2380,lease-ttl=5,size=1G");
    EXPECT_EQ(l.volume.backend, "thin");
    EXPECT_EQ(l.volume.arg, "s3://itd-bucket/vols/vol0");
    EXPECT_EQ(l.volume.size_bytes, 1ull << 30);
    EXPECT_TRUE(l.thin);
    EXPECT_EQ(l.volume.options.at("endpoint"), "http://127.0.0.1:7480");
    EXPECT_EQ(l.volume.options.at("meta"), "etcd://127.0.0.1:2379+127.0.0.1:2380");
    EXPECT_EQ(l.volume.options.at("lease-ttl"), "5");
}

TEST(ParseLunSpec, ThinOnRados) {
    const LunSpec l = lun("thin:rados://rbd/ns1/vol0,ceph-conf=/etc/ceph/ceph.conf,"
                          "ceph-user=itd,meta=etcds://[::1]:2379");
    EXPECT_EQ(l.volume.arg, "rados://rbd/ns1/vol0");
    EXPECT_EQ(l.volume.options.at("ceph-user"), "itd");
}

TEST(ParseLunSpec, ClusterStoreOptionsAreChecked) {
    // Store options on a backend or store they do not apply to are errors, never ignored.
    EXPECT_EQ(error_of("file:/x,meta=etcd://x:2379"),
              "LUN-SPEC 'file:/x,meta=etcd://x:2379': option 'meta' is for thin volumes on s3:// "
              "or rados:// stores only");
    EXPECT_EQ(error_of("thin:/s/v,endpoint=http://x:1"),
              "LUN-SPEC 'thin:/s/v,endpoint=http://x:1': option 'endpoint' does not apply to a "
              "directory store");
    EXPECT_EQ(error_of("thin:rados://p/v,meta=etcd://h:1,endpoint=http://x:1"),
              "LUN-SPEC 'thin:rados://p/v,meta=etcd://h:1,endpoint=http://x:1': option "
              "'endpoint' does not apply to a rados:// store");
    EXPECT_EQ(error_of("thin:s3://bucket/v,endpoint=http://x:1"),
              "LUN-SPEC 'thin:s3://bucket/v,endpoint=http://x:1': s3://bucket needs "
              "meta=etcd://HOST:PORT (where its superblocks and leases live)");
    EXPECT_EQ(error_of("thin:s3://bucket/v,meta=etcd://h:1"),
              "LUN-SPEC 'thin:s3://bucket/v,meta=etcd://h:1': s3://bucket needs "
              "endpoint=http(s)://HOST:PORT (the S3 service)");
    EXPECT_NE(error_of("thin:s3://Bucket/v,meta=etcd://h:1,endpoint=http://x:1")
                  .find("s3 bucket 'Bucket' is not a bucket name"),
              std::string::npos);
    EXPECT_NE(error_of("thin:rados://p/v,meta=etcd://h").find("'h' is not HOST:PORT"),
              std::string::npos);
    EXPECT_NE(error_of("thin:rados://p/v,meta=etcd://h:1,lease-ttl=1").find("lease-ttl '1'"),
              std::string::npos);
    EXPECT_NE(error_of("thin:rados://p/v,meta=").find("option 'meta' needs a value"),
              std::string::npos);
}

}  // namespace
}  // namespace itd::daemon
