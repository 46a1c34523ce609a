// Writes the seed corpora of the fuzz harnesses: OUT_DIR/<harness>/<file>, every file a real one
// made by omni's own writers (WAV, safetensors, .npy, checkpoint, options JSON) or by stb's PNG
// and JPEG encoders and libjpeg-turbo's (progressive, 4:2:0, restart markers, CMYK: what stb's
// encoder never writes), a few hundred bytes each, so the fuzzer starts from valid structure.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "omni/data/audio/wav.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/io/checkpoint.hpp"
#include "omni/io/xtensor.hpp"
#include "omni/nn/linear.hpp"

namespace fs = std::filesystem;

namespace {

void put(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}
void put(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
    put(p, std::string(bytes.begin(), bytes.end()));
}

std::vector<float> tone(int frames, int channels, double freq, int rate) {
    std::vector<float> v(static_cast<std::size_t>(frames * channels));
    for (int i = 0; i < frames; ++i)
        for (int c = 0; c < channels; ++c)
            v[static_cast<std::size_t>(i * channels + c)] = static_cast<float>(0.5 * std::sin(6.283185307 * freq * i / rate + c));
    return v;
}

void wavs(const fs::path& out) {
    using E = omni::data::WavEncoding;
    put(out / "s16_mono_16k.wav", omni::data::encode_wav(tone(64, 1, 440, 16000), 1, 16000));
    put(out / "u8_stereo_8k.wav", omni::data::encode_wav(tone(48, 2, 300, 8000), 2, 8000, E::pcm_u8));
    put(out / "s24_ext_44k1.wav", omni::data::encode_wav(tone(40, 1, 1000, 44100), 1, 44100, E::pcm_s24, true));
    put(out / "f32_ext_48k.wav", omni::data::encode_wav(tone(32, 2, 1000, 48000), 2, 48000, E::float32, true));
    put(out / "f64_22k05.wav", omni::data::encode_wav(tone(24, 1, 1000, 22050), 1, 22050, E::float64));
}

std::string idx(std::uint8_t code, std::vector<std::uint32_t> dims, std::size_t bytes_per) {
    std::string s{'\0', '\0', static_cast<char>(code), static_cast<char>(dims.size())};
    std::size_t n = 1;
    for (auto d : dims) {
        for (int k = 3; k >= 0; --k) s += static_cast<char>((d >> (8 * k)) & 0xff);
        n *= d;
    }
    for (std::size_t i = 0; i < n * bytes_per; ++i) s += static_cast<char>(i * 37);
    return s;
}

// A JPEG from libjpeg-turbo's encoder: `space` JCS_RGB, JCS_GRAYSCALE or JCS_CMYK (written
// with Adobe's marker, as YCCK), every other pixel value from px.
void libjpeg_seed(const fs::path& p, const std::vector<std::uint8_t>& px, J_COLOR_SPACE space, bool progressive, int restart_rows) {
    jpeg_compress_struct ci;
    jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);  // the inputs are ours: libjpeg's exit() on an error is fine here
    jpeg_create_compress(&ci);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&ci, &buf, &size);
    ci.image_width = 19, ci.image_height = 11;  // odd sizes: partial MCUs at both edges
    ci.input_components = space == JCS_CMYK ? 4 : space == JCS_GRAYSCALE ? 1 : 3;
    ci.in_color_space = space;
    jpeg_set_defaults(&ci);  // 4:2:0 chroma
    if (space == JCS_CMYK) jpeg_set_colorspace(&ci, JCS_YCCK);
    jpeg_set_quality(&ci, 60, TRUE);
    if (progressive) jpeg_simple_progression(&ci);
    ci.restart_in_rows = restart_rows;
    jpeg_start_compress(&ci, TRUE);
    const std::size_t stride = ci.image_width * static_cast<std::size_t>(ci.input_components);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = const_cast<std::uint8_t*>(px.data()) + (ci.next_scanline * stride) % (px.size() - stride);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    put(p, std::vector<std::uint8_t>(buf, buf + size));
    std::free(buf);
}

void images(const fs::path& out) {
    fs::create_directories(out);
    std::vector<std::uint8_t> px(8 * 6 * 4);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 11);
    stbi_write_png((out / "grey.png").c_str(), 8, 6, 1, px.data(), 8);
    stbi_write_png((out / "rgb.png").c_str(), 8, 6, 3, px.data(), 24);
    stbi_write_png((out / "rgba.png").c_str(), 8, 6, 4, px.data(), 32);
    stbi_write_jpg((out / "rgb.jpg").c_str(), 8, 6, 3, px.data(), 90);
    stbi_write_jpg((out / "grey.jpg").c_str(), 8, 6, 1, px.data(), 50);
    std::vector<std::uint8_t> big(19 * 11 * 4 * 2);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>((i * 7) ^ (i >> 3));
    libjpeg_seed(out / "rgb_progressive.jpg", big, JCS_RGB, true, 0);
    libjpeg_seed(out / "rgb_420_restarts.jpg", big, JCS_RGB, false, 1);
    libjpeg_seed(out / "grey_progressive.jpg", big, JCS_GRAYSCALE, true, 1);
    libjpeg_seed(out / "cmyk.jpg", big, JCS_CMYK, false, 0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
        return 2;
    }
    const fs::path out = argv[1];
    wavs(out / "wav");
    wavs(out / "audio_frontend");
    put(out / "idx" / "images.idx", idx(0x08, {2, 3, 3}, 1));
    put(out / "idx" / "labels.idx", idx(0x08, {4}, 1));
    put(out / "idx" / "f32.idx", idx(0x0D, {2, 2}, 4));
    put(out / "idx" / "i16.idx", idx(0x0B, {3}, 2));
    images(out / "image");
    images(out / "image_stb");  // the same harness, JPEG through stb_image

    using A = omni::autodiff<omni::cpu>;
    omni::Generator gen(0);
    omni::nn::Linear<A> lin({.in = 4, .out = 3}, gen);
    fs::create_directories(out / "safetensors");
    omni::io::save_weights(lin, (out / "safetensors" / "linear.safetensors").string(), {{"format", "pt"}});
    omni::io::write_safetensors((out / "safetensors" / "mixed.safetensors").string(),
                                {{"fc.weight", omni::Tensor<omni::cpu>::ones({3, 4})},
                                 {"ids", omni::Tensor<omni::cpu>::zeros({2}, omni::dtype::i64)},
                                 {"mask", omni::Tensor<omni::cpu>::ones({2, 1}, omni::dtype::b8)},
                                 {"half", omni::Tensor<omni::cpu>::ones({2}, omni::dtype::bf16)},
                                 {"f16", omni::io::to_dtype(omni::Tensor<omni::cpu>::ones({2}), omni::dtype::f16)}});

    fs::create_directories(out / "npy");
    omni::io::save_npy<float>((out / "npy" / "f32.npy").string(), omni::Tensor<omni::cpu>::ones({2, 3}));
    omni::io::save_npy<std::int64_t>((out / "npy" / "i64.npy").string(), omni::Tensor<omni::cpu>::zeros({4}, omni::dtype::i64));
    omni::io::save_npy<bool>((out / "npy" / "bool.npy").string(), omni::Tensor<omni::cpu>::ones({3}, omni::dtype::b8));

    omni::optim::AdamW<omni::cpu> opt(omni::optim::nn_param_groups(lin, 0.1));
    omni::io::save_checkpoint(out / "checkpoint" / "fresh.ckpt", lin, opt,
                              {.step = 0, .losses = {1.0f}, .modalities = {0}, .metadata = {{"model", "linear"}}});
    omni::sum(omni::square(lin(omni::Var<omni::cpu>(omni::Tensor<omni::cpu>::ones({2, 4}))))).backward();
    opt.step();
    omni::io::save_checkpoint(out / "checkpoint" / "stepped.ckpt", lin, opt, {.step = 1, .rng_seed = 3, .rng_offset = 9});

    put(out / "wordpiece" / "vocab_text", std::string("hello\n##lo\nworld\n##s\n,\n!\n[MASK]\n", 34) + '\0' +
                                              "Hello worlds, h\xc3\xa9llo! \xe4\xb8\xad\xe6\x96\x87 [MASK] x");
    put(out / "wordpiece" / "text_only", std::string("\0unaffable [CLS] don't", 23));

    put(out / "av_clips" / "one.jsonl",
        "{\"id\":\"c0\",\"split\":\"train\",\"duration\":0.25,\"fps\":4,\"frames\":[{\"label\":3,\"time\":0.0,\"png\":\"f.png\"}],"
        "\"wav\":\"a.wav\",\"words\":[{\"word\":\"two\",\"digit\":2,\"start\":0.0,\"end\":0.1}],"
        "\"questions\":[{\"q\":\"what was shown first ?\",\"a\":\"dress\",\"type\":\"visual\",\"template\":\"shown_first\"}]}\n");

    put(out / "options" / "full.json",
        "{\"name\": \"r\", \"count\": -4, \"seed\": 18446744073709551615, \"offset\": 5, \"small\": 200, \"flag\": true,\n"
        " \"hue\": \"blue\", \"tags\": [\"x\", \"y\"], \"weights\": [0.1, 1e-300], \"scales\": {\"blocks.0\": 2},\n"
        " \"per_colour\": {\"red\": 3}, \"nested\": {\"7\": [{\"rate\": 1, \"range\": [0, 1]}]},\n"
        " \"inner\": {\"rate\": 0.25, \"scale\": 3, \"range\": [0.1, 0.9]}}\n");
    put(out / "options" / "override", std::string("inner.range=[0.5, 1]"));

    put(out / "json" / "config.json",
        "{\"architectures\": [\"BertModel\"], \"hidden_size\": 384, \"layer_norm_eps\": 1e-12,\n"
        " \"model_type\": \"bert\", \"torch_dtype\": \"float32\", \"use_cache\": true, \"x\": null}\n");
    put(out / "json" / "tokenizer_config.json",
        "{\"do_lower_case\": false, \"strip_accents\": null, \"unk_token\": \"[UNK]\",\n"
        " \"name\": \"caf\\u00e9 \\ud83d\\ude00\", \"max_seq_length\": 256}\n");
    return 0;
}
