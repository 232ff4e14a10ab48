// Decodes arbitrary PERSISTENT RESERVE OUT parameter lists (SPC-4 6.16.3, 6.16.4) for every
// service action. Checks: no crash or sanitizer report; errors carry a reason and, for INVALID
// FIELD IN PARAMETER LIST, a parameter-list field pointer inside the list; a basic list that
// decodes is exactly 24 bytes without SPEC_I_PT; a REGISTER AND MOVE TransportID decodes to a
// canonical port name that encodes and decodes back to itself.
//
// Input layout: byte 0 (low 3 bits) the service action; the rest is the parameter list.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/check.h"
#include "scsi/spc_pr_out_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::scsi;
    if (size < 1) return 0;
    const auto action = static_cast<PrOutAction>(data[0] & 0x07);
    const std::span<const std::uint8_t> list(data + 1, size - 1);

    auto parsed = parse_pr_out_parameters(action, list);
    if (!parsed) {
        const PrOutParseError& e = parsed.error();
        ITD_CHECK(e.reason == SenseReason::parameter_list_length_error ||
                  e.reason == SenseReason::invalid_field_in_parameter_list);
        if (e.reason == SenseReason::invalid_field_in_parameter_list) {
            ITD_CHECK(e.field.has_value() && !e.field->in_cdb && e.field->byte < list.size());
        }
        return 0;
    }
    if (action != PrOutAction::register_and_move) {
        ITD_CHECK(list.size() == kPrOutBasicBytes && !parsed->spec_i_pt);
        return 0;
    }
    const std::string& port = parsed->move_to_initiator_port;
    ITD_CHECK(port.find(",i,0x") != std::string::npos);
    const auto again = parse_iscsi_port_transport_id(iscsi_port_transport_id(port));
    ITD_CHECK(again.has_value() && *again == port);
    return 0;
}
