// Turns a VolumeSpec (spec.h) into a Volume: validates what every backend needs and dispatches
// by backend name.
#pragma once

#include <memory>

#include "common/status.h"
#include "volume/spec.h"
#include "volume/volume.h"

namespace itd::volume {

// Errors (Errc::invalid_argument unless said otherwise), each naming the spec:
//   unknown backend; block size not a power of two in 512..65536; size not a non-zero multiple
//   of the block size; memory without a size; file: see FileVolume::open.
Result<std::shared_ptr<Volume>> open_volume(const VolumeSpec& spec);

}  // namespace itd::volume
