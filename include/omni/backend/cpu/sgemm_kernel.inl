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
