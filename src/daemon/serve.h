// Runs the target daemon for a validated configuration: opens the volumes, builds the SCSI
// targets and the iSCSI portal group, listens, serves until SIGINT/SIGTERM, then closes every
// session and flushes every volume.
#pragma once

#include "daemon/config.h"

namespace itd::daemon {

// Returns the process exit status: 0 after a clean stop, 1 when serving could not start.
int serve(const Config& config);

}  // namespace itd::daemon
