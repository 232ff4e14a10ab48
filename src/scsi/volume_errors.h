// How a backend error becomes a sense reason (DESIGN.md "Errors": the retry meaning of an Errc
// decides what the initiator is told).
#pragma once

#include "common/status.h"
#include "scsi/sense.h"

namespace itd::scsi {

enum class IoKind : std::uint8_t { read, write, flush };

SenseReason sense_for_volume_error(const Error& error, IoKind kind);

}  // namespace itd::scsi
