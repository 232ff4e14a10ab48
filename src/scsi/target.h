// The SCSI target device: the logical units one target name exports, the I_T nexuses that talk
// to them, and the entry point a transport hands commands to. Transport-independent: iSCSI
// (src/iscsi) decodes PDUs into scsi::Command and turns CommandResult back into PDUs.
//
//   transport ──Command──▶ Target::execute ──▶ command table ──▶ handler ──▶ volume
//        ◀──CommandResult── done(result) ◀──────── sense table ◀── SenseReason ◀─┘
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "scsi/command.h"
#include "volume/volume.h"

namespace itd::scsi {

class LogicalUnit;

struct LunConfig {
    std::shared_ptr<volume::Volume> volume;
    // Standard INQUIRY data (SPC-4 6.6.2): ASCII, space padded to 8 / 16 / 4 bytes, longer
    // text is cut.
    std::string vendor = "ITD";
    std::string product = "itd disk";
    std::string revision = "0001";
    // VPD 80h unit serial number. Empty: derived from the target name and the LUN number, so it
    // is stable across restarts.
    std::string serial;
    // VPD 83h 8-byte NAA designator (SPC-4 7.8.6.6). A top nibble of 2h, 3h or 5h is kept
    // (an id the user assigned); any other is replaced by 3h (locally assigned). Empty: NAA 3h
    // from a hash of the target name and the LUN number (stable).
    std::optional<std::uint64_t> naa_id;
    // Writes fail with DATA PROTECT / WRITE PROTECTED and MODE SENSE reports WP.
    bool read_only = false;
    // Logical block provisioning (SBC-4 4.7): thin provisioned, UNMAP and WRITE SAME with UNMAP
    // allowed, LBPME=1 and LBPRZ=1 in READ CAPACITY(16), GET LBA STATUS. Only takes effect
    // when the volume supports_unmap().
    bool thin = false;
    // Removable medium (RMB=1 in INQUIRY): START STOP UNIT loads and ejects it, PREVENT ALLOW
    // MEDIUM REMOVAL holds it in (medium.h).
    bool removable = false;
    // Where persistent reservations are kept across restarts when an initiator asks for it
    // (APTPL=1, SPC-4 5.12.5): a state file written atomically. Empty: APTPL is not supported
    // (PTPL_C=0 and APTPL=1 is refused).
    std::string pr_state_path;
    // SANITIZE (sbc_sanitize.cpp) erases at most this many bytes per second; 0: no limit. An
    // erase runs in the background and holds the whole LU, but it still shares the backend
    // (a file system, an object store) with every other LU.
    std::uint64_t sanitize_rate_bytes_per_s = 0;
};

class Target {
public:
    // target_name seeds the device identifiers (serial numbers, NAA ids) of every LUN.
    explicit Target(std::string target_name);
    ~Target();
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;

    const std::string& name() const { return name_; }

    // Adds a logical unit. Call before serving: the set of LUNs is fixed once commands flow.
    // lun <= 16383 (flat space addressing), not added before, config.volume set.
    void add_lun(std::uint32_t lun, LunConfig config);

    // LUN numbers in increasing order.
    std::vector<std::uint32_t> luns() const;

    // An I_T nexus, named by its initiator port (iSCSI: "iqn...,i,0x<isid>") and target port
    // ("iqn...,t,0x<tpgt>"). The same names give back the same id, so session reinstatement
    // keeps unit-attention state. A new nexus starts with the power-on unit attention pending
    // on every LUN.
    NexusId register_nexus(std::string_view initiator_port, std::string_view target_port);
    // The names register_nexus was given for nexus (READ FULL STATUS, APTPL state).
    std::optional<NexusNames> nexus_names(NexusId nexus) const;
    // Loads every LUN's APTPL state file (LunConfig::pr_state_path), registering the I_T
    // nexuses it names. Call once after add_lun, before serving; the first error wins.
    itd::Status restore_persistent_reservations();

    // Executes one command; done runs exactly once, on any thread (inline for commands that
    // need no I/O and for the memory backend, on a backend pool thread otherwise).
    // Thread-safe. cmd.cdb is copied before execute returns; cmd.data_out and cmd.data_in must
    // stay valid until done has run.
    //
    // CommandResult::transfer_bytes: for READ/WRITE the CDB's blocks times the block size; for
    // commands with an allocation length, the bytes the device server has to return
    // (min(allocation length, data available), SPC-4 4.2.5.6), so that a short answer shows
    // as residual underflow, as libiscsi's ModeSense6.Residuals expects.
    void execute(const Command& cmd, CommandDone done);

    // LOGICAL UNIT RESET (SAM-5 7.7): establishes the reset unit attention for every nexus,
    // the requester's included. An unknown LUN is ignored (the TMF layer answers that).
    void reset_lun(std::uint32_t lun, NexusId requester);
    // TARGET WARM RESET / TARGET COLD RESET (SAM-5 7.13, RFC 7143 11.5.1): every LUN is reset
    // as by reset_lun. The transport aborts the tasks and, for a cold reset, ends the sessions.
    void reset_target(NexusId requester);

    // I_T nexus loss (SAM-5 6.3.4): the transport ended the session behind nexus (logout,
    // connection loss, reinstatement). State kept per nexus that does not outlive it (SPC-2
    // reservations, medium removal prevention) is dropped; persistent reservations stay.
    void nexus_lost(NexusId nexus);

    // Whether lun exists (the TMF layer answers "LUN does not exist" without a round trip).
    bool has_lun(std::uint32_t lun) const;

    // The logical unit whose VPD 83h NAA designator is naa_id, or null (EXTENDED COPY names its
    // copy targets by designator, SPC-4 6.4.5).
    LogicalUnit* find_lun_by_naa(std::uint64_t naa_id) const;

    // Flushes every LUN's volume (daemon shutdown); blocks until done. The first error wins.
    itd::Status flush_all();

private:
    LogicalUnit* find_lun(std::uint32_t lun) const;

    std::string name_;
    mutable std::shared_mutex luns_mutex_;
    std::map<std::uint32_t, std::unique_ptr<LogicalUnit>> luns_;

    mutable std::mutex nexus_mutex_;
    std::map<std::string, NexusId, std::less<>> nexus_ids_;
    std::map<NexusId, NexusNames> nexus_names_;
    NexusId next_nexus_ = 1;
};

}  // namespace itd::scsi
