#pragma once
// The audio-visual-temporal clip set of scripts/data/av_clips.py: short clips of Fashion-MNIST
// frames with spoken digit words over noise, each with one-word questions about what was shown,
// what was said and when: the joint audio-visual-temporal questions OmniVinci (arXiv 2510.15870)
// trains on, at toy scale, with answers known by construction.
//
// load_av_clips reads DIR/clips.jsonl (one JSON object per clip) and, per clip, its frames
// (28x28 8-bit grey PNG -> [F, 1, 28, 28] float32 in [0, 1]) and its WAV (mono, resampled to
// `sample_rate` with data/audio/resample.hpp). The index is hostile input: JSON through cereal's
// rapidjson, every field's presence and type checked, every error typed and naming the file and
// line (io_error: missing file, malformed JSON, missing or wrongly typed field, audio length not
// duration x rate; shape_error: a frame that is not 28x28 grey; value_error: times outside
// [0, duration], unknown split, type, template or label, paths leaving DIR). Sizes come from the
// data itself (one frame per PNG listed, samples per WAV), never from a declared count.
//
// Held-out rule (the generator applies it; av_held_out checks it): a question's key is
// (template index, class, digit), class/digit the class/digit word the question names (not its
// answer), -1 if none. A key naming an item is held out iff (class + 3 * digit + template) % 5 == 0
// with 0 for -1; a key naming none is never held out. Train clips carry only keys not held out;
// val and test clips carry held-out keys and keys naming no item (av_allowed), so every evaluated
// question is on an unseen clip and every one naming an item is a combination never trained on.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <charconv>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <cereal/archives/json.hpp>  // its rapidjson, set to throw instead of assert
#if __has_include(<cereal/external/rapidjson/error/en.h>)
#include <cereal/external/rapidjson/error/en.h>  // upstream cereal's bundled copy
#else
#include <rapidjson/error/en.h>  // Debian's cereal uses the system rapidjson
#endif

#include "omni/core/error.hpp"
#include "omni/data/audio/resample.hpp"
#include "omni/data/audio/wav.hpp"
#include "omni/data/data_dir.hpp"
#include "omni/data/image/decode.hpp"
#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::data {

// Upstream cereal bundles rapidjson under its own namespace macro; Debian's uses the system one.
#ifdef CEREAL_RAPIDJSON_NAMESPACE
namespace av_json = CEREAL_RAPIDJSON_NAMESPACE;
#else
namespace av_json = RAPIDJSON_NAMESPACE;
#endif

namespace detail {
// Builds the document with numbers converted here (std::from_chars), not by rapidjson 1.1's
// strtod, which has undefined behaviour and an out-of-bounds table read on numbers such as 0E50
// (found by tests/fuzz/av_clips_fuzz.cpp). Integers that fit int64 stay integers, as before.
struct AvNumbers {
    av_json::Document& d;
    bool Null() { return d.Null(); }
    bool Bool(bool b) { return d.Bool(b); }
    bool Int(int i) { return d.Int(i); }
    bool Uint(unsigned u) { return d.Uint(u); }
    bool Int64(std::int64_t i) { return d.Int64(i); }
    bool Uint64(std::uint64_t u) { return d.Uint64(u); }
    bool Double(double x) { return d.Double(x); }
    bool RawNumber(const char* s, av_json::SizeType n, bool) {
        std::int64_t i = 0;
        if (const auto r = std::from_chars(s, s + n, i); r.ec == std::errc() && r.ptr == s + n) return d.Int64(i);
        double x = 0;
        const auto r = std::from_chars(s, s + n, x);
        if (r.ptr != s + n) return false;
        if (r.ec == std::errc::result_out_of_range) x = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;  // refused as not finite later
        return d.Double(x);
    }
    bool String(const char* s, av_json::SizeType n, bool copy) { return d.String(s, n, copy); }
    bool StartObject() { return d.StartObject(); }
    bool Key(const char* s, av_json::SizeType n, bool copy) { return d.Key(s, n, copy); }
    bool EndObject(av_json::SizeType m) { return d.EndObject(m); }
    bool StartArray() { return d.StartArray(); }
    bool EndArray(av_json::SizeType m) { return d.EndArray(m); }
};
}  // namespace detail

// Fashion-MNIST labels 0..9 as the one-word class names the questions use.
inline constexpr std::array<std::string_view, 10> av_class_words{"top",   "trouser", "pullover", "dress", "coat",
                                                                 "sandal", "shirt",  "sneaker",  "bag",   "boot"};
inline constexpr std::array<std::string_view, 10> av_digit_words{"zero", "one", "two",   "three", "four",
                                                                 "five", "six", "seven", "eight", "nine"};
inline constexpr std::array<std::string_view, 4> av_question_types{"visual", "audio", "cross", "temporal"};

/// A question template: its name, its question type and its pattern ({c} a class word, {d} a digit word).
struct AvTemplate {
    std::string_view name, type, pattern;
};
// Index = the template term of the held-out rule.
inline constexpr std::array<AvTemplate, 11> av_templates{{
    {"shown_first", "visual", "what was shown first ?"},
    {"shown_last", "visual", "what was shown last ?"},
    {"shown_count", "visual", "how many times was a {c} shown ?"},
    {"said_first", "audio", "what was said first ?"},
    {"said_count", "audio", "how many words were said ?"},
    {"said_last", "audio", "what was said last ?"},
    {"said_and_shown", "cross", "was {d} said and a {c} shown ?"},
    {"said_while", "temporal", "what was said while the {c} was shown ?"},
    {"shown_when", "temporal", "what was shown when {d} was said ?"},
    {"shown_after", "temporal", "what was shown right after {d} was said ?"},
    {"which_first", "temporal", "which came first , the {c} or {d} ?"},
}};

/// A digit word spoken in a clip, and when it is heard.
struct AvWord {
    std::string word;
    std::int64_t digit = 0;
    double start = 0, end = 0;  // seconds; heard over [start, end)
};
/// One frame of a clip: its Fashion-MNIST class and when it is shown.
struct AvFrame {
    std::int64_t label = 0;  // Fashion-MNIST class
    double time = 0;         // f / fps; shown over [time, time + 1 / fps)
};
/// One question about a clip: its text, one-word answer, type (visual, audio, cross, temporal) and template name.
struct AvQuestion {
    std::string text, answer, type, templ;
};
/// One clip: its frames and mono audio, what is shown and said when, and the questions about it.
struct AvClip {
    std::string id, split;
    double duration = 0, fps = 0;
    Tensor<cpu> frames;  // [F, 1, 28, 28] float32 in [0, 1]
    std::vector<AvFrame> frame_info;
    std::vector<float> audio;  // mono at AvClipOptions::sample_rate
    std::vector<AvWord> words;
    std::vector<AvQuestion> questions;
};
/// Options of load_av_clips: the split, how many clips and the audio sample rate.
struct AvClipOptions {
    std::string split = "";       // "train", "val", "test"; "" = all
    std::int64_t max_clips = -1;  // >= 0: only the first ones (of the split)
    std::int64_t sample_rate = 16000;
};

// Index of a template name; value_error if unknown.
inline std::int64_t av_template_index(std::string_view name) {
    for (std::size_t k = 0; k < av_templates.size(); ++k)
        if (av_templates[k].name == name) return static_cast<std::int64_t>(k);
    throw value_error("av_template_index", "expected one of the " + std::to_string(av_templates.size()) +
                                               " template names (shown_first, ...), got '" + std::string(name) + "'");
}

/// A question's held-out key: template index, and the class and digit its text names (-1: none).
struct AvKey {
    std::int64_t templ = -1, cls = -1, digit = -1;
};

// The held-out key of a question: its template, and the class and digit words its text names.
inline AvKey av_question_key(const AvQuestion& q) {
    AvKey k{av_template_index(q.templ), -1, -1};
    const std::string& words = q.text;
    for (std::size_t i = 0; i < words.size();) {
        const std::size_t j = std::min(words.find(' ', i), words.size());
        const std::string_view w(words.data() + i, j - i);
        for (std::size_t c = 0; c < 10; ++c) {
            if (w == av_class_words[c]) k.cls = static_cast<std::int64_t>(c);
            if (w == av_digit_words[c]) k.digit = static_cast<std::int64_t>(c);
        }
        i = j + 1;
    }
    return k;
}

inline bool av_held_out(const AvKey& k) {
    return (k.cls >= 0 || k.digit >= 0) && (std::max<std::int64_t>(k.cls, 0) + 3 * std::max<std::int64_t>(k.digit, 0) + k.templ) % 5 == 0;
}

// Whether a question with key k may appear in `split` (train: not held out; val/test: held out,
// or naming no item).
inline bool av_allowed(const std::string& split, const AvKey& k) {
    if (split == "train") return !av_held_out(k);
    return av_held_out(k) || (k.cls < 0 && k.digit < 0);
}

inline std::filesystem::path av_clips_dir() {
    const std::filesystem::path d = data_dir() / "av_clips";
    std::error_code ec;
    if (std::filesystem::is_regular_file(d / "clips.jsonl", ec)) return d;
    throw io_error("av_clips_dir", "expected " + (d / "clips.jsonl").string() +
                                       ", got no such file (run scripts/data/av_clips.py)");
}

namespace detail {

// Field access on one clips.jsonl line; every failure names file:line.
class AvLine {
public:
    AvLine(std::string where) : where_(std::move(where)) {}
    [[noreturn]] void io(const std::string& what) const { throw io_error("load_av_clips", what + " at " + where_); }
    [[noreturn]] void value(const std::string& what) const { throw value_error("load_av_clips", what + " at " + where_); }

    const av_json::Value& field(const av_json::Value& obj, const char* key, const char* kind) const {
        const auto it = obj.FindMember(key);
        if (it == obj.MemberEnd()) io(std::string("expected a field \"") + key + "\" (" + kind + "), got none");
        return it->value;
    }
    std::string str(const av_json::Value& obj, const char* key) const {
        const av_json::Value& v = field(obj, key, "string");
        if (!v.IsString()) io(std::string("expected \"") + key + "\" to be a string, got " + kind(v));
        return {v.GetString(), v.GetStringLength()};
    }
    double num(const av_json::Value& obj, const char* key) const {
        const av_json::Value& v = field(obj, key, "number");
        if (!v.IsNumber()) io(std::string("expected \"") + key + "\" to be a number, got " + kind(v));
        const double x = v.GetDouble();
        if (!std::isfinite(x)) value(std::string("expected a finite \"") + key + "\", got " + std::to_string(x));
        return x;
    }
    std::int64_t integer(const av_json::Value& obj, const char* key) const {
        const av_json::Value& v = field(obj, key, "integer");
        if (!v.IsInt64()) io(std::string("expected \"") + key + "\" to be an integer, got " + kind(v));
        return v.GetInt64();
    }
    const av_json::Value& array(const av_json::Value& obj, const char* key) const {
        const av_json::Value& v = field(obj, key, "array");
        if (!v.IsArray()) io(std::string("expected \"") + key + "\" to be an array, got " + kind(v));
        return v;
    }
    void object(const av_json::Value& v, const char* what) const {
        if (!v.IsObject()) io(std::string("expected ") + what + " to be a JSON object, got " + kind(v));
    }
    // A path inside `dir`: relative, without "..".
    std::filesystem::path inside(const std::filesystem::path& dir, const std::string& rel) const {
        const std::filesystem::path p(rel);
        bool up = false;
        for (const auto& part : p) up = up || part == "..";
        if (rel.empty() || p.is_absolute() || up) value("expected a relative path inside the data set, got '" + rel + "'");
        return dir / p;
    }
    void time(double t, double duration, const char* what) const {
        if (!(t >= 0 && t <= duration))
            value(std::string("expected ") + what + " in [0, duration = " + std::to_string(duration) + "], got " +
                  std::to_string(t));
    }

private:
    static std::string kind(const av_json::Value& v) {
        if (v.IsNull()) return "null";
        if (v.IsBool()) return "a boolean";
        if (v.IsNumber()) return "a number";
        if (v.IsString()) return "a string";
        if (v.IsArray()) return "an array";
        return "an object";
    }
    std::string where_;
};

inline bool av_one_of(std::string_view s, std::initializer_list<std::string_view> allowed) {
    for (std::string_view a : allowed)
        if (s == a) return true;
    return false;
}

inline AvClip parse_av_clip(const av_json::Value& doc, const std::filesystem::path& dir, const AvLine& at,
                            std::map<std::int64_t, Resampler>& resamplers, std::int64_t sample_rate) {
    at.object(doc, "the line");
    AvClip c;
    c.id = at.str(doc, "id");
    c.split = at.str(doc, "split");
    if (!av_one_of(c.split, {"train", "val", "test"})) at.value("expected split train, val or test, got '" + c.split + "'");
    c.duration = at.num(doc, "duration");
    c.fps = at.num(doc, "fps");
    if (!(c.duration > 0 && c.duration <= 3600)) at.value("expected a duration in (0, 3600] s, got " + std::to_string(c.duration));
    if (!(c.fps > 0 && c.fps <= 120)) at.value("expected fps in (0, 120], got " + std::to_string(c.fps));

    const av_json::Value& frames = at.array(doc, "frames");
    const auto count = static_cast<std::int64_t>(frames.Size());
    if (count == 0) at.value("expected at least one frame, got none");
    c.frames = Tensor<cpu>::empty({count, 1, 28, 28});
    float* dst = c.frames.data<float>();
    for (std::int64_t f = 0; f < count; ++f) {
        const av_json::Value& fr = frames[static_cast<av_json::SizeType>(f)];
        at.object(fr, "a frame");
        AvFrame info{at.integer(fr, "label"), at.num(fr, "time")};
        if (info.label < 0 || info.label > 9) at.value("expected a frame label in 0..9, got " + std::to_string(info.label));
        at.time(info.time, c.duration, "a frame time");
        const std::filesystem::path png = at.inside(dir, at.str(fr, "png"));
        const Tensor<cpu> img = load_image(png);
        if (img.dim() != 3 || img.size(0) != 1 || img.size(1) != 28 || img.size(2) != 28)
            throw shape_error("load_av_clips", "expected a 28x28 grey frame [1, 28, 28] in '" + png.string() + "', got " +
                                                   img.shape().str());
        std::copy(img.data<float>(), img.data<float>() + 28 * 28, dst + f * 28 * 28);
        c.frame_info.push_back(info);
    }

    const std::filesystem::path wav_path = at.inside(dir, at.str(doc, "wav"));
    Wav wav = read_wav(wav_path);
    const double expect = c.duration * wav.sample_rate;
    if (std::abs(static_cast<double>(wav.samples.size()) - expect) > 1)
        at.io("expected " + wav_path.string() + " to hold duration x rate = " + std::to_string(std::llround(expect)) +
              " samples, got " + std::to_string(wav.samples.size()));
    if (wav.sample_rate == sample_rate) {
        c.audio = std::move(wav.samples);
    } else {
        auto it = resamplers.find(wav.sample_rate);
        if (it == resamplers.end()) it = resamplers.emplace(wav.sample_rate, Resampler(wav.sample_rate, sample_rate)).first;
        c.audio = it->second(wav.samples);
    }

    for (const av_json::Value& w : at.array(doc, "words").GetArray()) {
        at.object(w, "a word");
        AvWord word{at.str(w, "word"), at.integer(w, "digit"), at.num(w, "start"), at.num(w, "end")};
        if (word.digit < 0 || word.digit > 9 || av_digit_words[static_cast<std::size_t>(word.digit)] != word.word)
            at.value("expected a digit 0..9 and its word, got " + std::to_string(word.digit) + " '" + word.word + "'");
        at.time(word.start, c.duration, "a word start");
        at.time(word.end, c.duration, "a word end");
        if (!(word.start < word.end))
            at.value("expected a word's start before its end, got " + std::to_string(word.start) + " >= " + std::to_string(word.end));
        c.words.push_back(std::move(word));
    }
    for (const av_json::Value& q : at.array(doc, "questions").GetArray()) {
        at.object(q, "a question");
        AvQuestion question{at.str(q, "q"), at.str(q, "a"), at.str(q, "type"), at.str(q, "template")};
        if (!av_one_of(question.type, {"visual", "audio", "cross", "temporal"}))
            at.value("expected a question type visual, audio, cross or temporal, got '" + question.type + "'");
        std::int64_t k = -1;
        for (std::size_t i = 0; i < av_templates.size(); ++i)
            if (av_templates[i].name == question.templ) k = static_cast<std::int64_t>(i);
        if (k < 0) at.value("expected a known template (shown_first, ...), got '" + question.templ + "'");
        if (av_templates[static_cast<std::size_t>(k)].type != question.type)
            at.value("expected template " + question.templ + " to have type " +
                     std::string(av_templates[static_cast<std::size_t>(k)].type) + ", got '" + question.type + "'");
        c.questions.push_back(std::move(question));
    }
    return c;
}

}  // namespace detail

inline std::vector<AvClip> load_av_clips(const std::filesystem::path& dir, const AvClipOptions& opt = {}) {
    const char* op = "load_av_clips";
    if (!detail::av_one_of(opt.split, {"", "train", "val", "test"}))
        throw value_error(op, "expected split \"\", train, val or test, got '" + opt.split + "'");
    if (opt.sample_rate <= 0) throw value_error(op, "expected a positive sample_rate, got " + std::to_string(opt.sample_rate));
    const std::filesystem::path index = dir / "clips.jsonl";
    std::error_code ec;
    std::ifstream in;
    if (std::filesystem::is_regular_file(index, ec)) in.open(index);
    if (!in.is_open())
        throw io_error(op, "expected a readable index at '" + index.string() + "', got none (run scripts/data/av_clips.py)");

    std::vector<AvClip> clips;
    std::map<std::int64_t, Resampler> resamplers;
    std::string line;
    for (std::int64_t no = 1; std::getline(in, line); ++no) {
        if (opt.max_clips >= 0 && static_cast<std::int64_t>(clips.size()) >= opt.max_clips) break;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const detail::AvLine at(index.string() + ":" + std::to_string(no));
        av_json::Document doc;
        av_json::ParseResult parsed;
        auto build = [&](av_json::Document& d) {
            detail::AvNumbers numbers{d};
            av_json::MemoryStream ms(line.data(), line.size());
            av_json::EncodedInputStream<av_json::UTF8<>, av_json::MemoryStream> is(ms);
            av_json::Reader reader;
            parsed = reader.Parse<av_json::kParseNumbersAsStringsFlag>(is, numbers);
            return !parsed.IsError();
        };
        doc.Populate(build);
        if (parsed.IsError())
            at.io(std::string("expected one JSON object per line, got malformed JSON (") +
                  av_json::GetParseError_En(parsed.Code()) + " at column " + std::to_string(parsed.Offset() + 1) + ")");
        at.object(doc, "the line");
        if (!opt.split.empty() && at.str(doc, "split") != opt.split) continue;
        clips.push_back(detail::parse_av_clip(doc, dir, at, resamplers, opt.sample_rate));
    }
    if (in.bad()) throw io_error(op, "expected to read '" + index.string() + "', got a read error");
    return clips;
}

}  // namespace omni::data
