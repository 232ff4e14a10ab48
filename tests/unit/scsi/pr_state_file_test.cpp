#include "scsi/pr_state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace itd::scsi {
namespace {

StoredPrState sample() {
    StoredPrState s;
    s.generation = 42;
    s.registrations.push_back(
        {0x1122334455667788ull, false, "iqn.a,i,0x000000000001", "iqn.t,t,0x0001"});
    s.registrations.push_back({0x99ull, true, "iqn.b with space,i,0x2", "iqn.t,t,0x0001"});
    s.reservation = StoredReservation{5, 1};
    return s;
}

TEST(PrStateFile, RoundTrip) {
    const StoredPrState s = sample();
    auto decoded = decode_pr_state(encode_pr_state(s));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    EXPECT_EQ(*decoded, s);
    StoredPrState all;
    all.registrations = s.registrations;
    all.reservation = StoredReservation{8, std::nullopt};
    EXPECT_EQ(decode_pr_state(encode_pr_state(all)).value(), all);
    EXPECT_EQ(decode_pr_state(encode_pr_state(StoredPrState{})).value(), StoredPrState{});
}

TEST(PrStateFile, RejectsCorruptFiles) {
    const std::string good = encode_pr_state(sample());
    const char* bad[] = {
        "",
        "something else\ngeneration 1\n",
        "itd-persistent-reservations 1\n",  // no generation
        "itd-persistent-reservations 1\ngeneration x\n",
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000000 0 61 62\n",
        "itd-persistent-reservations 1\ngeneration 1\nregistration 00000000000000001 0 61 62\n",
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 2 61 62\n",
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 6 62\n",
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 61 62\n"
        "registration 0000000000000002 0 61 62\n",                         // the same nexus twice
        "itd-persistent-reservations 1\ngeneration 1\nreservation 1 0\n",  // nobody registered
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 61 62\n"
        "reservation 2 0\n",  // no TYPE 2h
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 61 62\n"
        "reservation 1 1\n",  // holder out of range
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 61 62\n"
        "reservation 7 0\n",  // all registrants: "all"
        "itd-persistent-reservations 1\ngeneration 1\nregistration 0000000000000001 0 61 62\n"
        "reservation 1 all\n",
        "itd-persistent-reservations 1\ngeneration 1\nbogus\n",
    };
    for (const char* text : bad) EXPECT_FALSE(decode_pr_state(text).has_value()) << text;
    EXPECT_TRUE(decode_pr_state(good).has_value());
}

TEST(PrStateFile, WriteAndRead) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("itd-pr-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "state.pr").string();
    EXPECT_EQ(read_state_file(path).error().code, Errc::not_found);
    ASSERT_TRUE(write_state_file(path, "one").has_value());
    ASSERT_TRUE(write_state_file(path, "two").has_value());
    EXPECT_EQ(read_state_file(path).value(), "two");
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    EXPECT_FALSE(write_state_file((dir / "missing" / "x.pr").string(), "x").has_value());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace itd::scsi
