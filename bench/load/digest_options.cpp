#include "digest_options.h"

#include <vector>

namespace itd::load {

namespace {

// HOST:PORT or [V6]:PORT; false when there is no port.
bool split_portal(std::string_view portal, std::string& host, std::string& port) {
    const auto colon = portal.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == portal.size()) return false;
    std::string_view h = portal.substr(0, colon);
    if (h.starts_with('[')) {
        if (!h.ends_with(']') || h.size() < 3) return false;
        h = h.substr(1, h.size() - 2);
    } else if (h.find(':') != std::string_view::npos) {
        return false;  // a bare IPv6 address: which colon starts the port?
    }
    const std::string_view p = portal.substr(colon + 1);
    if (!parse_unsigned(p, 1, 65535)) return false;
    host = std::string(h);
    port = std::string(p);
    return true;
}

}  // namespace

const char* to_string(Digests d) {
    switch (d) {
        case Digests::none:
            return "none";
        case Digests::header:
            return "header";
        case Digests::both:
            return "both";
    }
    return "?";
}

std::expected<DigestOptions, std::string> parse_digest_options(
    std::span<const std::string_view> args) {
    DigestOptions o;
    std::vector<std::string_view> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "-h" || arg == "--help") {
            o.help = true;
            return o;
        }
        if (!arg.starts_with("--")) {
            if (arg.starts_with("-") && arg.size() > 1)
                return std::unexpected("unknown option '" + std::string(arg) + "'");
            positional.push_back(arg);
            continue;
        }
        if (arg == "--verify") {
            o.verify = true;
            continue;
        }
        // --name VALUE or --name=VALUE; --verify is the only flag.
        std::string_view name = arg;
        std::string_view value;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return std::unexpected(std::string(name) + " needs a value");
        }

        if (name == "--digests") {
            if (value == "none") {
                o.digests = Digests::none;
            } else if (value == "header") {
                o.digests = Digests::header;
            } else if (value == "both") {
                o.digests = Digests::both;
            } else {
                return bad_value(name, value, "none, header or both");
            }
        } else if (name == "--rw") {
            if (value == "read") {
                o.rw = Rw::read;
            } else if (value == "write") {
                o.rw = Rw::write;
            } else {
                return bad_value(name, value, "read or write");
            }
        } else if (name == "--bs") {
            auto v = parse_size(value);
            if (!v || *v > kMaxBsBytes || *v % 512 != 0)
                return bad_value(name, value, "a multiple of 512 up to 64M, such as 64K or 1M");
            o.bs_bytes = static_cast<std::uint32_t>(*v);
        } else if (name == "--depth") {
            // The slot index lives in the low 12 bits of the task tag (digest_initiator.h).
            auto v = parse_unsigned(value, 1, kMaxDepth);
            if (!v) return bad_value(name, value, "1 to " + std::to_string(kMaxDepth));
            o.depth = *v;
        } else if (auto run_time =
                       parse_run_time(name, value, o.seconds, o.ramp_seconds, o.timeout_seconds)) {
            if (!*run_time) return std::unexpected(run_time->error());
        } else {
            return std::unexpected("unknown option '" + std::string(name) + "'");
        }
    }
    if (positional.size() < 2) return std::unexpected("need HOST:PORT and TARGET_IQN");
    if (positional.size() > 3)
        return std::unexpected("too many arguments: '" + std::string(positional[3]) + "'");
    if (!split_portal(positional[0], o.host, o.port))
        return bad_value("HOST:PORT", positional[0], "HOST:PORT or [IPV6]:PORT");
    o.target = std::string(positional[1]);
    if (positional.size() == 3) {
        auto v = parse_unsigned(positional[2], 0, kMaxLun);
        if (!v) return bad_value("LUN", positional[2], "0 to " + std::to_string(kMaxLun));
        o.lun = *v;
    }
    return o;
}

std::string digest_usage() {
    return "usage: itd_digest_load [OPTIONS] HOST:PORT TARGET_IQN [LUN]\n"
           "Sequential iSCSI load over one connection with CRC32C digests, from a raw-TCP\n"
           "initiator on itd's own PDU codec (libiscsi cannot do data digests).\n"
           "  --digests D   none, header (HeaderDigest=CRC32C) or both (and DataDigest=CRC32C,\n"
           "                the default); the target must agree, or the run fails\n"
           "  --rw MODE     read (default, READ(16)) or write (WRITE(16)); sequential from LBA 0\n"
           "  --bs SIZE     bytes per command (default 1M)\n"
           "  --depth N     commands in flight (default 8)\n"
           "  --seconds S   measured run time (default 5)\n"
           "  --ramp S      run this long first without measuring (default 1)\n"
           "  --timeout S   a login or command that takes longer is an error (default 30)\n"
           "  --verify      writes stamp each block with its LBA; reads check the stamps (write\n"
           "                the whole LUN with --verify first); off for measurements\n"
           "The last line of output sums up the run:\n"
           "  itd_digest_load: digests=... rw=... bs=... depth=... seconds=... ios=... iops=...\n"
           "  mibps=... errors=...\n"
           "Exit status: 0; 1 when the login failed, the target refused a digest, or any\n"
           "command, digest or PDU was wrong (errors > 0); 2 on bad options.\n";
}

}  // namespace itd::load
