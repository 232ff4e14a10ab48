// The little XML that S3 answers with, read by a minimal scanner: ListObjectsV2 pages and
// error documents. Enough of XML 1.0 for these documents from any S3 service (AWS, Ceph RGW,
// MinIO): a declaration, comments, CDATA, attributes (ignored), namespace prefixes (dropped),
// the five predefined entities and character references. No DTDs, no external entities.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "volume/store/object_store.h"

namespace itd::volume::s3xml {

// XML text with entity and character references replaced ("a&amp;b" -> "a&b",
// "&#x41;" -> "A"); invalid_argument for an unknown or malformed reference.
Result<std::string> unescape(std::string_view text);

// "2009-10-12T17:50:30.000Z" (ISO 8601 in UTC, fractional seconds optional).
Result<std::chrono::system_clock::time_point> parse_time(std::string_view text);

struct ListPage {
    std::vector<ObjectInfo> objects;  // in the order of the document
    bool truncated = false;
    std::string next_continuation_token;  // set when truncated
};

// A ListBucketResult (ListObjectsV2). io_error when the document is not one.
Result<ListPage> parse_list_page(std::string_view xml);

struct ErrorDocument {
    std::string code;     // "NoSuchKey", "SlowDown", "AccessDenied", …
    std::string message;  // the service's explanation
};

// An <Error> document; empty fields when the body is not one (a HEAD response, a proxy's page).
ErrorDocument parse_error(std::string_view xml);

}  // namespace itd::volume::s3xml
