// CHAP fuzzer (STYLE.md #17): the value decoders of chap.h on the raw input, then a CHAP login
// exchange driven by the input. Input: a mode byte, then records of [flags, length, text…]
// fed as security-stage Login Requests after a fixed AuthMethod=CHAP first request. Flag 1
// appends the right CHAP_N/CHAP_R for the challenge the target sent (so the fuzzer reaches
// the mutual and completion paths), flag 2 sets T=1, flag 4 asks for full feature phase.
// Checks: one Login Response per request with the request's ITT, a failed response carries
// no text, a failed login stays failed, and a login completes only after a right response.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <string>

#include "iscsi/chap.h"
#include "iscsi/login.h"

using namespace itd::iscsi;

namespace {

constexpr const char* kSecret = "fuzz-secret-0123";

void decoders(std::string_view s) {
    (void)choose_chap_algorithm(s);
    (void)parse_chap_identifier(s);
    if (auto b = parse_chap_binary(s); b && (b->empty() || b->size() > kMaxChapBinaryBytes))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    if (in.empty()) return 0;
    const std::uint8_t mode = in[0];
    in = in.subspan(1);
    decoders(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));

    LoginConfig cfg;
    cfg.bind_session = [](const SessionParams&, std::uint64_t, std::uint16_t,
                          std::uint16_t) -> std::expected<std::uint16_t, LoginStatus> { return 7; };
    cfg.security_for = [mode](const SessionParams&) {
        SecurityConfig s;
        s.chap = ChapCredentials{"fuzz", kSecret};
        if (mode & 1) s.mutual_chap = ChapCredentials{"target", "target-secret-0123"};
        return s;
    };
    Login login(std::move(cfg));

    auto send = [&login](std::uint8_t flags, std::vector<std::uint8_t> text, std::uint32_t itt) {
        Pdu req;
        req.bhs.set_opcode(Opcode::login_request, true);
        const std::uint8_t nsg = (flags & 4) ? 3 : 1;
        req.bhs.set_flags(static_cast<std::uint8_t>(((flags & 2) ? flag::transit : 0) | nsg));
        req.bhs.set_itt(itt);
        req.data = std::move(text);
        auto step = login.on_request(req);
        const Bhs& b = step.response.bhs;
        if (b.opcode() != Opcode::login_response || b.itt() != itt) std::abort();
        if (step.outcome == Login::Outcome::failed &&
            (b.status_class() == 0 || !step.response.data.empty()))
            std::abort();
        return step;
    };

    std::vector<std::uint8_t> first;
    append_text(first, "InitiatorName", "iqn.2026-11.org.itd.fuzz:i");
    append_text(first, "TargetName", "iqn.2026-11.org.itd.fuzz:t");
    append_text(first, "AuthMethod", (mode & 2) ? "None,CHAP" : "CHAP");
    auto step = send(0, first, 1);

    std::map<std::string, std::string> last;  // the target's last CHAP answers
    bool answered_right = false;
    bool failed = step.outcome == Login::Outcome::failed;
    std::uint32_t itt = 2;
    while (in.size() >= 2) {
        const std::uint8_t flags = in[0];
        const std::size_t len = std::min<std::size_t>(in[1], in.size() - 2);
        std::vector<std::uint8_t> text(in.begin() + 2, in.begin() + 2 + static_cast<std::ptrdiff_t>(len));
        in = in.subspan(2 + len);
        bool right = false;
        if ((flags & 1) && last.contains("CHAP_C") && last.contains("CHAP_I") && last.contains("CHAP_A")) {
            auto challenge = parse_chap_binary(last["CHAP_C"]);
            auto id = parse_chap_identifier(last["CHAP_I"]);
            auto algorithm = choose_chap_algorithm(last["CHAP_A"]);
            if (!challenge || !id || !algorithm) std::abort();  // our own answer must decode
            append_text(text, "CHAP_N", "fuzz");
            append_text(text, "CHAP_R", hex_binary(chap_response(*algorithm, *id, kSecret, *challenge)));
            right = true;
        }
        step = send(flags, std::move(text), itt++);
        if (failed && step.outcome != Login::Outcome::failed) std::abort();
        failed = failed || step.outcome == Login::Outcome::failed;
        if (step.outcome == Login::Outcome::failed) continue;
        answered_right = answered_right || right;
        if (step.outcome == Login::Outcome::complete && !answered_right) std::abort();
        if (auto pairs = parse_text(step.response.data))
            for (auto& kv : *pairs) last[kv.key] = kv.value;
    }
    return 0;
}
