#pragma once
// A reference-counted block of device memory. Views share one Storage; the policy P allocates
// and frees it. Borrowed storage (wrapping a user's buffer) never frees; it may hold a keeper, the
// foreign owner of that memory (a mapped file, a DLPack producer), released with the storage.
#include <cstddef>
#include <memory>
#include <utility>

namespace omni {

/// A reference-counted block of memory that views share; P allocates it, and a borrowed block is never freed by omni.
template <class P> class Storage {
public:
    // Owns `bytes` freshly allocated by P.
    explicit Storage(std::size_t bytes) : data_(bytes ? P::allocate(bytes) : nullptr), bytes_(bytes), owned_(true) {}
    // Borrows memory the caller keeps alive for as long as any view of it exists.
    Storage(void* borrowed, std::size_t bytes) : data_(borrowed), bytes_(bytes), owned_(false) {}
    // Borrows memory that `keeper` keeps alive: the last view going releases the keeper.
    Storage(void* borrowed, std::size_t bytes, std::shared_ptr<const void> keeper)
        : data_(borrowed), bytes_(bytes), owned_(false), keeper_(std::move(keeper)) {}
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
    std::shared_ptr<const void> keeper_;
};

}  // namespace omni
