#pragma once
// Progress: one status line for a loop of known length (step/total, smoothed loss, samples/s,
// elapsed, ETA). On a terminal it redraws in place; elsewhere (CI logs, pipes) it prints a line
// every `every` steps and at the end, so logs stay short.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace omni::train {

/// A one-line progress display for a loop of known length: step, smoothed loss, samples/s, elapsed, ETA.
class Progress {
public:
    // `total` steps; `label` starts the line; `every`: print period off a terminal (0: 10%).
    Progress(std::string label, std::int64_t total, std::FILE* out = stderr, std::int64_t every = 0)
        : label_(std::move(label)), total_(total), out_(out), tty_(out && ::isatty(::fileno(out))),
          every_(every > 0 ? every : std::max<std::int64_t>(1, total / 10)), start_(clock::now()) {}

    // Records step `step` (1-based, done) with its loss and the samples it consumed.
    void update(std::int64_t step, double loss, std::int64_t samples) {
        samples_ += samples;
        ema_ = have_ ? 0.9 * ema_ + 0.1 * loss : loss;
        have_ = true;
        const double now = seconds();
        const bool last = step >= total_;
        if (!out_) return;
        if (tty_ ? (now - shown_ >= 0.2 || last) : (step % every_ == 0 || last)) {
            shown_ = now;
            const double rate = now > 0 ? static_cast<double>(samples_) / now : 0;
            const double eta = step > 0 ? now / static_cast<double>(step) * static_cast<double>(total_ - step) : 0;
            std::fprintf(out_, "%s%s step %lld/%lld  loss %.4f  %.0f samples/s  %s elapsed  ETA %s%s", tty_ ? "\r" : "",
                         label_.c_str(), static_cast<long long>(step), static_cast<long long>(total_), ema_, rate,
                         clock_text(now).c_str(), clock_text(eta).c_str(), tty_ && !last ? "\x1b[K" : "\n");
            std::fflush(out_);
        }
    }
    double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }
    double samples_per_second() const { return seconds() > 0 ? static_cast<double>(samples_) / seconds() : 0; }
    double smoothed_loss() const { return ema_; }

    static std::string clock_text(double s) {
        const long long t = static_cast<long long>(s + 0.5);
        char buf[32];
        if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
        else std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
        return buf;
    }

private:
    using clock = std::chrono::steady_clock;
    std::string label_;
    std::int64_t total_;
    std::FILE* out_;
    bool tty_;
    std::int64_t every_;
    clock::time_point start_;
    std::int64_t samples_ = 0;
    double ema_ = 0, shown_ = -1;
    bool have_ = false;
};

}  // namespace omni::train
