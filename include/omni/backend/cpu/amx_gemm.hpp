#pragma once
// A float32 GEMM on Intel AMX: both operands are rounded to bfloat16 (nearest even) as they are
// packed into tiles, and TDPBF16PS accumulates their products in fp32. One tile multiply is
// 16 x 16 x 32 multiply-adds; the kernel holds a 32 x 32 block of C in four tile registers and
// streams K through them 32 at a time. matmul_kernels<cpu> calls it for float32 products when
// float32_matmul_precision() is bf16 and amx::available().
//
// Layouts (bf16 as uint16_t, every tile 16 rows x 64 bytes, so all loads use stride 64):
//   B packed once per product: tile (nb, kb) holds B[kb*32 + 2r + {0,1}][nb*16 + c] as the pair
//     at row r, column c (the "VNNI" pairing TDPBF16PS reads), zero-padded past K and N.
//   A packed per 32-row panel: tile (t, kb) holds rows t*16.. and columns kb*32.. as plain rows,
//     zero-padded past M and K.
// Inside a frozen_weights scope a packed B is kept per weight tensor and reused by later calls.
// The code is compiled for AMX through function attributes only, so the header builds with
// any -march; amx::available() checks the CPU and asks Linux for the tile state once.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "omni/backend/cpu/isa.hpp"
#include "omni/backend/cpu/parallel.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/core/dtype.hpp"
#include "omni/core/frozen_weights.hpp"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__CUDACC__)
#define OMNI_HAVE_AMX_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace omni::backend::cpu::amx {

#ifdef OMNI_HAVE_AMX_CODE

// True when the CPU has AMX-BF16, the kernel lets this process use the tile registers, and
// OMNI_CPU_ISA / cpu_isa_limit() (backend/cpu/isa.hpp) does not cap the kernels below AMX.
inline bool available() {
    static const bool ok = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        const bool tile = (d >> 24) & 1u, bf16 = (d >> 22) & 1u;
        if (!tile || !bf16) return false;
        constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;  // asm/prctl.h
        return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
    }();
    return ok && cpu_isa_allows(cpu_isa::amx);
}

namespace detail {

// Rounding to nearest even, as core's bf16 storage type does (AVX512-BF16's VCVTNE2PS2BF16 agrees).
inline std::uint16_t bf16_bits_of(float x) { return bf16(x).bits; }

constexpr std::int64_t tile_k = 32, tile_n = 16, tile_m = 16, panel_m = 32;

struct alignas(64) TileConfig {
    std::uint8_t palette = 1, start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t colsb[16] = {};
    std::uint8_t rows[16] = {};
};

// Tiles 0-3: C blocks (rows x cols of tiles: 0 1 / 2 3); 4, 5: A; 6, 7: B. All 16 x 64 bytes.
__attribute__((target("amx-tile"))) inline void configure_tiles() {
    TileConfig cfg;
    for (int t = 0; t < 8; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    // GCC's _tile_loadconfig is an asm statement that does not say it reads memory: without this
    // barrier the stores above are dead to the optimiser and the tiles stay unconfigured.
    __asm__ __volatile__("" : : "r"(&cfg) : "memory");
    _tile_loadconfig(&cfg);
}
__attribute__((target("amx-tile"))) inline void release_tiles() { _tile_release(); }

// ---- packing: AVX-512 for whole tiles (every AMX CPU has AVX512-BF16), scalar at the edges ----

#define OMNI_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

// 16 dwords, dword j = (bf16(u[j]), bf16(w[j])): a row of pairs as TDPBF16PS reads them.
OMNI_AVX512_BF16 inline __m512i pair_up(__m512 u, __m512 w) {
    const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(w, u);  // words 0-15: u, 16-31: w
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19,
                                                3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(interleave, both);
}
// 32 contiguous floats -> 32 bf16 in order (16 dwords of consecutive pairs).
OMNI_AVX512_BF16 inline __m512i convert_32(const float* x) {
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
}
// Dword j of v to dword `col` of tile row j (rows are 16 dwords apart).
OMNI_AVX512_BF16 inline void scatter_column(std::uint16_t* tile, std::int64_t col, __m512i v) {
    const __m512i rows = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
    _mm512_i32scatter_epi32(reinterpret_cast<int*>(tile) + col, rows, v, 4);
}

// One B tile: rows k0 + 2r + {0,1}, columns n0 + c; scalar, zero past K and N.
inline void pack_b_tile_scalar(const float* b, std::int64_t rs, std::int64_t cs, std::int64_t K, std::int64_t N, std::int64_t k0,
                               std::int64_t n0, std::uint16_t* t) {
    for (std::int64_t r = 0; r < tile_k / 2; ++r)
        for (std::int64_t c = 0; c < tile_n; ++c) {
            const std::int64_t k = k0 + 2 * r, n = n0 + c;
            t[r * 32 + 2 * c] = n < N && k < K ? bf16_bits_of(b[k * rs + n * cs]) : 0;
            t[r * 32 + 2 * c + 1] = n < N && k + 1 < K ? bf16_bits_of(b[(k + 1) * rs + n * cs]) : 0;
        }
}

// B [K, N] (strides rs, cs) -> the packed tiles of n-blocks [nb0, nb1).
OMNI_AVX512_BF16 inline void pack_b(const float* b, std::int64_t rs, std::int64_t cs, std::int64_t K, std::int64_t N, std::int64_t KB,
                                    std::int64_t nb0, std::int64_t nb1, std::uint16_t* out) {
    for (std::int64_t nb = nb0; nb < nb1; ++nb)
        for (std::int64_t kb = 0; kb < KB; ++kb) {
            std::uint16_t* t = out + (nb * KB + kb) * 512;
            const std::int64_t k0 = kb * tile_k, n0 = nb * tile_n;
            if (k0 + tile_k > K || n0 + tile_n > N) pack_b_tile_scalar(b, rs, cs, K, N, k0, n0, t);
            else if (cs == 1)  // row-major B: two rows make one tile row of pairs
                for (std::int64_t r = 0; r < tile_k / 2; ++r)
                    _mm512_storeu_si512(t + r * 32, pair_up(_mm512_loadu_ps(b + (k0 + 2 * r) * rs + n0), _mm512_loadu_ps(b + (k0 + 2 * r + 1) * rs + n0)));
            else if (rs == 1)  // B = W^T of a row-major W: 32 contiguous k per column
                for (std::int64_t c = 0; c < tile_n; ++c) scatter_column(t, c, convert_32(b + (n0 + c) * cs + k0));
            else pack_b_tile_scalar(b, rs, cs, K, N, k0, n0, t);
        }
}

// One A tile: rows m0 + r, columns k0 + k; scalar, zero past M and K.
inline void pack_a_tile_scalar(const float* a, std::int64_t rs, std::int64_t cs, std::int64_t M, std::int64_t K, std::int64_t m0,
                               std::int64_t k0, std::uint16_t* t) {
    for (std::int64_t r = 0; r < tile_m; ++r)
        for (std::int64_t k = 0; k < tile_k; ++k)
            t[r * tile_k + k] = m0 + r < M && k0 + k < K ? bf16_bits_of(a[(m0 + r) * rs + (k0 + k) * cs]) : 0;
}

// Rows [m0, m0 + 32) of A [M, K] (strides rs, cs) -> two row tiles per k-block.
OMNI_AVX512_BF16 inline void pack_a_panel(const float* a, std::int64_t rs, std::int64_t cs, std::int64_t M, std::int64_t K, std::int64_t KB,
                                          std::int64_t m0, std::uint16_t* out) {
    for (std::int64_t t = 0; t < 2; ++t)
        for (std::int64_t kb = 0; kb < KB; ++kb) {
            std::uint16_t* tile = out + (t * KB + kb) * 512;
            const std::int64_t r0 = m0 + t * tile_m, k0 = kb * tile_k;
            if (r0 + tile_m > M || k0 + tile_k > K) pack_a_tile_scalar(a, rs, cs, M, K, r0, k0, tile);
            else if (cs == 1)  // row-major A: 32 contiguous k per row
                for (std::int64_t r = 0; r < tile_m; ++r) _mm512_storeu_si512(tile + r * tile_k, convert_32(a + (r0 + r) * rs + k0));
            else if (rs == 1)  // column-major A (a transposed operand): two columns make 16 row pairs
                for (std::int64_t k = 0; k < tile_k; k += 2)
                    scatter_column(tile, k / 2, pair_up(_mm512_loadu_ps(a + k0 * cs + k * cs + r0), _mm512_loadu_ps(a + (k0 + k + 1) * cs + r0)));
            else pack_a_tile_scalar(a, rs, cs, M, K, r0, k0, tile);
        }
}

#undef OMNI_AVX512_BF16

// 64-byte aligned bf16 scratch: tile loads are fastest on whole cache lines.
struct Buffer {
    std::int64_t bytes;
    std::uint16_t* p;
    explicit Buffer(std::int64_t n) : bytes((n * 2 + 63) / 64 * 64), p(static_cast<std::uint16_t*>(std::aligned_alloc(64, static_cast<std::size_t>(bytes)))) {
        if (!p) throw std::bad_alloc();
    }
    ~Buffer() { std::free(p); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
};

// C[rows, cols] (row stride c_rs) = alpha * acc + beta * C, from a 16 x 16 fp32 tile image.
inline void write_block(const float* acc, float* c, std::int64_t c_rs, std::int64_t rows, std::int64_t cols, float alpha, float beta) {
    for (std::int64_t i = 0; i < rows; ++i) {
        float* ci = c + i * c_rs;
        const float* ai = acc + i * tile_n;
        if (beta == 0)
            for (std::int64_t j = 0; j < cols; ++j) ci[j] = alpha * ai[j];
        else
            for (std::int64_t j = 0; j < cols; ++j) ci[j] = alpha * ai[j] + beta * ci[j];
    }
}

// One 32-row panel (RT row tiles) times n-blocks [nb0, nb1), two at a time (CT col tiles).
template <int RT, int CT>
__attribute__((target("amx-tile,amx-bf16"))) inline void block(const std::uint16_t* ap, const std::uint16_t* bp, std::int64_t KB,
                                                                std::int64_t nb, float (&acc)[4][256]) {
    _tile_zero(0);
    if constexpr (CT == 2) _tile_zero(1);
    if constexpr (RT == 2) _tile_zero(2);
    if constexpr (RT == 2 && CT == 2) _tile_zero(3);
    for (std::int64_t kb = 0; kb < KB; ++kb) {
        _tile_loadd(4, ap + kb * 512, 64);
        if constexpr (RT == 2) _tile_loadd(5, ap + (KB + kb) * 512, 64);
        _tile_loadd(6, bp + (nb * KB + kb) * 512, 64);
        if constexpr (CT == 2) _tile_loadd(7, bp + ((nb + 1) * KB + kb) * 512, 64);
        _tile_dpbf16ps(0, 4, 6);
        if constexpr (CT == 2) _tile_dpbf16ps(1, 4, 7);
        if constexpr (RT == 2) _tile_dpbf16ps(2, 5, 6);
        if constexpr (RT == 2 && CT == 2) _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, acc[0], 64);
    if constexpr (CT == 2) _tile_stored(1, acc[1], 64);
    if constexpr (RT == 2) _tile_stored(2, acc[2], 64);
    if constexpr (RT == 2 && CT == 2) _tile_stored(3, acc[3], 64);
}

// Packed B operands kept while a frozen_weights scope is open, keyed by the storage they came
// from (a weak reference: a freed and reused address can never match) and their layout.
struct PackedB {
    std::weak_ptr<const void> owner;
    const void* p;
    std::int64_t k, n, rs, cs;
    std::uint64_t epoch;
    std::shared_ptr<const Buffer> tiles;
};
struct PackCache {
    std::mutex mutex;
    std::vector<PackedB> entries;
    std::int64_t bytes = 0;
    static constexpr std::int64_t max_bytes = std::int64_t{2} << 30;  // past this, pack per call
};
inline PackCache& pack_cache() {
    static PackCache c;
    return c;
}

// The cache itself, apart from the AMX packing so that it runs (and is tested from many threads,
// tests/threads/thread_safety_test.cpp) on any CPU: B's packed form from the cache inside a
// frozen_weights scope, else pack() (which returns std::shared_ptr<const Buffer>).
template <class Pack> std::shared_ptr<const Buffer> cached_b(const GemmArgs& g, const float* b, Pack&& pack) {
    PackCache& c = pack_cache();
    const bool frozen = frozen_weights::active();
    const std::uint64_t epoch = frozen_weights::epoch();
    if (!frozen || !g.b_owner || g.batch != 1) {
        if (!frozen) {  // the last scope has closed: nothing kept is valid any more
            std::lock_guard<std::mutex> lock(c.mutex);
            c.entries.clear();
            c.bytes = 0;
        }
        return pack();
    }
    std::lock_guard<std::mutex> lock(c.mutex);
    std::erase_if(c.entries, [&](const PackedB& e) {
        const bool stale = e.epoch != epoch || e.owner.expired();
        if (stale) c.bytes -= e.tiles->bytes;
        return stale;
    });
    for (const PackedB& e : c.entries)
        if (e.p == b && e.k == g.k && e.n == g.n && e.rs == g.b_rs && e.cs == g.b_cs && e.owner.lock() == g.b_owner) return e.tiles;
    auto tiles = pack();
    if (c.bytes + tiles->bytes <= PackCache::max_bytes) {
        c.entries.push_back({g.b_owner, b, g.k, g.n, g.b_rs, g.b_cs, epoch, tiles});
        c.bytes += tiles->bytes;
    }
    return tiles;
}

// B packed: from the cache inside a frozen_weights scope, freshly otherwise.
inline std::shared_ptr<const Buffer> packed_b(const GemmArgs& g, const float* b, std::int64_t KB, std::int64_t NB) {
    return cached_b(g, b, [&] {
        auto buf = std::make_shared<Buffer>(NB * KB * 512);
        parallel_for(NB, KB * 512, [&](std::int64_t n0, std::int64_t n1) { pack_b(b, g.b_rs, g.b_cs, g.k, g.n, KB, n0, n1, buf->p); });
        return std::shared_ptr<const Buffer>(std::move(buf));
    });
}

}  // namespace detail

// C = alpha A B + beta C for float32 operands laid out as GemmArgs says.
inline void gemm(const GemmArgs& g) {
    using namespace detail;
    const std::int64_t M = g.m, N = g.n, K = g.k;
    const std::int64_t KB = (K + tile_k - 1) / tile_k, NB = (N + tile_n - 1) / tile_n, panels = (M + panel_m - 1) / panel_m;
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    // Work items: (panel, group of n-blocks), enough of them for every thread.
    const int threads = num_threads();
    const std::int64_t groups = std::clamp<std::int64_t>((4 * threads + panels - 1) / panels, 1, (NB + 1) / 2);
    const std::int64_t per_group = 2 * (((NB + 1) / 2 + groups - 1) / groups);  // n-blocks per item, even
    const std::int64_t items = panels * groups;
    std::shared_ptr<const Buffer> bpack;
    for (std::int64_t bi = 0; bi < g.batch; ++bi) {
        const float* a = static_cast<const float*>(g.a) + bi * g.a_batch;
        const float* b = static_cast<const float*>(g.b) + bi * g.b_batch;
        float* c = static_cast<float*>(g.c) + bi * g.c_batch;
        if (bi == 0 || g.b_batch != 0) bpack = packed_b(g, b, KB, NB);
        const std::uint16_t* bp = bpack->p;
#pragma omp parallel num_threads(static_cast<int>(std::min<std::int64_t>(threads, items)))
        {
            configure_tiles();
            const Buffer apack(2 * KB * 512);
            std::int64_t packed_panel = -1;
            alignas(64) float acc[4][256];
#pragma omp for schedule(static)
            for (std::int64_t it = 0; it < items; ++it) {
                const std::int64_t p = it / groups, grp = it % groups;
                const std::int64_t m0 = p * panel_m, rows = std::min(panel_m, M - m0);
                if (packed_panel != p) {
                    pack_a_panel(a, g.a_rs, g.a_cs, M, K, KB, m0, apack.p);
                    packed_panel = p;
                }
                const std::int64_t nb_end = std::min(NB, (grp + 1) * per_group);
                for (std::int64_t nb = grp * per_group; nb < nb_end; nb += 2) {
                    const bool two_cols = nb + 1 < nb_end, two_rows = rows > tile_m;
                    if (two_rows && two_cols) block<2, 2>(apack.p, bp, KB, nb, acc);
                    else if (two_rows) block<2, 1>(apack.p, bp, KB, nb, acc);
                    else if (two_cols) block<1, 2>(apack.p, bp, KB, nb, acc);
                    else block<1, 1>(apack.p, bp, KB, nb, acc);
                    for (int t = 0; t < 4; ++t) {
                        const std::int64_t r0 = (t / 2) * tile_m, n0 = (nb + t % 2) * tile_n;
                        if ((t % 2 && !two_cols) || (t / 2 && !two_rows)) continue;
                        write_block(acc[t], c + (m0 + r0) * g.c_rs + n0, g.c_rs, std::min(tile_m, rows - r0), std::min(tile_n, N - n0), alpha,
                                    beta);
                    }
                }
            }
            release_tiles();
        }
    }
}

#else

inline bool available() { return false; }
inline void gemm(const GemmArgs&) { throw value_error("amx::gemm", "expected an x86-64 Linux build with AMX support, got another target"); }

#endif

}  // namespace omni::backend::cpu::amx
