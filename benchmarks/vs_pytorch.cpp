// omni's side of the side-by-side with PyTorch 2.x (benchmarks/vs_pytorch.py drives both; run
// scripts/vs_pytorch.sh). PyTorch cannot be linked in (it lives in a Python venv), so this is a
// small server: it builds the models, writes their weights and inputs as safetensors for the
// Python side, then answers one command per line on stdin so the driver can alternate omni and
// PyTorch runs in the same session:
//
//   check            features and gradients of the ViT-B/32 (fp32, and bf16 matmuls) -> check.safetensors
//   time ROW N       runs ROW N times, prints the N durations in seconds on one line
//   info             prints "bf16 <amx|avx512_bf16|none> blas <off|eigen|core>": the bf16 matmul path this CPU
//                    has, and whether large products go to a BLAS (built with omni::blas)
//   quit
//
// ROW is one of vit_fwd, vit_fwd_bwd, vit_step (ViT-B/32, batch --batch), attn_fwd, attn_fwd_bwd
// (one sequence of --tokens tokens, 12 heads of 64), tiny_step (the Omni-C tiny preset's
// pretraining step: two views of 64 images, NT-Xent, AdamW), each with suffix _fp32 or _bf16
// (the bf16 rows run under matmul_precision::bf16).
//
//   vs_pytorch --dir DIR [--batch 8] [--tokens 4096]
#include <omni/backend/cpu.hpp>
#include <omni/io/weights.hpp>
#include <omni/loss/nt_xent.hpp>
#include <omni/models/omni_c.hpp>
#include <omni/optim/adamw.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace {

using A = omni::autodiff<omni::cpu>;
using D = omni::Tensor<omni::cpu>;
using V = omni::Var<omni::cpu>;
using Model = omni::models::OmniC<A, omni::models::image>;
using omni::models::image;

double seconds(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Bench {
    std::string dir;
    std::int64_t batch = 8, tokens = 4096;
    omni::Generator g{1};
    Model vit{omni::models::omni_c_vit_b32, g};
    Model tiny{omni::models::omni_c_tiny, g};
    D img, readout, q, k, v, view1, view2;
    omni::optim::AdamW<omni::cpu> opt_vit{omni::optim::nn_param_groups<omni::cpu>(vit, 0.1), {.lr = 1e-4, .weight_decay = 0.1}};
    omni::optim::AdamW<omni::cpu> opt_tiny{omni::optim::nn_param_groups<omni::cpu>(tiny, 0.05), {.lr = 1e-3, .weight_decay = 0.05}};
    std::map<std::string, std::function<void()>> rows;

    Bench(std::string d, std::int64_t b, std::int64_t t) : dir(std::move(d)), batch(b), tokens(t) {
        omni::Generator gi(7);
        img = D::randn({batch, 3, 224, 224}, gi);
        // A random linear readout for the check: sum(h^2) of a LayerNorm output is nearly
        // constant, so its gradient would be rounding noise on both sides.
        readout = D::randn({batch, 768}, gi);
        q = D::randn({1, 12, tokens, 64}, gi), k = D::randn({1, 12, tokens, 64}, gi), v = D::randn({1, 12, tokens, 64}, gi);
        view1 = D::randn({64, 3, 28, 28}, gi), view2 = D::randn({64, 3, 28, 28}, gi);
        omni::io::save_weights(vit, dir + "/vit.safetensors");
        omni::io::save_weights(tiny, dir + "/tiny.safetensors");
        omni::io::write_safetensors(dir + "/inputs.safetensors",
                                    {{"img", img}, {"readout", readout}, {"q", q}, {"k", k}, {"v", v}, {"view1", view1}, {"view2", view2}});
        rows["vit_fwd"] = [this] {
            omni::no_grad ng;
            (void)vit.encode<image>(V(img));
        };
        rows["vit_fwd_bwd"] = [this] {
            omni::mean(omni::square(vit.encode<image>(V(img)))).backward();
            opt_vit.zero_grad();
        };
        rows["vit_step"] = [this] {
            omni::mean(omni::square(vit.encode<image>(V(img)))).backward();
            opt_vit.step();
            opt_vit.zero_grad();
        };
        rows["attn_fwd"] = [this] { (void)omni::attention(q, k, v); };
        rows["attn_fwd_bwd"] = [this] {
            const V Q(q, true), K(k, true), W(v, true);
            omni::sum(omni::attention(Q, K, W)).backward();
        };
        rows["tiny_step"] = [this] {
            const V z1 = tiny.forward<image>(V(view1)), z2 = tiny.forward<image>(V(view2));
            omni::loss::nt_xent(z1, z2, {.temperature = 0.2}).backward();
            opt_tiny.step();
            opt_tiny.zero_grad();
        };
    }

    // Features and gradients of sum(h * readout), in fp32 and with bf16 matmuls.
    void check() {
        const V h = vit.encode<image>(V(img));
        omni::sum(omni::mul(h, V(readout))).backward();
        std::map<std::string, D> out{{"features", h.value()},
                                     {"grad.blocks.0.attn.qkv.weight", vit.blocks[0].attn.qkv.weight.grad()},
                                     {"grad.patch_embed_image.proj.weight", vit.embedder<image>().patch_embed.weight.grad()},
                                     {"grad.cls_token", vit.cls_token.grad()}};
        opt_vit.zero_grad();
        {
            omni::no_grad ng;
            const omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
            out.emplace("features_bf16", vit.encode<image>(V(img)).value());
            out.emplace("attn_small", omni::attention(q.slice(2, 0, 256), k.slice(2, 0, 256), v.slice(2, 0, 256)));
            out.emplace("attn_small_causal", omni::attention(q.slice(2, 0, 256), k.slice(2, 0, 256), v.slice(2, 0, 256), D{}, true));
        }
        namespace cpu = omni::backend::cpu;
        if (cpu::bf16_gemm::available()) {  // the AVX512-BF16 kernel, also where matmul would not pick it
            omni::no_grad ng;
            const omni::matmul_precision_guard bf16(omni::matmul_precision::bf16);
            const cpu::cpu_isa limit = cpu::cpu_isa_limit();
            const cpu::bf16_gemm::when use = cpu::bf16_gemm::use();
            cpu::cpu_isa_limit(cpu::cpu_isa::avx512_bf16);
            cpu::bf16_gemm::use(cpu::bf16_gemm::when::always);
            out.emplace("features_bf16_avx512", vit.encode<image>(V(img)).value());
            cpu::cpu_isa_limit(limit);
            cpu::bf16_gemm::use(use);
        }
        omni::io::write_safetensors(dir + "/check.safetensors", out);
    }

    void time(const std::string& row, int n) {
        const bool bf16 = row.ends_with("_bf16");
        const std::string base = row.substr(0, row.rfind('_'));
        const auto it = rows.find(base);
        if (it == rows.end() || !(bf16 || row.ends_with("_fp32"))) throw omni::value_error("vs_pytorch", "unknown row " + row);
        const omni::matmul_precision_guard precision(bf16 ? omni::matmul_precision::bf16 : omni::matmul_precision::highest);
        // Inference keeps bf16-packed weights across calls, as a serving user would.
        std::optional<omni::frozen_weights> frozen;
        if (bf16 && base == "vit_fwd") frozen.emplace();
        std::ostringstream line;
        for (int i = 0; i < n; ++i) line << (i ? " " : "") << seconds(it->second);
        std::cout << line.str() << std::endl;
    }
};

}  // namespace

int main(int argc, char** argv) try {
    std::string dir;
    std::int64_t batch = 8, tokens = 4096;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else if (a == "--batch" && i + 1 < argc) batch = std::stoll(argv[++i]);
        else if (a == "--tokens" && i + 1 < argc) tokens = std::stoll(argv[++i]);
        else {
            std::cerr << "usage: vs_pytorch --dir DIR [--batch N] [--tokens N]   (then commands on stdin)\n";
            return 2;
        }
    }
    if (dir.empty()) throw omni::value_error("vs_pytorch", "--dir is required");
    Bench b(dir, batch, tokens);
    std::cout << "ready " << omni::num_threads() << std::endl;
    for (std::string line; std::getline(std::cin, line);) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        if (cmd == "quit") break;
        if (cmd == "check") b.check(), std::cout << "ok" << std::endl;
        else if (cmd == "info") {
#ifdef OMNI_BLAS
            const char* blas = omni::backend::cpu::blas::describe();
#else
            const char* blas = "off";
#endif
            // Last: Eigen's compile-time SIMD list ("AVX512, FMA, AVX2, ..."), which has spaces.
            namespace cpu = omni::backend::cpu;
            const char* bf16 = cpu::amx::available() ? "amx" : cpu::bf16_gemm::chosen() ? "avx512_bf16" : "none";
            std::cout << "bf16 " << bf16 << " blas " << blas << " kernels "
                      << omni::backend::cpu::cpu_isa_name(omni::backend::cpu::active_cpu_isa()) << " eigen " << Eigen::SimdInstructionSetsInUse()
                      << std::endl;
        }
        else if (cmd == "time") {
            std::string row;
            int n = 1;
            in >> row >> n;
            b.time(row, n);
        } else throw omni::value_error("vs_pytorch", "unknown command " + cmd);
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "vs_pytorch: " << e.what() << "\n";
    return 1;
}
