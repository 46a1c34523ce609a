#pragma once
// OmniAlignNet, OmniVinci (arXiv 2510.15870), sec. 2: per modality, learnable query tokens
// cross-attend to that modality's projected tokens E [B, N, C], pass n_layers pre-LN
// self-attention blocks, are averaged over the queries and L2-normalised -> V, A [B, C]. The
// batch's symmetric InfoNCE over V A^T is loss::OmniAlignLoss (omni/loss/omni_align.hpp).
//
// The paper gives only the data flow. Decisions where it is silent (each an option):
// - queries: one per modality ("query_v", "query_a") or one shared ("query"); n_queries 1 by
//   default, where self-attention over a single token reduces to its value/output projections;
// - self-attention stacks: one per modality by default ("layers_v", "layers_a"), as the paper
//   draws two branches and the audio and visual token statistics differ; shared: "layers";
// - the cross-attention output replaces the query (no residual), so V and A summarise E only;
// - heads: 28 (head width 128 at C = 3584, as the Qwen2.5-7B LLM the embeddings feed).
// Names follow PyTorch: "query_v", "cross_v.q.weight", "layers_v.0.attn.qkv.weight".
#include <string>

#include "omni/autodiff/normalization.hpp"
#include "omni/autodiff/reduce.hpp"
#include "omni/nn/transformer.hpp"

namespace omni::nn {

/// Options of OmniAlignNet: width, heads, depth, queries and what the two branches share.
struct OmniAlignNetConfig {
    std::int64_t dim = 3584;      // C: width of the projected tokens (the LLM's hidden size)
    std::int64_t heads = 28;      // attention heads, in the cross-attention and every block
    int n_layers = 3;             // self-attention blocks per branch (paper: 3)
    std::int64_t n_queries = 1;   // learnable queries per modality (paper: 1)
    bool shared_query = false;    // one query set for both modalities
    bool shared_layers = false;   // one self-attention stack for both modalities
    double mlp_ratio = 4.0;       // MLP width of each block / C
    double eps = 1e-6;            // LayerNorm eps of the blocks
};

/// OmniVinci's OmniAlignNet: per modality, learned queries cross-attend to its tokens [B, N, C] -> unit embeddings V, A [B, C].
template <class P> struct OmniAlignNet : Module {
    using D = device_of_t<P>;
    OmniAlignNetConfig cfg;
    Tensor<P> query_v, query_a;  // [n_queries, C]; query_v is the shared "query" when shared_query
    MultiheadAttention<P> cross_v, cross_a;
    Stack<TransformerBlock<P>> layers_v, layers_a;  // layers_v is the shared "layers" when shared_layers

    /// The visual and audio embeddings V, A [B, C], unit rows.
    struct Output {
        Tensor<P> visual, audio;  // V, A [B, C], unit rows
    };

    OmniAlignNet() = default;
    OmniAlignNet(const OmniAlignNetConfig& c, Generator& g) : cfg(c) {
        if (c.dim < 1 || c.heads < 1 || c.dim % c.heads != 0)
            throw value_error("OmniAlignNet", "expected dim divisible by heads, got dim " + std::to_string(c.dim) + ", heads " + std::to_string(c.heads));
        if (c.n_layers < 0 || c.n_queries < 1 || !(c.mlp_ratio > 0))
            throw value_error("OmniAlignNet", "expected n_layers >= 0, n_queries >= 1 and mlp_ratio > 0, got n_layers " + std::to_string(c.n_layers) +
                                                  ", n_queries " + std::to_string(c.n_queries) + ", mlp_ratio " + std::to_string(c.mlp_ratio));
        // Query tokens start as ViT's CLS token does (trunc normal, std 0.02).
        query_v = make_param<P>(init::trunc_normal<D>({c.n_queries, c.dim}, g, 0.02));
        if (!c.shared_query) query_a = make_param<P>(init::trunc_normal<D>({c.n_queries, c.dim}, g, 0.02));
        const AttentionConfig cross{.dim = c.dim, .heads = c.heads, .fused_qkv = false};
        cross_v = MultiheadAttention<P>(cross, g);
        cross_a = MultiheadAttention<P>(cross, g);
        const TransformerBlockConfig block{.dim = c.dim, .heads = c.heads, .mlp_ratio = c.mlp_ratio, .eps = c.eps};
        auto make = [&](int) { return TransformerBlock<P>(block, g); };
        layers_v = Stack<TransformerBlock<P>>(c.n_layers, make);
        if (!c.shared_layers) layers_a = Stack<TransformerBlock<P>>(c.n_layers, make);
    }

    template <class V> void visit(V& v) {
        if (cfg.shared_query) v.param("query", query_v);
        else {
            v.param("query_v", query_v);
            v.param("query_a", query_a);
        }
        v.module("cross_v", cross_v);
        v.module("cross_a", cross_a);
        if (cfg.shared_layers) v.module("layers", layers_v);
        else {
            v.module("layers_v", layers_v);
            v.module("layers_a", layers_a);
        }
    }

    // E_v [B, N_v, C] (key_padding_mask [B, N_v] bool, true = padding) -> V [B, C].
    Tensor<P> embed_visual(const Tensor<P>& e, const Tensor<P>& key_padding_mask = {}) const {
        return branch("visual", query_v, cross_v, layers_v, e, key_padding_mask);
    }
    Tensor<P> embed_audio(const Tensor<P>& e, const Tensor<P>& key_padding_mask = {}) const {
        return branch("audio", cfg.shared_query ? query_v : query_a, cross_a, cfg.shared_layers ? layers_v : layers_a, e, key_padding_mask);
    }

    Output forward(const Tensor<P>& e_v, const Tensor<P>& e_a, const Tensor<P>& mask_v = {}, const Tensor<P>& mask_a = {}) const {
        if (e_v.dim() == 3 && e_a.dim() == 3 && e_v.shape()[0] != e_a.shape()[0])
            throw shape_error(where("OmniAlignNet"), "expected visual and audio tokens of the same batch, got " + e_v.shape().str() + " and " +
                                                         e_a.shape().str());
        Output o;
        o.visual = embed_visual(e_v, mask_v);
        o.audio = embed_audio(e_a, mask_a);
        return o;
    }
    Output operator()(const Tensor<P>& e_v, const Tensor<P>& e_a, const Tensor<P>& mask_v = {}, const Tensor<P>& mask_a = {}) const {
        return forward(e_v, e_a, mask_v, mask_a);
    }

private:
    Tensor<P> branch(const char* what, const Tensor<P>& query, const MultiheadAttention<P>& cross, const Stack<TransformerBlock<P>>& layers,
                     const Tensor<P>& e, const Tensor<P>& mask) const {
        if (e.dim() != 3 || e.shape()[2] != cfg.dim || e.shape()[1] < 1)
            throw shape_error(where("OmniAlignNet"), std::string("expected ") + what + " tokens [B, N >= 1, " + std::to_string(cfg.dim) + "], got " +
                                                         e.shape().str());
        const std::int64_t b = e.shape()[0];
        Tensor<P> h = cross.cross(query.unsqueeze(0).expand({b, cfg.n_queries, cfg.dim}), e, mask);
        for (const auto& blk : layers.blocks) h = blk.forward(h);
        return l2_normalize(mean(h, {1}), -1);
    }
};

}  // namespace omni::nn
