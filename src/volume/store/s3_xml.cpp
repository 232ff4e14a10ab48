#include "volume/store/s3_xml.h"

#include <ctime>
#include <functional>

namespace itd::volume::s3xml {

namespace {

constexpr std::size_t max_depth = 32;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xc0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xe0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(char(0xf0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(char(0x80 | (cp & 0x3f)));
    }
}

enum class Event { leaf, close };
// path: element names from the root, joined by '/'. A leaf is an element without child
// elements (its text is given); close ends an element that had children.
using Visitor = std::function<void(Event, std::string_view path, std::string_view text)>;

std::string_view local_name(std::string_view qname) {
    const std::size_t colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

Status scan(std::string_view xml, const Visitor& visit) {
    const auto bad = [](std::string_view why) {
        return fail(Errc::io_error, "malformed XML from S3: " + std::string(why));
    };
    std::string path;
    std::vector<std::size_t> path_len;  // path.size() before each open element was appended
    std::vector<bool> has_children;
    std::string text;
    std::size_t pos = 0;
    bool seen_root = false;
    while (pos < xml.size()) {
        const std::size_t lt = xml.find('<', pos);
        const std::string_view raw =
            xml.substr(pos, lt == std::string_view::npos ? std::string_view::npos : lt - pos);
        if (!path_len.empty()) {
            auto t = unescape(raw);
            if (!t) return bad(t.error().message);
            text += *t;
        }
        if (lt == std::string_view::npos) break;
        const std::string_view rest = xml.substr(lt);
        if (rest.starts_with("<?")) {
            const std::size_t end = rest.find("?>");
            if (end == std::string_view::npos) return bad("unterminated declaration");
            pos = lt + end + 2;
        } else if (rest.starts_with("<!--")) {
            const std::size_t end = rest.find("-->");
            if (end == std::string_view::npos) return bad("unterminated comment");
            pos = lt + end + 3;
        } else if (rest.starts_with("<![CDATA[")) {
            const std::size_t end = rest.find("]]>");
            if (end == std::string_view::npos) return bad("unterminated CDATA");
            text.append(rest.substr(9, end - 9));
            pos = lt + end + 3;
        } else if (rest.starts_with("<!")) {
            return bad("DTDs are not accepted");
        } else if (rest.starts_with("</")) {
            const std::size_t gt = rest.find('>');
            if (gt == std::string_view::npos) return bad("unterminated end tag");
            std::string_view name = rest.substr(2, gt - 2);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\t' ||
                                     name.back() == '\r' || name.back() == '\n')) {
                name.remove_suffix(1);
            }
            if (path_len.empty()) return bad("end tag without a start tag");
            const std::string_view open =
                std::string_view(path).substr(path_len.back() + (path_len.back() == 0 ? 0 : 1));
            if (local_name(name) != open) return bad("mismatched end tag");
            visit(has_children.back() ? Event::close : Event::leaf, path, text);
            text.clear();
            path.resize(path_len.back());
            path_len.pop_back();
            has_children.pop_back();
            pos = lt + gt + 1;
        } else {
            // A start tag; attribute values may hold '>'.
            std::size_t i = 1;
            char quote = 0;
            for (; i < rest.size(); ++i) {
                const char c = rest[i];
                if (quote) {
                    if (c == quote) quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '>') {
                    break;
                }
            }
            if (i == rest.size()) return bad("unterminated start tag");
            const bool self_closing = rest[i - 1] == '/';
            std::string_view inner = rest.substr(1, i - 1 - (self_closing ? 1 : 0));
            const std::size_t name_end = inner.find_first_of(" \t\r\n");
            const std::string_view name = local_name(inner.substr(0, name_end));
            if (name.empty()) return bad("empty element name");
            if (path_len.empty() && seen_root) return bad("more than one root element");
            if (path_len.size() >= max_depth) return bad("nested too deep");
            seen_root = true;
            if (!has_children.empty()) has_children.back() = true;
            text.clear();
            path_len.push_back(path.size());
            if (!path.empty()) path.push_back('/');
            path.append(name);
            has_children.push_back(false);
            if (self_closing) {
                visit(Event::leaf, path, "");
                path.resize(path_len.back());
                path_len.pop_back();
                has_children.pop_back();
            }
            pos = lt + i + 1;
        }
    }
    if (!path_len.empty()) return bad("unclosed element");
    if (!seen_root) return bad("no element");
    return {};
}

}  // namespace

Result<std::string> unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t amp = text.find('&', pos);
        out.append(text.substr(pos, amp == std::string_view::npos ? amp : amp - pos));
        if (amp == std::string_view::npos) break;
        const std::size_t semi = text.find(';', amp);
        if (semi == std::string_view::npos || semi - amp > 12) {
            return fail(Errc::invalid_argument, "unterminated entity reference");
        }
        const std::string_view ref = text.substr(amp + 1, semi - amp - 1);
        if (ref == "amp") {
            out.push_back('&');
        } else if (ref == "lt") {
            out.push_back('<');
        } else if (ref == "gt") {
            out.push_back('>');
        } else if (ref == "quot") {
            out.push_back('"');
        } else if (ref == "apos") {
            out.push_back('\'');
        } else if (ref.size() >= 2 && ref[0] == '#') {
            const bool hex = ref[1] == 'x';
            const std::string_view digits = ref.substr(hex ? 2 : 1);
            if (digits.empty()) return fail(Errc::invalid_argument, "empty character reference");
            std::uint32_t cp = 0;
            for (char c : digits) {
                unsigned d;
                if (is_digit(c)) {
                    d = unsigned(c - '0');
                } else if (hex && c >= 'a' && c <= 'f') {
                    d = unsigned(c - 'a' + 10);
                } else if (hex && c >= 'A' && c <= 'F') {
                    d = unsigned(c - 'A' + 10);
                } else {
                    return fail(Errc::invalid_argument, "bad character reference");
                }
                cp = cp * (hex ? 16 : 10) + d;
                if (cp > 0x10ffff) return fail(Errc::invalid_argument, "bad character reference");
            }
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
                return fail(Errc::invalid_argument, "bad character reference");
            }
            append_utf8(out, cp);
        } else {
            return fail(Errc::invalid_argument,
                        "unknown entity reference &" + std::string(ref) + ";");
        }
        pos = semi + 1;
    }
    return out;
}

Result<std::chrono::system_clock::time_point> parse_time(std::string_view s) {
    const auto bad = [s] {
        return fail(Errc::io_error, "bad time from S3: '" + std::string(s) + "'");
    };
    // YYYY-MM-DDTHH:MM:SS[.fff]Z
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s.back() != 'Z') {
        return bad();
    }
    const auto number = [s](std::size_t at, std::size_t len, int& out) {
        out = 0;
        for (std::size_t i = at; i < at + len; ++i) {
            if (!is_digit(s[i])) return false;
            out = out * 10 + (s[i] - '0');
        }
        return true;
    };
    std::tm tm{};
    int year, month;
    if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, tm.tm_mday) ||
        !number(11, 2, tm.tm_hour) || !number(14, 2, tm.tm_min) || !number(17, 2, tm.tm_sec)) {
        return bad();
    }
    long millis = 0;
    const std::string_view frac = s.substr(19, s.size() - 20);
    if (!frac.empty()) {
        if (frac[0] != '.' || frac.size() < 2) return bad();
        long scale = 100;
        for (char c : frac.substr(1)) {
            if (!is_digit(c)) return bad();
            millis += (c - '0') * scale;
            scale /= 10;
        }
    }
    if (month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60) {
        return bad();
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    const std::time_t secs = ::timegm(&tm);
    return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(millis);
}

Result<ListPage> parse_list_page(std::string_view xml) {
    ListPage page;
    ObjectInfo current;
    bool has_key = false, has_size = false;
    bool root_ok = false;
    Status failed;
    const Status st = scan(xml, [&](Event event, std::string_view path, std::string_view text) {
        if (!failed) return;
        if (path == "ListBucketResult") {
            root_ok = true;
        } else if (event == Event::leaf && path == "ListBucketResult/IsTruncated") {
            page.truncated = text == "true";
        } else if (event == Event::leaf && path == "ListBucketResult/NextContinuationToken") {
            page.next_continuation_token = std::string(text);
        } else if (event == Event::leaf && path == "ListBucketResult/Contents/Key") {
            current.key = std::string(text);
            has_key = true;
        } else if (event == Event::leaf && path == "ListBucketResult/Contents/Size") {
            std::uint64_t size = 0;
            if (text.empty() || text.size() > 19) failed = fail(Errc::io_error, "bad Size");
            for (char c : text) {
                if (!is_digit(c)) failed = fail(Errc::io_error, "bad Size");
                size = size * 10 + std::uint64_t(c - '0');
            }
            current.size_bytes = size;
            has_size = true;
        } else if (event == Event::leaf && path == "ListBucketResult/Contents/LastModified") {
            auto t = parse_time(text);
            if (!t) {
                failed = std::unexpected(t.error());
            } else {
                current.modified = *t;
            }
        } else if (event == Event::close && path == "ListBucketResult/Contents") {
            if (!has_key || !has_size) {
                failed = fail(Errc::io_error, "a Contents entry without Key or Size");
            }
            page.objects.push_back(std::move(current));
            current = ObjectInfo{};
            has_key = has_size = false;
        }
    });
    if (!st) return std::unexpected(st.error());
    if (!failed) {
        return fail(Errc::io_error,
                    "malformed ListBucketResult from S3: " + failed.error().message);
    }
    if (!root_ok) return fail(Errc::io_error, "S3 answered a listing without a ListBucketResult");
    if (page.truncated && page.next_continuation_token.empty()) {
        return fail(Errc::io_error, "S3 listing truncated without a NextContinuationToken");
    }
    return page;
}

ErrorDocument parse_error(std::string_view xml) {
    ErrorDocument doc;
    const Status st = scan(xml, [&](Event event, std::string_view path, std::string_view text) {
        if (event != Event::leaf) return;
        if (path == "Error/Code") doc.code = std::string(text);
        if (path == "Error/Message") doc.message = std::string(text);
    });
    if (!st) return {};
    return doc;
}

}  // namespace itd::volume::s3xml
