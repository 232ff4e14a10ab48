// Shared byte buffers whose memory is kept for reuse when their last owner lets go: a
// connection's read buffers, made once per command and sent from after the command is gone.
// Buffers of a size asked for before come back without touching the heap, up to a bound on
// the bytes the pool keeps; contents start undefined. The pool lives as long as the last of
// its buffers, whichever thread drops it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace itd {

class BufferPool {
public:
    explicit BufferPool(std::size_t max_kept_bytes);

    std::shared_ptr<std::uint8_t[]> get(std::size_t bytes);

    std::size_t kept_bytes() const;

private:
    struct State;
    template <typename T>
    struct Allocator;

    std::shared_ptr<State> state_;
};

}  // namespace itd
