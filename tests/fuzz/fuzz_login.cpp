// Stateful login fuzzer: the input is a sequence of records, each a Login Request header
// (flags, version, CmdSN, TSIH) and a text segment, fed to one Login. Checks: exactly one
// response per request, a response is a Login Response with the request's ITT, a failed or
// completed login stays so, and a completed login had bind_session called once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "iscsi/login.h"

using namespace itd::iscsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    if (in.empty()) return 0;
    const std::uint8_t mode = in[0];
    in = in.subspan(1);

    int binds = 0;
    LoginConfig cfg;
    cfg.limits.immediate_data = mode & 1;
    cfg.limits.max_burst_bytes = (mode & 2) ? 16384 : 1048576;
    cfg.limits.first_burst_bytes = (mode & 2) ? 8192 : 262144;
    cfg.security.require_authentication = mode & 4;
    cfg.check_target = [mode](std::string_view, std::string_view t) -> std::optional<LoginStatus> {
        if ((mode & 8) && t.size() % 2) return login_status::target_not_found;
        return std::nullopt;
    };
    cfg.bind_session = [&binds, mode](const SessionParams& p, std::uint64_t, std::uint16_t tsih,
                                      std::uint16_t) -> std::expected<std::uint16_t, LoginStatus> {
        ++binds;
        if (p.initiator_name.empty()) std::abort();  // InitiatorName is mandatory
        if (p.session_type == SessionType::normal && p.target_name.empty()) std::abort();
        if ((mode & 16) && tsih != 0) return std::unexpected(login_status::session_does_not_exist);
        return 7;
    };
    Login login(std::move(cfg));

    bool done = false;
    while (in.size() >= 6) {
        Pdu req;
        req.bhs.set_opcode(Opcode::login_request, !(in[1] & 0x80));
        req.bhs.set_flags(in[0]);
        req.bhs.set_byte3(in[1] & 0x03);
        req.bhs.set_cmd_sn(in[2]);
        req.bhs.set_tsih(in[3] & 0x01);
        req.bhs.set_itt(in[4]);
        const std::size_t len = std::min<std::size_t>(in[5] * 4u + (in[1] >> 2 & 3), in.size() - 6);
        req.data.assign(in.begin() + 6, in.begin() + 6 + static_cast<std::ptrdiff_t>(len));
        in = in.subspan(6 + len);

        auto step = login.on_request(req);
        const Bhs& b = step.response.bhs;
        if (b.opcode() != Opcode::login_response || b.itt() != req.bhs.itt()) std::abort();
        if (done && step.outcome != Login::Outcome::failed) std::abort();
        if (step.outcome == Login::Outcome::failed) {
            if (b.status_class() == 0 || !step.response.data.empty()) std::abort();
        } else if (b.status_class() != 0) {
            std::abort();
        }
        if (step.outcome == Login::Outcome::complete) {
            if (binds != 1 || !b.transit() || b.nsg() != 3 || b.tsih() != 7) std::abort();
            const SessionParams& p = login.params();
            if (p.first_burst_bytes > p.max_burst_bytes) std::abort();
        }
        if (step.outcome != Login::Outcome::in_progress) done = true;
        if (step.response.data.size() > 8192) std::abort();
    }
    return 0;
}
