// The float32 tile products of CPU attention, written once over a vector ISA: included by
// attention_tile_kernels.hpp inside each ISA's namespace and target region, which provide
// simd_float.hpp's vector operations for that ISA and max_nv. Register blocks
// of R rows x NV vectors; the last vector of a row is masked, so no shape needs padding.
// (No standard-library calls in here: they would be compiled for this region's ISA.)

// s[i][j] = scale * sum_p q[i][p] kt[p][j] for R rows, columns j0 .. j0 + lanes NV (masked past nk).
template <int R, int NV>
void scores_block(const float* q, std::int64_t q_rs, std::int64_t d, const float* kt, std::int64_t ldk, std::int64_t j0, std::int64_t nk,
                  float scale, float* s, std::int64_t lds) {
    vec acc[R][NV];
    mask m[NV];
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) m[v] = tail_mask(nk - j0 - lanes * v);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = zero();
    for (std::int64_t p = 0; p < d; ++p) {
        vec kv[NV];
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) kv[v] = load(m[v], kt + p * ldk + j0 + lanes * v);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r) {
            const vec qb = broadcast(q[r * q_rs + p]);
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = fmadd(qb, kv[v], acc[r][v]);
        }
    }
    const vec sc = broadcast(scale);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) store(s + r * lds + j0 + lanes * v, m[v], mul(acc[r][v], sc));
}

// o[i][c] += sum_j p(i, j) v[j][c] for R rows, columns c0 .. c0 + lanes NV (masked past cols),
// with p(i, j) at pm[i * prs + j * pcs]: P itself, or a transpose (prs 1) for dV and dK.
template <int R, int NV>
void pv_block(const float* pm, std::int64_t prs, std::int64_t pcs, std::int64_t inner, const float* v, std::int64_t v_rs, std::int64_t c0,
              std::int64_t cols, float* o, std::int64_t ldo) {
    vec acc[R][NV];
    mask m[NV];
    _Pragma("GCC unroll 4") for (int w = 0; w < NV; ++w) m[w] = tail_mask(cols - c0 - lanes * w);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)
        _Pragma("GCC unroll 4") for (int w = 0; w < NV; ++w) acc[r][w] = load(m[w], o + r * ldo + c0 + lanes * w);
    for (std::int64_t j = 0; j < inner; ++j) {
        vec vv[NV];
        _Pragma("GCC unroll 4") for (int w = 0; w < NV; ++w) vv[w] = load(m[w], v + j * v_rs + c0 + lanes * w);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r) {
            const vec pb = broadcast(pm[r * prs + j * pcs]);
            _Pragma("GCC unroll 4") for (int w = 0; w < NV; ++w) acc[r][w] = fmadd(pb, vv[w], acc[r][w]);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; ++r)
        _Pragma("GCC unroll 4") for (int w = 0; w < NV; ++w) store(o + r * ldo + c0 + lanes * w, m[w], acc[r][w]);
}

// Calls f.template operator()<R, NV>() for the row count r (1-4) and vector count nv (1-max_nv).
template <class F> void dispatch_block(std::int64_t r, std::int64_t nv, F&& f) {
    auto with_nv = [&]<int R>() {
        if (nv <= 1) f.template operator()<R, 1>();
        else if (nv == 2 || max_nv == 2) f.template operator()<R, 2>();
        else if constexpr (max_nv >= 4) {
            if (nv == 3) f.template operator()<R, 3>();
            else f.template operator()<R, 4>();
        }
    };
    switch (r) {
        case 1: with_nv.template operator()<1>(); break;
        case 2: with_nv.template operator()<2>(); break;
        case 3: with_nv.template operator()<3>(); break;
        default: with_nv.template operator()<4>(); break;
    }
}

inline constexpr std::int64_t block_cols = lanes * max_nv;

// S (nq x nk, row stride lds) = scale * Q (nq x d, row stride q_rs) Kt (d x nk, row stride ldk).
inline void scores(const float* q, std::int64_t q_rs, std::int64_t nq, std::int64_t d, const float* kt, std::int64_t ldk, std::int64_t nk,
                   float scale, float* s, std::int64_t lds) {
    for (std::int64_t i = 0; i < nq; i += 4)
        for (std::int64_t j = 0; j < nk; j += block_cols) {
            const std::int64_t r = nq - i < 4 ? nq - i : 4, c = nk - j < block_cols ? nk - j : block_cols;
            dispatch_block(r, (c + lanes - 1) / lanes, [&]<int R, int NV>() {
                scores_block<R, NV>(q + i * q_rs, q_rs, d, kt, ldk, j, nk, scale, s + i * lds, lds);
            });
        }
}

// O (rows x cols, row stride ldo) += P (rows x inner, element (i, j) at pm[i * prs + j * pcs])
// V (inner x cols, row stride v_rs).
inline void accumulate_pv(const float* pm, std::int64_t prs, std::int64_t pcs, std::int64_t rows, std::int64_t inner, const float* v,
                          std::int64_t v_rs, std::int64_t cols, float* o, std::int64_t ldo) {
    for (std::int64_t i = 0; i < rows; i += 4)
        for (std::int64_t c = 0; c < cols; c += block_cols) {
            const std::int64_t r = rows - i < 4 ? rows - i : 4, n = cols - c < block_cols ? cols - c : block_cols;
            dispatch_block(r, (n + lanes - 1) / lanes, [&]<int R, int NV>() {
                pv_block<R, NV>(pm + i * prs, prs, pcs, inner, v, v_rs, c, cols, o + i * ldo, ldo);
            });
        }
}
