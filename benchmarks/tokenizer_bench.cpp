// WordPiece throughput on real sentences: every WordNet gloss (Debian's wordnet-base, ~117k
// sentences, ~9 MB), encoded as Omni-C does (uncased BERT vocab, [CLS] ... [SEP], padded or
// truncated to 256). Counters: sentences/s and bytes/s of input text. Needs OMNI_VOCAB (a
// vocab.txt; scripts/text_deps.sh prints one) and the glosses under OMNI_WORDNET (default
// /usr/share/wordnet); without them each benchmark reports an error instead of a number.
// scripts/tokenizer_vs_hf.sh runs this next to Hugging Face tokenizers on the same sentences.
#include <cstdlib>
#include <fstream>
#include <memory>

#include "omni/data/text/augment.hpp"
#include "omni/data/text/wordpiece.hpp"

#include "bench_main.hpp"

namespace {

struct Corpus {
    std::vector<std::string> sentences;
    std::size_t bytes = 0;
};

// The glosses follow " | " on every data line; the licence header lines start with two spaces.
const Corpus& glosses() {
    static const Corpus corpus = [] {
        Corpus c;
        const char* env = std::getenv("OMNI_WORDNET");
        const std::string dir = env && *env ? env : "/usr/share/wordnet";
        for (const char* part : {"noun", "verb", "adj", "adv"}) {
            std::ifstream in(dir + "/data." + part, std::ios::binary);
            for (std::string line; std::getline(in, line);) {
                if (line.starts_with("  ")) continue;
                const auto bar = line.find(" | ");
                if (bar == std::string::npos) continue;
                std::string g = line.substr(bar + 3);
                while (!g.empty() && (g.back() == ' ' || g.back() == '\r')) g.pop_back();
                c.bytes += g.size();
                c.sentences.push_back(std::move(g));
            }
        }
        return c;
    }();
    return corpus;
}

const omni::data::WordPiece* tokenizer() {
    static const std::unique_ptr<omni::data::WordPiece> wp = []() -> std::unique_ptr<omni::data::WordPiece> {
        const char* path = std::getenv("OMNI_VOCAB");
        if (!path || !*path) return nullptr;
        return std::make_unique<omni::data::WordPiece>(omni::data::WordPiece::from_file(path));
    }();
    return wp.get();
}

// The tokenizer and corpus, or a reason to skip.
const omni::data::WordPiece* setup(benchmark::State& st) {
    if (!tokenizer()) {
        st.SkipWithError("OMNI_VOCAB is unset: point it at a BERT vocab.txt (scripts/text_deps.sh prints one)");
        return nullptr;
    }
    if (glosses().sentences.empty()) {
        st.SkipWithError("no WordNet glosses: apt-get install wordnet-base, or set OMNI_WORDNET");
        return nullptr;
    }
    return tokenizer();
}

void set_rates(benchmark::State& st, std::size_t sentences, std::size_t bytes) {
    st.counters["sentences/s"] = benchmark::Counter(static_cast<double>(sentences), benchmark::Counter::kIsIterationInvariantRate);
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes) * st.iterations());
}

// One text at a time through encode(), one thread: the per-sample path of a data loader.
void BM_wordpiece_encode(benchmark::State& st) {
    const auto* wp = setup(st);
    if (!wp) return;
    const Corpus& c = glosses();
    for (auto _ : st)
        for (const std::string& s : c.sentences) benchmark::DoNotOptimize(wp->encode(s, 256).ids.data());
    set_rates(st, c.sentences.size(), c.bytes);
}
BENCHMARK(BM_wordpiece_encode)->Unit(benchmark::kMillisecond)->UseRealTime();

// Token ids only (no [CLS]/[SEP], no padding), one text at a time, one thread.
void BM_wordpiece_tokenize(benchmark::State& st) {
    const auto* wp = setup(st);
    if (!wp) return;
    const Corpus& c = glosses();
    for (auto _ : st)
        for (const std::string& s : c.sentences) benchmark::DoNotOptimize(wp->tokenize(s).data());
    set_rates(st, c.sentences.size(), c.bytes);
}
BENCHMARK(BM_wordpiece_tokenize)->Unit(benchmark::kMillisecond)->UseRealTime();

// The corpus through encode_batch() in batches of 256 sentences, each into [256, 256] tensors
// (a data loader's batch; one tensor for the whole corpus would time 270 MB of page faults
// instead of the tokeniser); arg = threads.
void BM_wordpiece_encode_batch(benchmark::State& st) {
    const auto* wp = setup(st);
    if (!wp) return;
    const Corpus& c = glosses();
    constexpr std::size_t batch = 256;
    const int before = omni::num_threads();
    omni::set_num_threads(static_cast<int>(st.range(0)));
    for (auto _ : st)
        for (std::size_t b = 0; b < c.sentences.size(); b += batch) {
            const auto n = std::min(batch, c.sentences.size() - b);
            const auto e = wp->encode_batch(std::span<const std::string>(c.sentences.data() + b, n), 256);
            benchmark::DoNotOptimize(e.ids.raw_data());
        }
    omni::set_num_threads(before);
    set_rates(st, c.sentences.size(), c.bytes);
}
BENCHMARK(BM_wordpiece_encode_batch)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Normalisation and splitting alone, to show where the time goes.
void BM_basic_tokenize(benchmark::State& st) {
    if (!setup(st)) return;
    const Corpus& c = glosses();
    omni::data::unicode::Words words;
    for (auto _ : st)
        for (const std::string& s : c.sentences) {
            words.clear();
            omni::data::unicode::basic_tokenize(s, words);
            benchmark::DoNotOptimize(words.text.data());
        }
    set_rates(st, c.sentences.size(), c.bytes);
}
BENCHMARK(BM_basic_tokenize)->Unit(benchmark::kMillisecond)->UseRealTime();

// Both Omni-C views of a [32, 256] batch (one training step's text input).
void BM_text_views(benchmark::State& st) {
    const auto* wp = setup(st);
    if (!wp) return;
    const auto& all = glosses().sentences;
    std::vector<std::string> batch;
    for (std::size_t i = 0; i < 32; ++i) batch.push_back(all[i * 97 % all.size()] + " " + all[i * 31 % all.size()]);
    const auto ids = wp->encode_batch(batch, 256).ids;
    omni::Generator gen(0);
    for (auto _ : st) {
        benchmark::DoNotOptimize(omni::data::augment_text(ids, gen).raw_data());
        benchmark::DoNotOptimize(omni::data::augment_text_strong(ids, gen).raw_data());
    }
    st.counters["sentences/s"] = benchmark::Counter(32, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_text_views)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

OMNI_BENCHMARK_MAIN();
