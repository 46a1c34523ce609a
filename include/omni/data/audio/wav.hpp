#pragma once
// RIFF/WAVE reading and writing for the audio frontends.
//
// read_wav / decode_wav return one channel of float samples (PCM scaled by 2^-(bits-1), the
// convention of torchaudio.load(normalize=True), so 8-bit u8 -> (b - 128) / 128) and the sample
// rate. Accepted: PCM 8-bit unsigned and 16/24/32-bit signed, IEEE float 32/64-bit, and the same
// inside WAVE_FORMAT_EXTENSIBLE. Unknown chunks (LIST, fact, cue, ...) are skipped. Float files
// are passed through unclipped, as torchaudio does.
//
// The parser treats the bytes as hostile: every read is bounds-checked against the buffer and
// every malformed layout is an io_error naming the file and what was wrong, never a crash.
// Big-endian RIFX and 64-bit RF64 files are refused by name.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"

namespace omni::data {

/// One decoded clip. `channels`, `bits_per_sample` and `is_float` describe the file, not `samples`,
/// which is always mono float.
struct Wav {
    std::vector<float> samples;
    int sample_rate = 0;
    int channels = 0;
    int bits_per_sample = 0;  // container bits (24 for a 20-bit extensible file)
    bool is_float = false;
    // Non-empty when the file was read leniently (WavLimits::accept_streamed): what its header
    // declared and what was read instead. The caller decides whether to show it.
    std::string warning;
};

// Pass as `channel` to average every channel into mono; a value k >= 0 keeps channel k alone.
inline constexpr int mix_channels = -1;

/// What a file may declare before it is refused. A rate of 1 Hz or 2^31 - 1 Hz is legal RIFF but
/// makes a resampler to 16 kHz build billions of filter taps; 8 kHz (telephony) to 384 kHz (the
/// highest rate of common audio interfaces) bounds that work to a few million taps. Widen them
/// for unusual data.
struct WavLimits {
    int min_sample_rate = 8000;
    int max_sample_rate = 384000;
    // A WAV written to a pipe (sox, ffmpeg) cannot seek back to fill in its sizes, so its RIFF and
    // 'data' sizes read 0xFFFFFFFF or more than the file holds. When set, such a file is read to
    // its end (whole frames) and Wav::warning says so, as libsndfile and torchaudio do; a chunk
    // other than the last 'data' that runs past the end is still an error.
    bool accept_streamed = true;
};

namespace audio_detail {

inline std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// A four-character code as text, with bytes outside printable ASCII escaped, for messages.
inline std::string fourcc(const std::uint8_t* p) {
    static const char* hex = "0123456789abcdef";
    std::string s = "'";
    for (int i = 0; i < 4; ++i) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'') {
            s += static_cast<char>(p[i]);
        } else {
            s += "\\x";
            s += hex[p[i] >> 4];
            s += hex[p[i] & 15];
        }
    }
    return s + "'";
}

inline std::string hex16(unsigned v) {
    static const char* hex = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 12; shift >= 0; shift -= 4) s += hex[(v >> shift) & 15];
    return s;
}

// The 14 bytes after the format code in a WAVE_FORMAT_EXTENSIBLE sub-format GUID
// (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT share them).
inline constexpr std::uint8_t ksdataformat_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                       0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

constexpr unsigned format_pcm = 1, format_float = 3, format_extensible = 0xfffe;

struct Format {
    unsigned tag = 0;  // resolved: 1 PCM or 3 float, after unwrapping extensible
    int channels = 0;
    int sample_rate = 0;
    int block_align = 0;
    int bits = 0;
};

// Reads one sample of `bits` container bits at p, scaled to [-1, 1).
inline float sample_at(const std::uint8_t* p, unsigned tag, int bits) {
    if (tag == format_float) {
        if (bits == 32) {
            float f;
            std::memcpy(&f, p, 4);  // IEEE-754 little-endian, like every host omni builds on
            return f;
        }
        double d;
        std::memcpy(&d, p, 8);
        return static_cast<float>(d);
    }
    switch (bits) {
    case 8: return static_cast<float>(static_cast<int>(p[0]) - 128) * (1.0f / 128.0f);
    case 16: return static_cast<float>(static_cast<std::int16_t>(le16(p))) * (1.0f / 32768.0f);
    case 24: {
        // Place the three bytes at the top of an int32 so the sign extends by itself.
        const auto u = (static_cast<std::uint32_t>(p[0]) << 8) | (static_cast<std::uint32_t>(p[1]) << 16) |
                       (static_cast<std::uint32_t>(p[2]) << 24);
        return static_cast<float>(static_cast<std::int32_t>(u)) * (1.0f / 2147483648.0f);
    }
    default: return static_cast<float>(static_cast<std::int32_t>(le32(p))) * (1.0f / 2147483648.0f);
    }
}

class WavParser {
public:
    WavParser(std::span<const std::uint8_t> bytes, std::string name, const WavLimits& limits = {})
        : b_(bytes), name_(std::move(name)), limits_(limits) {}

    Wav parse(int channel) {
        if (b_.size() < 12) fail("expected a 12-byte RIFF/WAVE header, got a file of " + std::to_string(b_.size()) + " bytes");
        const std::string id = fourcc(b_.data());
        if (id == "'RIFX'" || id == "'RF64'")
            fail("expected a little-endian 32-bit 'RIFF' file, got " + id + " (not supported)");
        if (id != "'RIFF'") fail("expected 'RIFF' at byte 0, got " + id);
        if (fourcc(b_.data() + 8) != "'WAVE'") fail("expected form type 'WAVE' at byte 8, got " + fourcc(b_.data() + 8));
        // The RIFF size bounds the chunk walk; bytes after it (some tools append tags) are ignored.
        std::uint64_t end = 8 + static_cast<std::uint64_t>(le32(b_.data() + 4));
        if (end > b_.size()) {
            if (!limits_.accept_streamed)
                fail("expected " + std::to_string(end) + " bytes as the RIFF header declares, got " + std::to_string(b_.size()) +
                     " (a truncated file, or a WAV written to a pipe: WavLimits::accept_streamed reads it to its end)");
            warning_ = "the RIFF header declares " + std::to_string(end) + " bytes, the file holds " + std::to_string(b_.size()) +
                       "; read to its end (a WAV written to a pipe, or a truncated file)";
            end = b_.size();
        }
        if (end < 12) fail("expected a RIFF size of at least 4, got " + std::to_string(end - 8));

        bool have_fmt = false, have_data = false;
        Format fmt;
        std::uint64_t data_at = 0, data_size = 0;
        std::uint64_t pos = 12;
        while (pos < end) {
            if (end - pos < 8)
                fail("expected an 8-byte chunk header at byte " + std::to_string(pos) + ", got " +
                     std::to_string(end - pos) + " bytes (truncated chunk)");
            const std::uint8_t* h = b_.data() + pos;
            std::uint64_t size = le32(h + 4);
            const std::uint64_t body = pos + 8;
            const std::string cid = fourcc(h);
            if (size > end - body) {
                if (cid != "'data'" || have_data)
                    fail("expected " + std::to_string(size) + " bytes of chunk " + cid + " at byte " + std::to_string(pos) + ", got " +
                         std::to_string(end - body) + " (truncated chunk)");
                if (!limits_.accept_streamed)
                    fail("the 'data' chunk at byte " + std::to_string(pos) + " declares " + std::to_string(size) + " bytes, the file holds " +
                         std::to_string(end - body) + " after it (a truncated file, or a WAV written to a pipe: WavLimits::accept_streamed reads it)");
                if (!warning_.empty()) warning_ += "; ";
                warning_ += "the 'data' chunk declares " + std::to_string(size) + " bytes, the file holds " + std::to_string(end - body) +
                            " after it; read those";
                size = end - body;
                streamed_data_ = true;
            }
            if (cid == "'fmt '" && !have_fmt) {
                fmt = parse_fmt(b_.data() + body, size);
                have_fmt = true;
            } else if (cid == "'data'" && !have_data) {
                data_at = body;
                data_size = size;
                have_data = true;
            }
            // Chunks are word-aligned; writers often drop the pad byte after a final odd chunk.
            pos = body + size + (size & 1);
        }
        if (!have_fmt) fail("expected a 'fmt ' chunk, got none");
        if (!have_data) fail("expected a 'data' chunk, got none");
        return decode(fmt, data_at, data_size, channel);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw io_error("read_wav", name_ + ": " + what); }

    Format parse_fmt(const std::uint8_t* p, std::uint64_t size) const {
        if (size < 16) fail("expected a 'fmt ' chunk of at least 16 bytes, got " + std::to_string(size));
        Format f;
        f.tag = le16(p);
        f.channels = le16(p + 2);
        const std::uint32_t rate = le32(p + 4);
        f.block_align = le16(p + 12);
        f.bits = le16(p + 14);
        int valid_bits = f.bits;
        if (f.tag == format_extensible) {
            if (size < 40 || le16(p + 16) < 22)
                fail("expected a WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of 40 bytes with cbSize >= 22, got " +
                     std::to_string(size) + " bytes" + (size >= 18 ? " and cbSize " + std::to_string(le16(p + 16)) : ""));
            valid_bits = le16(p + 18);
            const unsigned sub = le16(p + 24);
            if (std::memcmp(p + 26, ksdataformat_tail, sizeof ksdataformat_tail) != 0 ||
                (sub != format_pcm && sub != format_float))
                fail("expected an extensible sub-format GUID of PCM or IEEE float, got one starting " + hex16(sub));
            f.tag = sub;
        }
        if (f.tag != format_pcm && f.tag != format_float)
            fail("expected format tag 0x0001 (PCM), 0x0003 (IEEE float) or 0xfffe (extensible), got " + hex16(f.tag) +
                 " (compressed formats are not supported)");
        if (f.channels == 0) fail("expected at least one channel, got 0");
        if (rate < static_cast<std::uint32_t>(std::max(limits_.min_sample_rate, 1)) ||
            rate > static_cast<std::uint32_t>(std::max(limits_.max_sample_rate, 1)))
            fail("expected a sample rate in [" + std::to_string(limits_.min_sample_rate) + ", " +
                 std::to_string(limits_.max_sample_rate) + "] Hz (WavLimits), got " + std::to_string(rate));
        f.sample_rate = static_cast<int>(rate);
        const bool bits_ok = f.tag == format_pcm ? (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32)
                                                 : (f.bits == 32 || f.bits == 64);
        if (!bits_ok)
            fail(std::string("expected ") + (f.tag == format_pcm ? "8, 16, 24 or 32" : "32 or 64") + " bits per " +
                 (f.tag == format_pcm ? "PCM" : "float") + " sample, got " + std::to_string(f.bits));
        if (valid_bits == 0 || valid_bits > f.bits)
            fail("expected between 1 and " + std::to_string(f.bits) + " valid bits per sample, got " +
                 std::to_string(valid_bits));
        const int expect_align = f.channels * (f.bits / 8);
        if (f.block_align != expect_align)
            fail("expected block align " + std::to_string(expect_align) + " (" + std::to_string(f.channels) +
                 " channels x " + std::to_string(f.bits / 8) + " bytes), got " + std::to_string(f.block_align));
        return f;
    }

    Wav decode(const Format& f, std::uint64_t at, std::uint64_t size, int channel) const {
        if (streamed_data_) size -= size % static_cast<std::uint64_t>(f.block_align);  // a pipe cut mid-frame: whole frames
        if (size % static_cast<std::uint64_t>(f.block_align) != 0)
            fail("expected a 'data' chunk holding whole frames of " + std::to_string(f.block_align) + " bytes, got " +
                 std::to_string(size) + " bytes (truncated frame)");
        if (channel < mix_channels || channel >= f.channels)
            throw value_error("read_wav", name_ + ": expected channel -1 (mix) or in [0, " + std::to_string(f.channels) +
                                              "), got " + std::to_string(channel));
        Wav w;
        w.sample_rate = f.sample_rate;
        w.channels = f.channels;
        w.bits_per_sample = f.bits;
        w.is_float = f.tag == format_float;
        w.warning = warning_;
        const std::size_t frames = static_cast<std::size_t>(size / static_cast<std::uint64_t>(f.block_align));
        const int bytes = f.bits / 8;
        w.samples.resize(frames);
        const std::uint8_t* p = b_.data() + at;
        for (std::size_t i = 0; i < frames; ++i, p += f.block_align) {
            if (channel >= 0) {
                w.samples[i] = sample_at(p + channel * bytes, f.tag, f.bits);
            } else {
                double sum = 0;
                for (int c = 0; c < f.channels; ++c) sum += sample_at(p + c * bytes, f.tag, f.bits);
                w.samples[i] = static_cast<float>(sum / f.channels);
            }
        }
        return w;
    }

    std::span<const std::uint8_t> b_;
    std::string name_;
    WavLimits limits_;
    std::string warning_;
    bool streamed_data_ = false;
};

}  // namespace audio_detail

// Decodes a WAV held in memory; `name` appears in error messages.
OMNI_LIB_INLINE Wav decode_wav(std::span<const std::uint8_t> bytes, const std::string& name = "<memory>",
                      int channel = mix_channels, const WavLimits& limits = {})
#if OMNI_LIB_DEFINE
{
    return audio_detail::WavParser(bytes, name, limits).parse(channel);
}
#else
;
#endif

OMNI_LIB_INLINE Wav read_wav(const std::filesystem::path& path, int channel = mix_channels, const WavLimits& limits = {})
#if OMNI_LIB_DEFINE
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw io_error("read_wav", path.string() + ": expected a readable WAV file, got no regular file there");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw io_error("read_wav", path.string() + ": expected a readable WAV file, got one that cannot be opened");
    const std::streamoff size = in.tellg();
    if (size < 0) throw io_error("read_wav", path.string() + ": expected a file with a size, got none");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
        throw io_error("read_wav", path.string() + ": expected to read " + std::to_string(size) + " bytes, got a read error");
    return decode_wav(bytes, path.string(), channel, limits);
}
#else
;
#endif

enum class WavEncoding { pcm_u8, pcm_s16, pcm_s24, pcm_s32, float32, float64 };

// Encodes interleaved samples (frames x channels). PCM rounds x * 2^(bits-1) to nearest and
// saturates, so a value k / 2^(bits-1) read by decode_wav comes back exactly. `extensible`
// writes a WAVE_FORMAT_EXTENSIBLE header (what Microsoft asks for above 16 bits or 2 channels).
OMNI_LIB_INLINE std::vector<std::uint8_t> encode_wav(std::span<const float> interleaved, int channels, int sample_rate,
                                            WavEncoding enc = WavEncoding::pcm_s16, bool extensible = false)
#if OMNI_LIB_DEFINE
{
    if (channels < 1 || channels > 65535)
        throw value_error("write_wav", "expected 1 to 65535 channels, got " + std::to_string(channels));
    if (sample_rate < 1) throw value_error("write_wav", "expected a positive sample rate, got " + std::to_string(sample_rate));
    if (interleaved.size() % static_cast<std::size_t>(channels) != 0)
        throw value_error("write_wav", "expected a sample count divisible by " + std::to_string(channels) +
                                           " channels, got " + std::to_string(interleaved.size()));
    static constexpr int bits_of[] = {8, 16, 24, 32, 32, 64};
    const int bits = bits_of[static_cast<int>(enc)], bytes = bits / 8;
    const bool is_float = enc == WavEncoding::float32 || enc == WavEncoding::float64;
    const std::uint64_t data_size = interleaved.size() * static_cast<std::uint64_t>(bytes);
    const std::uint32_t fmt_size = extensible ? 40 : 16;
    const std::uint64_t riff_size = 4 + (8 + fmt_size) + (8 + data_size + (data_size & 1));
    if (riff_size > 0xffffffffu) throw value_error("write_wav", "expected under 4 GiB of audio, got " + std::to_string(data_size) + " bytes");

    std::vector<std::uint8_t> out;
    out.reserve(static_cast<std::size_t>(riff_size + 8));
    auto put = [&](std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    auto tag = [&](const char* s) { out.insert(out.end(), s, s + 4); };
    tag("RIFF");
    put(riff_size, 4);
    tag("WAVE");
    tag("fmt ");
    put(fmt_size, 4);
    const unsigned code = is_float ? audio_detail::format_float : audio_detail::format_pcm;
    put(extensible ? audio_detail::format_extensible : code, 2);
    put(static_cast<unsigned>(channels), 2);
    put(static_cast<unsigned>(sample_rate), 4);
    put(static_cast<std::uint64_t>(sample_rate) * channels * bytes, 4);
    put(static_cast<unsigned>(channels * bytes), 2);
    put(static_cast<unsigned>(bits), 2);
    if (extensible) {
        put(22, 2);    // cbSize
        put(bits, 2);  // valid bits
        put(0, 4);     // channel mask: unspecified
        put(code, 2);  // GUID Data1 low half; the other 14 bytes are the fixed tail
        out.insert(out.end(), std::begin(audio_detail::ksdataformat_tail), std::end(audio_detail::ksdataformat_tail));
    }
    tag("data");
    put(data_size, 4);
    for (const float x : interleaved) {
        const double scaled = static_cast<double>(x) * static_cast<double>(1ull << (bits - 1));
        auto pcm = [&](double lo, double hi) {
            const double r = std::nearbyint(scaled);
            return static_cast<std::int64_t>(r < lo ? lo : (r > hi ? hi : r));
        };
        switch (enc) {
        case WavEncoding::pcm_u8: put(static_cast<std::uint64_t>(pcm(-128, 127) + 128), 1); break;
        case WavEncoding::pcm_s16: put(static_cast<std::uint64_t>(pcm(-32768, 32767)), 2); break;
        case WavEncoding::pcm_s24: put(static_cast<std::uint64_t>(pcm(-8388608, 8388607)), 3); break;
        case WavEncoding::pcm_s32: put(static_cast<std::uint64_t>(pcm(-2147483648.0, 2147483647.0)), 4); break;
        case WavEncoding::float32: {
            std::uint32_t u;
            std::memcpy(&u, &x, 4);
            put(u, 4);
            break;
        }
        case WavEncoding::float64: {
            const double d = x;
            std::uint64_t u;
            std::memcpy(&u, &d, 8);
            put(u, 8);
            break;
        }
        }
    }
    if (data_size & 1) out.push_back(0);
    return out;
}
#else
;
#endif

OMNI_LIB_INLINE void write_wav(const std::filesystem::path& path, std::span<const float> interleaved, int channels,
                      int sample_rate, WavEncoding enc = WavEncoding::pcm_s16, bool extensible = false)
#if OMNI_LIB_DEFINE
{
    const std::vector<std::uint8_t> bytes = encode_wav(interleaved, channels, sample_rate, enc, extensible);
    std::ofstream out(path, std::ios::binary);
    if (!out) throw io_error("write_wav", path.string() + ": expected a writable file, got one that cannot be opened");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw io_error("write_wav", path.string() + ": expected to write " + std::to_string(bytes.size()) +
                                              " bytes, got a write error");
}
#else
;
#endif

}  // namespace omni::data
