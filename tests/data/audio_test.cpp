// Audio frontend: WAV decoding (every malformed layout an io_error), resampling accuracy on tones,
// Kaldi fbank properties, and the Omni-C steps of the release's audio pipeline (padding, SpecAugment draws,
// normalisation). The comparison with torchaudio itself is tests/data/audio_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "omni/data/audio/frontend.hpp"

using D = omni::Tensor<omni::cpu>;
namespace od = omni::data;
using Bytes = std::vector<std::uint8_t>;

namespace {
constexpr double pi = 3.14159265358979323846;

void put(Bytes& b, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
// A chunk with its declared size (default: the body's) and the pad byte after an odd body.
Bytes chunk(const std::string& id, const Bytes& body, std::int64_t declared = -1) {
    Bytes out = text(id);
    put(out, declared < 0 ? body.size() : static_cast<std::uint64_t>(declared), 4);
    out.insert(out.end(), body.begin(), body.end());
    if (body.size() % 2) out.push_back(0);
    return out;
}
Bytes riff(const Bytes& chunks, const std::string& form = "WAVE") {
    Bytes out = text("RIFF");
    put(out, 4 + chunks.size(), 4);
    return cat({out, text(form), chunks});
}
Bytes fmt(unsigned tag, unsigned channels, unsigned rate, unsigned align, unsigned bits) {
    Bytes b;
    put(b, tag, 2), put(b, channels, 2), put(b, rate, 4), put(b, rate * align, 4), put(b, align, 2), put(b, bits, 2);
    return b;
}
// fmt body of WAVE_FORMAT_EXTENSIBLE with the given sub-format code and valid bits.
Bytes fmt_ext(unsigned sub, unsigned channels, unsigned bits, unsigned valid, bool good_guid = true) {
    Bytes b = fmt(0xfffe, channels, 8000, channels * bits / 8, bits);
    put(b, 22, 2), put(b, valid, 2), put(b, 0, 4), put(b, sub, 2);
    const Bytes tail = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, static_cast<std::uint8_t>(good_guid ? 0x71 : 0x72)};
    return cat({b, tail});
}
Bytes pcm16(std::initializer_list<int> v) {
    Bytes b;
    for (int s : v) put(b, static_cast<std::uint16_t>(s), 2);
    return b;
}
const Bytes good_fmt = fmt(1, 1, 8000, 2, 16);
const Bytes good_data = pcm16({0, 16384, -32768});

std::string error_of(const Bytes& b, const od::WavLimits& limits = {}) {
    try {
        od::decode_wav(b, "clip.wav", od::mix_channels, limits);
    } catch (const omni::io_error& e) {
        return e.what();
    }
    return "no error";
}

std::vector<float> tone(double hz, double rate, std::int64_t n, double amp = 0.5) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(amp * std::sin(2 * pi * hz * i / rate));
    return x;
}
// Largest |y[i] - amp sin(2 pi hz i / rate)| and RMS of y, both away from the edges.
std::pair<double, double> tone_error(const std::vector<float>& y, double hz, double rate, double amp = 0.5) {
    double worst = 0, sq = 0;
    const std::size_t edge = y.size() / 10;
    for (std::size_t i = edge; i + edge < y.size(); ++i) {
        worst = std::max(worst, std::abs(y[i] - amp * std::sin(2 * pi * hz * static_cast<double>(i) / rate)));
        sq += static_cast<double>(y[i]) * y[i];
    }
    return {worst, std::sqrt(sq / static_cast<double>(y.size() - 2 * edge))};
}
}  // namespace

// ---- WAV -------------------------------------------------------------------------------------

TEST(AudioWav, RoundTripsEveryEncoding) {
    const std::vector<float> x = {-1.0f, -0.5f, 0.0f, 0.25f, 127.0f / 128.0f, -3.0f / 128.0f};
    for (const auto enc : {od::WavEncoding::pcm_u8, od::WavEncoding::pcm_s16, od::WavEncoding::pcm_s24,
                           od::WavEncoding::pcm_s32, od::WavEncoding::float32, od::WavEncoding::float64}) {
        for (const bool ext : {false, true}) {
            const od::Wav w = od::decode_wav(od::encode_wav(x, 1, 22050, enc, ext));
            EXPECT_EQ(w.samples, x) << static_cast<int>(enc) << " extensible " << ext;
            EXPECT_EQ(w.sample_rate, 22050);
            EXPECT_EQ(w.is_float, enc == od::WavEncoding::float32 || enc == od::WavEncoding::float64);
        }
    }
    // PCM saturates out-of-range values; 16-bit rounds to the nearest step.
    const od::Wav s = od::decode_wav(od::encode_wav(std::vector<float>{2.0f, -2.0f, 0.3f}, 1, 8000));
    EXPECT_EQ(s.samples[0], 32767.0f / 32768.0f);
    EXPECT_EQ(s.samples[1], -1.0f);
    EXPECT_EQ(s.samples[2], std::nearbyint(0.3f * 32768.0) / 32768.0f);
}

TEST(AudioWav, DownMixesByAveragingOrPicksAChannel) {
    const std::vector<float> x = {0.5f, -0.25f, 0.0f, 1.0f / 16, 3.0f / 16, -1.0f / 16};  // 2 frames x 3 ch
    const Bytes b = od::encode_wav(x, 3, 16000, od::WavEncoding::pcm_s24, true);
    const od::Wav mix = od::decode_wav(b);
    EXPECT_EQ(mix.channels, 3);
    EXPECT_FLOAT_EQ(mix.samples[0], 0.25f / 3);
    EXPECT_FLOAT_EQ(mix.samples[1], 3.0f / 48);
    EXPECT_EQ(od::decode_wav(b, "x", 2).samples, (std::vector<float>{0.0f, -1.0f / 16}));
    EXPECT_THROW(od::decode_wav(b, "x", 3), omni::value_error);
    EXPECT_THROW(od::decode_wav(b, "x", -2), omni::value_error);
}

TEST(AudioWav, SkipsUnknownChunksInAnyOrder) {
    const Bytes list = chunk("LIST", text("abc"));  // odd: followed by a pad byte
    EXPECT_EQ(od::decode_wav(riff(cat({list, chunk("data", good_data), chunk("fmt ", good_fmt), chunk("id3 ", {})})))
                  .samples,
              (std::vector<float>{0.0f, 0.5f, -1.0f}));
    // A final odd 8-bit data chunk whose pad byte the writer left out.
    Bytes u8 = cat({chunk("fmt ", fmt(1, 1, 8000, 1, 8)), text("data")});
    put(u8, 3, 4);
    u8.insert(u8.end(), {128, 192, 0});
    EXPECT_EQ(od::decode_wav(riff(u8)).samples, (std::vector<float>{0.0f, 0.5f, -1.0f}));
}

TEST(AudioWav, WritesAndReadsFiles) {
    const auto path = std::filesystem::temp_directory_path() / "omni_audio_test.wav";
    const std::vector<float> x = tone(440, 8000, 100);
    od::write_wav(path, x, 1, 8000, od::WavEncoding::float32);
    EXPECT_EQ(od::read_wav(path).samples, x);
    std::filesystem::remove(path);
    try {
        od::read_wav(path);
        FAIL() << "expected io_error";
    } catch (const omni::io_error& e) {
        EXPECT_NE(std::string(e.what()).find("omni_audio_test.wav: expected a readable WAV file"), std::string::npos);
    }
}

TEST(AudioWav, MalformedFilesAreIoErrorsNamingTheProblem) {
    const Bytes ok = cat({chunk("fmt ", good_fmt), chunk("data", good_data)});
    Bytes long_riff = riff(ok);
    long_riff[4] += 10;  // declares 10 bytes the file does not have
    Bytes short_riff = text("RIFF");
    put(short_riff, 2, 4);
    short_riff = cat({short_riff, text("WAVE")});
    Bytes ext_short = fmt(0xfffe, 1, 8000, 2, 16);
    put(ext_short, 0, 2);
    const std::vector<std::pair<Bytes, std::string>> cases = {
        {{}, "expected a 12-byte RIFF/WAVE header, got a file of 0 bytes"},
        {cat({text("RIFX"), Bytes(4, 0), text("WAVE")}), "got 'RIFX' (not supported)"},
        {cat({text("OggS"), Bytes(8, 1)}), "expected 'RIFF' at byte 0, got 'OggS'"},
        {cat({text("RIFF"), Bytes{4, 0, 0, 0}, text("AVI ")}), "expected form type 'WAVE' at byte 8, got 'AVI '"},
        {cat({text("RIFF"), Bytes{4, 0, 0, 0}, Bytes{'W', 'A', 0, 0xff}}), "got 'WA\\x00\\xff'"},
        {short_riff, "expected a RIFF size of at least 4, got 2"},
        {riff(chunk("data", good_data)), "expected a 'fmt ' chunk, got none"},
        {riff(chunk("fmt ", good_fmt)), "expected a 'data' chunk, got none"},
        {riff(cat({chunk("fmt ", good_fmt), chunk("LIST", text("ab"), 100)})), "expected 100 bytes of chunk 'LIST'"},
        {riff(cat({ok, Bytes{'L', 'I', 'S'}})), "expected an 8-byte chunk header at byte 50, got 3 bytes"},
        {riff(cat({chunk("fmt ", Bytes(14, 1)), chunk("data", good_data)})), "at least 16 bytes, got 14"},
        {riff(cat({chunk("fmt ", fmt(2, 1, 8000, 2, 16)), chunk("data", good_data)})), "got 0x0002"},
        {riff(cat({chunk("fmt ", fmt(1, 1, 8000, 2, 12)), chunk("data", good_data)})), "32 bits per PCM sample, got 12"},
        {riff(cat({chunk("fmt ", fmt(3, 1, 8000, 2, 16)), chunk("data", good_data)})), "32 or 64 bits per float sample, got 16"},
        {riff(cat({chunk("fmt ", fmt(1, 0, 8000, 0, 16)), chunk("data", good_data)})), "expected at least one channel, got 0"},
        {riff(cat({chunk("fmt ", fmt(1, 1, 0, 2, 16)), chunk("data", good_data)})), "expected a sample rate in [8000, 384000] Hz (WavLimits), got 0"},
        {riff(cat({chunk("fmt ", fmt(1, 2, 8000, 3, 16)), chunk("data", good_data)})),
         "expected block align 4 (2 channels x 2 bytes), got 3"},
        {riff(cat({chunk("fmt ", good_fmt), chunk("data", Bytes(5, 0))})), "whole frames of 2 bytes, got 5 bytes"},
        {riff(cat({chunk("fmt ", ext_short), chunk("data", good_data)})), "got 18 bytes and cbSize 0"},
        {riff(cat({chunk("fmt ", fmt_ext(1, 1, 16, 16, false)), chunk("data", good_data)})), "sub-format GUID"},
        {riff(cat({chunk("fmt ", fmt_ext(2, 1, 16, 16)), chunk("data", good_data)})), "starting 0x0002"},
        {riff(cat({chunk("fmt ", fmt_ext(1, 1, 16, 20)), chunk("data", good_data)})), "valid bits per sample, got 20"},
    };
    for (const auto& [bytes, want] : cases) {
        const std::string msg = error_of(bytes);
        EXPECT_EQ(msg.rfind("io_error: read_wav: clip.wav: ", 0), 0u) << msg;
        EXPECT_NE(msg.find(want), std::string::npos) << "want '" << want << "' in: " << msg;
    }
    // The extensible cases above are otherwise valid: with a good header they decode.
    EXPECT_EQ(od::decode_wav(riff(cat({chunk("fmt ", fmt_ext(1, 1, 16, 12)), chunk("data", good_data)}))).samples.size(), 3u);
}

// sox and ffmpeg writing to a pipe cannot seek back to fill in the sizes: RIFF and 'data' read
// 0xFFFFFFFF (or more than the file holds). Read to the end, as libsndfile does, and say so.
TEST(AudioWav, StreamedSizesAreReadToTheEndWithAWarning) {
    const std::vector<float> want{0.0f, 0.5f, -1.0f};
    const Bytes ok = cat({chunk("fmt ", good_fmt), chunk("data", good_data)});
    Bytes piped = riff(cat({chunk("fmt ", good_fmt), chunk("data", good_data, 0xFFFFFFFF)}));
    for (int i = 4; i < 8; ++i) piped[i] = 0xFF;  // the RIFF size
    const od::Wav w = od::decode_wav(piped, "clip.wav");
    EXPECT_EQ(w.samples, want);
    EXPECT_NE(w.warning.find("the RIFF header declares 4294967303 bytes, the file holds"), std::string::npos) << w.warning;
    EXPECT_NE(w.warning.find("the 'data' chunk declares 4294967295 bytes"), std::string::npos) << w.warning;
    EXPECT_TRUE(od::decode_wav(riff(ok), "clip.wav").warning.empty());
    // Cut by the pipe mid-frame: whole frames only.
    Bytes cut = piped;
    cut.push_back(7);
    EXPECT_EQ(od::decode_wav(cut, "clip.wav").samples, want);
    // A data size too large by a little (a writer that counted a header it did not write).
    const Bytes longer = riff(cat({chunk("fmt ", good_fmt), chunk("data", good_data, 100)}));
    EXPECT_EQ(od::decode_wav(longer, "clip.wav").samples, want);
    // Strict mode refuses both, naming what was declared and what is there.
    const od::WavLimits strict{.accept_streamed = false};
    EXPECT_NE(error_of(piped, strict).find("bytes as the RIFF header declares, got 50 (a truncated file, or a WAV written to a pipe"), std::string::npos)
        << error_of(piped, strict);
    EXPECT_NE(error_of(longer, strict).find("the 'data' chunk at byte 36 declares 100 bytes, the file holds 6 after it"), std::string::npos)
        << error_of(longer, strict);
    // Only the 'data' chunk may run past the end: any other chunk that does is still an error.
    EXPECT_NE(error_of(riff(cat({chunk("fmt ", good_fmt), chunk("data", good_data), chunk("LIST", text("ab"), 50)}))).find("of chunk 'LIST'"),
              std::string::npos);
}

TEST(AudioWav, MutatedFilesDecodeOrThrowButNeverCrash) {
    const Bytes good = od::encode_wav(tone(300, 8000, 64), 2, 8000, od::WavEncoding::pcm_s24, true);
    std::mt19937 rng(5);
    int thrown = 0;
    for (int trial = 0; trial < 4000; ++trial) {
        Bytes b = good;
        if (trial % 3 == 0) b.resize(rng() % b.size());
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips && !b.empty(); ++i) b[rng() % std::min<std::size_t>(b.size(), 80)] = static_cast<std::uint8_t>(rng());
        try {
            const od::Wav w = od::decode_wav(b, "fuzz.wav");
            EXPECT_GT(w.channels, 0);
        } catch (const omni::io_error&) {
            ++thrown;
        }
    }
    EXPECT_GT(thrown, 1000);
}

// ---- resampling ------------------------------------------------------------------------------

TEST(AudioResample, LengthsAndIdentity) {
    const od::Resampler r(22050, 32000);
    EXPECT_EQ(r.output_length(1000), 1452);  // ceil(1000 * 640 / 441)
    EXPECT_EQ(od::Resampler(44100, 16000).output_length(44100), 16000);
    EXPECT_EQ(r(std::vector<float>{}).size(), 0u);
    EXPECT_EQ(r(std::vector<float>{1.0f}).size(), 2u);
    const std::vector<float> x = tone(100, 8000, 50);
    EXPECT_EQ(od::resample(x, 16000, 16000), x);
    EXPECT_THROW(od::Resampler(0, 16000), omni::value_error);
    EXPECT_THROW(od::Resampler(16000, 8000, {.lowpass_filter_width = 0}), omni::value_error);
    EXPECT_THROW(od::Resampler(16000, 8000, {.rolloff = 1.5}), omni::value_error);
}

TEST(AudioResample, KeepsToneFrequencyAndPhase) {
    struct Case { std::int64_t from, to; double hz; };
    for (const Case c : {Case{44100, 16000, 1000}, Case{16000, 32000, 3000}, Case{22050, 32000, 5000},
                         Case{48000, 44100, 12000}, Case{44101, 16000, 2500}}) {
        const auto y = od::resample(tone(c.hz, c.from, c.from / 2), c.from, c.to);
        EXPECT_EQ(static_cast<std::int64_t>(y.size()), (c.from / 2 * c.to + c.from - 1) / c.from);
        // Below 0.7 x Nyquist the hann default's gain is within 0.35%, kaiser_best's within 1e-5;
        // comparing with the exact sine also pins frequency and phase.
        EXPECT_LT(tone_error(y, c.hz, c.to).first, 0.5 * 0.0035) << c.from << " -> " << c.to;
        const auto best = od::resample(tone(c.hz, c.from, c.from / 2), c.from, c.to, od::ResampleOptions::kaiser_best());
        EXPECT_LT(tone_error(best, c.hz, c.to).first, 0.5 * 1e-5) << c.from << " -> " << c.to;
    }
}

TEST(AudioResample, AttenuatesToneAboveNewNyquist) {
    // 10 kHz is 1.25 x the Nyquist rate of 16 kHz: it must not fold back to 6 kHz.
    const auto x = tone(10000, 44100, 44100);
    const double in_rms = 0.5 / std::sqrt(2.0);
    const double hann_db = 20 * std::log10(tone_error(od::resample(x, 44100, 16000), 0, 16000).second / in_rms);
    const double best_db = 20 * std::log10(
        tone_error(od::resample(x, 44100, 16000, od::ResampleOptions::kaiser_best()), 0, 16000).second / in_rms);
    EXPECT_LT(hann_db, -44);
    EXPECT_LT(best_db, -140);
    std::printf("alias of a 10 kHz tone at 44.1 -> 16 kHz: hann %.1f dB, kaiser_best %.1f dB\n", hann_db, best_db);
}

// ---- fbank -----------------------------------------------------------------------------------

TEST(AudioFbank, FrameCountFollowsKaldi) {
    const od::FbankOptions c = od::FbankOptions::omni_c(), a = od::FbankOptions::ast();
    EXPECT_EQ(c.window_size(), 800);
    EXPECT_EQ(c.window_shift(), 1251);  // int(32000 * 39.12 * 0.001)
    EXPECT_EQ(c.padded_window_size(), 1024);
    EXPECT_EQ(c.num_frames(320000), 256);
    EXPECT_EQ(c.num_frames(799), 0);
    EXPECT_EQ(c.num_frames(800), 1);
    EXPECT_EQ(c.num_frames(2050), 1);
    EXPECT_EQ(c.num_frames(2051), 2);
    EXPECT_EQ(a.window_size(), 400);
    EXPECT_EQ(a.window_shift(), 160);
    EXPECT_EQ(a.padded_window_size(), 512);
    od::FbankOptions centred = a;
    centred.snip_edges = false;
    EXPECT_EQ(centred.num_frames(1000), 6);  // (1000 + 80) / 160
    EXPECT_EQ(od::fbank(tone(440, 16000, 1000), centred).shape(), (omni::Shape{6, 128}));
    EXPECT_EQ(od::fbank(tone(440, 32000, 320000), c).shape(), (omni::Shape{256, 128}));
    EXPECT_EQ(od::fbank(std::vector<float>(300), a).shape(), (omni::Shape{0, 128}));
}

TEST(AudioFbank, SilenceSitsOnTheFloorAndScaleShiftsByLogFour) {
    const auto silent = od::fbank(std::vector<float>(4000), od::FbankOptions::ast()).to_vector<float>();
    for (const float v : silent) EXPECT_EQ(v, std::log(1.1920928955078125e-07f));
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0, 0.1f);
    std::vector<float> x(8000), x2(8000);
    for (std::size_t i = 0; i < x.size(); ++i) x2[i] = 2 * (x[i] = nd(rng));
    const auto a = od::fbank(x, od::FbankOptions::ast()).to_vector<float>();
    const auto b = od::fbank(x2, od::FbankOptions::ast()).to_vector<float>();
    // Filters narrower than the 31.25 Hz bin spacing can hold no bin: those stay on the floor.
    int floored = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == silent[0]) {
            ++floored;
            EXPECT_EQ(b[i], a[i]);
        } else {
            EXPECT_NEAR(b[i] - a[i], std::log(4.0f), 1e-4);
        }
    }
    EXPECT_LT(floored, static_cast<int>(a.size()) / 10);
}

TEST(AudioFbank, PureToneLandsInTheNearestMelBin) {
    for (const auto& [opt, hz] : std::vector<std::pair<od::FbankOptions, double>>{
             {od::FbankOptions::ast(), 500}, {od::FbankOptions::ast(), 2000}, {od::FbankOptions::ast(), 7000},
             {od::FbankOptions::omni_c(), 1000}, {od::FbankOptions::omni_c(), 12000}}) {
        const od::Fbank fb(opt);
        const D out = fb(tone(hz, opt.sample_rate, static_cast<std::int64_t>(opt.sample_rate) / 2));
        const auto row = out.select(0, out.size(0) / 2).to_vector<float>();
        const auto centres = fb.center_freqs();
        const auto peak = std::max_element(row.begin(), row.end()) - row.begin();
        std::ptrdiff_t nearest = 0;
        for (std::size_t m = 0; m < centres.size(); ++m)
            if (std::abs(centres[m] - hz) < std::abs(centres[static_cast<std::size_t>(nearest)] - hz)) nearest = static_cast<std::ptrdiff_t>(m);
        EXPECT_LE(std::abs(peak - nearest), 1) << hz << " Hz: peak bin " << peak << ", nearest centre bin " << nearest;
    }
}

TEST(AudioFbank, EnergyColumnAndOptionErrors) {
    od::FbankOptions o = od::FbankOptions::ast();
    o.use_energy = true;
    const auto x = tone(1000, 16000, 400, 0.25);
    const auto last = od::fbank(x, o).to_vector<float>();
    double mean = 0, energy = 0;
    for (float v : x) mean += v / 400.0;
    for (float v : x) energy += (v - mean) * (v - mean);
    EXPECT_NEAR(last[128], std::log(energy), 1e-4);  // htk_compat: energy last
    o.htk_compat = false;
    EXPECT_NEAR(od::fbank(x, o).to_vector<float>()[0], std::log(energy), 1e-4);

    auto message = [](const od::FbankOptions& bad) -> std::string {
        try {
            static_cast<void>(od::Fbank{bad});
        } catch (const omni::value_error& e) {
            return e.what();
        }
        return "no error";
    };
    od::FbankOptions bad = od::FbankOptions::ast();
    bad.num_mel_bins = 2;
    EXPECT_EQ(message(bad), "value_error: fbank: expected at least 3 mel bins, got 2");
    bad = od::FbankOptions::ast();
    bad.high_freq = 9000;
    EXPECT_NE(message(bad).find("high_freq <= Nyquist 8000"), std::string::npos);
    bad = od::FbankOptions::ast();
    bad.frame_length_ms = 0.05;
    EXPECT_NE(message(bad).find("expected a window of at least 2 samples, got 0"), std::string::npos);
    bad = od::FbankOptions::ast();
    bad.round_to_power_of_two = false;
    bad.frame_length_ms = 25.0625;  // 401 samples: odd
    EXPECT_NE(message(bad).find("even padded window size"), std::string::npos);
    o.dither = 1.0;
    EXPECT_THROW(od::fbank(x, o), omni::value_error);
    omni::Generator g1(3), g2(3);
    EXPECT_EQ(od::fbank(x, o, &g1).to_vector<float>(), od::fbank(x, o, &g2).to_vector<float>());
}

TEST(AudioFbank, ThreadsShareFftwPlansSafely) {
    // Sizes 512, 1024 and 2048; the 2048 plan is first made while the other threads execute.
    std::vector<od::FbankOptions> opts = {od::FbankOptions::ast(), od::FbankOptions::omni_c(), od::FbankOptions::omni_c()};
    opts[2].frame_length_ms = 50;
    const auto x = tone(3000, 32000, 64000);
    std::vector<std::vector<float>> got(12);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < got.size(); ++t)
        pool.emplace_back([&, t] { got[t] = od::fbank(x, opts[t % 3]).to_vector<float>(); });
    for (auto& th : pool) th.join();
    for (std::size_t t = 0; t < got.size(); ++t) EXPECT_EQ(got[t], od::fbank(x, opts[t % 3]).to_vector<float>());
}

// ---- the Omni-C steps of 1.7 -----------------------------------------------------------------

TEST(AudioFrontend, MirrorPaddingAsSection1_7_3) {
    const D three = D::from_data<float>({0, 0, 1, 1, 2, 2}, {3, 2});  // frame t holds t
    auto col = [](const D& t) {
        std::vector<float> v;
        for (std::int64_t i = 0; i < t.size(0); ++i) v.push_back(t.select(0, i).to_vector<float>()[0]);
        return v;
    };
    EXPECT_EQ(col(od::fix_frames(three, 5)), (std::vector<float>{0, 1, 2, 2, 1}));
    EXPECT_EQ(col(od::fix_frames(three, 10)), (std::vector<float>{0, 1, 2, 2, 1, 0, 2, 1, 0, 2}));
    EXPECT_EQ(col(od::fix_frames(three, 2)), (std::vector<float>{0, 1}));
    EXPECT_EQ(col(od::fix_frames(three, 5, od::FramePad::zeros)), (std::vector<float>{0, 1, 2, 0, 0}));
    EXPECT_EQ(col(od::fix_frames(D::zeros({0, 2}), 2)), (std::vector<float>{0, 0}));
    EXPECT_THROW(od::fix_frames(D::zeros({3}), 2), omni::shape_error);
}

TEST(AudioFrontend, SpecAugmentIsDeterministicPerSeedWithinTorchaudioRanges) {
    const od::SpecAugmentOptions opt;  // Omni-C: shift 25, masks 25 and 50
    std::int64_t lo_shift = 0, hi_shift = 0, max_fw = 0, max_tw = 0;
    for (std::uint64_t seed = 0; seed < 3000; ++seed) {
        omni::Generator a(seed), b(seed);
        const od::SpecAugmentDraw d = od::draw_spec_augment(256, 128, opt, a), e = od::draw_spec_augment(256, 128, opt, b);
        ASSERT_EQ(d.shift, e.shift);
        ASSERT_EQ(d.freq_start, e.freq_start);
        ASSERT_EQ(d.time_width, e.time_width);
        lo_shift = std::min(lo_shift, d.shift), hi_shift = std::max(hi_shift, d.shift);
        max_fw = std::max(max_fw, d.freq_width), max_tw = std::max(max_tw, d.time_width);
        ASSERT_TRUE(d.freq_width >= 0 && d.freq_width < 25 && d.freq_start + d.freq_width <= 128);
        ASSERT_TRUE(d.time_width >= 0 && d.time_width < 50 && d.time_start + d.time_width <= 256);
    }
    EXPECT_EQ(lo_shift, -25);
    EXPECT_EQ(hi_shift, 25);
    EXPECT_EQ(max_fw, 24);
    EXPECT_EQ(max_tw, 49);

    // Applying: a roll along time, then zeroed bands.
    std::vector<float> v(6 * 4);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
    const D x = D::from_data(v, {6, 4});
    const auto y = od::apply_spec_augment(x, {.shift = 2, .freq_start = 1, .freq_width = 2, .time_start = 4, .time_width = 1})
                       .to_vector<float>();
    EXPECT_EQ(std::vector<float>(y.begin(), y.begin() + 4), (std::vector<float>{17, 0, 0, 20}));  // row 0 <- row 4
    EXPECT_EQ(std::vector<float>(y.begin() + 16, y.begin() + 20), (std::vector<float>{0, 0, 0, 0}));
    EXPECT_EQ(y[8], 1.0f);  // row 2 <- row 0
}

TEST(AudioFrontend, NormalisationConstants) {
    const auto y = od::normalize_fbank(D::from_data<float>({-4.2677393f, 0.0f, -15.942385f}, {3})).to_vector<float>();
    EXPECT_FLOAT_EQ(y[0], 0.0f);
    EXPECT_NEAR(y[1], 4.2677393 * 0.1094332, 1e-6);  // a masked cell: ~0.467
    EXPECT_NEAR(y[2], (-15.942385 + 4.2677393) / (2 * 4.5689974), 1e-6);
}

TEST(AudioFrontend, OmniCPipelineShapesAndViews) {
    const od::AudioFrontend fe(od::AudioFrontendOptions::omni_c());
    std::mt19937 rng(2);
    std::normal_distribution<float> nd(0.1f, 0.1f);  // a DC offset the pipeline must remove
    std::vector<float> clip(320000);
    for (float& v : clip) v = nd(rng);
    const D lm = fe.log_mel(clip, 32000);
    EXPECT_EQ(lm.shape(), (omni::Shape{256, 128}));
    EXPECT_EQ(fe.log_mel(tone(440, 48000, 480000), 48000).shape(), (omni::Shape{256, 128}));  // resampled

    // A 500-sample clip is padded to 800: one frame, mirrored into all 256.
    const D tiny = fe.log_mel(tone(440, 32000, 500), 32000);
    const auto first = tiny.select(0, 0).to_vector<float>();
    for (std::int64_t t = 1; t < 256; ++t) ASSERT_EQ(tiny.select(0, t).to_vector<float>(), first);

    // Evaluation view: normalised and transposed to [128, 256].
    const D eval = fe.view(lm);
    EXPECT_EQ(eval.shape(), (omni::Shape{128, 256}));
    EXPECT_NEAR(eval.select(0, 5).select(0, 7).item<float>(), (lm.select(0, 7).select(0, 5).item<float>() + 4.2677393) / 9.1379948, 1e-5);
    // A training view is the seeded draw applied, then the same normalisation and layout.
    omni::Generator g(7), replay(7);
    const D train = fe.view(lm, &g);
    const D manual = od::normalize_fbank(od::apply_spec_augment(lm, od::draw_spec_augment(256, 128, {}, replay)))
                         .transpose(0, 1).contiguous();
    EXPECT_EQ(train.to_vector<float>(), manual.to_vector<float>());
    EXPECT_NE(fe.view(lm, &g).to_vector<float>(), train.to_vector<float>());  // the next view differs
}

TEST(AudioFrontend, AstPreset) {
    const od::AudioFrontend fe(od::AudioFrontendOptions::ast());
    const D out = fe(tone(440, 16000, 16000), 16000);  // 1 s -> 98 frames, zero-padded to 1024
    EXPECT_EQ(out.shape(), (omni::Shape{1024, 128}));
    EXPECT_NEAR(out.select(0, 1000).select(0, 3).item<float>(), 4.2677393 / 9.1379948, 1e-6);
}

// Issue 28: a header rate of 1 Hz or 2^31 - 1 Hz made the frontend's resampler build billions of
// taps; rates outside WavLimits (8 kHz..384 kHz by default) are refused by the reader.
TEST(AudioWav, SampleRatesOutsideTheLimitsAreRefused) {
    Bytes b = od::encode_wav(std::vector<float>(16, 0.1f), 1, 16000);
    const auto with_rate = [&](std::uint32_t rate) {
        Bytes c = b;
        for (int i = 0; i < 4; ++i) c[24 + i] = static_cast<std::uint8_t>(rate >> (8 * i));  // fmt's nSamplesPerSec
        return c;
    };
    for (const std::uint32_t rate : {1u, 7999u, 384001u, 0x7fffffffu, 0xffffffffu}) {
        try {
            od::decode_wav(with_rate(rate), "r.wav");
            ADD_FAILURE() << "no error for rate " << rate;
        } catch (const omni::io_error& e) {
            EXPECT_EQ(std::string(e.what()), "io_error: read_wav: r.wav: expected a sample rate in [8000, 384000] Hz (WavLimits), got " +
                                                 std::to_string(rate));
        }
    }
    EXPECT_EQ(od::decode_wav(with_rate(8000)).sample_rate, 8000);
    EXPECT_EQ(od::decode_wav(with_rate(384000)).sample_rate, 384000);
    EXPECT_EQ(od::decode_wav(with_rate(1), "r.wav", od::mix_channels, {.min_sample_rate = 1}).sample_rate, 1);
}
