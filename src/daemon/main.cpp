// itd: the iSCSI target daemon. Parses the command line (or the config file it names), then
// serves until SIGINT or SIGTERM. A usage or configuration error prints one line and exits 2.
// `itd volume ...` manages thin volumes instead (volume_cli.h).
#include <malloc.h>
#include <cstdio>
#include <string_view>
#include <variant>

#include "daemon/config.h"
#include "daemon/logging.h"
#include "daemon/serve.h"
#include "daemon/volume_cli.h"

int main(int argc, char** argv) {
    using namespace itd::daemon;
    if (argc > 1 && std::string_view(argv[1]) == "volume") return volume_main(argc - 2, argv + 2);
    auto parsed = parse_command_line(argc, argv);
    if (!parsed) {
        std::fprintf(stderr, "itd: %s\n", parsed.error().message.c_str());
        return 2;
    }
    if (auto* info = std::get_if<InfoText>(&*parsed)) {
        std::fputs(info->text.c_str(), stdout);
        return 0;
    }
    const Config& config = std::get<Config>(*parsed);
    setup_logging(config.log_level);
    // Command buffers up to 16 MiB come and go with every large I/O. By default glibc hands
    // blocks that big to fresh mmap()s and trims freed heap back to the kernel, so each 1 MiB
    // command page-faulted its buffers in again (a third of the time of a 1 MiB read). Keep
    // them in the heap for reuse instead.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return serve(config);
}
