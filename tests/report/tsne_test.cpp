// report::tsne_2d: well separated Gaussian clusters stay separated in the 2-D map (each point's
// nearest neighbour there is of its own cluster), the map is a function of the seed, and bad
// input is refused by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "omni/report/tsne.hpp"

namespace {

using namespace omni;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const omni::error& e) {
        return e.what();
    }
    return "no exception";
}

// k clusters of m points in d dimensions: centres 10 apart along their own axis, unit noise.
Tensor<cpu> clusters(int k, int m, int d, std::vector<int>& label) {
    Generator g(11);
    std::vector<float> x;
    for (int c = 0; c < k; ++c)
        for (int i = 0; i < m; ++i) {
            label.push_back(c);
            for (int j = 0; j < d; ++j) x.push_back(static_cast<float>((j == c ? 10.0 : 0.0) + g.normal()));
        }
    return Tensor<cpu>::from_data(x, {static_cast<std::int64_t>(k) * m, d});
}

// The fraction of points whose nearest other point in the map has their label.
double neighbour_agreement(const std::vector<double>& y, const std::vector<int>& label) {
    const std::size_t n = label.size();
    int agree = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double best = std::numeric_limits<double>::infinity();
        std::size_t nn = i;
        for (std::size_t j = 0; j < n; ++j) {
            const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            if (j != i && dx * dx + dy * dy < best) best = dx * dx + dy * dy, nn = j;
        }
        agree += label[nn] == label[i];
    }
    return static_cast<double>(agree) / static_cast<double>(n);
}

TEST(Tsne, SeparatedClustersStaySeparated) {
    std::vector<int> label;
    const Tensor<cpu> x = clusters(4, 25, 12, label);
    const Tensor<cpu> y = report::tsne_2d(x, {.perplexity = 10, .iterations = 400, .seed = 1});
    ASSERT_EQ(y.shape(), Shape({100, 2}));
    EXPECT_EQ(y.type(), dtype::f64);
    const auto v = y.to_vector<double>();
    EXPECT_GT(neighbour_agreement(v, label), 0.95);
    // Not collapsed: the map spreads well beyond its 1e-4 initial scale.
    double span = 0;
    for (const double c : v) span = std::max(span, std::abs(c));
    EXPECT_GT(span, 1.0);
}

TEST(Tsne, SameSeedSameMap) {
    std::vector<int> label;
    const Tensor<cpu> x = clusters(3, 10, 5, label);
    const auto a = report::tsne_2d(x, {.perplexity = 5, .iterations = 300, .seed = 4}).to_vector<double>();
    const auto b = report::tsne_2d(x, {.perplexity = 5, .iterations = 300, .seed = 4}).to_vector<double>();
    const auto c = report::tsne_2d(x, {.perplexity = 5, .iterations = 300, .seed = 5}).to_vector<double>();
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

TEST(Tsne, Float64FeaturesGiveTheSameClusters) {
    std::vector<int> label;
    const Tensor<cpu> x = clusters(4, 25, 12, label);
    const auto d = report::tsne_2d(x.to(dtype::f64), {.perplexity = 10, .iterations = 400, .seed = 1}).to_vector<double>();
    EXPECT_GT(neighbour_agreement(d, label), 0.95);
}

TEST(Tsne, RefusesBadInputByName) {
    EXPECT_EQ(error_of([] { report::tsne_2d(Tensor<cpu>::zeros({6})); }), "shape_error: report::tsne_2d: expected features [N, D], got [6]");
    EXPECT_EQ(error_of([] { report::tsne_2d(Tensor<cpu>::zeros({2, 3})); }), "value_error: report::tsne_2d: expected at least 3 points, got 2");
    EXPECT_EQ(error_of([] { report::tsne_2d(Tensor<cpu>::zeros({10, 3}), {.perplexity = 9}); }),
              "value_error: report::tsne_2d: expected a perplexity in (0, 9) for 10 points, got 9.000000");
    EXPECT_THROW(report::tsne_2d(Tensor<cpu>::zeros({10, 3}), {.perplexity = 3, .iterations = 0}), value_error);
}

}  // namespace
