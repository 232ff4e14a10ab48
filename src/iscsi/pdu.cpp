#include "iscsi/pdu.h"

namespace itd::iscsi {

bool is_initiator_opcode(std::uint8_t opcode) {
    switch (opcode) {
        case 0x00: case 0x01: case 0x02: case 0x03:
        case 0x04: case 0x05: case 0x06: case 0x10:
            return true;
        default:
            return false;
    }
}

}  // namespace itd::iscsi
