#pragma once
// PNG and JPEG decoding into float32 tensors in [0, 1]. PNG goes through stb_image (Debian
// libstb-dev, /usr/include/stb/stb_image.h), nothing to link. JPEG goes through libjpeg-turbo when
// OMNI_WITH_LIBJPEG is defined (link the CMake target omni::jpeg, which defines it, or define it
// and link -ljpeg yourself, in every translation unit of the program), else through stb_image too.
// Prefer libjpeg-turbo for files you did not make: stb 2.27's JPEG arithmetic can overflow on a
// corrupt file (image/jpeg_turbo.hpp says why, docs/reliability.md what was found).
//
// Output: [C, H, W] (default, the layout of torchvision's ToTensor and of every transform in
// image/transforms.hpp) or [H, W, C]. 8-bit images are divided by 255, 16-bit PNGs by 65535.
// `channels` asks the decoder to convert (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; 0 keeps the file's
// own). stb's RGB -> grey uses integer weights (77, 150, 29) / 256, close to but not exactly
// PIL's convert("L"); libjpeg-turbo's is the file's own luma. JPEG pixels from libjpeg-turbo are
// PIL's exactly; stb's IDCT and chroma upsampling differ from them by 1-3 levels (up to 12 at
// 4:2:2 chroma, mean under 0.25). PNG pixels match PIL's exactly.
//
// Why stb is compiled here, static: a header-only library cannot ask its users for the one
// translation unit that stb normally wants (STB_IMAGE_IMPLEMENTATION). With STB_IMAGE_STATIC
// every TU that includes this header gets its own internal copy, so no symbol is ever defined
// twice at link time. Only PNG and JPEG are compiled in, which keeps the cost to about a second
// of compile time per TU. A TU that already includes stb_image.h itself (and compiles it
// somewhere as usual) must include it before this header; omni then calls that stb_image.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

#if defined(OMNI_WITH_LIBJPEG)
#include "omni/data/image/jpeg_turbo.hpp"
#endif

#ifndef STBI_INCLUDE_STB_IMAGE_H
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO  // files are read here, so open errors become io_error with the path
#if defined(__GNUC__)
#pragma GCC diagnostic push  // stb's own code is not ours to warn about (unused statics, casts)
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#undef STB_IMAGE_STATIC
#undef STB_IMAGE_IMPLEMENTATION
#undef STBI_ONLY_PNG
#undef STBI_ONLY_JPEG
#undef STBI_NO_STDIO
#endif

namespace omni::data {

enum class ImageLayout { chw, hwc };

/// Options of decode_image and load_image: channel conversion, layout and the pixel-count limit.
struct DecodeOptions {
    int channels = 0;  // 0: as stored; 1..4: converted by the decoder
    ImageLayout layout = ImageLayout::chw;
    // Width x height above this is refused before any pixel is allocated: a few hundred bytes can
    // declare 2^24 x 2^24. The default is PIL's Image.MAX_IMAGE_PIXELS (a 1 GiB 24-bit image).
    std::int64_t max_pixels = 89'478'485;
    // A progressive JPEG's every scan passes over the whole image, so a small file of thousands
    // of empty scans costs minutes. Real files have about 10 (jpegtran's most, a few hundred).
    int max_jpeg_scans = 500;
};

namespace detail {

// stb_image allocates with malloc; this frees on every path, including a throw.
struct StbPixels {
    void* p = nullptr;
    StbPixels() = default;
    StbPixels(const StbPixels&) = delete;
    StbPixels& operator=(const StbPixels&) = delete;
    ~StbPixels() { stbi_image_free(p); }
};

// stb_image 2.27 (Debian 12's) writes past its Huffman tables when the 16 code counts of a DHT
// table sum past 256 (fixed upstream in 2.28). Such a table is invalid JPEG (ITU T.81, B.2.4.2:
// at most 256 symbols), so it is refused here, before stb sees the bytes. So is a scan that names
// a Huffman table no DHT defined before it (T.81 B.2.3): stb decodes with the table's
// uninitialised memory and reads past its 256 symbols (found by tests/fuzz/image_fuzz.cpp).
// stb decodes 8-bit samples only, for which T.81 allows 8-bit quantisation tables (B.2.4.1: Pq 0)
// and DC difference categories up to 11 (Table F.1); a 16-bit table's DC quantiser or a larger
// DC category lets stb's DC prediction times the quantiser overflow an int (undefined behaviour,
// found by the long fuzz run), so a 16-bit table whose DC entry exceeds 255 (libjpeg writes
// 16-bit tables below quality 10 or so unless forced to baseline) and DC categories past 11 are
// refused too. (A long run of large DC steps can still overflow it:
// docs/reliability.md.) A file with more than max_scans scans is refused (DecodeOptions). Before
// libjpeg-turbo (`for_stb` false) the structural checks run too, so both decoders refuse those
// files with the same messages, but not the two that guard stb's int arithmetic: libjpeg decodes
// 16-bit tables (its own encoder writes them below quality 25 or so) without overflow. Walks the
// markers as stb does: segments by their length, entropy-coded data byte by byte up to the next
// marker.
inline void check_jpeg_markers(std::span<const std::uint8_t> b, const std::string& name, int max_scans, bool for_stb) {
    std::size_t i = 0;
    while (i < b.size() && b[i] == 0xFF) ++i;  // stb skips fill bytes before SOI too
    if (i == 0 || i >= b.size() || b[i] != 0xD8) return;  // not a JPEG
    ++i;
    auto at = [&](std::size_t k) -> unsigned { return k < b.size() ? b[k] : 0u; };  // stb reads 0 past the end
    bool defined[2][4] = {};  // [DC, AC][table id]
    bool progressive = false;
    int scans = 0;
    while (i + 1 < b.size()) {
        const unsigned m = b[i + 1];
        if (b[i] != 0xFF || m == 0xFF || m == 0x00) {  // entropy-coded data, fill or a stuffed zero
            ++i;
            continue;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // TEM, RSTn and SOI carry no length
            i += 2;
            continue;
        }
        if (m == 0xD9) return;  // EOI
        const std::size_t len = (at(i + 2) << 8) | at(i + 3), end = i + 2 + len;
        if (m == 0xC2) progressive = true;  // SOF2; stb refuses the other progressive and lossless frames
        if (m == 0xC4) {
            for (std::size_t p = i + 4; p < end && p < b.size(); ) {
                unsigned symbols = 0;
                for (std::size_t k = 1; k <= 16; ++k) symbols += at(p + k);
                if (symbols > 256)
                    throw io_error("decode_image", "expected a JPEG Huffman table of at most 256 symbols in '" + name +
                                                       "', got " + std::to_string(symbols) + " at byte " + std::to_string(p));
                if (const unsigned tc = at(p) >> 4, th = at(p) & 15; tc <= 1 && th <= 3) defined[tc][th] = true;  // stb refuses others
                if (for_stb && (at(p) >> 4) == 0)
                    for (std::size_t k = 0; k < symbols; ++k)
                        if (at(p + 17 + k) > 11)
                            throw io_error("decode_image", "expected JPEG DC Huffman symbols of at most 11 (8-bit samples) in '" + name +
                                                               "', got " + std::to_string(at(p + 17 + k)) + " at byte " + std::to_string(p + 17 + k));
                p += 17 + symbols;
            }
        }
        if (m == 0xDB && for_stb)  // DQT: 65-byte 8-bit tables, 129-byte 16-bit ones (their AC entries cannot overflow stb's int)
            for (std::size_t p = i + 4; p < end && p < b.size(); p += (at(p) >> 4) ? 129 : 65)
                if (const unsigned dc = (at(p + 1) << 8) | at(p + 2); (at(p) >> 4) && dc > 255)
                    throw io_error("decode_image", "expected JPEG quantisation tables whose DC entry is at most 255 (8-bit samples) in '" + name +
                                                       "', got " + std::to_string(dc) + " in the 16-bit table at byte " + std::to_string(p));
        if (m == 0xDA) {  // SOS: the tables its components name. A progressive DC scan uses no AC
                          // table, an AC scan no DC table, and a DC refinement neither.
            if (++scans > max_scans)
                throw io_error("decode_image", "expected at most max_jpeg_scans = " + std::to_string(max_scans) + " scans in '" + name +
                                                   "', got more (scan " + std::to_string(scans) + " at byte " + std::to_string(i) +
                                                   "; raise DecodeOptions::max_jpeg_scans to allow it)");
            const unsigned ns = at(i + 4), ss = at(i + 5 + 2 * ns), ah = at(i + 7 + 2 * ns) >> 4;
            const bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss != 0;
            for (unsigned c = 0; c < ns && c < 4; ++c) {
                const unsigned sel = at(i + 6 + 2 * c), td = sel >> 4, ta = sel & 15;
                for (const auto& [use, kind, id] : {std::tuple{dc, 0u, td}, std::tuple{ac, 1u, ta}})
                    if (use && id <= 3 && !defined[kind][id])
                        throw io_error("decode_image", std::string("expected the JPEG scan at byte ") + std::to_string(i) + " in '" + name +
                                                           "' to use Huffman tables defined before it, got " + (kind ? "AC" : "DC") +
                                                           " table " + std::to_string(id) + ", which no DHT segment defined");
            }
        }
        if (len < 2) return;  // stb refuses the segment itself
        i = end;
    }
}

// stb_image grows its IDAT buffer to a chunk's declared length before reading it, so 60 bytes
// declaring a 2 GiB IDAT chunk allocate 2 GiB (found by tests/fuzz/image_fuzz.cpp). An IDAT
// chunk longer than the bytes left is refused first; stb would fail on it anyway ("outofdata").
inline void check_png_chunks(std::span<const std::uint8_t> b, const std::string& name) {
    static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (b.size() < 8 || !std::equal(signature, signature + 8, b.begin())) return;
    for (std::size_t i = 8; i + 8 <= b.size();) {
        const std::uint64_t len = (std::uint64_t{b[i]} << 24) | (std::uint64_t{b[i + 1]} << 16) | (std::uint64_t{b[i + 2]} << 8) | b[i + 3];
        const std::string type(reinterpret_cast<const char*>(b.data() + i + 4), 4);
        const std::uint64_t left = b.size() - (i + 8);
        if (type == "IDAT" && len > left)
            throw io_error("decode_image", "expected the PNG chunk 'IDAT' at byte " + std::to_string(i) + " to hold " + std::to_string(len) +
                                               " bytes in '" + name + "', got " + std::to_string(left) + " left (truncated or corrupt file)");
        if (type == "IEND" || len > left) return;
        i += 12 + static_cast<std::size_t>(len);
    }
}

template <class T>
Tensor<cpu> pixels_to_tensor(const T* px, int h, int w, int c, float scale, ImageLayout layout) {
    const std::int64_t H = h, W = w, C = c;
    Tensor<cpu> t = layout == ImageLayout::chw ? Tensor<cpu>::empty({C, H, W}) : Tensor<cpu>::empty({H, W, C});
    float* dst = t.data<float>();
    if (layout == ImageLayout::hwc) {
        for (std::int64_t i = 0; i < H * W * C; ++i) dst[i] = static_cast<float>(px[i]) / scale;
    } else {
        for (std::int64_t y = 0; y < H; ++y)
            for (std::int64_t x = 0; x < W; ++x)
                for (std::int64_t k = 0; k < C; ++k) dst[(k * H + y) * W + x] = static_cast<float>(px[(y * W + x) * C + k]) / scale;
    }
    return t;
}

}  // namespace detail

// Decodes PNG or JPEG bytes; `name` (a path, usually) labels errors. Which decoder reads JPEG:
// the header comment.
inline Tensor<cpu> decode_image(std::span<const std::uint8_t> bytes, const DecodeOptions& opt = {},
                                const std::string& name = "<memory>") {
    const char* op = "decode_image";
    if (opt.channels < 0 || opt.channels > 4)
        throw value_error(op, "expected channels in 0..4 (0 keeps the file's), got " + std::to_string(opt.channels));
    if (bytes.empty()) throw io_error(op, "expected PNG or JPEG bytes in '" + name + "', got an empty file");
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
        throw io_error(op, "expected an encoded image under 2 GiB in '" + name + "', got " + std::to_string(bytes.size()) + " bytes");
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int len = static_cast<int>(bytes.size());
    if (opt.max_pixels < 1) throw value_error(op, "expected max_pixels >= 1, got " + std::to_string(opt.max_pixels));
    if (opt.max_jpeg_scans < 1) throw value_error(op, "expected max_jpeg_scans >= 1, got " + std::to_string(opt.max_jpeg_scans));
    auto too_large = [&](std::int64_t w, std::int64_t h) {
        return io_error(op, "expected at most max_pixels = " + std::to_string(opt.max_pixels) + " pixels in '" + name + "', got " +
                                std::to_string(w) + " x " + std::to_string(h) + " = " + std::to_string(w * h) +
                                " (raise DecodeOptions::max_pixels to allow it)");
    };
    detail::check_png_chunks(bytes, name);
#if defined(OMNI_WITH_LIBJPEG)
    detail::check_jpeg_markers(bytes, name, opt.max_jpeg_scans, false);
    // Whatever stb would take for a JPEG (SOI after any fill bytes) goes to libjpeg-turbo, from
    // the SOI's own 0xFF (libjpeg wants it at byte 0).
    std::size_t soi = 0;
    while (soi < bytes.size() && bytes[soi] == 0xFF) ++soi;
    if (soi > 0 && soi < bytes.size() && bytes[soi] == 0xD8) {
        detail::JpegPixels j;
        detail::JpegError err;
        switch (detail::jpeg_decode_into(j, err, bytes.data() + soi - 1, bytes.size() - (soi - 1), opt.channels, opt.max_pixels)) {
        case detail::JpegStatus::too_large: throw too_large(j.w, j.h);
        case detail::JpegStatus::failed:
            throw io_error(op, "expected a decodable JPEG image in '" + name + "', got libjpeg-turbo error \"" + err.message + "\"");
        case detail::JpegStatus::ok: break;
        }
        return detail::pixels_to_tensor(j.px.data(), j.h, j.w, j.c, 255.0f, opt.layout);
    }
#else
    detail::check_jpeg_markers(bytes, name, opt.max_jpeg_scans, true);
#endif
    int w = 0, h = 0, stored = 0;
    if (stbi_info_from_memory(data, len, &w, &h, &stored) &&
        static_cast<std::int64_t>(w) * static_cast<std::int64_t>(h) > opt.max_pixels)
        throw too_large(w, h);
    detail::StbPixels px;
    const bool wide = stbi_is_16_bit_from_memory(data, len) != 0;
    px.p = wide ? static_cast<void*>(stbi_load_16_from_memory(data, len, &w, &h, &stored, opt.channels))
                : static_cast<void*>(stbi_load_from_memory(data, len, &w, &h, &stored, opt.channels));
    if (!px.p) {
        const char* why = stbi_failure_reason();
        throw io_error(op, "expected a decodable PNG or JPEG image in '" + name + "', got decoder error \"" +
                               (why ? why : "unknown") + "\"");
    }
    const int c = opt.channels ? opt.channels : stored;
    return wide ? detail::pixels_to_tensor(static_cast<const stbi_us*>(px.p), h, w, c, 65535.0f, opt.layout)
                : detail::pixels_to_tensor(static_cast<const stbi_uc*>(px.p), h, w, c, 255.0f, opt.layout);
}

// Reads and decodes one image file.
inline Tensor<cpu> load_image(const std::filesystem::path& path, const DecodeOptions& opt = {}) {
    std::error_code ec;
    std::ifstream in;
    if (std::filesystem::is_regular_file(path, ec)) in.open(path, std::ios::binary);
    if (!in.is_open()) throw io_error("load_image", "expected a readable image file, got none at '" + path.string() + "'");
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw io_error("load_image", "expected to read '" + path.string() + "', got a read error");
    return decode_image(bytes, opt, path.string());
}

}  // namespace omni::data
