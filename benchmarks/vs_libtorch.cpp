// omni vs libtorch, side by side on one machine: the same ViT-B/32 image encoder (patch 32 conv,
// CLS, fixed sin-cos positions, 12 pre-LN blocks, final LayerNorm; Omni-C's backbone) built in
// both, with omni's weights copied into libtorch by name. After a check that both compute the
// same features and gradients, it times alternately (omni, torch, omni, ...) after warm-up:
// forward (inference mode), forward+backward, and one AdamW training step, and reports medians
// and the omni/libtorch ratio; peak resident memory of inference is measured in a fresh child
// process per side. On a CPU with AMX it repeats the timings with omni's matmuls in bf16
// (matmul_precision::bf16) and reports the features' distance from fp32. Writes a Markdown table.
//
//   vs_libtorch [--batch 8] [--reps 7] [--out table.md]     the timing run (docs/performance.md)
//   vs_libtorch --check                                      agreement only (CI; small batch)
//   vs_libtorch --only "training step"                       time only matching rows (to profile one)
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <omni/backend/cpu.hpp>
#include <omni/models/omni_c.hpp>
#include <omni/optim/adamw.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

using A = omni::autodiff<omni::cpu>;
using OmniViT = omni::models::OmniC<A, omni::models::image>;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;

// ---- the libtorch model (timm's ViT block, as Omni-C uses it) -----------------------------------

struct BlockImpl : torch::nn::Module {
    int64_t heads;
    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
    BlockImpl(int64_t dim, int64_t h) : heads(h) {
        norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
        qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
        proj = register_module("proj", torch::nn::Linear(dim, dim));
        norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
        fc1 = register_module("fc1", torch::nn::Linear(dim, 4 * dim));
        fc2 = register_module("fc2", torch::nn::Linear(4 * dim, dim));
    }
    torch::Tensor forward(torch::Tensor x) {
        const int64_t b = x.size(0), n = x.size(1), c = x.size(2);
        auto t = qkv(norm1(x)).reshape({b, n, 3, heads, c / heads}).permute({2, 0, 3, 1, 4});
        auto q = t[0], k = t[1], v = t[2];
        auto a = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) * std::pow(static_cast<double>(c / heads), -0.5), -1);
        x = x + proj(torch::matmul(a, v).transpose(1, 2).reshape({b, n, c}));
        return x + fc2(torch::gelu(fc1(norm2(x))));
    }
};
TORCH_MODULE(Block);

struct ViTImpl : torch::nn::Module {
    torch::nn::Conv2d patch{nullptr};
    torch::Tensor cls, pos;
    torch::nn::ModuleList blocks;
    torch::nn::LayerNorm norm{nullptr};
    ViTImpl(int64_t dim, int64_t depth, int64_t heads, int64_t patch_size, int64_t tokens) {
        patch = register_module("patch", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, dim, patch_size).stride(patch_size)));
        cls = register_parameter("cls", torch::zeros({1, 1, dim}));
        pos = register_buffer("pos", torch::zeros({1, tokens, dim}));
        blocks = register_module("blocks", torch::nn::ModuleList());
        for (int64_t i = 0; i < depth; ++i) blocks->push_back(Block(dim, heads));
        norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    }
    torch::Tensor forward(torch::Tensor img) {
        auto x = patch(img).flatten(2).transpose(1, 2) + pos.slice(1, 1);
        auto c = (cls + pos.slice(1, 0, 1)).expand({x.size(0), 1, x.size(2)});
        x = torch::cat({c, x}, 1);
        for (auto& b : *blocks) x = b->as<Block>()->forward(x);
        return norm(x).select(1, 0);
    }
};
TORCH_MODULE(ViT);

torch::Tensor to_torch(const D& t) {
    const auto v = t.contiguous().to_vector<float>();
    std::vector<int64_t> shape;
    for (int i = 0; i < t.dim(); ++i) shape.push_back(t.shape()[i]);
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}
D from_torch(const torch::Tensor& t) {
    const auto c = t.contiguous();
    std::vector<std::int64_t> shape(c.sizes().begin(), c.sizes().end());
    return D::from_data(std::span<const float>(c.data_ptr<float>(), static_cast<std::size_t>(c.numel())), omni::Shape(shape));
}

// omni's weights into the torch model, by name.
void copy_weights(OmniViT& m, ViT& t) {
    torch::NoGradGuard ng;
    auto set = [](torch::Tensor dst, const V& src) { dst.copy_(to_torch(src.value()).reshape(dst.sizes())); };
    set(t->patch->weight, m.embedder<omni::models::image>().patch_embed.weight);
    set(t->patch->bias, m.embedder<omni::models::image>().patch_embed.bias);
    set(t->cls, m.cls_token);
    t->pos.copy_(to_torch(m.embedder<omni::models::image>().pos_embed.value()).unsqueeze(0));
    for (std::size_t i = 0; i < t->blocks->size(); ++i) {
        auto b = t->blocks[i]->as<Block>();
        const auto& o = m.blocks[i];
        set(b->norm1->weight, o.norm1.weight), set(b->norm1->bias, o.norm1.bias);
        set(b->qkv->weight, o.attn.qkv.weight), set(b->qkv->bias, o.attn.qkv.bias);
        set(b->proj->weight, o.attn.proj.weight), set(b->proj->bias, o.attn.proj.bias);
        set(b->norm2->weight, o.norm2.weight), set(b->norm2->bias, o.norm2.bias);
        set(b->fc1->weight, o.mlp.fc1.weight), set(b->fc1->bias, o.mlp.fc1.bias);
        set(b->fc2->weight, o.mlp.fc2.weight), set(b->fc2->bias, o.mlp.fc2.bias);
    }
    set(t->norm->weight, m.norm.weight), set(t->norm->bias, m.norm.bias);
}

double rel_err(const D& a, const D& b) {
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    double num = 0, den = 0;
    for (std::size_t i = 0; i < x.size(); ++i) num = std::max(num, std::abs(x[i] - y[i])), den = std::max(den, std::abs(y[i]));
    return num / std::max(den, 1e-30);
}

// ||a - b|| / ||b|| over all elements: the typical error, where rel_err is the worst one.
double rel_l2(const D& a, const D& b) {
    const auto x = a.to_vector<double>(), y = b.to_vector<double>();
    double num = 0, den = 0;
    for (std::size_t i = 0; i < x.size(); ++i) num += (x[i] - y[i]) * (x[i] - y[i]), den += y[i] * y[i];
    return std::sqrt(num / std::max(den, 1e-300));
}

struct Sides {
    OmniViT omni;
    ViT torch_model{nullptr};
};

Sides build(std::uint64_t seed) {
    omni::Generator g(seed);
    Sides s{OmniViT(omni::models::omni_c_vit_b32, g), ViT(768, 12, 12, 32, 50)};
    copy_weights(s.omni, s.torch_model);
    return s;
}

// Features and the gradients of one loss on both sides: max relative errors.
bool check(Sides& s, std::int64_t batch) {
    omni::Generator g(7);
    const D img = D::randn({batch, 3, 224, 224}, g);
    const V x(img);
    // A random linear readout: sum(h^2) of a LayerNorm output is nearly constant, so its
    // gradient would be rounding noise on both sides.
    const D r = D::randn({batch, 768}, g);
    const V h = s.omni.template encode<omni::models::image>(x);
    omni::sum(omni::mul(h, V(r))).backward();
    const torch::Tensor ti = to_torch(img);
    const torch::Tensor th = s.torch_model->forward(ti);
    (th * to_torch(r)).sum().backward();
    const double e_fwd = rel_err(h.value(), from_torch(th.detach()));
    const double e_qkv = rel_err(s.omni.blocks[0].attn.qkv.weight.grad(), from_torch(s.torch_model->blocks[0]->as<Block>()->qkv->weight.grad()));
    const double e_patch = rel_err(s.omni.embedder<omni::models::image>().patch_embed.weight.grad(), from_torch(s.torch_model->patch->weight.grad()));
    const double e_cls = rel_err(s.omni.cls_token.grad(), from_torch(s.torch_model->cls.grad()));
    std::cout << "agreement (max |diff| / max |torch|): features " << e_fwd << ", d qkv[0] " << e_qkv << ", d patch " << e_patch << ", d cls " << e_cls << "\n";
    bool ok = e_fwd < 1e-4 && e_qkv < 1e-3 && e_patch < 1e-3 && e_cls < 1e-3;
    if (omni::backend::cpu::amx::available()) {
        // bf16 operands (8 significant bits) through 12 blocks: close to fp32, far from equal.
        omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
        omni::no_grad ng;
        const D hb = s.omni.template encode<omni::models::image>(x).value(), ht = from_torch(th.detach());
        const double e_l2 = rel_l2(hb, ht), e_max = rel_err(hb, ht);
        std::cout << "bf16 matmuls (AMX): features ||diff|| / ||torch|| " << e_l2 << ", max |diff| / max |torch| " << e_max << " from libtorch's fp32\n";
        ok = ok && e_l2 < 2e-2;
    }
    std::cout << (ok ? "omni and libtorch agree\n" : "omni and libtorch DISAGREE\n");
    s.torch_model->zero_grad();
    for (auto& p : s.torch_model->parameters()) p.mutable_grad() = torch::Tensor();
    return ok;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}
double seconds(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Peak RSS (MiB) of a child process that builds one side and runs one inference forward.
double peak_rss_mib(bool omni_side, std::int64_t batch) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        omni::Generator g(3);
        const D img = D::randn({batch, 3, 224, 224}, g);
        if (omni_side) {
            omni::models::OmniC<omni::cpu, omni::models::image> m(omni::models::omni_c_vit_b32, g);
            (void)m.encode<omni::models::image>(img);
        } else {
            torch::InferenceMode im;
            ViT t(768, 12, 12, 32, 50);
            (void)t->forward(to_torch(img));
        }
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        const double mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
        if (write(fd[1], &mib, sizeof mib) != sizeof mib) _exit(1);
        _exit(0);
    }
    close(fd[1]);
    double mib = -1;
    if (read(fd[0], &mib, sizeof mib) != sizeof mib) mib = -1;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return mib;
}

}  // namespace

int main(int argc, char** argv) try {
    std::int64_t batch = 8, reps = 7;
    bool check_only = false;
    std::string out, only;  // only: time just the rows whose name contains it (for profiling one)
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--check") check_only = true;
        else if (a == "--batch" && i + 1 < argc) batch = std::stoll(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) reps = std::stoll(argv[++i]);
        else if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--only" && i + 1 < argc) only = argv[++i];
        else {
            std::cerr << "usage: vs_libtorch [--check] [--batch N] [--reps N] [--out table.md] [--only ROW-NAME-PART]\n";
            return 2;
        }
    }
    const int threads = omni::num_threads();
    torch::set_num_threads(threads);
    // Memory first, in fresh children, before this process holds anything big.
    const double rss_omni = check_only ? 0 : peak_rss_mib(true, batch), rss_torch = check_only ? 0 : peak_rss_mib(false, batch);

    Sides s = build(1);
    if (!check(s, check_only ? 2 : batch)) return 1;
    if (check_only) return 0;

    omni::Generator g(5);
    const D img = D::randn({batch, 3, 224, 224}, g);
    const torch::Tensor timg = to_torch(img);
    auto opt_o = omni::optim::AdamW<omni::cpu>(omni::optim::nn_param_groups<omni::cpu>(s.omni, 0.1), {.lr = 1e-4, .weight_decay = 0.1});
    torch::optim::AdamW opt_t(s.torch_model->parameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.1));

    const std::function<void()> omni_fwd = [&] {
        omni::no_grad ng;
        (void)s.omni.template encode<omni::models::image>(V(img));
    };
    const std::function<void()> torch_fwd = [&] {
        torch::InferenceMode im;
        (void)s.torch_model->forward(timg);
    };
    const std::function<void()> omni_fb = [&] {
        omni::mean(omni::square(s.omni.template encode<omni::models::image>(V(img)))).backward();
        opt_o.zero_grad();
    };
    const std::function<void()> torch_fb = [&] {
        s.torch_model->forward(timg).pow(2).mean().backward();
        opt_t.zero_grad();
    };
    const std::function<void()> omni_step = [&] {
        omni::mean(omni::square(s.omni.template encode<omni::models::image>(V(img)))).backward();
        opt_o.step();
        opt_o.zero_grad();
    };
    const std::function<void()> torch_step = [&] {
        s.torch_model->forward(timg).pow(2).mean().backward();
        opt_t.step();
        opt_t.zero_grad();
    };
    struct Row {
        std::string what;
        double omni, torch;
    };
    std::vector<Row> rows;
    // Warm-up calls (allocator, thread pools, packed weights), then n alternating timed pairs.
    const auto time_row = [&](const std::string& what, const std::function<void()>& fo, const std::function<void()>& ft, int warmup,
                              std::int64_t n) {
        if (!only.empty() && what.find(only) == std::string::npos) return;
        for (int w = 0; w < warmup; ++w) fo(), ft();
        std::vector<double> to, tt;
        for (std::int64_t r = 0; r < n; ++r) {
            to.push_back(seconds(fo));
            tt.push_back(seconds(ft));
        }
        rows.push_back({what, median(to), median(tt)});
        std::cerr << what << ": omni " << median(to) * 1e3 << " ms, libtorch " << median(tt) * 1e3 << " ms\n";
    };
    for (const auto& [what, fo, ft] : {std::tuple{"forward (inference)", omni_fwd, torch_fwd}, std::tuple{"forward + backward", omni_fb, torch_fb},
                                       std::tuple{"training step (fwd + bwd + AdamW)", omni_step, torch_step}})
        time_row(what, fo, ft, 2, reps);
    // Long-sequence attention, one sequence of 4096 tokens, 12 heads of 64, inference: omni's
    // fused kernel against libtorch 1.13's softmax(q k^T / 8) v (it has no fused attention on CPU
    // and materialises the [12, 4096, 4096] scores, 768 MiB).
    {
        omni::Generator ga(9);
        const D q = D::randn({1, 12, 4096, 64}, ga), k = D::randn({1, 12, 4096, 64}, ga), v = D::randn({1, 12, 4096, 64}, ga);
        const torch::Tensor tq = to_torch(q), tk = to_torch(k), tv = to_torch(v);
        const std::function<void()> omni_att = [&] { (void)omni::attention(q, k, v); };
        const std::function<void()> torch_att = [&] {
            torch::InferenceMode im;
            (void)torch::matmul(torch::softmax(torch::matmul(tq, tk.transpose(-2, -1)) * 0.125, -1), tv);
        };
        time_row("attention, 4096 tokens x 12 heads (inference)", omni_att, torch_att, 1, std::max<std::int64_t>(3, reps / 2));
    }

    // The same three measurements with omni's float32 matmuls on bf16 AMX tiles (libtorch stays
    // fp32), and how far the bf16 features land from fp32 ones of the same weights (the training
    // rows above have moved each side's weights on its own, so not libtorch's).
    const bool amx = omni::backend::cpu::amx::available();
    double bf16_l2 = 0, bf16_max = 0;
    if (amx) {
        {
            omni::no_grad ng;
            const D h32 = s.omni.template encode<omni::models::image>(V(img)).value();
            omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
            const D hb = s.omni.template encode<omni::models::image>(V(img)).value(), ht = h32;
            bf16_l2 = rel_l2(hb, ht);
            bf16_max = rel_err(hb, ht);
        }
        omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
        for (const auto& [what, fo, ft] : {std::tuple{"forward (inference), omni bf16 matmuls", omni_fwd, torch_fwd},
                                           std::tuple{"forward + backward, omni bf16 matmuls", omni_fb, torch_fb},
                                           std::tuple{"training step, omni bf16 matmuls", omni_step, torch_step}}) {
            // Inference keeps its weights packed across batches; training repacks every call.
            std::optional<omni::frozen_weights> frozen;
            if (std::string(what).starts_with("forward (inference)")) frozen.emplace();
            time_row(what, fo, ft, 1, reps);
        }
    }
    std::ostringstream md;
    md << "ViT-B/32 image encoder, batch " << batch << ", 224x224, fp32, " << threads << " threads, medians of " << reps
       << " alternating runs after warm-up (libtorch " << TORCH_VERSION << ").\n\n"
       << "| measurement | omni | libtorch | omni / libtorch |\n|---|---|---|---|\n";
    char buf[256];
    for (const auto& r : rows) {
        std::snprintf(buf, sizeof buf, "| %s | %.1f ms | %.1f ms | %.2f |\n", r.what.c_str(), r.omni * 1e3, r.torch * 1e3, r.omni / r.torch);
        md << buf;
    }
    std::snprintf(buf, sizeof buf, "| peak resident memory, inference (fresh process) | %.0f MiB | %.0f MiB | %.2f |\n", rss_omni, rss_torch, rss_omni / rss_torch);
    md << buf;
    if (amx)
        md << "\nbf16 rows: omni under matmul_precision::bf16 (products on AMX tiles, bf16 operands, fp32 accumulation; all else "
              "fp32), libtorch in fp32. Features of the bf16 forward vs omni's fp32 forward with the same weights: ||diff|| / ||fp32|| = "
           << bf16_l2 << ", max |diff| / max |fp32| = " << bf16_max << ".\n";
    else
        md << "\nNo AMX-BF16 on this CPU: the bf16 rows are skipped (matmul_precision::bf16 would change nothing).\n";
    std::cout << md.str();
    if (!out.empty()) std::ofstream(out) << md.str();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "vs_libtorch: " << e.what() << "\n";
    return 1;
}
