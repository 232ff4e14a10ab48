#include "scsi/pr_state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace itd::scsi {

namespace {

constexpr std::string_view kHeader = "itd-persistent-reservations 1";
// A state file is small (1024 registrations of two names each fit in well under 1 MiB).
constexpr std::size_t kMaxFileBytes = 4u << 20;

std::string hex_encode(std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() * 2);
    for (const char c : text) {
        const auto b = static_cast<std::uint8_t>(c);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xf]);
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        std::uint8_t b = 0;
        const auto [ptr, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, b, 16);
        if (ec != std::errc{} || ptr != hex.data() + i + 2) return std::nullopt;
        out.push_back(static_cast<char>(b));
    }
    return out;
}

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
    T value{};
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

bool valid_type(std::uint8_t type) {
    return type == 1 || type == 3 || type == 5 || type == 6 || type == 7 || type == 8;
}
bool all_registrants_type(std::uint8_t type) {
    return type == 7 || type == 8;
}

std::unexpected<Error> bad(std::size_t line, std::string_view what) {
    return fail(Errc::invalid_argument, "line " + std::to_string(line) + ": " + std::string(what));
}

std::unexpected<Error> os_error(std::string_view what, const std::string& path) {
    return fail(Errc::io_error, std::string(what) + " " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string encode_pr_state(const StoredPrState& state) {
    std::string out(kHeader);
    out += "\ngeneration " + std::to_string(state.generation) + "\n";
    char key[17];
    for (const StoredRegistration& r : state.registrations) {
        std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(r.key));
        out += "registration ";
        out += key;
        out += r.all_tg_pt ? " 1 " : " 0 ";
        out += hex_encode(r.initiator_port) + " " + hex_encode(r.target_port) + "\n";
    }
    if (state.reservation) {
        out += "reservation " + std::to_string(state.reservation->type) + " " +
               (state.reservation->holder ? std::to_string(*state.reservation->holder) : "all") +
               "\n";
    }
    return out;
}

itd::Result<StoredPrState> decode_pr_state(std::string_view text) {
    StoredPrState state;
    std::size_t line_number = 0;
    bool header = false, generation = false;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        ++line_number;
        if (!header) {
            if (line != kHeader) return bad(line_number, "not an itd persistent reservation file");
            header = true;
            continue;
        }
        const auto words = split_words(line);
        if (words.empty()) continue;
        if (words[0] == "generation" && words.size() == 2 && !generation) {
            auto g = parse_number<std::uint32_t>(words[1]);
            if (!g) return bad(line_number, "bad generation");
            state.generation = *g;
            generation = true;
        } else if (words[0] == "registration" && words.size() == 5) {
            if (state.reservation) return bad(line_number, "registration after the reservation");
            if (state.registrations.size() >= kMaxStoredRegistrations)
                return bad(line_number, "too many registrations");
            StoredRegistration r;
            auto key = parse_number<std::uint64_t>(words[1], 16);
            auto initiator = hex_decode(words[3]);
            auto target = hex_decode(words[4]);
            if (!key || *key == 0 || words[1].size() != 16) return bad(line_number, "bad key");
            if (words[2] != "0" && words[2] != "1") return bad(line_number, "bad ALL_TG_PT");
            if (!initiator || initiator->empty() || !target || target->empty())
                return bad(line_number, "bad port name");
            r.key = *key;
            r.all_tg_pt = words[2] == "1";
            r.initiator_port = std::move(*initiator);
            r.target_port = std::move(*target);
            for (const StoredRegistration& other : state.registrations) {
                if (other.initiator_port == r.initiator_port && other.target_port == r.target_port)
                    return bad(line_number, "I_T nexus registered twice");
            }
            state.registrations.push_back(std::move(r));
        } else if (words[0] == "reservation" && words.size() == 3 && !state.reservation) {
            auto type = parse_number<std::uint8_t>(words[1]);
            if (!type || !valid_type(*type)) return bad(line_number, "bad reservation type");
            StoredReservation res;
            res.type = *type;
            if (all_registrants_type(*type)) {
                if (words[2] != "all") return bad(line_number, "bad reservation holder");
            } else {
                auto holder = parse_number<std::size_t>(words[2]);
                if (!holder || *holder >= state.registrations.size())
                    return bad(line_number, "bad reservation holder");
                res.holder = *holder;
            }
            // SPC-4 5.12.10: a reservation needs a registered holder.
            if (state.registrations.empty())
                return bad(line_number, "reservation without registrations");
            state.reservation = res;
        } else {
            return bad(line_number, "unknown record");
        }
    }
    if (!header) return bad(1, "empty file");
    if (!generation) return bad(line_number, "no generation");
    return state;
}

itd::Result<std::string> read_state_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return fail(Errc::not_found, path + " does not exist");
        return os_error("cannot open", path);
    }
    std::string contents;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = os_error("cannot read", path);
            ::close(fd);
            return err;
        }
        if (n == 0) break;
        contents.append(buffer, static_cast<std::size_t>(n));
        if (contents.size() > kMaxFileBytes) {
            ::close(fd);
            return fail(Errc::invalid_argument, path + ": too large for a state file");
        }
    }
    ::close(fd);
    return contents;
}

itd::Status write_state_file(const std::string& path, std::string_view contents) {
    const std::string temp = path + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return os_error("cannot create", temp);
    std::size_t done = 0;
    while (done < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = os_error("cannot write", temp);
            ::close(fd);
            ::unlink(temp.c_str());
            return err;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto err = os_error("cannot fsync", temp);
        ::close(fd);
        ::unlink(temp.c_str());
        return err;
    }
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        auto err = os_error("cannot rename to", path);
        ::unlink(temp.c_str());
        return err;
    }
    // The rename is durable only once the directory entry is.
    const std::size_t slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return os_error("cannot open directory", dir);
    const int rc = ::fsync(dir_fd);
    ::close(dir_fd);
    if (rc != 0) return os_error("cannot fsync directory", dir);
    return {};
}

}  // namespace itd::scsi
