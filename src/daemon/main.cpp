// itd: the iSCSI target daemon. Parses the command line (or the config file it names), then
// serves until SIGINT or SIGTERM. A usage or configuration error prints one line and exits 2.
// `itd volume ...` manages thin volumes instead (volume_cli.h).
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
    return serve(config);
}
