// Persistent reservations (SPC-4 5.12, 6.15, 6.16) and SPC-2 RESERVE/RELEASE through the
// Target: three initiator ports a (usually the holder), b (registered) and c (never
// registered) on one LU.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "harness.h"
#include "scsi/command_table.h"
#include "scsi/pr_state_file.h"
#include "scsi/reservation_rules.h"
#include "scsi/reservations.h"
#include "scsi/spc_pr_out_params.h"

namespace itd::scsi::testing {
namespace {

constexpr std::uint8_t kRegister = 0, kReserve = 1, kRelease = 2, kClear = 3, kPreempt = 4,
                       kPreemptAbort = 5, kRegisterIgnore = 6, kRegisterMove = 7;
constexpr std::uint8_t kWE = 1, kEA = 3, kWERO = 5, kEARO = 6, kWEAR = 7, kEAAR = 8;
constexpr std::uint64_t kA = 0xaaaa, kB = 0xbbbb, kC = 0xcccc;

std::vector<std::uint8_t> basic(std::uint64_t key, std::uint64_t sark, std::uint8_t flags = 0) {
    std::vector<std::uint8_t> p(24, 0);
    store_be64(&p[0], key);
    store_be64(&p[8], sark);
    p[20] = flags;
    return p;
}

class Pr : public ::testing::Test {
  protected:
    void SetUp() override {
        a = h.nexus;  // "iqn.init,i,0x1"
        b = h.target.register_nexus("iqn.b,i,0x000000000002", "iqn.target,t,0x1");
        c = h.target.register_nexus("iqn.c,i,0x000000000003", "iqn.target,t,0x1");
        o = h.target.register_nexus("iqn.observer,i,0x000000000004", "iqn.target,t,0x1");
        clear(b);
        clear(c);
        clear(o);
    }
    void clear(NexusId n) {
        for (int i = 0; i < 16; ++i)
            if (h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, lun_field, n).good()) return;
    }

    Reply prout(NexusId n, std::uint8_t sa, std::vector<std::uint8_t> params, std::uint8_t type = 0,
                std::optional<std::uint32_t> length = {}) {
        std::vector<std::uint8_t> cdb(10, 0);
        cdb[0] = 0x5f;
        cdb[1] = sa;
        cdb[2] = type;
        store_be32(&cdb[5], length.value_or(static_cast<std::uint32_t>(params.size())));
        return h.run_cdb(cdb, 0, std::move(params), lun_field, n);
    }
    Reply reg(NexusId n, std::uint64_t key, std::uint64_t sark, std::uint8_t flags = 0) {
        return prout(n, kRegister, basic(key, sark, flags));
    }
    Reply reserve(NexusId n, std::uint64_t key, std::uint8_t type) {
        return prout(n, kReserve, basic(key, 0), type);
    }
    Reply prin(NexusId n, std::uint8_t sa, std::uint16_t alloc = 4096) {
        std::vector<std::uint8_t> cdb(10, 0);
        cdb[0] = 0x5e;
        cdb[1] = sa;
        store_be16(&cdb[7], alloc);
        return h.run_cdb(cdb, alloc, {}, lun_field, n);
    }
    // PERSISTENT RESERVE IN through o, which never registers and so never has a
    // reservation unit attention pending.
    std::vector<std::uint64_t> keys(std::uint32_t* generation = nullptr) {
        Reply r = prin(o, 0);
        EXPECT_TRUE(r.good());
        std::vector<std::uint64_t> out;
        if (r.data.size() < 8) return out;
        if (generation) *generation = load_be32(&r.data[0]);
        const std::uint32_t n = load_be32(&r.data[4]) / 8;
        for (std::uint32_t i = 0; i < n && 8 + 8 * i + 8 <= r.data.size(); ++i)
            out.push_back(load_be64(&r.data[8 + 8 * i]));
        return out;
    }
    // READ RESERVATION: {key, type}, or nullopt when none.
    std::optional<std::pair<std::uint64_t, std::uint8_t>> reservation() {
        Reply r = prin(o, 1);
        EXPECT_TRUE(r.good());
        if (r.data.size() < 8 || load_be32(&r.data[4]) == 0) return std::nullopt;
        return std::pair{load_be64(&r.data[8]), static_cast<std::uint8_t>(r.data[21] & 0x0f)};
    }
    bool reads(NexusId n) {
        return h.run({0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 512, {}, lun_field, n).good();
    }
    Reply write(NexusId n) {
        return h.run({0x2a, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 0, std::vector<std::uint8_t>(512, 1),
                     lun_field, n);
    }
    bool conflict(const Reply& r) { return r.result.status == Status::reservation_conflict; }
    std::optional<SenseReason> ua(NexusId n) {
        Reply r = h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, lun_field, n);
        for (SenseReason s :
             {SenseReason::ua_reservations_preempted, SenseReason::ua_reservations_released,
              SenseReason::ua_registrations_preempted}) {
            if (r.is(s)) return s;
        }
        EXPECT_TRUE(r.good());
        return std::nullopt;
    }

    Harness h;
    std::uint64_t lun_field = 0;
    NexusId a = 0, b = 0, c = 0, o = 0;
};

TEST_F(Pr, RegisterRules) {
    std::uint32_t gen = 99;
    EXPECT_TRUE(keys(&gen).empty());
    EXPECT_EQ(gen, 0u);
    // SPC-4 5.12.7: an unregistered nexus must send RESERVATION KEY 0.
    EXPECT_TRUE(conflict(reg(a, 5, kA)));
    // SARK 0 from an unregistered nexus: GOOD, nothing changes (generation too).
    EXPECT_TRUE(reg(a, 0, 0).good());
    EXPECT_TRUE(keys(&gen).empty());
    EXPECT_EQ(gen, 0u);
    EXPECT_TRUE(reg(a, 0, kA).good());
    EXPECT_TRUE(reg(b, 0, kB).good());
    EXPECT_EQ(keys(&gen), (std::vector<std::uint64_t>{kA, kB}));
    EXPECT_EQ(gen, 2u);
    // A registered nexus must name its key; then it may change it.
    EXPECT_TRUE(conflict(reg(a, 0, 7)));
    EXPECT_TRUE(conflict(reg(a, kB, 7)));
    EXPECT_TRUE(reg(a, kA, 7).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{7, kB}));
    // REGISTER AND IGNORE EXISTING KEY: whatever RESERVATION KEY says.
    EXPECT_TRUE(prout(a, kRegisterIgnore, basic(12345, kA)).good());
    EXPECT_TRUE(prout(c, kRegisterIgnore, basic(999, kC)).good());
    EXPECT_EQ(keys(&gen), (std::vector<std::uint64_t>{kA, kB, kC}));
    EXPECT_EQ(gen, 5u);
    // SARK 0 unregisters.
    EXPECT_TRUE(reg(b, kB, 0).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA, kC}));
}

TEST_F(Pr, ReserveNeedsRegistrationAndKey) {
    EXPECT_TRUE(conflict(reserve(a, 0, kWE)));
    ASSERT_TRUE(reg(a, 0, kA).good());
    EXPECT_TRUE(conflict(reserve(a, kB, kWE)));
    std::uint32_t before = 0, after = 0;
    keys(&before);
    EXPECT_TRUE(reserve(a, kA, kWE).good());
    keys(&after);
    EXPECT_EQ(before, after);  // SPC-4 6.15.2: RESERVE leaves PRGENERATION alone
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kA, kWE}));
    // The holder again with the same type: GOOD; with another type: conflict.
    EXPECT_TRUE(reserve(a, kA, kWE).good());
    EXPECT_TRUE(conflict(reserve(a, kA, kEA)));
    // Another registrant: conflict.
    ASSERT_TRUE(reg(b, 0, kB).good());
    EXPECT_TRUE(conflict(reserve(b, kB, kWE)));
}

// SPC-4 5.12.1 table 62 / SBC-4 4.18: what a registered non-holder (b) and an unregistered
// nexus (c) may do under each type; the holder (a) may do everything.
struct AccessCase {
    std::uint8_t type;
    bool reg_read, reg_write, unreg_read, unreg_write;
};

TEST_F(Pr, AccessByType) {
    const AccessCase cases[] = {
        {kWE, true, false, true, false},  {kEA, false, false, false, false},
        {kWERO, true, true, true, false}, {kEARO, true, true, false, false},
        {kWEAR, true, true, true, false}, {kEAAR, true, true, false, false},
    };
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    for (const AccessCase& k : cases) {
        SCOPED_TRACE(int{k.type});
        ASSERT_TRUE(reserve(a, kA, k.type).good());
        EXPECT_TRUE(reads(a));
        EXPECT_TRUE(write(a).good());
        EXPECT_EQ(reads(b), k.reg_read);
        EXPECT_EQ(write(b).good(), k.reg_write);
        EXPECT_EQ(reads(c), k.unreg_read);
        const Reply w = write(c);
        EXPECT_EQ(w.good(), k.unreg_write);
        if (!k.unreg_write) {
            EXPECT_TRUE(conflict(w));
        }
        // Always allowed: INQUIRY, TEST UNIT READY, READ CAPACITY, PERSISTENT RESERVE IN.
        EXPECT_TRUE(h.run({0x12, 0, 0, 0, 36, 0}, 36, {}, lun_field, c).good());
        EXPECT_TRUE(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, lun_field, c).good());
        EXPECT_TRUE(h.run({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, {}, lun_field, c).good());
        EXPECT_TRUE(prin(c, 0).good());
        ASSERT_TRUE(prout(a, kRelease, basic(kA, 0), k.type).good());
        ua(b);  // RO/AR releases tell b RESERVATIONS RELEASED
    }
}

TEST_F(Pr, ReleaseRules) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    // No reservation: GOOD.
    EXPECT_TRUE(prout(a, kRelease, basic(kA, 0), kWE).good());
    ASSERT_TRUE(reserve(a, kA, kWERO).good());
    // Unregistered or wrong key: conflict; a registered non-holder: GOOD and nothing happens.
    EXPECT_TRUE(conflict(prout(c, kRelease, basic(0, 0), kWERO)));
    EXPECT_TRUE(conflict(prout(a, kRelease, basic(kB, 0), kWERO)));
    EXPECT_TRUE(prout(b, kRelease, basic(kB, 0), kWERO).good());
    EXPECT_TRUE(reservation().has_value());
    // Another type: INVALID RELEASE OF PERSISTENT RESERVATION.
    EXPECT_TRUE(prout(a, kRelease, basic(kA, 0), kWE)
                    .is(SenseReason::invalid_release_of_persistent_reservation));
    // A registrants-only release tells the other registrants; not the releaser.
    EXPECT_TRUE(prout(a, kRelease, basic(kA, 0), kWERO).good());
    EXPECT_FALSE(reservation().has_value());
    EXPECT_EQ(ua(b), SenseReason::ua_reservations_released);
    EXPECT_EQ(ua(a), std::nullopt);
    EXPECT_EQ(ua(c), std::nullopt);
    // WRITE EXCLUSIVE: nobody is told.
    ASSERT_TRUE(reserve(a, kA, kWE).good());
    EXPECT_TRUE(prout(a, kRelease, basic(kA, 0), kWE).good());
    EXPECT_EQ(ua(b), std::nullopt);
}

TEST_F(Pr, UnregisteringTheHolder) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    // Registrants only: the reservation ends with its holder's registration, and the others
    // hear RESERVATIONS RELEASED.
    ASSERT_TRUE(reserve(a, kA, kEARO).good());
    EXPECT_TRUE(reg(a, kA, 0).good());
    EXPECT_FALSE(reservation().has_value());
    EXPECT_EQ(ua(b), SenseReason::ua_reservations_released);
    // All registrants: it lasts until the last registration goes; READ RESERVATION's key is 0.
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reserve(a, kA, kWEAR).good());
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{0, kWEAR}));
    EXPECT_TRUE(reg(a, kA, 0).good());
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{0, kWEAR}));
    EXPECT_TRUE(write(b).good());  // b holds it now
    EXPECT_TRUE(prout(b, kRelease, basic(kB, 0), kWEAR).good());
    ASSERT_TRUE(reserve(b, kB, kEAAR).good());
    EXPECT_TRUE(reg(b, kB, 0).good());
    EXPECT_FALSE(reservation().has_value());
}

TEST_F(Pr, Clear) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    ASSERT_TRUE(reserve(a, kA, kEA).good());
    EXPECT_TRUE(conflict(prout(c, kClear, basic(0, 0))));
    EXPECT_TRUE(conflict(prout(b, kClear, basic(kA, 0))));
    std::uint32_t before = 0, after = 0;
    keys(&before);
    EXPECT_TRUE(prout(b, kClear, basic(kB, 0)).good());
    EXPECT_TRUE(keys(&after).empty());
    EXPECT_EQ(after, before + 1);
    EXPECT_FALSE(reservation().has_value());
    EXPECT_EQ(ua(a), SenseReason::ua_reservations_preempted);
    EXPECT_EQ(ua(b), std::nullopt);
    EXPECT_TRUE(write(c).good());
}

TEST_F(Pr, PreemptWithoutReservationRemovesRegistrations) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    std::uint32_t before = 0, after = 0;
    keys(&before);
    // SPC-4 figure 9: without a reservation SARK 0 names no registered key, like an unknown
    // key: conflict.
    EXPECT_TRUE(conflict(prout(b, kPreempt, basic(kB, 0), kEA)));
    EXPECT_TRUE(conflict(prout(b, kPreempt, basic(kB, 0x1234), kEA)));
    EXPECT_TRUE(conflict(prout(c, kPreempt, basic(0, kA), kEA)));
    EXPECT_TRUE(prout(b, kPreempt, basic(kB, kA), kEA).good());
    EXPECT_EQ(keys(&after), (std::vector<std::uint64_t>{kB}));
    EXPECT_EQ(after, before + 1);
    EXPECT_FALSE(reservation().has_value());  // none was made
    EXPECT_EQ(ua(a), SenseReason::ua_registrations_preempted);
    EXPECT_EQ(ua(b), std::nullopt);
}

TEST_F(Pr, PreemptTheHolder) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    ASSERT_TRUE(reg(c, 0, kC).good());
    ASSERT_TRUE(reserve(a, kA, kWE).good());
    // SPC-4 table 72: SARK 0 under a reservation that is not all-registrants: INVALID FIELD IN
    // PARAMETER LIST, pointing at the SERVICE ACTION RESERVATION KEY (byte 8).
    Reply zero = prout(b, kPreempt, basic(kB, 0), kEA);
    EXPECT_TRUE(zero.is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_EQ(load_be16(&zero.result.sense[16]), 8);
    // b preempts a's reservation and changes the type: a is unregistered (REGISTRATIONS
    // PREEMPTED), c stays registered and hears RESERVATIONS RELEASED (the type changed).
    EXPECT_TRUE(prout(b, kPreemptAbort, basic(kB, kA), kEARO).good());
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kB, kEARO}));
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kB, kC}));
    EXPECT_EQ(ua(a), SenseReason::ua_registrations_preempted);
    EXPECT_EQ(ua(c), SenseReason::ua_reservations_released);
    EXPECT_EQ(ua(b), std::nullopt);
    EXPECT_FALSE(reads(a));
    EXPECT_TRUE(reads(c));
    // Preempting with the same type: no RESERVATIONS RELEASED for the rest.
    EXPECT_TRUE(prout(c, kPreempt, basic(kC, kB), kEARO).good());
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kC, kEARO}));
    EXPECT_EQ(ua(b), SenseReason::ua_registrations_preempted);
}

TEST_F(Pr, PreemptAllRegistrants) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    ASSERT_TRUE(reg(c, 0, kC).good());
    ASSERT_TRUE(reserve(a, kA, kWEAR).good());
    // A non-zero SARK only removes that key's registrations; the reservation stays.
    EXPECT_TRUE(prout(a, kPreempt, basic(kA, kC), kWEAR).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA, kB}));
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{0, kWEAR}));
    EXPECT_EQ(ua(c), SenseReason::ua_registrations_preempted);
    // SARK 0: everybody else goes and b holds a new reservation of the given type.
    EXPECT_TRUE(prout(b, kPreempt, basic(kB, 0), kWE).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kB}));
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kB, kWE}));
    EXPECT_EQ(ua(a), SenseReason::ua_registrations_preempted);
}

TEST_F(Pr, RegisterAndMove) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    auto move_params = [](std::uint64_t key, std::uint64_t sark, std::string_view port,
                          std::uint8_t flags, std::uint16_t rtpi = 1) {
        auto p = basic(key, sark);
        p[17] = flags;
        store_be16(&p[18], rtpi);
        const auto tid = iscsi_port_transport_id(port);
        store_be32(&p[20], static_cast<std::uint32_t>(tid.size()));
        p.insert(p.end(), tid.begin(), tid.end());
        return p;
    };
    // SPC-4 5.12.8: no reservation: INVALID FIELD IN CDB; unregistered: conflict.
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(kB, kC, "iqn.c,i,0x3", 0))
                    .is(SenseReason::invalid_field_in_cdb));
    EXPECT_TRUE(conflict(prout(c, kRegisterMove, move_params(0, kC, "iqn.b,i,0x2", 0))));
    ASSERT_TRUE(reserve(b, kB, kWE).good());
    EXPECT_TRUE(conflict(prout(a, kRegisterMove, move_params(kA, kC, "iqn.c,i,0x3", 0))));
    // To itself: INVALID FIELD IN PARAMETER LIST; another target port: the same.
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(kB, kC, "iqn.b,i,0x2", 0))
                    .is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(kB, kC, "iqn.c,i,0x3", 0, 2))
                    .is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(kB, 0, "iqn.c,i,0x3", 0))
                    .is(SenseReason::invalid_field_in_parameter_list));
    // To c (unregistered): c is registered with SARK and holds the reservation; UNREG drops b.
    // The TransportID's case does not matter.
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(kB, kC, "IQN.C,I,0X3", 0x02)).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA, kC}));
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kC, kWE}));
    EXPECT_TRUE(write(c).good());
    EXPECT_TRUE(conflict(write(b)));
    // Back to b (unregistered by the UNREG above): registered with the new SARK; without UNREG
    // the mover stays registered.
    EXPECT_TRUE(prout(c, kRegisterMove, move_params(kC, 0x77, "iqn.b,i,0x2", 0)).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA, kC, 0x77}));
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{0x77, kWE}));
    // To a nexus already registered: its key becomes SARK.
    EXPECT_TRUE(prout(b, kRegisterMove, move_params(0x77, 0x55, "iqn.c,i,0x3", 0x02)).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA, 0x55}));
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{0x55, kWE}));
    // An all-registrants reservation cannot be moved.
    ASSERT_TRUE(prout(c, kRelease, basic(0x55, 0), kWE).good());
    ASSERT_TRUE(reserve(c, 0x55, kWEAR).good());
    EXPECT_TRUE(conflict(prout(c, kRegisterMove, move_params(0x55, 0x66, "iqn.b,i,0x2", 0))));
}

TEST_F(Pr, PreemptRemovesEveryRegistrationWithTheKey) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reg(b, 0, kB).good());
    ASSERT_TRUE(reg(c, 0, kB).good());  // two nexuses may share a key
    EXPECT_TRUE(prout(a, kPreempt, basic(kA, kB), kWE).good());
    EXPECT_EQ(keys(), (std::vector<std::uint64_t>{kA}));
    EXPECT_EQ(ua(b), SenseReason::ua_registrations_preempted);
    EXPECT_EQ(ua(c), SenseReason::ua_registrations_preempted);
    // SPC-4 5.12.11.4.4: SARK may be the requester's own key: its registration goes too,
    // without a unit attention.
    EXPECT_TRUE(prout(a, kPreempt, basic(kA, kA), kWE).good());
    EXPECT_TRUE(keys().empty());
    EXPECT_EQ(ua(a), std::nullopt);
}

TEST_F(Pr, ReadFullStatus) {
    ASSERT_TRUE(reg(a, 0, kA, 0x04).good());  // ALL_TG_PT
    ASSERT_TRUE(reg(b, 0, kB).good());
    ASSERT_TRUE(reserve(b, kB, kEA).good());
    Reply r = prin(a, 3);
    ASSERT_TRUE(r.good());
    ASSERT_GE(r.data.size(), 8u);
    const std::uint32_t length = load_be32(&r.data[4]);
    ASSERT_EQ(r.data.size(), 8 + length);
    std::size_t at = 8;
    std::vector<std::string> ports;
    while (at + 24 <= r.data.size()) {
        const std::uint8_t* d = &r.data[at];
        const std::uint32_t tid_len = load_be32(d + 20);
        ASSERT_LE(at + 24 + tid_len, r.data.size());
        auto port = parse_iscsi_port_transport_id({d + 24, tid_len});
        ASSERT_TRUE(port.has_value());
        ports.push_back(*port);
        if (load_be64(d) == kA) {
            EXPECT_EQ(d[12], 0x02);  // ALL_TG_PT, not the holder
        } else {
            EXPECT_EQ(load_be64(d), kB);
            EXPECT_EQ(d[12], 0x01);  // R_HOLDER
            EXPECT_EQ(d[13], kEA);
            EXPECT_EQ(load_be16(d + 18), 1);
        }
        at += 24 + tid_len;
    }
    EXPECT_EQ(ports,
              (std::vector<std::string>{"iqn.init,i,0x000000000001", "iqn.b,i,0x000000000002"}));
}

TEST_F(Pr, ReportCapabilitiesWithoutStateFile) {
    Reply r = prin(a, 2);
    ASSERT_TRUE(r.good());
    ASSERT_EQ(r.data.size(), 8u);
    EXPECT_EQ(load_be16(&r.data[0]), 8);
    EXPECT_EQ(r.data[2], 0x04);         // ATP_C; no CRH, SIP_C or PTPL_C
    EXPECT_EQ(r.data[3], 0x80 | 0x40);  // TMV, ALLOW COMMANDS 100b, PTPL_A=0
    EXPECT_EQ(load_be16(&r.data[4]), 0xea01);
    // SPC-4 6.16.3: APTPL=1 without persistence support: INVALID FIELD IN PARAMETER LIST.
    Reply aptpl = reg(a, 0, kA, 0x01);
    EXPECT_TRUE(aptpl.is(SenseReason::invalid_field_in_parameter_list));
    EXPECT_EQ(load_be16(&aptpl.result.sense[16]), 20);
    EXPECT_TRUE(keys().empty());
}

TEST_F(Pr, CdbAndParameterListErrors) {
    ASSERT_TRUE(reg(a, 0, kA).good());
    EXPECT_TRUE(reserve(a, kA, 2).is(SenseReason::invalid_field_in_cdb));     // TYPE 2h
    EXPECT_TRUE(reserve(a, kA, 0x11).is(SenseReason::invalid_field_in_cdb));  // SCOPE 1h
    EXPECT_TRUE(prout(a, kRegister, {}, 0, 0).is(SenseReason::parameter_list_length_error));
    EXPECT_TRUE(prout(a, kRegister, std::vector<std::uint8_t>(28, 0))
                    .is(SenseReason::parameter_list_length_error));
    EXPECT_TRUE(
        reg(a, kA, kB, 0x08).is(SenseReason::invalid_field_in_parameter_list));  // SPEC_I_PT
    EXPECT_TRUE(prin(a, 4).is(SenseReason::invalid_field_in_cdb));
    // PRIN truncates to the allocation length and says the full length.
    ASSERT_TRUE(reg(b, 0, kB).good());
    Reply r = prin(a, 0, 12);
    ASSERT_TRUE(r.good());
    EXPECT_EQ(r.data.size(), 12u);
    EXPECT_EQ(load_be32(&r.data[4]), 16u);
}

TEST_F(Pr, Spc2ReserveRelease) {
    const std::initializer_list<std::uint8_t> reserve6 = {0x16, 0, 0, 0, 0, 0};
    const std::initializer_list<std::uint8_t> release6 = {0x17, 0, 0, 0, 0, 0};
    const std::initializer_list<std::uint8_t> reserve10 = {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(h.run(reserve6, 0, {}, 0, a).good());
    EXPECT_TRUE(h.run(reserve10, 0, {}, 0, a).good());  // again by the holder
    EXPECT_TRUE(conflict(h.run(reserve6, 0, {}, 0, b)));
    // RELEASE from another nexus: GOOD, and a still holds it.
    EXPECT_TRUE(h.run(release6, 0, {}, 0, b).good());
    EXPECT_TRUE(conflict(write(b)));
    EXPECT_FALSE(reads(b));
    EXPECT_TRUE(conflict(h.run({0x1a, 0, 0x3f, 0, 255, 0}, 255, {}, 0, b)));    // MODE SENSE
    EXPECT_TRUE(conflict(h.run({0x00, 0, 0, 0, 0, 0}, 0, {}, 0, b)));           // TEST UNIT READY
    EXPECT_TRUE(h.run({0x12, 0, 0, 0, 36, 0}, 36, {}, 0, b).good());            // INQUIRY
    EXPECT_TRUE(h.run({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 8, {}, 0, b).good());  // READ CAPACITY
    EXPECT_TRUE(write(a).good());
    // SPC-4 5.12.3: persistent reservation commands conflict, from anyone.
    EXPECT_TRUE(conflict(reg(a, 0, kA)));
    EXPECT_TRUE(conflict(prin(b, 0)));
    EXPECT_TRUE(h.run(release6, 0, {}, 0, a).good());
    EXPECT_TRUE(write(b).good());
    // Third-party RESERVE is not supported.
    EXPECT_TRUE(h.run({0x16, 0x10, 0, 0, 0, 0}, 0, {}, 0, a).is(SenseReason::invalid_field_in_cdb));
    // RESERVE and RELEASE conflict while a registration exists.
    ASSERT_TRUE(reg(a, 0, kA).good());
    EXPECT_TRUE(conflict(h.run(reserve6, 0, {}, 0, a)));
    EXPECT_TRUE(conflict(h.run(release6, 0, {}, 0, b)));
}

TEST_F(Pr, Spc2ReservationEndsWithResetsAndNexusLoss) {
    const std::initializer_list<std::uint8_t> reserve6 = {0x16, 0, 0, 0, 0, 0};
    ASSERT_TRUE(h.run(reserve6, 0, {}, 0, a).good());
    h.target.reset_lun(0, b);
    clear(a);
    clear(b);  // the reset unit attention reaches the requester too
    EXPECT_TRUE(h.run(reserve6, 0, {}, 0, b).good());
    h.target.nexus_lost(b);
    EXPECT_TRUE(h.run(reserve6, 0, {}, 0, a).good());
    h.target.reset_target(c);
    clear(a);
    clear(b);
    EXPECT_TRUE(write(b).good());
    // Persistent reservations survive all three.
    ASSERT_TRUE(reg(a, 0, kA).good());
    ASSERT_TRUE(reserve(a, kA, kEA).good());
    h.target.reset_lun(0, a);
    h.target.reset_target(a);
    h.target.nexus_lost(a);
    clear(b);
    clear(o);
    EXPECT_EQ(reservation(), (std::pair<std::uint64_t, std::uint8_t>{kA, kEA}));
    EXPECT_FALSE(reads(b));
}

// Every command the table offers has a row of its own in the reservation rules (a command
// without one would be treated as a write: safe, but a sign the rules were forgotten).
TEST(ReservationRules, EveryCommandHasARule) {
    const ReservationRule& fallback = reservation_rule(0xff, 0);  // no such opcode
    EXPECT_EQ(fallback.pr, PrAccess::write);
    EXPECT_EQ(fallback.spc2, Spc2Access::conflict);
    for (const CommandSpec& spec : command_table()) {
        EXPECT_NE(&reservation_rule(spec.opcode, spec.service_action), &fallback) << spec.name;
    }
    EXPECT_EQ(reservation_rule(0x12, 0).spc2, Spc2Access::allowed);  // INQUIRY
    EXPECT_EQ(reservation_rule(0x9e, 0x12).pr, PrAccess::read);      // GET LBA STATUS
    EXPECT_EQ(reservation_rule(0x9e, 0x10).pr, PrAccess::allowed);   // READ CAPACITY(16)
}

// APTPL (SPC-4 5.12.5): a second Target on the same state file finds what the first left.
TEST(PrAptpl, StateFileSurvivesANewTarget) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("itd-pr-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "lun0.pr").string();
    std::filesystem::remove(path);
    auto volume = memory_volume(2048);
    auto make = [&](Target& t) {
        LunConfig cfg;
        cfg.volume = volume;
        cfg.pr_state_path = path;
        t.add_lun(0, std::move(cfg));
    };
    auto run = [](Target& t, NexusId n, std::vector<std::uint8_t> cdb, std::size_t in,
                  std::vector<std::uint8_t> out) {
        cdb.resize(16, 0);
        std::vector<std::uint8_t> data_in(in);
        Command cmd;
        cmd.nexus = n;
        cmd.cdb = cdb;
        cmd.data_out = out;
        cmd.data_in = data_in;
        Reply reply;
        t.execute(cmd, [&](CommandResult r) {
            reply.result = r;
            ++reply.calls;
        });
        EXPECT_EQ(reply.calls, 1);  // memory volume, no I/O: inline
        reply.data.assign(data_in.begin(), data_in.begin() + reply.result.data_in_bytes);
        return reply;
    };
    auto tur_until_good = [&](Target& t, NexusId n) {
        for (int i = 0; i < 8; ++i)
            if (run(t, n, {0x00, 0, 0, 0, 0, 0}, 0, {}).good()) return;
    };
    {
        Target first("iqn.2026-11.org.example:aptpl");
        make(first);
        ASSERT_TRUE(first.restore_persistent_reservations().has_value());
        const NexusId x = first.register_nexus("iqn.x,i,0x1", "iqn.t,t,0x1");
        const NexusId y = first.register_nexus("iqn.y,i,0x2", "iqn.t,t,0x1");
        tur_until_good(first, x);
        tur_until_good(first, y);
        ASSERT_TRUE(run(first, x, {0x5f, kRegister, 0, 0, 0, 0, 0, 0, 24, 0}, 0, basic(0, kA, 0x01))
                        .good());
        ASSERT_TRUE(run(first, y, {0x5f, kRegister, 0, 0, 0, 0, 0, 0, 24, 0}, 0, basic(0, kB, 0x01))
                        .good());
        ASSERT_TRUE(
            run(first, y, {0x5f, kReserve, kEARO, 0, 0, 0, 0, 0, 24, 0}, 0, basic(kB, 0)).good());
        auto stored = read_state_file(path);
        ASSERT_TRUE(stored.has_value());
        auto decoded = decode_pr_state(*stored);
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(decoded->registrations.size(), 2u);
        ASSERT_TRUE(decoded->reservation.has_value());
        EXPECT_EQ(decoded->reservation->holder, std::optional<std::size_t>{1});
    }
    {
        Target second("iqn.2026-11.org.example:aptpl");
        make(second);
        ASSERT_TRUE(second.restore_persistent_reservations().has_value());
        // The restored registrations name the same ports, so these are their nexuses.
        const NexusId z = second.register_nexus("iqn.z,i,0x9", "iqn.t,t,0x1");
        const NexusId y = second.register_nexus("iqn.y,i,0x2", "iqn.t,t,0x1");
        tur_until_good(second, y);
        tur_until_good(second, z);
        Reply keys = run(second, z, {0x5e, 0, 0, 0, 0, 0, 0, 0x10, 0, 0}, 4096, {});
        ASSERT_TRUE(keys.good());
        ASSERT_EQ(load_be32(&keys.data[4]), 16u);
        EXPECT_EQ(load_be64(&keys.data[8]), kA);
        EXPECT_EQ(load_be64(&keys.data[16]), kB);
        // EXCLUSIVE ACCESS - REGISTRANTS ONLY, held by y: z (unregistered) cannot read.
        EXPECT_EQ(run(second, z, {0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 512, {}).result.status,
                  Status::reservation_conflict);
        EXPECT_TRUE(run(second, y, {0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 512, {}).good());
        // APTPL=0 from the last REGISTER: nothing survives the next restart.
        EXPECT_TRUE(
            run(second, y, {0x5f, kRegister, 0, 0, 0, 0, 0, 0, 24, 0}, 0, basic(kB, kC)).good());
    }
    {
        Target third("iqn.2026-11.org.example:aptpl");
        make(third);
        ASSERT_TRUE(third.restore_persistent_reservations().has_value());
        const NexusId y = third.register_nexus("iqn.y,i,0x2", "iqn.t,t,0x1");
        tur_until_good(third, y);
        Reply keys = run(third, y, {0x5e, 0, 0, 0, 0, 0, 0, 0x10, 0, 0}, 4096, {});
        ASSERT_TRUE(keys.good());
        EXPECT_EQ(load_be32(&keys.data[4]), 0u);
    }
    // A corrupt file stops the restore with a message naming it.
    ASSERT_TRUE(
        write_state_file(path, "itd-persistent-reservations 1\nreservation 9 0\n").has_value());
    Target fourth("iqn.2026-11.org.example:aptpl");
    make(fourth);
    auto st = fourth.restore_persistent_reservations();
    ASSERT_FALSE(st.has_value());
    EXPECT_NE(st.error().message.find(path), std::string::npos);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace itd::scsi::testing
