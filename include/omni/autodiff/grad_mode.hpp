#pragma once
// Whether autodiff ops record onto the tape. Off inside a no_grad scope: an op then costs one
// flag check more than on the undecorated policy (inference pays no tape).
namespace omni {

namespace detail {
inline bool& grad_mode_flag() {
    thread_local bool enabled = true;
    return enabled;
}
}  // namespace detail

inline bool grad_enabled() { return detail::grad_mode_flag(); }

/// RAII: no recording in this thread while alive (nests; restores the previous mode).
class no_grad {
public:
    no_grad() : prev_(detail::grad_mode_flag()) { detail::grad_mode_flag() = false; }
    ~no_grad() { detail::grad_mode_flag() = prev_; }
    no_grad(const no_grad&) = delete;
    no_grad& operator=(const no_grad&) = delete;

private:
    bool prev_;
};

/// RAII: recording on again inside a no_grad scope.
class enable_grad {
public:
    enable_grad() : prev_(detail::grad_mode_flag()) { detail::grad_mode_flag() = true; }
    ~enable_grad() { detail::grad_mode_flag() = prev_; }
    enable_grad(const enable_grad&) = delete;
    enable_grad& operator=(const enable_grad&) = delete;

private:
    bool prev_;
};

}  // namespace omni
