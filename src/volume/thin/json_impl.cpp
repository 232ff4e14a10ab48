// Boost.JSON's compiled part, built header-only: Debian ships Boost.JSON without a library to
// link. This is the one translation unit that includes <boost/json/src.hpp>; everything else
// includes <boost/json.hpp>.
#include <boost/json/src.hpp>
