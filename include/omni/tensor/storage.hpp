#pragma once
// A reference-counted block of device memory. Views share one Storage; the policy P allocates
// and frees it. Borrowed storage (wrapping a user's buffer) never frees.
#include <cstddef>
#include <memory>

namespace omni {

template <class P> class Storage {
public:
    // Owns `bytes` freshly allocated by P.
    explicit Storage(std::size_t bytes) : data_(bytes ? P::allocate(bytes) : nullptr), bytes_(bytes), owned_(true) {}
    // Borrows memory the caller keeps alive for as long as any view of it exists.
    Storage(void* borrowed, std::size_t bytes) : data_(borrowed), bytes_(bytes), owned_(false) {}
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    ~Storage() {
        if (owned_ && data_) P::deallocate(data_, bytes_);
    }
    void* data() const { return data_; }
    std::size_t bytes() const { return bytes_; }
    bool owned() const { return owned_; }

private:
    void* data_;
    std::size_t bytes_;
    bool owned_;
};

}  // namespace omni
