// A volume as the user names it: the BACKEND:ARG part of a LUN-SPEC and the options that
// concern storage. The daemon parses LUN-SPECs and config files into this; open_volume()
// (volume/open.h) turns it into a Volume.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace itd::volume {

struct VolumeSpec {
    std::string backend;                     // "memory", "file"
    std::string arg;                         // memory: the size text; file: the path
    std::optional<std::uint64_t> size_bytes; // memory: required; file: create when missing
    std::uint32_t block_size_bytes = 512;    // 512 or 4096 (any power of two 512..64Ki)
    // Options a backend understands that have no field above (kept for later backends).
    std::map<std::string, std::string> options;
};

}  // namespace itd::volume
