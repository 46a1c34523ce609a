#pragma once
// JPEG decoding through libjpeg-turbo (Debian libjpeg62-turbo-dev): decode_image's JPEG path when
// OMNI_WITH_LIBJPEG is defined, which linking the CMake target omni::jpeg does.
//
// Why a second decoder: stb_image 2.27 (Debian 12's) does its JPEG arithmetic in int without the
// range checks stb 2.28 added, so a corrupt file can overflow it (undefined behaviour; fuzzing
// found it, docs/reliability.md). libjpeg-turbo is the decoder PIL and torchvision use and is
// fuzzed continuously upstream; with its default settings (accurate integer IDCT, smooth chroma
// upsampling) its pixels are PIL's, bit for bit (tests/data/jpeg_reference.py checks it).
//
// Errors: libjpeg reports a fatal error through error_exit, which must not return; it longjmps
// back to jpeg_decode_into, whose frame holds only trivially destructible objects (the rule of
// [csetjmp.syn]), and the caller turns the message into an io_error. Corrupt-data warnings (a
// truncated file, a bad Huffman code: libjpeg would fill the rest with grey) stop decoding the
// same way, as TurboJPEG's stop-on-warning does, so garbage pixels never come back silently; the
// one warning let through is extraneous bytes before a marker, which loses no pixel and which
// camera files carry.
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h uses FILE without including it
#include <vector>

#include <jpeglib.h>
#include <jerror.h>  // the message codes (JWRN_EXTRANEOUS_DATA)

#if !defined(JCS_EXTENSIONS)
#error "omni: OMNI_WITH_LIBJPEG needs libjpeg-turbo's jpeglib.h (JCS_EXT_RGBA), got another libjpeg"
#endif

namespace omni::data::detail {

struct JpegPixels {
    std::vector<std::uint8_t> px;   // [h, w, c] row-major
    std::vector<std::uint8_t> row;  // one decoded row when it needs converting (CMYK, grey + alpha)
    int w = 0, h = 0, c = 0;
};

struct JpegError {
    jpeg_error_mgr mgr;  // first member: libjpeg hands the callbacks &mgr
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

inline void jpeg_fail(j_common_ptr ci) {
    auto* e = reinterpret_cast<JpegError*>(ci->err);
    (*ci->err->format_message)(ci, e->message);
    std::longjmp(e->jump, 1);
}

inline void jpeg_warn(j_common_ptr ci, int level) {
    if (level < 0 && ci->err->msg_code != JWRN_EXTRANEOUS_DATA) jpeg_fail(ci);  // level >= 0: trace output
}

// Adobe's CMYK is stored inverted, so the colour is the product of each ink with black, as stb
// does it (the rounding of its blinn_8x8).
inline std::uint8_t jpeg_ink(unsigned x, unsigned k) {
    const unsigned t = x * k + 128;
    return static_cast<std::uint8_t>((t + (t >> 8)) >> 8);
}

enum class JpegStatus { ok, failed, too_large };

// Decodes into out.px at `channels` (0: the file's own, 1 grey or 3 colour). A colour file asked
// for 1 or 2 channels gives libjpeg's luma (the Y of YCbCr: PIL's convert("L") weights, computed
// in the encoder). Fills out.w/h before checking max_pixels, so the caller can name them.
inline JpegStatus jpeg_decode_into(JpegPixels& out, JpegError& err, const std::uint8_t* data, std::size_t size, int channels,
                                   std::int64_t max_pixels) {
    jpeg_decompress_struct ci;
    ci.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_warn;
    err.message[0] = '\0';
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&ci);
        return JpegStatus::failed;
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, data, static_cast<unsigned long>(size));
    jpeg_read_header(&ci, TRUE);
    out.w = static_cast<int>(ci.image_width);
    out.h = static_cast<int>(ci.image_height);
    if (static_cast<std::int64_t>(out.w) * out.h > max_pixels) {
        jpeg_destroy_decompress(&ci);
        return JpegStatus::too_large;
    }
    const bool cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    out.c = channels ? channels : ci.num_components == 1 ? 1 : 3;
    const bool grey = out.c <= 2;
    ci.out_color_space = cmyk ? JCS_CMYK : grey ? JCS_GRAYSCALE : out.c == 4 ? JCS_EXT_RGBA : JCS_RGB;
    jpeg_start_decompress(&ci);
    const std::size_t w = ci.output_width, dc = static_cast<std::size_t>(ci.output_components);
    const bool direct = !cmyk && dc == static_cast<std::size_t>(out.c);
    out.px.resize(w * ci.output_height * static_cast<std::size_t>(out.c));
    out.row.resize(direct ? 0 : w * dc);
    while (ci.output_scanline < ci.output_height) {
        std::uint8_t* dst = out.px.data() + ci.output_scanline * w * static_cast<std::size_t>(out.c);
        JSAMPROW row = direct ? dst : out.row.data();
        if (jpeg_read_scanlines(&ci, &row, 1) != 1) {  // cannot happen with a memory source; no endless loop if it did
            std::snprintf(err.message, sizeof err.message, "no scanline at row %u", ci.output_scanline);
            jpeg_destroy_decompress(&ci);
            return JpegStatus::failed;
        }
        if (direct) continue;
        const std::uint8_t* s = out.row.data();
        for (std::size_t x = 0; x < w; ++x, s += dc) {
            std::uint8_t rgb[3] = {s[0], s[0], s[0]};
            if (cmyk)
                for (int k = 0; k < 3; ++k) rgb[k] = jpeg_ink(s[k], s[3]);
            std::uint8_t* d = dst + x * static_cast<std::size_t>(out.c);
            if (out.c <= 2) {  // from CMYK, stb's integer luma weights; from grey, grey
                d[0] = cmyk ? static_cast<std::uint8_t>((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8) : s[0];
                if (out.c == 2) d[1] = 255;
            } else {
                d[0] = rgb[0], d[1] = rgb[1], d[2] = rgb[2];
                if (out.c == 4) d[3] = 255;
            }
        }
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return JpegStatus::ok;
}

}  // namespace omni::data::detail
