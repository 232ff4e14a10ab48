// A small RAII layer over libiscsi's C API for the integration tests, plus a raw TCP client
// for sending bytes libiscsi would never send.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
}

namespace itd_it {

// From the environment: ITD_PORTAL (host:port), ITD_TARGET (IQN), ITD_LUN (default 0).
std::string portal();
std::string target();
int lun();

struct ContextDeleter {
    void operator()(iscsi_context* c) const;
};
using Context = std::unique_ptr<iscsi_context, ContextDeleter>;

struct TaskDeleter {
    void operator()(scsi_task* t) const { scsi_free_scsi_task(t); }
};
using Task = std::unique_ptr<scsi_task, TaskDeleter>;

struct SessionOptions {
    bool immediate_data = true;
    bool initial_r2t = false;
    bool header_digest = false;  // insist on CRC32C header digests
    std::string initiator = "iqn.2026-11.org.itd.test:integration";
};

// A logged-in normal session, or nullptr (the error is printed).
Context connect(const SessionOptions& options = {});

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint32_t seed);

struct Capacity {
    std::uint32_t block_size_bytes;
    std::uint64_t blocks;
};
// TEST UNIT READY (which takes the power-on unit attention), then READ CAPACITY (16) of lun();
// nullopt, with a message on stderr, when it fails.
std::optional<Capacity> read_capacity(iscsi_context* ctx);

// A raw TCP connection to the portal, with a timeout on every read.
class RawConnection {
public:
    RawConnection();
    ~RawConnection();
    bool ok() const { return fd_ >= 0; }
    bool send_all(const std::vector<std::uint8_t>& bytes);
    // Reads one PDU header and its data segment; nullopt when the peer closed or timed out.
    // The digests (when set_digests turned them on) are read and dropped.
    std::optional<std::vector<std::uint8_t>> read_pdu(int timeout_ms = 3000);
    // After a login that negotiated CRC32C digests: the PDUs the target sends carry them.
    void set_digests(bool header, bool data) {
        header_digest_ = header;
        data_digest_ = data;
    }
    // True if the peer closes the connection within timeout_ms (reading and dropping data).
    bool closed_within(int timeout_ms);

private:
    bool read_exact(std::uint8_t* out, std::size_t n, int timeout_ms);
    int fd_ = -1;
    bool header_digest_ = false;
    bool data_digest_ = false;
};

// A Login Request (operational stage straight to full feature) with the given keys.
std::vector<std::uint8_t> login_pdu(const std::vector<std::string>& keys, std::uint32_t itt);

// CRC32C as iSCSI digests use it (RFC 7143 13.1, RFC 3385), computed with ISA-L; on the wire
// the four bytes go least significant first.
std::uint32_t crc32c(const std::uint8_t* data, std::size_t n);

}  // namespace itd_it
