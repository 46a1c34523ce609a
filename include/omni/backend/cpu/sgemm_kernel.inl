// The float32 GEMM micro-kernel, written once over a vector ISA: included by sgemm.hpp inside
// each ISA's namespace and target region, which provide simd_float.hpp's vector operations for
// that ISA, nr_vectors and mr. (No standard-library calls in here: they would be compiled for
// this region's ISA.)

// C[0..rows)[0..cols) of an MR x (lanes NV) tile = alpha * acc, plus beta * C on the first block of
// the inner dimension (beta 0 never reads C) or plus C on later ones; masked stores at the edges.
template <int MR, int NV>
inline void store_tile(const vec (&acc)[MR][NV], float* c, std::int64_t ldc, std::int64_t rows, std::int64_t cols, float alpha, float beta,
                       bool first) {
    mask m[NV];
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) m[v] = tail_mask(cols - lanes * v);
    const vec va = broadcast(alpha), vb = broadcast(beta);
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; ++r) {
        if (r >= rows) break;
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {
            if (lanes * v >= cols) break;
            float* cp = c + r * ldc + lanes * v;
            vec x = mul(acc[r][v], va);
            if (!first) x = add(x, load(m[v], cp));
            else if (beta != 0.0f) x = fmadd(vb, load(m[v], cp), x);
            store(cp, m[v], x);
        }
    }
}

// C[0..rows)[0..cols) of an mr x (lanes nr_vectors) tile = alpha * A B (+ C as store_tile says).
// A is a packed panel (a[p * mr + r]), B a packed panel (b[p * nr + j]), both zero-padded, so only
// the stores are masked.
inline void micro_kernel(const float* a, const float* b, std::int64_t kc, float* c, std::int64_t ldc, std::int64_t rows, std::int64_t cols,
                         float alpha, float beta, bool first) {
    constexpr int NV = nr_vectors;
    vec acc[mr][NV];
    _Pragma("GCC unroll 16") for (int r = 0; r < mr; ++r)
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = zero();
    for (std::int64_t p = 0; p < kc; ++p) {
        vec bv[NV];
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) bv[v] = loadu(b + p * lanes * NV + lanes * v);
        _Pragma("GCC unroll 16") for (int r = 0; r < mr; ++r) {
            const vec ab = broadcast(a[p * mr + r]);
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = fmadd(ab, bv[v], acc[r][v]);
        }
    }
    store_tile<mr, NV>(acc, c, ldc, rows, cols, alpha, beta, first);
}

// pack_b (sgemm.hpp) for B = W^T (rs == 1: each column of B is a row of W, contiguous along k),
// the right operand of every Linear and of Q K^T: lanes x lanes blocks of W transposed in
// registers, so a panel row is written whole instead of gathered a float at a time from `lanes`
// cache lines. Masked loads for the k tail; columns past n are zeros. The same values as the
// scalar path. nr is a multiple of lanes (lanes x nr_vectors).
inline void pack_b_transposed(float* out, const float* B, std::int64_t cs, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                              std::int64_t nc, std::int64_t n, std::int64_t nr) {
    const mask all = tail_mask(lanes);
    for (std::int64_t q = 0; q * nr < nc; ++q) {
        float* panel = out + q * kc * nr;
        const std::int64_t jq = j0 + q * nr, w = std::min(nr, n - jq);
        for (std::int64_t jb = 0; jb < nr; jb += lanes) {
            const std::int64_t cols = std::clamp<std::int64_t>(w - jb, 0, lanes);
            if (cols == 0) {
                for (std::int64_t p = 0; p < kc; ++p) store(panel + p * nr + jb, all, zero());
                continue;
            }
            const float* src = B + p0 + (jq + jb) * cs;
            for (std::int64_t p = 0; p < kc; p += lanes) {
                const std::int64_t depth = std::min<std::int64_t>(lanes, kc - p);
                const mask m = tail_mask(depth);
                vec r[lanes];
                for (int c = 0; c < lanes; ++c) r[c] = c < cols ? load(m, src + c * cs + p) : zero();
                transpose(r);
                for (std::int64_t t = 0; t < depth; ++t) store(panel + (p + t) * nr + jb, all, r[t]);
            }
        }
    }
}
