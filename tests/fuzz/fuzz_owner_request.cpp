// Decodes arbitrary values found under requests/<volume> (owner_request.h): what a thin
// volume's owner reads from the MetaStore, where anybody with access may have written it.
// Checks: no crash or sanitizer report; is_reply() agrees with decode_reply(); a value that
// decodes as a request or a reply encodes back to one that decodes to the same fields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/check.h"
#include "volume/thin/owner_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace itd::volume::thin;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const bool reply_like = is_reply(text);
    auto reply = decode_reply(text);
    if (reply) {
        ITD_CHECK(reply_like);
        auto again = decode_reply(encode_reply(*reply));
        ITD_CHECK(again && again->id == reply->id && again->error == reply->error);
    } else {
        ITD_CHECK(reply.error().code == itd::Errc::io_error);
    }
    auto request = decode_request(text);
    if (request) {
        ITD_CHECK(!request->id.empty());
        auto again = decode_request(encode_request(*request));
        ITD_CHECK(again && again->id == request->id && again->op == request->op &&
                  again->snapshot == request->snapshot && again->size_bytes == request->size_bytes);
        ITD_CHECK(!is_reply(encode_request(*request)));
    } else {
        ITD_CHECK(request.error().code == itd::Errc::io_error);
    }
    return 0;
}
