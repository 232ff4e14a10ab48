// iSCSI PDUs (RFC 7143 11): the 48-byte Basic Header Segment with accessors named after the
// RFC's fields, and a PDU as header plus AHS plus data segment. Fields are read and written
// with explicit big-endian loads and stores; nothing is overlaid on wire bytes.
//
// Field offsets depend on the opcode (RFC 7143 11.2 onwards); the accessors below name each
// field once, and say which PDUs carry it at that offset.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/endian.h"

namespace itd::iscsi {

inline constexpr std::size_t kBhsBytes = 48;

// RFC 7143 11.2.1.2.
enum class Opcode : std::uint8_t {
    nop_out = 0x00,
    scsi_command = 0x01,
    task_mgmt_request = 0x02,
    login_request = 0x03,
    text_request = 0x04,
    data_out = 0x05,
    logout_request = 0x06,
    snack_request = 0x10,
    nop_in = 0x20,
    scsi_response = 0x21,
    task_mgmt_response = 0x22,
    login_response = 0x23,
    text_response = 0x24,
    data_in = 0x25,
    logout_response = 0x26,
    r2t = 0x31,
    async_message = 0x32,
    reject = 0x3f,
};

// Whether an opcode is one an initiator may send (RFC 7143 11.2.1.2).
bool is_initiator_opcode(std::uint8_t opcode);

inline constexpr std::uint32_t kReservedTag = 0xffffffff;

// Flag bits in byte 1.
namespace flag {
inline constexpr std::uint8_t final_bit = 0x80;  // F; T (transit) in login PDUs
inline constexpr std::uint8_t read = 0x40;       // R in SCSI Command; C (continue) in login/text
inline constexpr std::uint8_t write = 0x20;      // W in SCSI Command
inline constexpr std::uint8_t acknowledge = 0x40;  // A in Data-In
inline constexpr std::uint8_t bidi_overflow = 0x10;   // o in SCSI Response
inline constexpr std::uint8_t bidi_underflow = 0x08;  // u in SCSI Response
inline constexpr std::uint8_t overflow = 0x04;   // O in SCSI Response and Data-In
inline constexpr std::uint8_t underflow = 0x02;  // U in SCSI Response and Data-In
inline constexpr std::uint8_t status = 0x01;     // S in Data-In
inline constexpr std::uint8_t transit = 0x80;    // T in Login
inline constexpr std::uint8_t cont = 0x40;       // C in Login and Text
}  // namespace flag

class Bhs {
public:
    Bhs() = default;
    explicit Bhs(std::span<const std::uint8_t, kBhsBytes> raw) {
        std::copy(raw.begin(), raw.end(), b_.begin());
    }

    std::span<const std::uint8_t, kBhsBytes> bytes() const { return b_; }
    std::span<std::uint8_t, kBhsBytes> bytes() { return b_; }

    // Byte 0: the I bit and the opcode (RFC 7143 11.2.1.1-2).
    std::uint8_t opcode_raw() const { return b_[0] & 0x3f; }
    Opcode opcode() const { return static_cast<Opcode>(opcode_raw()); }
    bool immediate() const { return (b_[0] & 0x40) != 0; }
    void set_opcode(Opcode op, bool immediate = false) {
        b_[0] = static_cast<std::uint8_t>(op) | (immediate ? 0x40 : 0);
    }

    // Byte 1: F and the opcode-specific flags.
    std::uint8_t flags() const { return b_[1]; }
    void set_flags(std::uint8_t f) { b_[1] = f; }
    bool final_bit() const { return (b_[1] & flag::final_bit) != 0; }

    // Bytes 4-7 (every PDU).
    std::uint8_t total_ahs_words() const { return b_[4]; }
    void set_total_ahs_words(std::uint8_t w) { b_[4] = w; }
    std::uint32_t data_segment_length() const { return load_be24(&b_[5]); }
    void set_data_segment_length(std::uint32_t n) { store_be24(&b_[5], n); }

    // Bytes 8-15: LUN (SCSI Command, Data-In/Out, R2T, NOP, TMF, Text, Async).
    std::uint64_t lun() const { return load_be64(&b_[8]); }
    void set_lun(std::uint64_t v) { store_be64(&b_[8], v); }

    // Bytes 16-19: Initiator Task Tag (every PDU but Async; 0xffffffff in Reject).
    std::uint32_t itt() const { return load_be32(&b_[16]); }
    void set_itt(std::uint32_t v) { store_be32(&b_[16], v); }

    // Bytes 20-23: Target Transfer Tag (Data-In/Out, R2T, NOP, Text), Expected Data Transfer
    // Length (SCSI Command), Referenced Task Tag (TMF), SNACK Tag (SCSI Response).
    std::uint32_t ttt() const { return load_be32(&b_[20]); }
    void set_ttt(std::uint32_t v) { store_be32(&b_[20], v); }
    std::uint32_t expected_data_transfer_length() const { return load_be32(&b_[20]); }
    void set_expected_data_transfer_length(std::uint32_t v) { store_be32(&b_[20], v); }
    std::uint32_t referenced_task_tag() const { return load_be32(&b_[20]); }

    // Bytes 20-21: CID (Login, Logout).
    std::uint16_t cid() const { return load_be16(&b_[20]); }
    void set_cid(std::uint16_t v) { store_be16(&b_[20], v); }

    // Bytes 24-27: CmdSN in requests, StatSN in responses.
    std::uint32_t cmd_sn() const { return load_be32(&b_[24]); }
    void set_cmd_sn(std::uint32_t v) { store_be32(&b_[24], v); }
    std::uint32_t stat_sn() const { return load_be32(&b_[24]); }
    void set_stat_sn(std::uint32_t v) { store_be32(&b_[24], v); }

    // Bytes 28-31: ExpStatSN in requests, ExpCmdSN in responses.
    std::uint32_t exp_stat_sn() const { return load_be32(&b_[28]); }
    void set_exp_stat_sn(std::uint32_t v) { store_be32(&b_[28], v); }
    std::uint32_t exp_cmd_sn() const { return load_be32(&b_[28]); }
    void set_exp_cmd_sn(std::uint32_t v) { store_be32(&b_[28], v); }

    // Bytes 32-35: MaxCmdSN in responses; RefCmdSN in TMF requests.
    std::uint32_t max_cmd_sn() const { return load_be32(&b_[32]); }
    void set_max_cmd_sn(std::uint32_t v) { store_be32(&b_[32], v); }
    std::uint32_t ref_cmd_sn() const { return load_be32(&b_[32]); }

    // Bytes 32-47: the CDB (SCSI Command). Longer CDBs continue in an extended-CDB AHS.
    std::span<const std::uint8_t, 16> cdb() const {
        return std::span<const std::uint8_t, 16>(b_.data() + 32, 16);
    }

    // Bytes 36-39: DataSN (Data-In/Out), R2TSN (R2T), ExpDataSN (SCSI Response, TMF).
    std::uint32_t data_sn() const { return load_be32(&b_[36]); }
    void set_data_sn(std::uint32_t v) { store_be32(&b_[36], v); }
    std::uint32_t r2t_sn() const { return load_be32(&b_[36]); }
    void set_r2t_sn(std::uint32_t v) { store_be32(&b_[36], v); }
    std::uint32_t exp_data_sn() const { return load_be32(&b_[36]); }
    void set_exp_data_sn(std::uint32_t v) { store_be32(&b_[36], v); }

    // Bytes 40-43: Buffer Offset (Data-In/Out, R2T); BegRun (SNACK).
    std::uint32_t buffer_offset() const { return load_be32(&b_[40]); }
    void set_buffer_offset(std::uint32_t v) { store_be32(&b_[40], v); }
    std::uint32_t beg_run() const { return load_be32(&b_[40]); }

    // Bytes 44-47: Residual Count (SCSI Response, Data-In), Desired Data Transfer Length
    // (R2T), RunLength (SNACK).
    std::uint32_t residual_count() const { return load_be32(&b_[44]); }
    void set_residual_count(std::uint32_t v) { store_be32(&b_[44], v); }
    std::uint32_t desired_data_transfer_length() const { return load_be32(&b_[44]); }
    void set_desired_data_transfer_length(std::uint32_t v) { store_be32(&b_[44], v); }
    std::uint32_t run_length() const { return load_be32(&b_[44]); }

    // SCSI Response: bytes 2 (Response) and 3 (Status). Data-In: byte 3 (Status).
    // Logout, TMF and Reject responses: byte 2 (Response or Reason).
    std::uint8_t byte2() const { return b_[2]; }
    void set_byte2(std::uint8_t v) { b_[2] = v; }
    std::uint8_t byte3() const { return b_[3]; }
    void set_byte3(std::uint8_t v) { b_[3] = v; }

    // Login (RFC 7143 11.12-13): byte 1 holds T, C, CSG (bits 2-3) and NSG (bits 0-1);
    // byte 2 Version-max, byte 3 Version-min (request) or Version-active (response);
    // bytes 8-13 ISID, 14-15 TSIH; response bytes 36-37 Status-Class and Status-Detail.
    bool transit() const { return (b_[1] & flag::transit) != 0; }
    bool cont() const { return (b_[1] & flag::cont) != 0; }
    std::uint8_t csg() const { return (b_[1] >> 2) & 0x3; }
    std::uint8_t nsg() const { return b_[1] & 0x3; }
    std::uint64_t isid() const { return load_be64(&b_[8]) >> 16; }
    void set_isid(std::uint64_t v) {
        store_be32(&b_[8], static_cast<std::uint32_t>(v >> 16));
        store_be16(&b_[12], static_cast<std::uint16_t>(v));
    }
    std::uint16_t tsih() const { return load_be16(&b_[14]); }
    void set_tsih(std::uint16_t v) { store_be16(&b_[14], v); }
    std::uint8_t status_class() const { return b_[36]; }
    std::uint8_t status_detail() const { return b_[37]; }
    void set_login_status(std::uint8_t cls, std::uint8_t detail) {
        b_[36] = cls;
        b_[37] = detail;
    }

    // Logout request: byte 1 bits 0-6 reason code. Logout response: bytes 40-41 Time2Wait,
    // 42-43 Time2Retain. TMF request: byte 1 bits 0-6 function.
    std::uint8_t function() const { return b_[1] & 0x7f; }
    void set_time2wait(std::uint16_t v) { store_be16(&b_[40], v); }
    void set_time2retain(std::uint16_t v) { store_be16(&b_[42], v); }

    // Generic raw access for fields without a name above (Async Message parameters).
    std::uint8_t& operator[](std::size_t i) { return b_[i]; }
    std::uint8_t operator[](std::size_t i) const { return b_[i]; }

private:
    std::array<std::uint8_t, kBhsBytes> b_{};
};
static_assert(sizeof(Bhs) == kBhsBytes);

// A whole PDU: header, Additional Header Segments (raw, a multiple of 4 bytes) and the data
// segment without padding or digests.
struct Pdu {
    Bhs bhs;
    std::vector<std::uint8_t> ahs;
    std::vector<std::uint8_t> data;
    // A data segment the reader wrote straight into a caller's buffer (PduReader::Placement)
    // instead of `data`: its length.
    std::uint32_t placed_bytes = 0;
};

// A target response with its opcode, the F bit and the initiator task tag set: the part every
// single-PDU answer shares.
inline Pdu response_pdu(Opcode opcode, std::uint32_t itt) {
    Pdu pdu;
    pdu.bhs.set_opcode(opcode);
    pdu.bhs.set_flags(flag::final_bit);
    pdu.bhs.set_itt(itt);
    return pdu;
}

}  // namespace itd::iscsi
