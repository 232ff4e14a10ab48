// `itd volume SUBCOMMAND ...`: managing thin volumes in a local store (DESIGN.md "How a user
// meets it"). A thin layer over the catalog functions (volume/thin/catalog.h): it parses the
// arguments, calls one function and prints its result.
//
// Exit status: 0 success, 1 the operation failed ("itd volume: ..." on stderr), 2 a usage
// error (the usage line on stderr).
#pragma once

namespace itd::daemon {

// args are the words after "itd volume".
int volume_main(int argc, const char* const* args);

}  // namespace itd::daemon
