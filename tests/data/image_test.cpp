// Image frontend: IDX files (plain, gzip, and every malformation named), PNG/JPEG decoding of
// images written here with stb_image_write, exact small cases of each transform, parity of the
// transforms with torchvision (tests/data/image_reference.py), and the seeded augmentation chain.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "omni/data/image/augment.hpp"
#include "omni/data/image/decode.hpp"
#include "omni/data/image/idx.hpp"

#if defined(OMNI_WITH_LIBJPEG)
#include <jpeglib.h>  // an encoder that writes 16-bit quantisation tables
#endif

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#ifndef OMNI_TORCH_PYTHON
#define OMNI_TORCH_PYTHON "/usr/bin/python3"
#endif

namespace fs = std::filesystem;
namespace od = omni::data;
using T = omni::Tensor<omni::cpu>;
using Bytes = std::vector<std::uint8_t>;

namespace {

fs::path source_dir() {
#ifdef OMNI_SOURCE_DIR
    return OMNI_SOURCE_DIR;
#else
    return fs::path(__FILE__).parent_path().parent_path().parent_path();
#endif
}

// A fresh directory per process (ctest runs each test in its own), removed at exit.
fs::path scratch_dir() {
    struct Dir {
        fs::path path = fs::temp_directory_path() / ("omni_image_test_" + std::to_string(::getpid()));
        Dir() { fs::create_directories(path); }
        ~Dir() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

fs::path write_file(const std::string& name, const Bytes& bytes) {
    const fs::path p = scratch_dir() / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
}

fs::path write_gz(const std::string& name, const Bytes& bytes) {
    const fs::path p = scratch_dir() / name;
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return p;
}

Bytes read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An IDX file: magic, big-endian dims, then `data` as given.
Bytes idx(std::uint8_t type, std::vector<std::uint32_t> dims, const Bytes& data) {
    Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

// Runs f, expects an io_error, returns its message.
std::string io_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const omni::io_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception: ") + e.what();
    }
    return "no exception";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- IDX -------------------------------------------------------------------------------------

TEST(Idx, ImagesAndLabelsFromPlainAndGzipFiles) {
    const Bytes px{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6};
    for (bool gz : {false, true}) {
        const Bytes img = idx(0x08, {2, 2, 3}, px), lab = idx(0x08, {2}, {7, 3});
        const fs::path pi = gz ? write_gz("i.gz", img) : write_file("i.idx", img);
        const fs::path pl = gz ? write_gz("l.gz", lab) : write_file("l.idx", lab);
        const T images = od::load_idx_images(pi), labels = od::load_idx_labels(pl);
        EXPECT_EQ(images.shape(), (omni::Shape{2, 2, 3}));
        EXPECT_EQ(images.type(), omni::dtype::f32);
        const auto v = images.to_vector<float>();
        for (std::size_t i = 0; i < px.size(); ++i) EXPECT_EQ(v[i], static_cast<float>(px[i]) / 255.0f);
        EXPECT_EQ(labels.type(), omni::dtype::i64);
        EXPECT_EQ(labels.to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 3}));
        // A subset stops after the first items and skips the trailing-data check.
        EXPECT_EQ(od::load_idx_images(pi, 1).shape(), (omni::Shape{1, 2, 3}));
        EXPECT_EQ(od::load_idx_labels(pl, 5).to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 3}));
    }
}

TEST(Idx, EveryTypeCodeWidensBigEndianValues) {
    const fs::path i8 = write_file("i8.idx", idx(0x09, {2}, {0xff, 0x05}));
    EXPECT_EQ(od::read_idx(i8).to_vector<std::int32_t>(), (std::vector<std::int32_t>{-1, 5}));
    const fs::path i16 = write_file("i16.idx", idx(0x0B, {2}, {0xff, 0xfe, 0x01, 0x00}));
    EXPECT_EQ(od::read_idx(i16).to_vector<std::int32_t>(), (std::vector<std::int32_t>{-2, 256}));
    const fs::path i32 = write_file("i32.idx", idx(0x0C, {1, 2}, {0x80, 0, 0, 0, 0, 1, 0, 2}));
    const T t32 = od::read_idx(i32);
    EXPECT_EQ(t32.shape(), (omni::Shape{1, 2}));
    EXPECT_EQ(t32.to_vector<std::int32_t>(), (std::vector<std::int32_t>{INT32_MIN, 65538}));
    const fs::path f32 = write_file("f32.idx", idx(0x0D, {1}, {0x3f, 0xc0, 0, 0}));  // 1.5f
    EXPECT_EQ(od::read_idx(f32).to_vector<float>(), (std::vector<float>{1.5f}));
    const fs::path f64 = write_file("f64.idx", idx(0x0E, {1}, {0xc0, 0x04, 0, 0, 0, 0, 0, 0}));  // -2.5
    EXPECT_EQ(od::read_idx(f64).to_vector<double>(), (std::vector<double>{-2.5}));
    const Bytes mem = idx(0x08, {3}, {9, 8, 7});
    EXPECT_EQ(od::parse_idx(mem).to_vector<std::int32_t>(), (std::vector<std::int32_t>{9, 8, 7}));
}

TEST(Idx, MalformedFilesNameTheirFault) {
    const auto load = [](const std::string& name, const Bytes& b) {
        const fs::path p = write_file(name, b);
        return io_message([&] { od::read_idx(p); });
    };
    const std::string dir = scratch_dir().string() + "/";
    EXPECT_EQ(load("empty", {}), "io_error: read_idx: expected a 4-byte IDX magic in '" + dir + "empty', got 0 bytes");
    EXPECT_EQ(load("zip", {'P', 'K', 3, 4, 0, 0}),
              "io_error: read_idx: expected an IDX magic starting 00 00 in '" + dir + "zip', got 0x50 0x4b (not an IDX file)");
    EXPECT_EQ(load("type", idx(0x0A, {1}, {0})),
              "io_error: read_idx: expected an IDX type code 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e in '" + dir + "type', got 0x0a");
    EXPECT_EQ(load("ndim0", {0, 0, 8, 0}), "io_error: read_idx: expected 1 to 8 IDX dimensions in '" + dir + "ndim0', got 0");
    EXPECT_EQ(load("ndim9", {0, 0, 8, 9}), "io_error: read_idx: expected 1 to 8 IDX dimensions in '" + dir + "ndim9', got 9");
    EXPECT_EQ(load("dims", {0, 0, 8, 2, 0, 0, 0, 1, 0}),
              "io_error: read_idx: expected 8 bytes of IDX dimensions in '" + dir + "dims', got 5");
    EXPECT_EQ(load("short", idx(0x08, {2, 3}, {1, 2, 3, 4})),
              "io_error: read_idx: expected 6 bytes of IDX data for shape [2, 3] in '" + dir + "short', got 4 (truncated file)");
    EXPECT_EQ(load("long", idx(0x08, {2}, {1, 2, 3})),
              "io_error: read_idx: expected the IDX data for shape [2] to end the file '" + dir + "long', got trailing bytes (wrong dimensions?)");
    EXPECT_EQ(load("huge", idx(0x0E, {0xffffffffu, 0xffffffffu, 2}, {})),
              "io_error: read_idx: expected IDX dimensions whose byte size fits in memory in '" + dir +
                  "huge', got [4294967295, 4294967295] at 8 bytes each");
    // Issue 28: a zero extent made the byte size 0 while the strides of the others overflowed int64.
    EXPECT_EQ(load("zero_hides", idx(0x08, {0, 0x7fffffffu, 0x7fffffffu, 0x7fffffffu}, {})),
              "io_error: read_idx: expected IDX dimensions whose product (zero extents aside) fits in int64 in '" + dir +
                  "zero_hides', got [0, 2147483647, 2147483647, 2147483647]");
    EXPECT_EQ(od::parse_idx(idx(0x08, {0, 0x7fffffffu, 0x7fffffffu}, {})).shape(), (omni::Shape{0, 0x7fffffff, 0x7fffffff}));
    EXPECT_EQ(io_message([] { od::read_idx(scratch_dir() / "missing.idx"); }),
              "io_error: read_idx: expected a readable IDX file, got no regular file at '" + dir + "missing.idx'");
    EXPECT_TRUE(contains(io_message([] { od::parse_idx(Bytes{0, 0, 8, 1, 0, 0, 0, 2, 1}, "buf"); }),
                         "io_error: parse_idx: expected 2 bytes of IDX data for shape [2] in 'buf', got 1"));
}

TEST(Idx, ImagesAndLabelsCheckTypeAndRank) {
    const fs::path lab = write_file("lab.idx", idx(0x08, {4}, {1, 2, 3, 4}));
    EXPECT_TRUE(contains(io_message([&] { od::load_idx_images(lab); }),
                         "io_error: load_idx_images: expected images with 3 dimensions in '" + lab.string() + "', got shape [4]"));
    const fs::path ints = write_file("ints.idx", idx(0x0C, {1}, {0, 0, 0, 1}));
    EXPECT_EQ(io_message([&] { od::load_idx_labels(ints); }),
              "io_error: load_idx_labels: expected labels as unsigned bytes (type 0x08) in '" + ints.string() + "', got type 0x0c");
}

TEST(Idx, BrokenGzipStreamsReportZlib) {
    Bytes px(4000);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 7919) >> 3);
    const Bytes gz = read_bytes(write_gz("ok.gz", idx(0x08, {10, 20, 20}, px)));
    ASSERT_EQ(od::load_idx_images(scratch_dir() / "ok.gz").shape(), (omni::Shape{10, 20, 20}));

    const fs::path cut = write_file("cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
    const std::string m1 = io_message([&] { od::load_idx_images(cut); });
    EXPECT_TRUE(contains(m1, "(truncated file)") && contains(m1, "(zlib: unexpected end of file)")) << m1;

    Bytes bad = gz;
    bad[bad.size() - 6] ^= 0xff;  // inside the CRC-32 trailer: the data decode but do not check
    const fs::path crc = write_file("crc.gz", bad);
    const std::string m2 = io_message([&] { od::load_idx_images(crc); });
    EXPECT_TRUE(contains(m2, "expected a valid gzip stream in '" + crc.string() + "', got zlib error: incorrect data check")) << m2;
}

// ---- decoding --------------------------------------------------------------------------------

void append_bytes(void* ctx, void* data, int size) {
    auto* out = static_cast<Bytes*>(ctx);
    out->insert(out->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
}

Bytes pattern(int w, int h, int c) {
    Bytes px(static_cast<std::size_t>(w * h * c));
    for (int i = 0; i < w * h * c; ++i) px[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
    return px;
}

TEST(Decode, PngRoundTripsExactlyInBothLayouts) {
    const int w = 5, h = 3;
    for (int c : {1, 2, 3, 4}) {
        const Bytes px = pattern(w, h, c);
        Bytes png;
        ASSERT_TRUE(stbi_write_png_to_func(append_bytes, &png, w, h, c, px.data(), w * c));
        const T chw = od::decode_image(png), hwc = od::decode_image(png, {.layout = od::ImageLayout::hwc});
        EXPECT_EQ(chw.shape(), (omni::Shape{c, h, w}));
        EXPECT_EQ(hwc.shape(), (omni::Shape{h, w, c}));
        const auto a = chw.to_vector<float>(), b = hwc.to_vector<float>();
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int k = 0; k < c; ++k) {
                    const float want = px[(y * w + x) * c + k] / 255.0f;
                    EXPECT_EQ(a[(k * h + y) * w + x], want);
                    EXPECT_EQ(b[(y * w + x) * c + k], want);
                }
    }
    // Asking for 3 channels drops the alpha of an RGBA file.
    const Bytes rgba = pattern(w, h, 4);
    Bytes png;
    stbi_write_png_to_func(append_bytes, &png, w, h, 4, rgba.data(), w * 4);
    const auto rgb = od::decode_image(png, {.channels = 3}).to_vector<float>();
    EXPECT_EQ(rgb[0], rgba[0] / 255.0f);
    EXPECT_EQ(rgb[h * w], rgba[1] / 255.0f);
}

TEST(Decode, JpegFromFileIsCloseToItsSource) {
    const int w = 16, h = 16;
    Bytes px(w * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {  // smooth ramps: JPEG at quality 100 keeps them within a few levels
            px[(y * w + x) * 3 + 0] = static_cast<std::uint8_t>(x * 16);
            px[(y * w + x) * 3 + 1] = static_cast<std::uint8_t>(y * 16);
            px[(y * w + x) * 3 + 2] = 128;
        }
    Bytes jpg;
    ASSERT_TRUE(stbi_write_jpg_to_func(append_bytes, &jpg, w, h, 3, px.data(), 100));
    const T img = od::load_image(write_file("ramp.jpg", jpg));
    ASSERT_EQ(img.shape(), (omni::Shape{3, h, w}));
    const auto v = img.to_vector<float>();
    float worst = 0;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < h * w; ++i) worst = std::max(worst, std::abs(v[k * h * w + i] - px[i * 3 + k] / 255.0f));
    EXPECT_LT(worst, 8.0f / 255.0f);
}

TEST(Decode, CorruptFilesGiveTheDecodersReason) {
    EXPECT_EQ(io_message([] { od::decode_image(Bytes{1, 2, 3, 4, 5, 6, 7, 8}, {}, "junk.bin"); }),
              "io_error: decode_image: expected a decodable PNG or JPEG image in 'junk.bin', got decoder error \"unknown image type\"");
    EXPECT_EQ(io_message([] { od::decode_image(Bytes{}, {}, "e.png"); }),
              "io_error: decode_image: expected PNG or JPEG bytes in 'e.png', got an empty file");
    const Bytes px = pattern(32, 32, 3);
    Bytes png;
    stbi_write_png_to_func(append_bytes, &png, 32, 32, 3, px.data(), 96);
    const fs::path half = write_file("half.png", Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
    const std::string m = io_message([&] { od::load_image(half); });
    // A cut IDAT chunk is refused before stb sees it (stb would allocate what the chunk declares).
    EXPECT_TRUE(contains(m, "io_error: decode_image: expected the PNG chunk 'IDAT' at byte 33 to hold")) << m;
    EXPECT_TRUE(contains(m, "in '" + half.string() + "', got ")) << m;
    EXPECT_EQ(io_message([] { od::load_image("/nonexistent/x.png"); }),
              "io_error: load_image: expected a readable image file, got none at '/nonexistent/x.png'");
}

// Issue 28: a few hundred bytes declaring a huge image are refused before any pixel is allocated.
TEST(Decode, ImagesOverMaxPixelsAreRefusedBeforeDecoding) {
    const Bytes px = pattern(32, 32, 3);
    Bytes png;
    stbi_write_png_to_func(append_bytes, &png, 32, 32, 3, px.data(), 96);
    EXPECT_EQ(od::decode_image(png, {.max_pixels = 1024}).shape(), (omni::Shape{3, 32, 32}));
    EXPECT_EQ(io_message([&] { od::decode_image(png, {.max_pixels = 1023}, "big.png"); }),
              "io_error: decode_image: expected at most max_pixels = 1023 pixels in 'big.png', got 32 x 32 = 1024 "
              "(raise DecodeOptions::max_pixels to allow it)");
    // The IHDR of a 10000 x 10000 RGB PNG in 33 bytes (stb would allocate 300 MB, then 1.2 GB of floats).
    Bytes huge(png.begin(), png.begin() + 33);
    for (int k : {16, 20}) huge[k] = huge[k + 1] = 0x00, huge[k + 2] = 0x27, huge[k + 3] = 0x10;
    EXPECT_TRUE(contains(io_message([&] { od::decode_image(huge, {}, "huge.png"); }),
                         "expected at most max_pixels = 89478485 pixels in 'huge.png', got 10000 x 10000 = 100000000"));
    EXPECT_THROW(od::decode_image(png, {.max_pixels = 0}), omni::value_error);
    // Found by the fuzzer: an IDAT chunk declaring 2 GiB made stb allocate it before reading.
    std::size_t idat = 8;
    while (idat + 8 < png.size() && std::string(png.begin() + idat + 4, png.begin() + idat + 8) != "IDAT")
        idat += 12 + ((png[idat] << 24) | (png[idat + 1] << 16) | (png[idat + 2] << 8) | png[idat + 3]);
    ASSERT_LT(idat + 8, png.size());
    Bytes big_idat = png;
    big_idat[idat] = 0x80, big_idat[idat + 1] = big_idat[idat + 2] = big_idat[idat + 3] = 0;
    EXPECT_EQ(io_message([&] { od::decode_image(big_idat, {}, "idat.png"); }),
              "io_error: decode_image: expected the PNG chunk 'IDAT' at byte " + std::to_string(idat) +
                  " to hold 2147483648 bytes in 'idat.png', got " + std::to_string(png.size() - idat - 8) + " left (truncated or corrupt file)");
}

// Issue 28: stb_image 2.27 wrote out of bounds on a DHT table whose 16 counts sum past 256.
TEST(Decode, JpegHuffmanTablesOver256SymbolsAreRefused) {
    const Bytes px = pattern(16, 16, 3);
    Bytes jpg;
    stbi_write_jpg_to_func(append_bytes, &jpg, 16, 16, 3, px.data(), 90);
    EXPECT_EQ(od::decode_image(jpg).shape(), (omni::Shape{3, 16, 16}));
    std::size_t dht = 2;
    while (dht + 1 < jpg.size() && !(jpg[dht] == 0xFF && jpg[dht + 1] == 0xC4)) ++dht;
    ASSERT_LT(dht + 21, jpg.size());
    for (std::size_t k = 0; k < 16; ++k) jpg[dht + 5 + k] = 0x20;  // 16 x 32 = 512 codes
    EXPECT_EQ(io_message([&] { od::decode_image(jpg, {}, "dht.jpg"); }),
              "io_error: decode_image: expected a JPEG Huffman table of at most 256 symbols in 'dht.jpg', got 512 at byte " +
                  std::to_string(dht + 4));
    // The fuzzer's first find: stb accepts fill bytes before SOI, so FF FF D8 starts a JPEG too.
    jpg.insert(jpg.begin(), 0xFF);
    EXPECT_EQ(io_message([&] { od::decode_image(jpg, {}, "fill.jpg"); }),
              "io_error: decode_image: expected a JPEG Huffman table of at most 256 symbols in 'fill.jpg', got 512 at byte " +
                  std::to_string(dht + 5));
}

// A scan that names a Huffman table no DHT defined: stb 2.27 decodes with the table's
// uninitialised memory and reads past its 256 symbols (the fuzzer's find, a 724-byte JPEG whose
// scan named AC table 2). stb_image_write defines DC/AC tables 0 and 1; component 2 is pointed
// at AC table 2.
TEST(Decode, JpegScansNamingUndefinedHuffmanTablesAreRefused) {
    const Bytes px = pattern(16, 16, 3);
    Bytes jpg;
    stbi_write_jpg_to_func(append_bytes, &jpg, 16, 16, 3, px.data(), 90);
    std::size_t sos = 2;
    while (sos + 1 < jpg.size() && !(jpg[sos] == 0xFF && jpg[sos + 1] == 0xDA)) ++sos;
    ASSERT_LT(sos + 10, jpg.size());
    ASSERT_EQ(jpg[sos + 4], 3);        // three components
    ASSERT_EQ(jpg[sos + 8], 0x11);     // component 2: DC 1, AC 1
    jpg[sos + 8] = 0x12;
    EXPECT_EQ(io_message([&] { od::decode_image(jpg, {}, "sos.jpg"); }),
              "io_error: decode_image: expected the JPEG scan at byte " + std::to_string(sos) +
                  " in 'sos.jpg' to use Huffman tables defined before it, got AC table 2, which no DHT segment defined");
    jpg[sos + 8] = 0x21;  // DC table 2
    EXPECT_NE(io_message([&] { od::decode_image(jpg, {}, "sos.jpg"); }).find("got DC table 2"), std::string::npos);
}

// A 16-bit quantisation table's large DC entry or a DC category past 11 (neither valid with 8-bit
// samples) let stb 2.27's DC prediction times the quantiser overflow an int: the long fuzz run's
// 606-byte JPEG had a table of 32896s. Both are refused before stb runs; libjpeg-turbo, which has
// no such overflow, gets the bytes (these corrupted ones it refuses or decodes, never crashes).
TEST(Decode, JpegLargeDcQuantisersAndDcCategoriesAreRefused) {
    const Bytes px = pattern(16, 16, 3);
    Bytes jpg;
    stbi_write_jpg_to_func(append_bytes, &jpg, 16, 16, 3, px.data(), 90);
    const auto find = [&](std::uint8_t marker) {
        std::size_t at = 2;
        while (at + 1 < jpg.size() && !(jpg[at] == 0xFF && jpg[at + 1] == marker)) ++at;
        return at;
    };
    EXPECT_NO_THROW(od::decode_image(jpg, {}, "ok.jpg"));
    Bytes q = jpg;
    const std::size_t dqt = find(0xDB);
    ASSERT_LT(dqt + 4, q.size());
    ASSERT_EQ(q[dqt + 4] >> 4, 0);  // stb writes 8-bit tables
    q[dqt + 4] |= 0x10;  // now a 16-bit table whose DC entry is the first two 8-bit entries
    q[dqt + 5] = 1;
#if defined(OMNI_WITH_LIBJPEG)
    const auto either = [](const Bytes& b) {  // libjpeg: an io_error or pixels, nothing else
        try {
            od::decode_image(b);
        } catch (const omni::io_error&) {
        }
    };
    EXPECT_NO_THROW(either(q));
#else
    EXPECT_EQ(io_message([&] { od::decode_image(q, {}, "q.jpg"); }),
              "io_error: decode_image: expected JPEG quantisation tables whose DC entry is at most 255 (8-bit samples) in 'q.jpg', got " +
                  std::to_string(256 + q[dqt + 6]) + " in the 16-bit table at byte " + std::to_string(dqt + 4));
#endif
    Bytes h = jpg;
    const std::size_t dht = find(0xC4);
    ASSERT_LT(dht + 21, h.size());
    ASSERT_EQ(h[dht + 4] >> 4, 0);  // the first table stb writes is a DC table
    h[dht + 21] = 12;               // its first symbol
#if defined(OMNI_WITH_LIBJPEG)
    EXPECT_NO_THROW(either(h));
#else
    EXPECT_EQ(io_message([&] { od::decode_image(h, {}, "dc.jpg"); }),
              "io_error: decode_image: expected JPEG DC Huffman symbols of at most 11 (8-bit samples) in 'dc.jpg', got 12 at byte " +
                  std::to_string(dht + 21));
#endif
}

// JPEG pixels against PIL's (which decodes through libjpeg-turbo) on files PIL wrote: each chroma
// subsampling, progressive, optimised Huffman tables, grey, CMYK and the channel conversions, at
// 37 x 53 (no side a multiple of the MCU); tests/data/jpeg_reference.py. Through libjpeg-turbo
// (omni::jpeg) every byte is PIL's; through stb_image (a build without it) a few levels off.
TEST(Decode, JpegPixelsMatchPil) {
    const fs::path dir = scratch_dir() / "jpeg_reference";
    const std::string cmd = std::string(OMNI_TORCH_PYTHON) + " '" + (source_dir() / "tests/data/jpeg_reference.py").string() + "' '" + dir.string() + "'";
    const int rc = std::system(cmd.c_str());
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) GTEST_SKIP() << "PIL is not installed (Debian: python3-pil)";
    ASSERT_EQ(rc, 0) << cmd;
    std::ifstream cases(dir / "cases.txt");
    std::string name;
    int h = 0, w = 0, c = 0, asked = 0, checked = 0;
    while (cases >> name >> h >> w >> c >> asked) {
        const T got = od::load_image(dir / (name + ".jpg"), {.channels = asked, .layout = od::ImageLayout::hwc});
        ASSERT_EQ(got.shape(), (omni::Shape{h, w, c})) << name;
        const Bytes want = read_bytes(dir / (name + ".u8"));
        const auto v = got.to_vector<float>();
        ASSERT_EQ(v.size(), want.size()) << name;
        int worst = 0;
        double sum = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const float level = v[i] * 255.0f;
            ASSERT_EQ(level, std::round(level)) << name << " is not a multiple of 1/255 at " << i;
            const int d = std::abs(static_cast<int>(level) - want[i]);
            worst = std::max(worst, d);
            sum += d;
        }
#if defined(OMNI_WITH_LIBJPEG)
        EXPECT_EQ(worst, 0) << name;
#else  // stb 2.27, measured: 1-3 levels at most, 12 for 4:2:2 (its horizontal chroma upsampling)
        EXPECT_LE(worst, 12) << name;
        EXPECT_LE(sum / static_cast<double>(v.size()), 1.0) << name;
#endif
        std::printf("  %-22s largest difference %2d levels, mean %.3f\n", name.c_str(), worst, sum / static_cast<double>(v.size()));
        ++checked;
    }
    EXPECT_EQ(checked, 10);
}

// Both decoders: whatever stb calls a JPEG (fill bytes before SOI) decodes the same; a scan count
// past max_jpeg_scans and a size past max_pixels are refused from the header, before decoding.
TEST(Decode, JpegFillBytesScanAndPixelLimits) {
    const Bytes px = pattern(16, 16, 3);
    Bytes jpg;
    ASSERT_TRUE(stbi_write_jpg_to_func(append_bytes, &jpg, 16, 16, 3, px.data(), 90));
    const auto plain = od::decode_image(jpg).to_vector<float>();
    Bytes fill = jpg;
    fill.insert(fill.begin(), 3, 0xFF);
    EXPECT_EQ(od::decode_image(fill).to_vector<float>(), plain);
    EXPECT_EQ(io_message([&] { od::decode_image(jpg, {.max_pixels = 255}, "small.jpg"); }),
              "io_error: decode_image: expected at most max_pixels = 255 pixels in 'small.jpg', got 16 x 16 = 256 "
              "(raise DecodeOptions::max_pixels to allow it)");
    std::size_t sos = 2;
    while (sos + 1 < jpg.size() && !(jpg[sos] == 0xFF && jpg[sos + 1] == 0xDA)) ++sos;
    EXPECT_NO_THROW(od::decode_image(jpg, {.max_jpeg_scans = 1}));
    // A second, empty scan after the first: refused by the count before any decoder runs.
    Bytes two = jpg;
    const Bytes header(jpg.begin() + static_cast<std::ptrdiff_t>(sos), jpg.begin() + static_cast<std::ptrdiff_t>(sos + 2 + ((jpg[sos + 2] << 8) | jpg[sos + 3])));
    two.insert(two.end() - 2, header.begin(), header.end());
    EXPECT_EQ(io_message([&] { od::decode_image(two, {.max_jpeg_scans = 1}, "scans.jpg"); }),
              "io_error: decode_image: expected at most max_jpeg_scans = 1 scans in 'scans.jpg', got more (scan 2 at byte " +
                  std::to_string(jpg.size() - 2) + "; raise DecodeOptions::max_jpeg_scans to allow it)");
    EXPECT_THROW(od::decode_image(jpg, {.max_jpeg_scans = 0}), omni::value_error);
}

#if defined(OMNI_WITH_LIBJPEG)
// libjpeg-turbo would fill a truncated or corrupt scan with grey and warn; omni stops on the
// warning, so no garbage comes back. Extraneous bytes before a marker lose no pixel and pass.
TEST(Decode, LibjpegWarningsAreErrorsExceptExtraneousBytes) {
    const Bytes px = pattern(32, 32, 3);
    Bytes jpg;
    ASSERT_TRUE(stbi_write_jpg_to_func(append_bytes, &jpg, 32, 32, 3, px.data(), 90));
    const auto plain = od::decode_image(jpg).to_vector<float>();
    const Bytes cut(jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(jpg.size() * 3 / 4));
    EXPECT_EQ(io_message([&] { od::decode_image(cut, {}, "cut.jpg"); }),
              "io_error: decode_image: expected a decodable JPEG image in 'cut.jpg', got libjpeg-turbo error \"Premature end of JPEG file\"");
    Bytes junk = jpg;
    junk.insert(junk.end() - 2, {0x12, 0x34, 0x56});  // before EOI
    EXPECT_EQ(od::decode_image(junk).to_vector<float>(), plain);
    EXPECT_EQ(io_message([] { od::decode_image(Bytes{0xFF, 0xD8, 0xFF, 0xD9}, {}, "empty.jpg"); }),
              "io_error: decode_image: expected a decodable JPEG image in 'empty.jpg', got libjpeg-turbo error \"JPEG datastream contains no image\"");
}

// libjpeg's own encoder writes 16-bit quantisation tables at low quality (unless forced to
// baseline); the pre-check that keeps them from stb does not apply, and they decode.
TEST(Decode, LibjpegDecodesSixteenBitQuantisationTables) {
    const Bytes px = pattern(16, 16, 3);
    jpeg_compress_struct ci;
    jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&ci, &buf, &size);
    ci.image_width = ci.image_height = 16;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 3, FALSE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < 16) {
        JSAMPROW row = const_cast<std::uint8_t*>(px.data()) + ci.next_scanline * 48;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    const Bytes jpg(buf, buf + size);
    std::free(buf);
    std::size_t dqt = 2;
    while (dqt + 4 < jpg.size() && !(jpg[dqt] == 0xFF && jpg[dqt + 1] == 0xDB)) ++dqt;
    ASSERT_LT(dqt + 6, jpg.size());
    ASSERT_EQ(jpg[dqt + 4] >> 4, 1);                 // a 16-bit table
    ASSERT_GT((jpg[dqt + 5] << 8) | jpg[dqt + 6], 255);  // whose DC entry stb's pre-check refuses
    EXPECT_EQ(od::decode_image(jpg).shape(), (omni::Shape{3, 16, 16}));
}
#endif

// ---- transforms: exact small cases -----------------------------------------------------------

T image(std::vector<float> v, omni::Shape s) { return T::from_data(v, s); }

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-6f) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(Transforms, ResizeWeightsFollowPil) {
    // Shrinking 4 -> 2: a triangle twice as wide, cut at the border and renormalised.
    const T row = image({0, 1, 2, 3}, {1, 1, 4});
    expect_near(od::resize(row, 1, 2).to_vector<float>(), {1.25f / 1.75f, 4.0f / 1.75f});
    // Without antialias the same shrink reads the two nearest samples only.
    expect_near(od::resize(row, 1, 2, false).to_vector<float>(), {0.5f, 2.5f});
    // Enlarging 2 -> 4 is plain bilinear with clamped edges, antialias or not.
    const T two = image({0, 1}, {1, 1, 2});
    expect_near(od::resize(two, 1, 4).to_vector<float>(), {0, 0.25f, 0.75f, 1});
    expect_near(od::resize(two, 1, 4, false).to_vector<float>(), {0, 0.25f, 0.75f, 1});
    omni::Generator gen(3);
    const T same = T::rand({2, 3, 5, 7}, gen);
    EXPECT_EQ(od::resize(same, 5, 7).to_vector<float>(), same.to_vector<float>());
}

TEST(Transforms, CropsFlipNormalize) {
    std::vector<float> v(20);
    for (int i = 0; i < 20; ++i) v[i] = static_cast<float>(i);
    const T img = image(v, {1, 4, 5});
    // (4-2)/2 = 1 and (5-2)/2 = 1.5 -> 2 (half to even, like Python's round).
    EXPECT_EQ(od::center_crop(img, 2, 2).to_vector<float>(), (std::vector<float>{7, 8, 12, 13}));
    EXPECT_EQ(od::center_crop(img, 3, 4).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13}));
    EXPECT_EQ(od::crop(img, 1, 1, 2, 3).to_vector<float>(), (std::vector<float>{6, 7, 8, 11, 12, 13}));
    EXPECT_EQ(od::hflip(image({1, 2, 3, 4, 5, 6}, {1, 2, 3})).to_vector<float>(), (std::vector<float>{3, 2, 1, 6, 5, 4}));
    expect_near(od::normalize(image({0.5f, 1.0f}, {2, 1, 1}), {0.5f, 0.25f}, {0.5f, 0.25f}).to_vector<float>(), {0, 3});
    EXPECT_EQ(od::repeat_channels(image({1, 2}, {1, 1, 2}), 3).to_vector<float>(), (std::vector<float>{1, 2, 1, 2, 1, 2}));
    EXPECT_THROW(od::crop(img, 3, 0, 2, 2), omni::value_error);
    EXPECT_THROW(od::normalize(img, {0.5f, 0.5f}, {1, 1}), omni::value_error);
}

TEST(Transforms, ColourAdjustmentsOnKnownPixels) {
    const T red = image({1, 0, 0}, {3, 1, 1});
    expect_near(od::adjust_hue(red, 1.0 / 3.0).to_vector<float>(), {0, 1, 0}, 1e-5f);
    expect_near(od::adjust_brightness(image({0.4f, 0.8f, 0.1f}, {3, 1, 1}), 1.5).to_vector<float>(), {0.6f, 1.0f, 0.15f});
    expect_near(od::rgb_to_grayscale(red).to_vector<float>(), {0.2989f});
    expect_near(od::adjust_saturation(red, 0).to_vector<float>(), {0.2989f, 0.2989f, 0.2989f});
    // Contrast 0 gives the mean luma everywhere.
    expect_near(od::adjust_contrast(image({0, 1}, {1, 1, 2}), 0).to_vector<float>(), {0.5f, 0.5f});
    EXPECT_THROW(od::adjust_hue(red, 0.7), omni::value_error);
}

// ---- torchvision parity ----------------------------------------------------------------------

TEST(Transforms, MatchTorchvision) {
    const fs::path dir = scratch_dir() / "reference";
    fs::create_directories(dir);
    omni::Generator gen(11);
    const T rgb = T::rand({3, 37, 53}, gen), grey = T::rand({1, 37, 53}, gen);
    for (auto [name, t] : {std::pair{"rgb.f32", rgb}, std::pair{"grey.f32", grey}}) {
        const auto v = t.to_vector<float>();
        std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    }
    const std::string cmd = std::string(OMNI_TORCH_PYTHON) + " '" + (source_dir() / "tests/data/image_reference.py").string() + "' '" + dir.string() + "'";
    const int rc = std::system(cmd.c_str());
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) GTEST_SKIP() << "torchvision is not installed (Debian: python3-torchvision)";
    ASSERT_EQ(rc, 0) << cmd;

    const std::map<std::string, std::function<T()>> ours = {
        {"resize_shorter_24", [&] { return od::resize_shorter(rgb, 24); }},
        {"resized_crop", [&] { return od::resize(od::crop(rgb, 3, 5, 20, 30), 28, 28); }},
        {"center_crop_20x31", [&] { return od::center_crop(rgb, 20, 31); }},
        {"center_crop_40x60", [&] { return od::center_crop(rgb, 40, 60); }},
        {"hflip", [&] { return od::hflip(rgb); }},
        {"normalize", [&] { return od::normalize(rgb, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}); }},
        {"brightness", [&] { return od::adjust_brightness(rgb, 1.3); }},
        {"contrast", [&] { return od::adjust_contrast(rgb, 0.6); }},
        {"contrast_grey", [&] { return od::adjust_contrast(grey, 1.5); }},
        {"saturation", [&] { return od::adjust_saturation(rgb, 1.7); }},
        {"hue_pos", [&] { return od::adjust_hue(rgb, 0.13); }},
        {"hue_neg", [&] { return od::adjust_hue(rgb, -0.37); }},
        {"grayscale", [&] { return od::rgb_to_grayscale(rgb, 3); }},
        {"blur_3", [&] { return od::gaussian_blur(rgb, 3, 0.7); }},
        {"blur_5", [&] { return od::gaussian_blur(rgb, 5, 1.9); }},
    };
    std::ifstream cases(dir / "cases.txt");
    std::string line;
    int checked = 0;
    while (std::getline(cases, line)) {
        std::istringstream in(line);
        std::string name;
        in >> name;
        std::vector<std::int64_t> dims;
        for (std::int64_t d; in >> d;) dims.push_back(d);
        T got;
        int oh = 0, ow = 0;
        if (std::sscanf(name.c_str(), "resize_aa_%dx%d", &oh, &ow) == 2) got = od::resize(rgb, oh, ow, true);
        else if (std::sscanf(name.c_str(), "resize_plain_%dx%d", &oh, &ow) == 2) got = od::resize(rgb, oh, ow, false);
        else got = ours.at(name)();
        ASSERT_EQ(got.shape(), omni::Shape(dims)) << name;
        const Bytes raw = read_bytes(dir / (name + ".f32"));
        std::vector<float> want(raw.size() / 4);
        std::memcpy(want.data(), raw.data(), raw.size());
        const auto v = got.to_vector<float>();
        float worst = 0;
        for (std::size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(v[i] - want[i]));
        // float32 both sides; torch sums in other orders and keeps resize weights in float.
        EXPECT_LT(worst, 1e-5f) << name;
        std::printf("  %-20s max |omni - torchvision| = %.2e\n", name.c_str(), static_cast<double>(worst));
        ++checked;
    }
    EXPECT_EQ(checked, 25);
}

// ---- augmentation ----------------------------------------------------------------------------

TEST(Augment, PresetsCarryTheirReferenceValues) {
    const od::AugmentConfig o = od::omni_c_augment();
    EXPECT_EQ(o.size_h, 224);
    EXPECT_EQ(o.crop_scale, (std::array<double, 2>{0.2, 1.0}));
    EXPECT_EQ(o.crop_ratio, (std::array<double, 2>{3.0 / 4.0, 4.0 / 3.0}));
    EXPECT_EQ(o.jitter_p, 1.0);
    EXPECT_EQ(o.brightness, 0.8);
    EXPECT_EQ(o.contrast, 0.8);
    EXPECT_EQ(o.saturation, 0.8);
    EXPECT_EQ(o.hue, 0.2);
    EXPECT_EQ(o.grayscale_p, 0.2);
    EXPECT_EQ(o.blur_p, 1.0);
    EXPECT_EQ(o.blur_kernel, 3);
    EXPECT_EQ(o.blur_sigma, (std::array<double, 2>{0.1, 2.0}));
    EXPECT_EQ(o.mean, (std::array<float, 3>{0.485f, 0.456f, 0.406f}));
    EXPECT_EQ(o.std, (std::array<float, 3>{0.229f, 0.224f, 0.225f}));
    const od::AugmentConfig s = od::simclr_augment(224);
    EXPECT_EQ(s.crop_scale, (std::array<double, 2>{0.08, 1.0}));
    EXPECT_EQ(s.jitter_p, 0.8);
    EXPECT_EQ(s.blur_p, 0.5);
    EXPECT_EQ(s.blur_kernel, 23);
    EXPECT_EQ(od::simclr_augment(28).blur_kernel, 3);
    EXPECT_EQ(od::simclr_augment(28, 0.5).brightness, 0.4);
}

TEST(Augment, SameSeedSameViewsAnyThreadCount) {
    omni::Generator g0(5);
    const T imgs = T::rand({9, 28, 28}, g0);
    const od::AugmentConfig cfg = od::omni_c_augment(28);
    omni::Generator a(42), b(42), c(43);
    omni::set_num_threads(1);
    const auto [a1, a2] = od::augment_views(imgs, cfg, a);
    omni::set_num_threads(2);
    const auto [b1, b2] = od::augment_views(imgs, cfg, b);
    EXPECT_EQ(a1.shape(), (omni::Shape{9, 3, 28, 28}));
    EXPECT_EQ(a1.to_vector<float>(), b1.to_vector<float>());
    EXPECT_EQ(a2.to_vector<float>(), b2.to_vector<float>());
    EXPECT_NE(a1.to_vector<float>(), a2.to_vector<float>());
    EXPECT_NE(a1.to_vector<float>(), od::augment(imgs, cfg, c).to_vector<float>());
    EXPECT_EQ(a.offset(), 18u);  // one stream per image per call
}

TEST(Augment, EverythingOffIsTheIdentity) {
    omni::Generator g0(6);
    const T imgs = T::rand({4, 3, 12, 16}, g0);
    od::AugmentConfig cfg{.size_h = 12, .size_w = 16, .crop_scale = {1, 1}, .crop_ratio = {16.0 / 12, 16.0 / 12},
                          .flip_p = 0, .jitter_p = 0, .grayscale_p = 0, .blur_p = 0, .channels = 0, .normalize = false};
    omni::Generator g(1);
    EXPECT_EQ(od::augment(imgs, cfg, g).to_vector<float>(), imgs.to_vector<float>());
    cfg.flip_p = 1;  // certain flip
    EXPECT_EQ(od::augment(imgs, cfg, g).to_vector<float>(), od::hflip(imgs).to_vector<float>());
    cfg.flip_p = 0;
    cfg.grayscale_p = 1;
    const auto grey = od::augment(imgs, cfg, g).to_vector<float>();
    EXPECT_EQ(grey, od::rgb_to_grayscale(imgs, 3).to_vector<float>());
    cfg.grayscale_p = 0;
    cfg.normalize = true;  // greyscale [N, H, W] becomes three normalised channels
    cfg.channels = 3;
    const T out = od::augment(imgs.select(1, 0).contiguous(), cfg, g);
    EXPECT_EQ(out.shape(), (omni::Shape{4, 3, 12, 16}));
    const auto o = out.to_vector<float>(), src = imgs.select(1, 0).contiguous().to_vector<float>();
    EXPECT_NEAR(o[0], (src[0] - 0.485f) / 0.229f, 1e-5f);
    EXPECT_NEAR(o[12 * 16], (src[0] - 0.456f) / 0.224f, 1e-5f);
}

TEST(Augment, CropBoxesStayInsideAndNearTheScaleRange) {
    for (std::uint64_t i = 0; i < 500; ++i) {
        od::DrawStream rng(7, i);
        const od::CropBox b = od::random_resized_crop_box(28, 40, {0.2, 1.0}, {3.0 / 4, 4.0 / 3}, rng);
        ASSERT_TRUE(b.top >= 0 && b.left >= 0 && b.h >= 1 && b.w >= 1 && b.top + b.h <= 28 && b.left + b.w <= 40);
        const double frac = static_cast<double>(b.h * b.w) / (28.0 * 40.0);
        EXPECT_GT(frac, 0.15);  // 0.2 less what rounding each side to an integer can take
    }
    // Impossible scales fall back to the central crop clamped to the ratio range.
    od::DrawStream rng(1, 0);
    const od::CropBox c = od::random_resized_crop_box(10, 40, {1.0, 1.0}, {1.0, 2.0}, rng);
    EXPECT_EQ(c.h, 10);
    EXPECT_EQ(c.w, 20);
    EXPECT_EQ(c.left, 10);
}

TEST(Augment, EvalTransformResizesCropsAndNormalises) {
    omni::Generator g(2);
    const T imgs = T::rand({2, 1, 28, 40}, g);
    const T out = od::eval_transform(imgs, od::omni_c_augment(24));
    EXPECT_EQ(out.shape(), (omni::Shape{2, 3, 24, 24}));
    EXPECT_THROW(od::augment(T::rand({2, 2, 8, 8}, g), od::omni_c_augment(8), g), omni::shape_error);
}

}  // namespace
