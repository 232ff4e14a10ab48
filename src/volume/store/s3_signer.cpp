#include "volume/store/s3_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "common/check.h"

namespace itd::volume::sigv4 {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(hex_digits[b >> 4]);
        out.push_back(hex_digits[b & 0xf]);
    }
    return out;
}

Key hmac(std::span<const std::uint8_t> key, std::string_view data) {
    Key out{};
    unsigned len = 0;
    const unsigned char* result =
        HMAC(EVP_sha256(), key.data(), int(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
    ITD_CHECK(result != nullptr && len == out.size());
    return out;
}

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

// SigV4: "Trimall": no leading or trailing spaces, inner runs of spaces as one.
std::string trim_all(std::string_view v) {
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return out;
}

}  // namespace

std::string Scope::to_string() const {
    return date + "/" + region + "/" + service + "/aws4_request";
}

std::string sha256_hex(std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 32> md{};
    unsigned len = 0;
    ITD_CHECK(EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) == 1);
    ITD_CHECK(len == md.size());
    return to_hex(md);
}

std::string sha256_hex(std::string_view data) {
    return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

std::string amz_date(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    ITD_CHECK(n == 16);
    return std::string(buf, n);
}

std::string uri_encode(std::string_view s, bool encode_slash) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved || (c == '/' && !encode_slash)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back("0123456789ABCDEF"[c >> 4]);
            out.push_back("0123456789ABCDEF"[c & 0xf]);
        }
    }
    return out;
}

std::string canonical_query(std::string_view query) {
    std::vector<std::pair<std::string_view, std::string_view>> params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (param.empty()) continue;
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) {
            params.emplace_back(param, std::string_view());
        } else {
            params.emplace_back(param.substr(0, eq), param.substr(eq + 1));
        }
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out.push_back('&');
        out.append(name).append("=").append(value);
    }
    return out;
}

CanonicalRequest canonical_request(std::string_view method, std::string_view path,
                                   std::string_view query, const std::vector<http::Header>& headers,
                                   std::string_view payload_hash) {
    std::vector<std::pair<std::string, std::string>> sorted;
    sorted.reserve(headers.size());
    for (const http::Header& h : headers) {
        std::string name;
        name.reserve(h.name.size());
        for (char c : h.name) name.push_back(lower(c));
        sorted.emplace_back(std::move(name), trim_all(h.value));
    }
    // Stable: repeated names keep their order when joined.
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });

    CanonicalRequest out;
    std::string& text = out.text;
    text.append(method).append("\n");
    text.append(path.empty() ? std::string_view("/") : path).append("\n");
    text.append(canonical_query(query)).append("\n");
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0 && sorted[i].first == sorted[i - 1].first) {
            text.pop_back();  // the '\n' of the previous value
            text.append(",").append(sorted[i].second).append("\n");
            continue;
        }
        text.append(sorted[i].first).append(":").append(sorted[i].second).append("\n");
        if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
        out.signed_headers.append(sorted[i].first);
    }
    text.append("\n");
    text.append(out.signed_headers).append("\n");
    text.append(payload_hash);
    return out;
}

std::string string_to_sign(std::string_view amz_date_text, const Scope& scope,
                           std::string_view canonical_request_text) {
    std::string out = "AWS4-HMAC-SHA256\n";
    out.append(amz_date_text).append("\n");
    out.append(scope.to_string()).append("\n");
    out.append(sha256_hex(canonical_request_text));
    return out;
}

Key signing_key(std::string_view secret_access_key, const Scope& scope) {
    std::string first = "AWS4";
    first.append(secret_access_key);
    Key k = hmac(std::span(reinterpret_cast<const std::uint8_t*>(first.data()), first.size()),
                 scope.date);
    // Do not leave a copy of the secret in freed memory.
    OPENSSL_cleanse(first.data(), first.size());
    k = hmac(k, scope.region);
    k = hmac(k, scope.service);
    return hmac(k, "aws4_request");
}

std::string signature(const Key& key, std::string_view string_to_sign_text) {
    return to_hex(hmac(key, string_to_sign_text));
}

std::string authorization(std::string_view access_key_id, const Scope& scope,
                          std::string_view signed_headers, std::string_view signature_hex) {
    std::string out = "AWS4-HMAC-SHA256 Credential=";
    out.append(access_key_id).append("/").append(scope.to_string());
    out.append(", SignedHeaders=").append(signed_headers);
    out.append(", Signature=").append(signature_hex);
    return out;
}

std::string sign(const Credentials& credentials, const Scope& scope, std::string_view amz_date_text,
                 std::string_view method, std::string_view path, std::string_view query,
                 const std::vector<http::Header>& headers, std::string_view payload_hash) {
    const CanonicalRequest canonical =
        canonical_request(method, path, query, headers, payload_hash);
    const std::string sts = string_to_sign(amz_date_text, scope, canonical.text);
    const std::string sig = signature(signing_key(credentials.secret_access_key, scope), sts);
    return authorization(credentials.access_key_id, scope, canonical.signed_headers, sig);
}

}  // namespace itd::volume::sigv4
