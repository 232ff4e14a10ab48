#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace itd::detail {

void check_failed(const char* expr, const char* file, int line, const char* func) {
    std::fprintf(stderr, "itd: invariant broken: %s at %s:%d in %s\n", expr, file, line, func);
    std::fflush(stderr);
    std::abort();
}

}  // namespace itd::detail
