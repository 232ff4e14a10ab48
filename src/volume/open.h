// Turns a VolumeSpec (spec.h) into a Volume: validates what every backend needs and dispatches
// by backend name.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "volume/spec.h"
#include "volume/volume.h"

namespace itd::volume {

// Errors (Errc::invalid_argument unless said otherwise), each naming the spec:
//   unknown backend; block size not a power of two in 512..65536; size not a non-zero multiple
//   of the block size; memory without a size; file: see FileVolume::open.
//   thin on a cluster store (s3://, rados://) whose owner lease another node holds: waits for
//   it (a standby node), calling notice now and then with who holds it.
struct OpenOptions {
    std::function<void(const std::string&)> notice;     // progress worth a log line
    // For the volume's life, from any thread: trouble an operator must see (a thin volume's
    // failed commits and their recovery, the loss of its lease). Must not block.
    std::function<void(const std::string&)> warning;
    std::chrono::milliseconds lease_poll{500};           // how often a standby node asks
    std::chrono::milliseconds notice_every{30000};       // repeats of "waiting for ..."
};
Result<std::shared_ptr<Volume>> open_volume(const VolumeSpec& spec, const OpenOptions& options = {});

}  // namespace itd::volume
