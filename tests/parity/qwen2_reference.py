"""Reference for tests/parity/qwen2_parity_test.cpp: transformers' Qwen2ForCausalLM and
Qwen2DecoderLayer (4.45, eager attention) in float64 on random tiny configs with fewer KV heads
than query heads, tied and untied. Writes weights, inputs, logits, the HF loss with -100 labels,
every parameter gradient, greedy generate(do_sample=False) tokens and cached decode logits.

transformers computes its RoPE tables, RMSNorm statistics and attention softmax in float32 even
for a float64 model (its mixed-precision upcasts); the reference computes all three in float64
with the same formulas, so the comparison measures omni, not float32 rounding."""
import os
import sys

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM
from transformers.models.qwen2 import modeling_qwen2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def rope_float64(self, x, position_ids):
    dim = self.inv_freq.shape[0] * 2
    inv = self.config.rope_theta ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    freqs = position_ids[..., None].double() * inv
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * self.attention_scaling).to(x.dtype), (emb.sin() * self.attention_scaling).to(x.dtype)


def rms_norm_float64(self, x):
    variance = x.double().pow(2).mean(-1, keepdim=True)
    return self.weight * (x.double() * torch.rsqrt(variance + self.variance_epsilon)).to(x.dtype)


_softmax = torch.nn.functional.softmax


def softmax_in_input_dtype(x, dim=None, dtype=None, **kwargs):
    return _softmax(x, dim=dim)  # eager Qwen2Attention asks for dtype=torch.float32


modeling_qwen2.Qwen2RotaryEmbedding.forward = rope_float64
torch.nn.functional.softmax = softmax_in_input_dtype
modeling_qwen2.Qwen2RMSNorm.forward = rms_norm_float64


def config(tied):
    return Qwen2Config(vocab_size=61, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-6,
                       tie_word_embeddings=tied, use_sliding_window=False, attn_implementation="eager")


def np(t):
    return t.detach().cpu().clone().numpy()  # a copy: zero_grad() later must not clear it


def causal_lm_case(out, name, tied, seed):
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config(tied)).double()
    # Random norm weights so their gradients are not those of the identity.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("layernorm.weight") or n == "model.norm.weight":
                p.copy_(1 + 0.3 * torch.randn_like(p))
    ids = torch.randint(0, 61, (2, 11))
    labels = ids.clone()
    labels[0, 3:6] = -100
    labels[1, -2:] = -100
    # transformers 4.45 casts logits to float32 before its loss; the float64 reference recomputes
    # them from the model's parts and applies the same loss code (shift, CrossEntropyLoss, -100).
    hf32 = model(input_ids=ids, labels=labels).loss
    logits = model.lm_head(model.model(input_ids=ids).last_hidden_state)
    loss = torch.nn.CrossEntropyLoss()(logits[..., :-1, :].reshape(-1, 61), labels[..., 1:].reshape(-1))
    loss.backward()
    arrays = {"in.ids": np(ids), "in.labels": np(labels), "logits": np(logits), "loss": np(loss.reshape(1)),
              "loss_hf_float32": np(hf32.reshape(1))}
    for n, p in model.named_parameters():  # a tied lm_head is not listed: it is embed_tokens.weight
        arrays["w." + n] = np(p)
        arrays["grad." + n] = np(p.grad)
    model.zero_grad()
    with torch.no_grad():
        # Greedy decoding, token for token.
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = 0
        prompt = ids[:1, :5]
        gen = model.generate(prompt, do_sample=False, max_new_tokens=12, min_new_tokens=12)
        arrays["gen.prompt"] = np(prompt)
        arrays["gen.tokens"] = np(gen[:, 5:])
        # Cached decoding: prefill 6 tokens, then 4 single tokens through past_key_values.
        r = model.model(input_ids=ids[:, :6], use_cache=True)
        past, steps = r.past_key_values, [model.lm_head(r.last_hidden_state)]
        for t in range(6, 10):
            r = model.model(input_ids=ids[:, t:t + 1], past_key_values=past, use_cache=True)
            past = r.past_key_values
            steps.append(model.lm_head(r.last_hidden_state))
        arrays["cached.logits"] = np(torch.cat(steps, dim=1))
    safetensors_io.save(os.path.join(out, name + ".safetensors"), arrays)


def layer_case(out):
    torch.manual_seed(7)
    cfg = config(False)
    layer = modeling_qwen2.Qwen2DecoderLayer(cfg, 0).double()
    rot = modeling_qwen2.Qwen2RotaryEmbedding(config=cfg)
    with torch.no_grad():
        for n, p in layer.named_parameters():
            p.copy_(0.2 * torch.randn_like(p) + (1 if n.endswith("layernorm.weight") else 0))
    x = torch.randn(2, 9, 32, dtype=torch.float64, requires_grad=True)
    pos = torch.arange(9)[None].expand(2, -1)
    mask = torch.full((9, 9), float("-inf"), dtype=torch.float64).triu(1)[None, None].expand(2, 1, 9, 9)
    y = layer(x, attention_mask=mask, position_ids=pos, position_embeddings=rot(x, pos))[0]
    up = torch.randn_like(y)
    y.backward(up)
    arrays = {"in.x": np(x), "out": np(y), "upstream": np(up), "grad.in.x": np(x.grad)}
    for n, p in layer.named_parameters():
        arrays["w." + n] = np(p)
        arrays["grad." + n] = np(p.grad)
    safetensors_io.save(os.path.join(out, "qwen2_layer.safetensors"), arrays)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "parity_qwen2"
    os.makedirs(out, exist_ok=True)
    causal_lm_case(out, "qwen2_untied", False, 1)
    causal_lm_case(out, "qwen2_tied", True, 2)
    layer_case(out)
    print("qwen2 references written to", out)
