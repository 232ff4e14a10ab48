// CRC32C (digest.h, ISA-L's crc32_iscsi) over the sizes iSCSI digests cover: a BHS, a
// sector, a page, a large Data-In segment and a 1 MiB burst.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "iscsi/digest.h"

namespace itd::bench {
namespace {

void crc32c_bytes(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> buf(n);
    std::uint32_t x = 0x9e3779b9;  // any non-constant bytes will do
    for (auto& b : buf) {
        x = x * 1664525 + 1013904223;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    for (auto _ : state) {
        std::uint32_t crc = iscsi::crc32c(buf);
        benchmark::DoNotOptimize(crc);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

BENCHMARK(crc32c_bytes)
    ->Name("Crc32c")
    ->Arg(48)
    ->Arg(512)
    ->Arg(4 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20);

}  // namespace
}  // namespace itd::bench
