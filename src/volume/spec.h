// A volume as the user names it: the BACKEND:ARG part of a LUN-SPEC and the options that
// concern storage. The daemon parses LUN-SPECs and config files into this; open_volume()
// (volume/open.h) turns it into a Volume.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace itd::volume {

// S3 credentials from the config file (thin:s3://...). Never logged, never in a message; empty:
// the environment's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
struct StoreSecrets {
    std::string s3_access_key_id;
    std::string s3_secret_access_key;
    std::string s3_session_token;
};

struct VolumeSpec {
    std::string backend;                     // "memory", "file", "thin"
    std::string arg;                         // memory: the size text; file: the path;
                                             // thin: STORE/VOLUME
    std::optional<std::uint64_t> size_bytes; // memory: required; file: create when missing
    std::uint32_t block_size_bytes = 512;    // 512 or 4096 (any power of two 512..64Ki)
    // Options a backend understands that have no field above (kept for later backends).
    std::map<std::string, std::string> options;
    StoreSecrets secrets;  // thin on s3://
};

}  // namespace itd::volume
