// The audio-visual-temporal clip set: the loader on the tiny set that tests/data/av_clips.cmake
// generates twice (OMNI_AV_CLIPS_DIR/a and /b, seed 3: 6 train, 2 val, 2 test clips), every
// answer recomputed from the metadata, the held-out rule, byte-identical regeneration, the typed
// errors on broken input, and the word vocabulary. Data tests skip outside ctest (no data).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "omni/data/av_clips.hpp"
#include "omni/data/text/word_vocab.hpp"

namespace fs = std::filesystem;
namespace od = omni::data;

namespace {

fs::path set_dir(const char* copy = "a") {
    const char* d = std::getenv("OMNI_AV_CLIPS_DIR");
    return d && *d ? fs::path(d) / copy : fs::path();
}

bool have_data() { return !set_dir().empty() && fs::exists(set_dir() / "clips.jsonl"); }

#define REQUIRE_DATA()                                                                   \
    if (!have_data()) {                                                                  \
        GTEST_SKIP() << "no generated clips (run through ctest: OMNI_AV_CLIPS_DIR)";     \
    }

const std::vector<od::AvClip>& all_clips() {
    static const std::vector<od::AvClip> clips = od::load_av_clips(set_dir());
    return clips;
}

template <class E>
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception: ") + e.what();
    }
    return "no exception";
}

std::int64_t word_index(const std::string& w, const std::array<std::string_view, 10>& table) {
    for (std::size_t k = 0; k < table.size(); ++k)
        if (table[k] == w) return static_cast<std::int64_t>(k);
    return -1;
}

std::vector<std::string> tokens(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : s) {
        if (ch == ' ') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

struct ClassRun {
    std::int64_t cls;
    double start, end;
};

std::vector<ClassRun> runs_of(const od::AvClip& c) {
    std::vector<ClassRun> runs;
    for (const od::AvFrame& f : c.frame_info) {
        if (runs.empty() || runs.back().cls != f.label) runs.push_back({f.label, f.time, f.time});
        runs.back().end = f.time + 1.0 / c.fps;
    }
    return runs;
}

// The answer a question must have, from frame_info and words alone.
std::string expected_answer(const od::AvClip& c, const od::AvQuestion& q) {
    std::int64_t cls = -1, digit = -1;
    for (const std::string& t : tokens(q.text)) {  // the question's own slots, not the answer's
        if (word_index(t, od::av_class_words) >= 0) cls = word_index(t, od::av_class_words);
        if (word_index(t, od::av_digit_words) >= 0) digit = word_index(t, od::av_digit_words);
    }
    const std::vector<ClassRun> runs = runs_of(c);
    const auto cw = [](std::int64_t k) { return std::string(od::av_class_words[static_cast<std::size_t>(k)]); };
    const auto count = [](std::size_t n) { return std::string(od::av_digit_words[n]); };
    const auto word_of = [&](std::int64_t d) -> const od::AvWord* {
        for (const od::AvWord& w : c.words)
            if (w.digit == d) return &w;
        return nullptr;
    };
    const auto only_run = [&](std::int64_t k) -> const ClassRun* {
        const ClassRun* r = nullptr;
        for (const ClassRun& x : runs)
            if (x.cls == k) {
                if (r) return nullptr;
                r = &x;
            }
        return r;
    };
    const std::string& t = q.templ;
    if (t == "shown_first") return cw(runs.front().cls);
    if (t == "shown_last") return cw(runs.back().cls);
    if (t == "shown_count")
        return count(static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [&](const ClassRun& r) { return r.cls == cls; })));
    if (t == "said_first") return c.words.front().word;
    if (t == "said_last") return c.words.back().word;
    if (t == "said_count") return count(c.words.size());
    if (t == "said_and_shown")
        return word_of(digit) && std::any_of(runs.begin(), runs.end(), [&](const ClassRun& r) { return r.cls == cls; }) ? "yes" : "no";
    if (t == "said_while") {
        const ClassRun* r = only_run(cls);
        if (!r) return "<class shown more than once>";
        std::vector<std::string> inside;
        for (const od::AvWord& w : c.words)
            if (const double m = (w.start + w.end) / 2; m >= r->start && m < r->end) inside.push_back(w.word);
        return inside.size() == 1 ? inside[0] : "<" + std::to_string(inside.size()) + " words inside>";
    }
    const od::AvWord* w = word_of(digit);
    if (!w) return "<digit not said>";
    if (t == "shown_when") {
        const double m = (w->start + w->end) / 2;
        for (const ClassRun& r : runs)
            if (m >= r.start && m < r.end) return cw(r.cls);
    }
    if (t == "shown_after") {
        for (const ClassRun& r : runs)
            if (r.start > w->end) return cw(r.cls);
        return "<no run after>";
    }
    if (t == "which_first") {
        const ClassRun* r = only_run(cls);
        if (!r || std::abs(r->start - w->start) < 0.5) return "<too close or repeated>";
        return r->start < w->start ? cw(cls) : w->word;
    }
    return "<unknown template " + t + ">";
}

// ---- the generated set --------------------------------------------------------------------------

TEST(AvClips, CountsPerSplitAndOptions) {
    REQUIRE_DATA();
    std::map<std::string, int> n;
    for (const od::AvClip& c : all_clips()) ++n[c.split];
    EXPECT_EQ(n["train"], 6);
    EXPECT_EQ(n["val"], 2);
    EXPECT_EQ(n["test"], 2);
    const auto val = od::load_av_clips(set_dir(), {.split = "val"});
    ASSERT_EQ(val.size(), 2u);
    EXPECT_EQ(val[0].id, "val_00000");
    EXPECT_EQ(od::load_av_clips(set_dir(), {.split = "train", .max_clips = 4}).size(), 4u);
    EXPECT_NE(error_of<omni::value_error>([] { od::load_av_clips(set_dir(), {.split = "dev"}); }).find("'dev'"), std::string::npos);
}

TEST(AvClips, FramesAudioAndTimesHaveTheirShapes) {
    REQUIRE_DATA();
    for (const od::AvClip& c : all_clips()) {
        SCOPED_TRACE(c.id);
        EXPECT_TRUE(c.duration >= 4 && c.duration <= 8 && c.duration == std::floor(c.duration));
        EXPECT_TRUE(c.fps == 1 || c.fps == 2);
        const auto frames = static_cast<std::int64_t>(std::llround(c.duration * c.fps));
        ASSERT_EQ(c.frames.shape(), omni::Shape({frames, 1, 28, 28}));
        ASSERT_EQ(static_cast<std::int64_t>(c.frame_info.size()), frames);
        for (std::int64_t f = 0; f < frames; ++f) EXPECT_EQ(c.frame_info[static_cast<std::size_t>(f)].time, f / c.fps);
        const auto* px = c.frames.data<float>();
        EXPECT_TRUE(std::all_of(px, px + c.frames.numel(), [](float v) { return v >= 0 && v <= 1; }));
        EXPECT_GT(*std::max_element(px, px + 784), 0.5f);  // a garment, not a blank frame
        const std::vector<ClassRun> runs = runs_of(c);
        EXPECT_TRUE(runs.size() >= 2 && runs.size() <= 4);
        for (std::size_t r = 1; r < runs.size(); ++r) EXPECT_NE(runs[r].cls, runs[r - 1].cls);
        // no two frames of a clip are the same image
        for (std::int64_t a = 0; a < frames; ++a)
            for (std::int64_t b = a + 1; b < frames; ++b)
                EXPECT_FALSE(std::equal(px + a * 784, px + (a + 1) * 784, px + b * 784)) << "frames " << a << ", " << b;
        EXPECT_EQ(static_cast<double>(c.audio.size()), c.duration * 16000);  // 22050 Hz resampled
        ASSERT_TRUE(c.words.size() >= 1 && c.words.size() <= 3);
        std::set<std::int64_t> digits;
        for (std::size_t k = 0; k < c.words.size(); ++k) {
            const od::AvWord& w = c.words[k];
            EXPECT_TRUE(w.start >= 0.2 - 1e-6 && w.end <= c.duration - 0.2 + 1e-6 && w.start < w.end) << w.word;
            if (k > 0) {
                EXPECT_GE(w.start - c.words[k - 1].end, 0.3 - 1e-6);
            }
            digits.insert(w.digit);
        }
        EXPECT_EQ(digits.size(), c.words.size());
        EXPECT_TRUE(c.questions.size() >= 1 && c.questions.size() <= 6);
    }
}

TEST(AvClips, WordsAreLouderThanTheNoiseAroundThem) {
    REQUIRE_DATA();
    for (const od::AvClip& c : all_clips()) {
        double in = 0, out = 0;
        std::int64_t n_in = 0, n_out = 0;
        for (std::size_t i = 0; i < c.audio.size(); ++i) {
            const double t = static_cast<double>(i) / 16000;
            const bool speech = std::any_of(c.words.begin(), c.words.end(), [&](const od::AvWord& w) { return t >= w.start && t < w.end; });
            (speech ? in : out) += static_cast<double>(c.audio[i]) * c.audio[i];
            ++(speech ? n_in : n_out);
        }
        // SNR >= 10 dB: speech plus noise is > 3x the noise's power (>= 11x when words fill it)
        EXPECT_GT(in / static_cast<double>(n_in), 3.0 * out / static_cast<double>(n_out)) << c.id;
        EXPECT_GT(out, 0.0) << c.id;  // noise everywhere
    }
}

TEST(AvClips, EveryAnswerFollowsFromTheMetadata) {
    REQUIRE_DATA();
    std::set<std::string> types;
    for (const od::AvClip& c : all_clips())
        for (const od::AvQuestion& q : c.questions) {
            EXPECT_EQ(expected_answer(c, q), q.answer) << c.id << ": " << q.text;
            EXPECT_EQ(q.text.back(), '?');
            EXPECT_EQ(tokens(q.answer).size(), 1u);
            types.insert(q.type);
        }
    EXPECT_EQ(types.size(), 4u);  // visual, audio, cross and temporal all occur
}

TEST(AvClips, HeldOutCombinationsOnlyOutsideTrain) {
    // The rule on hand-made keys: (class + 3 digit + template) % 5, absent slots as 0.
    EXPECT_TRUE(od::av_held_out({.templ = 0, .cls = 5, .digit = -1}));
    EXPECT_FALSE(od::av_held_out({.templ = 0, .cls = 4, .digit = -1}));
    const od::AvKey k = od::av_question_key({"was seven said and a coat shown ?", "no", "cross", "said_and_shown"});
    EXPECT_EQ(k.templ, 6);
    EXPECT_EQ(k.cls, 4);
    EXPECT_EQ(k.digit, 7);
    EXPECT_FALSE(od::av_held_out(k));  // 4 + 21 + 6 = 31
    const od::AvKey count = od::av_question_key({"how many words were said ?", "two", "audio", "said_count"});
    EXPECT_EQ(count.digit, -1);  // answers are not part of the key
    EXPECT_FALSE(od::av_held_out(count));  // a key naming no item is never held out
    EXPECT_TRUE(od::av_allowed("train", count));
    EXPECT_TRUE(od::av_allowed("test", count));
    const od::AvKey when = od::av_question_key({"what was shown when four was said ?", "bag", "temporal", "shown_when"});
    EXPECT_EQ(when.cls, -1);
    EXPECT_EQ(when.digit, 4);
    EXPECT_TRUE(od::av_held_out(when));  // 8 + 12 = 20
    EXPECT_FALSE(od::av_allowed("train", when));
    EXPECT_TRUE(od::av_allowed("val", when));
    EXPECT_NE(error_of<omni::value_error>([] { od::av_template_index("shown_twice"); }).find("shown_twice"), std::string::npos);

    REQUIRE_DATA();
    for (const od::AvClip& c : all_clips())
        for (const od::AvQuestion& q : c.questions)
            EXPECT_TRUE(od::av_allowed(c.split, od::av_question_key(q))) << c.id << ": " << q.text;
}

std::map<std::string, std::uint64_t> file_hashes(const fs::path& root) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a
        for (char ch; in.get(ch);) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
        out[fs::relative(e.path(), root).generic_string()] = h;
    }
    return out;
}

TEST(AvClips, SameSeedWritesIdenticalFiles) {
    REQUIRE_DATA();
    ASSERT_TRUE(fs::exists(set_dir("b") / "clips.jsonl"));
    const auto a = file_hashes(set_dir("a")), b = file_hashes(set_dir("b"));
    EXPECT_GT(a.size(), 10u * 4);  // index, README, and per clip >= 4 frames and a WAV
    EXPECT_EQ(a, b);
}

// ---- broken input -------------------------------------------------------------------------------

// A copy of the set's first clip under a scratch directory whose index line is edited.
class BrokenIndex : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_data()) GTEST_SKIP() << "no generated clips";
        dir_ = fs::temp_directory_path() / ("omni_av_broken_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "clips");
        fs::copy(set_dir() / "clips" / "train_00000", dir_ / "clips" / "train_00000", fs::copy_options::recursive);
        std::ifstream in(set_dir() / "clips.jsonl");
        std::getline(in, line_);
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    // Writes an index of a blank line, the good line, then `edited` as line 3.
    void write(const std::string& edited) {
        std::ofstream(dir_ / "clips.jsonl") << "\n" << line_ << "\n" << edited << "\n";
    }
    std::string replaced(const std::string& from, const std::string& to) const {
        std::string s = line_;
        const std::size_t at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return at == std::string::npos ? s : s.replace(at, from.size(), to);
    }
    template <class E>
    std::string load_error() {
        return error_of<E>([&] { od::load_av_clips(dir_); });
    }
    fs::path dir_;
    std::string line_;
};

TEST_F(BrokenIndex, TheGoodLineLoads) {
    write(line_);
    EXPECT_EQ(od::load_av_clips(dir_).size(), 2u);
}

TEST_F(BrokenIndex, MissingIndexOrFilesAreIoErrors) {
    EXPECT_NE(load_error<omni::io_error>().find("clips.jsonl"), std::string::npos);  // none written yet
    EXPECT_NE(error_of<omni::io_error>([] { od::load_av_clips("/nonexistent/av"); }).find("/nonexistent/av"), std::string::npos);
    write(replaced("frame_01.png", "frame_99.png"));
    EXPECT_NE(load_error<omni::io_error>().find("frame_99.png"), std::string::npos);
    write(replaced("audio.wav", "absent.wav"));
    EXPECT_NE(load_error<omni::io_error>().find("absent.wav"), std::string::npos);
}

TEST_F(BrokenIndex, MalformedJsonNamesTheLine) {
    write(line_.substr(0, line_.size() / 2));
    const std::string e = load_error<omni::io_error>();
    EXPECT_NE(e.find("malformed JSON"), std::string::npos) << e;
    EXPECT_NE(e.find("clips.jsonl:3"), std::string::npos) << e;
    write("[1, 2]");
    EXPECT_NE(load_error<omni::io_error>().find("JSON object"), std::string::npos);
}

TEST_F(BrokenIndex, MissingOrWronglyTypedFieldsAreIoErrors) {
    write(replaced("\"fps\": ", "\"rate\": "));
    std::string e = load_error<omni::io_error>();
    EXPECT_NE(e.find("\"fps\""), std::string::npos) << e;
    EXPECT_NE(e.find("clips.jsonl:3"), std::string::npos) << e;
    write(replaced("\"label\": ", "\"label\": \"x\", \"old\": "));
    e = load_error<omni::io_error>();
    EXPECT_NE(e.find("\"label\" to be an integer, got a string"), std::string::npos) << e;
    write(replaced("\"words\": [", "\"words\": 3, \"w\": ["));
    EXPECT_NE(load_error<omni::io_error>().find("\"words\" to be an array"), std::string::npos);
}

TEST_F(BrokenIndex, BadValuesAreValueErrors) {
    write(replaced("\"split\": \"train\"", "\"split\": \"dev\""));
    EXPECT_NE(load_error<omni::value_error>().find("'dev'"), std::string::npos);
    write(replaced("\"time\": 1.0", "\"time\": 99.0"));
    EXPECT_NE(load_error<omni::value_error>().find("frame time"), std::string::npos);
    write(replaced("\"type\": \"", "\"type\": \"smell"));
    EXPECT_NE(load_error<omni::value_error>().find("question type"), std::string::npos);
    write(replaced("\"png\": \"", "\"png\": \"../"));
    EXPECT_NE(load_error<omni::value_error>().find("relative path inside"), std::string::npos);
    write(replaced("\"template\": \"", "\"template\": \"x"));
    EXPECT_NE(load_error<omni::value_error>().find("template"), std::string::npos);
}

TEST_F(BrokenIndex, WordTimesOutsideTheClipAreValueErrors) {
    const std::size_t at = line_.find("\"end\": ");
    ASSERT_NE(at, std::string::npos);
    std::string s = line_;
    s.replace(at, s.find(',', at) - at, "\"end\": 100.5");
    write(s);
    const std::string e = load_error<omni::value_error>();
    EXPECT_NE(e.find("word end"), std::string::npos) << e;
    EXPECT_NE(e.find("clips.jsonl:3"), std::string::npos) << e;
}

// An 8-bit PNG of `w` x `h` with `channels` (1 grey, 3 RGB), written with zlib.
void write_png(const fs::path& p, int w, int h, int channels) {
    const auto be32 = [](std::string& s, std::uint32_t v) {
        for (int k = 3; k >= 0; --k) s += static_cast<char>((v >> (8 * k)) & 0xff);
    };
    const auto chunk = [&](std::string& out, const std::string& kind, const std::string& body) {
        be32(out, static_cast<std::uint32_t>(body.size()));
        const std::string kb = kind + body;
        out += kb;
        be32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(kb.data()), static_cast<uInt>(kb.size()))));
    };
    std::string ihdr;
    be32(ihdr, static_cast<std::uint32_t>(w));
    be32(ihdr, static_cast<std::uint32_t>(h));
    ihdr += std::string{8, static_cast<char>(channels == 1 ? 0 : 2), 0, 0, 0};
    std::string raw;
    for (int y = 0; y < h; ++y) {
        raw.push_back('\0');  // filter type: none
        raw.append(static_cast<std::size_t>(w * channels), '\x80');
    }
    std::vector<Bytef> z(compressBound(static_cast<uLong>(raw.size())));
    uLongf zn = static_cast<uLongf>(z.size());
    ASSERT_EQ(compress(z.data(), &zn, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size())), Z_OK);
    std::string png = "\x89PNG\r\n\x1a\n";
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", std::string(reinterpret_cast<const char*>(z.data()), zn));
    chunk(png, "IEND", "");
    std::ofstream(p, std::ios::binary) << png;
}

TEST_F(BrokenIndex, FramesThatAreNot28x28GreyAreShapeErrors) {
    write(line_);
    write_png(dir_ / "clips" / "train_00000" / "frame_01.png", 28, 28, 1);
    EXPECT_EQ(od::load_av_clips(dir_).size(), 2u);  // the test's own writer makes a valid frame
    write_png(dir_ / "clips" / "train_00000" / "frame_01.png", 27, 28, 1);
    std::string e = load_error<omni::shape_error>();
    EXPECT_NE(e.find("frame_01.png"), std::string::npos) << e;
    EXPECT_NE(e.find("[1, 28, 27]"), std::string::npos) << e;
    write_png(dir_ / "clips" / "train_00000" / "frame_01.png", 28, 28, 3);
    EXPECT_NE(load_error<omni::shape_error>().find("[3, 28, 28]"), std::string::npos);
}

TEST_F(BrokenIndex, AudioOfTheWrongLengthIsAnIoError) {
    write(replaced("\"duration\": ", "\"duration\": 1.5, \"d\": "));
    const std::string e = load_error<omni::value_error>();  // frame times now fall outside [0, 1.5]
    EXPECT_NE(e.find("frame time"), std::string::npos) << e;
    const std::size_t at = line_.find("\"duration\": ");
    const int d = std::stoi(line_.substr(at + 12));
    std::string s = line_;
    s.replace(at, 13, "\"duration\": " + std::to_string(d + 1));  // longer than its WAV
    write(s);
    EXPECT_NE(load_error<omni::io_error>().find("samples"), std::string::npos);
}

// ---- vocabulary ---------------------------------------------------------------------------------

TEST(WordVocab, SpecialsFirstThenSortedWords) {
    const od::WordVocab v = od::WordVocab::build({"what was shown first ?", "boot", "was  <sep> boot"});
    const std::vector<std::string> want{"<pad>", "<eos>", "<media>", "<sep>", "<unk>", "?", "boot", "first", "shown", "was", "what"};
    EXPECT_EQ(v.words(), want);
    EXPECT_EQ(v.size(), 11);
    EXPECT_EQ(v.id("<media>"), od::WordVocab::media);
    EXPECT_EQ(v.id("boot"), 6);
    EXPECT_EQ(v.encode("what was shown  last ?"), (std::vector<std::int64_t>{10, 9, 8, od::WordVocab::unk, 5}));
    EXPECT_EQ(v.decode({10, 9, 8, 5, od::WordVocab::pad, od::WordVocab::eos, 6}), "what was shown ?");
    EXPECT_NE(error_of<omni::value_error>([&] { (void)v.id("coat"); }).find("'coat'"), std::string::npos);
    EXPECT_NE(error_of<omni::value_error>([&] { (void)v.decode({11}); }).find("got 11"), std::string::npos);
}

TEST(WordVocab, RoundTripsEveryQuestionAndAnswer) {
    REQUIRE_DATA();
    std::vector<std::string> texts;
    for (const od::AvClip& c : all_clips())
        for (const od::AvQuestion& q : c.questions) {
            texts.push_back(q.text);
            texts.push_back(q.answer);
        }
    const od::WordVocab v = od::WordVocab::build(texts);
    for (const std::string& t : texts) {
        const auto ids = v.encode(t);
        EXPECT_TRUE(std::none_of(ids.begin(), ids.end(), [](std::int64_t i) { return i < 5; })) << t;
        EXPECT_EQ(v.decode(ids), t);
    }
    // The same words in another order give the same ids.
    std::reverse(texts.begin(), texts.end());
    EXPECT_EQ(od::WordVocab::build(texts).words(), v.words());
}

}  // namespace
