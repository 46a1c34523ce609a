// Determinism of CPU training. The same seed gives bitwise the same losses and weights on every
// run at a given omni::set_num_threads. Across thread counts the kernels give the same bits too
// (each output element is computed by one thread in a fixed order, and sums over rows go in fixed
// blocks), checked op by op and for a whole training run below. The exception: large float32
// GEMMs on a CPU without AVX2, and float64 ones, run on Eigen's threads, whose blocking depends on
// the thread count (docs/reliability.md, "Determinism").
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "omni/backend/cpu.hpp"
#include "omni/backend/cpu/sgemm.hpp"
#include "omni/loss/cross_entropy.hpp"
#include "omni/ops/linear.hpp"
#include "omni/optim/adamw.hpp"

using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;

namespace {

// Bitwise: memcmp, so -0.0 vs 0.0 or two NaN payloads count as different too.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs f on `threads` threads and flattens what it returns.
std::vector<float> on_threads(int threads, const std::function<std::vector<D>()>& f) {
    const int before = omni::num_threads();
    omni::set_num_threads(threads);
    std::vector<float> out;
    for (const D& t : f()) {
        const auto v = t.to_vector<float>();
        out.insert(out.end(), v.begin(), v.end());
    }
    omni::set_num_threads(before);
    return out;
}

// Three AdamW steps of linear -> layer_norm -> gelu -> linear -> cross-entropy on 512 rows (large
// enough that the elementwise ops, the row ops and the GEMMs split across 2 threads): the losses,
// then every parameter.
std::vector<D> train() {
    omni::Generator g(11);
    const V x(D::randn({512, 64}, g));
    std::vector<std::int64_t> t(512);
    for (auto& v : t) v = static_cast<std::int64_t>(g.uniform() * 10);
    const V targets(D::from_data(t, {512}));
    const std::vector<V> p = {V(D::randn({64, 64}, g, omni::dtype::f32, 0, 0.1), true), V(D::zeros({64}), true), V(D::ones({64}), true),
                              V(D::zeros({64}), true), V(D::randn({10, 64}, g, omni::dtype::f32, 0, 0.1), true)};
    omni::optim::ParamGroup<omni::cpu> group;
    group.params = p;
    omni::optim::AdamW<omni::cpu> opt({group}, {.lr = 1e-2, .weight_decay = 0.1});
    std::vector<float> losses;
    for (int step = 0; step < 3; ++step) {
        const V h = omni::gelu(omni::layer_norm(omni::linear(x, p[0], p[1]), p[2], p[3]));
        const V loss = omni::loss::cross_entropy(omni::linear(h, p[4]), targets, 0.1);
        loss.backward();
        opt.step(1e-2);
        opt.zero_grad();
        losses.push_back(loss.item<float>());
    }
    std::vector<D> out{D::from_data(losses, {3})};
    for (const V& w : p) out.push_back(w.value());
    return out;
}

}  // namespace

TEST(Determinism, TheSameSeedTrainsBitwiseTheSameOnEveryRun) {
    for (const int threads : {1, 2}) EXPECT_TRUE(same_bits(on_threads(threads, train), on_threads(threads, train))) << threads << " threads";
}

TEST(Determinism, TheSameSeedTrainsBitwiseTheSameOnOneAndTwoThreads) {
    if (!omni::backend::cpu::sgemm::kernel()) GTEST_SKIP() << "no AVX2 here (or OMNI_CPU_ISA=baseline): large GEMMs run on Eigen's threads";
    EXPECT_TRUE(same_bits(on_threads(1, train), on_threads(2, train)));
}

// Forward and every gradient of the ops whose bits do not depend on the thread count, at sizes
// where 2 threads split the work.
TEST(Determinism, TheseOpsGiveTheSameBitsOnOneAndTwoThreads) {
    omni::Generator g(1);
    const D x = D::randn({512, 64}, g), w = D::randn({64, 64}, g), o = D::randn({512, 64}, g);
    const auto grad_of = [&](const V& y, const V& in) {
        omni::sum(omni::mul(y, V(o.view(y.shape())))).backward();
        return std::vector<D>{y.value(), in.grad()};
    };
    const std::vector<std::pair<const char*, std::function<std::vector<D>()>>> ops = {
        {"gelu", [&] { const V a(x, true); return grad_of(omni::gelu(a), a); }},
        {"softmax", [&] { const V a(x, true); return grad_of(omni::softmax(a, -1), a); }},
        {"l2_normalize", [&] { const V a(x, true); return grad_of(omni::l2_normalize(a), a); }},
        {"layer_norm (input gradient)", [&] { const V a(x, true); return grad_of(omni::layer_norm(a, V(D::ones({64})), V(D::zeros({64}))), a); }},
        {"attention", [&] {
             const V q(x.view({4, 128, 2, 32}).permute({0, 2, 1, 3}), true);
             return grad_of(omni::attention(q, q, q), q);
         }},
        {"sum over rows and columns", [&] { return std::vector<D>{omni::sum(x, {0}), omni::sum(x, {1}), omni::sum(x), omni::max(x, {1})}; }},
        {"cross_entropy", [&] {
             const V a(x, true);
             const V l = omni::loss::cross_entropy(a, V(D::from_data(std::vector<std::int64_t>(512, 3), {512})));
             l.backward();
             return std::vector<D>{l.value(), a.grad()};
         }},
        {"rms_norm (input and weight gradients)", [&] {
             const V a(x, true), w(D::ones({64}), true);
             auto r = grad_of(omni::rms_norm(a, w), a);
             r.push_back(w.grad());
             return r;
         }},
        {"layer_norm (weight and bias gradients)", [&] {
             const V a(x, true), w(D::ones({64}), true), b(D::zeros({64}), true);
             auto r = grad_of(omni::layer_norm(a, w, b), a);
             r.push_back(w.grad());
             r.push_back(b.grad());
             return r;
         }},
        {"matmul, inner dimension 64", [&] {
             const V a(x, true);
             return grad_of(omni::matmul(a, V(w), false, true), a);  // dx = g w: inner dimension 64 as well
         }},
    };
    for (const auto& [name, f] : ops) EXPECT_TRUE(same_bits(on_threads(1, f), on_threads(2, f))) << name;
}
