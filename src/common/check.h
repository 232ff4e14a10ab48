// Invariant checks that stay on in release builds (a broken invariant is a bug, and running
// on past one risks data). Input from the wire is never checked with these: it is validated
// and answered.
#pragma once

namespace itd::detail {
[[noreturn]] void check_failed(const char* expr, const char* file, int line, const char* func);
}

#define ITD_CHECK(cond)                                                            \
    do {                                                                           \
        if (!(cond)) [[unlikely]]                                                  \
            ::itd::detail::check_failed(#cond, __FILE__, __LINE__, __func__);      \
    } while (false)
