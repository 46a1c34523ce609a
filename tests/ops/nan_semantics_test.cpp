// NaN, +-inf and -0.0 through every op family of the functional API, against PyTorch in float64:
// tests/parity/nan_reference.py writes the inputs and torch's outputs (ctest runs it first, as
// the nan_parity fixture), this file runs the same ops on Tensor<cpu> and requires the same NaN
// positions, the same infinities (sign included) and the finite values within 1e-12 relative.
// Where omni differs on purpose, the case is listed in kExpectedDifferences (and in
// docs/reliability.md) and must still differ, so the list cannot go stale.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "omni/backend/attention.hpp"
#include "omni/backend/cpu.hpp"
#include "omni/backend/elementwise.hpp"
#include "omni/backend/layer_norm.hpp"
#include "omni/backend/matmul.hpp"
#include "omni/backend/normalize.hpp"
#include "omni/backend/reduce.hpp"
#include "omni/backend/rms_norm.hpp"
#include "omni/backend/softmax.hpp"
#include "omni/loss/cross_entropy.hpp"
#include "omni/ops/linear.hpp"

using omni::cpu;
using omni::Shape;
using T = omni::Tensor<cpu>;

namespace {

struct Ref {
    Shape shape;
    std::vector<double> values;
};

// <dir>/nan_semantics.txt: "<name> <ndim> <dims...> <values as float.hex()>" per line.
std::map<std::string, Ref> load_reference() {
    const char* dir = std::getenv("OMNI_NAN_PARITY_DIR");
    const std::string path = std::string(dir ? dir : "parity_nan") + "/nan_semantics.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing " + path + ": run tests/parity/nan_reference.py first");
    std::map<std::string, Ref> refs;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string name, word;
        int nd = 0;
        s >> name >> nd;
        Ref r;
        for (int i = 0; i < nd; ++i) {
            std::int64_t d = 0;
            s >> d;
            r.shape.push_back(d);
        }
        while (s >> word) r.values.push_back(std::strtod(word.c_str(), nullptr));  // strtod reads hex floats, inf and nan
        refs.emplace(name, std::move(r));
    }
    return refs;
}

const std::map<std::string, Ref>& refs() {
    static const std::map<std::string, Ref> r = load_reference();
    return r;
}
T input(const std::string& name) {
    const Ref& r = refs().at(name);
    return T::from_data(r.values, r.shape);
}

// Deliberate differences from PyTorch: name -> why (docs/reliability.md repeats them).
const std::map<std::string, std::string> kExpectedDifferences = {
    {"attention.empty_row", "a query that sees no key outputs zeros (and passes no gradient), not NaN: padding a whole "
                            "sequence must not poison a batch"},
};

// One mismatch per element at most, as text; empty when omni agrees with the reference.
std::string compare(const T& got, const Ref& want) {
    if (!(got.shape() == want.shape)) return "shape " + got.shape().str() + ", expected " + want.shape.str();
    const auto g = got.to_vector<double>();
    std::ostringstream bad;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const double a = g[i], b = want.values[i];
        const bool ok = std::isnan(b) ? std::isnan(a)
                        : std::isinf(b) ? a == b
                                        : std::isfinite(a) && std::abs(a - b) <= 1e-12 * std::abs(b) + 1e-15;
        if (!ok) bad << " [" << i << "] omni " << a << " torch " << b << ";";
    }
    return bad.str();
}

// Every case: the reference name and how omni computes it from the reference's inputs.
std::map<std::string, std::function<T()>> cases() {
    std::map<std::string, std::function<T()>> c;
    const T x = input("x"), rows = input("rows"), tall = input("tall"), w = input("w"), b = input("b"), mb = input("mb");
    const T cond = input("cond").to(omni::dtype::b8);
    const std::pair<const char*, omni::unary_op> unary[] = {
        {"neg", omni::unary_op::neg},         {"exp", omni::unary_op::exp},           {"log", omni::unary_op::log},
        {"sqrt", omni::unary_op::sqrt},       {"rsqrt", omni::unary_op::rsqrt},       {"tanh", omni::unary_op::tanh},
        {"sigmoid", omni::unary_op::sigmoid}, {"relu", omni::unary_op::relu},         {"gelu", omni::unary_op::gelu_erf},
        {"gelu_tanh", omni::unary_op::gelu_tanh}, {"silu", omni::unary_op::silu},     {"abs", omni::unary_op::abs},
        {"square", omni::unary_op::square},   {"softplus", omni::unary_op::softplus},
    };
    for (const auto& [name, o] : unary) c[std::string("unary.") + name] = [=, op = o] { return omni::unary(op, x); };
    // Every pair of specials: x [10] against x [10, 1].
    const T xc = x.unsqueeze(1);
    const std::pair<const char*, omni::binary_op> binary[] = {
        {"add", omni::binary_op::add}, {"sub", omni::binary_op::sub},         {"mul", omni::binary_op::mul},
        {"div", omni::binary_op::div}, {"maximum", omni::binary_op::maximum}, {"minimum", omni::binary_op::minimum},
    };
    for (const auto& [name, o] : binary) c[std::string("binary.") + name] = [=, op = o] { return omni::binary(op, x, xc); };
    const std::pair<const char*, omni::compare_op> compare[] = {
        {"eq", omni::compare_op::eq}, {"ne", omni::compare_op::ne}, {"lt", omni::compare_op::lt},
        {"le", omni::compare_op::le}, {"gt", omni::compare_op::gt}, {"ge", omni::compare_op::ge},
    };
    for (const auto& [name, o] : compare) c[std::string("compare.") + name] = [=, op = o] { return omni::compare(op, x, xc).to(omni::dtype::f64); };
    const double inf = INFINITY, nan = NAN;
    const std::pair<const char*, double> scalars[] = {{"2", 2.0}, {"inf", inf}, {"ninf", -inf}, {"nan", nan}, {"0", 0.0}};
    for (const auto& [tag, value] : scalars) {  // init-captures: clang before 16 cannot capture a structured binding
        c[std::string("scalar.add.") + tag] = [=, s = value] { return omni::add(x, s); };
        c[std::string("scalar.mul.") + tag] = [=, s = value] { return omni::mul(x, s); };
    }
    const std::pair<const char*, double> powers[] = {{"2", 2.0}, {"3", 3.0}, {"0.5", 0.5}, {"-1", -1.0}, {"-0.5", -0.5}, {"0", 0.0}, {"1.5", 1.5}};
    for (const auto& [tag, e] : powers) c[std::string("scalar.pow.") + tag] = [=, p = e] { return omni::pow(x, p); };
    c["where"] = [=] {
        auto v = x.to_vector<double>();
        std::reverse(v.begin(), v.end());
        return omni::where(cond, x, T::from_data(v, x.shape()));
    };
    const std::pair<const char*, double> fills[] = {{"ninf", -inf}, {"nan", nan}, {"big", -1e9}};
    for (const auto& [tag, f] : fills) c[std::string("masked_fill.") + tag] = [=, v = f] { return omni::masked_fill(x, cond, v); };

    c["sum"] = [=] { return omni::sum(rows, {-1}); };
    c["mean"] = [=] { return omni::mean(rows, {-1}); };
    c["max"] = [=] { return omni::max(rows, {-1}); };
    c["logsumexp"] = [=] { return omni::logsumexp(rows, {-1}); };
    c["sum.all"] = [=] { return omni::sum(rows); };
    c["max.all"] = [=] { return omni::max(rows); };
    c["sum.cols"] = [=] { return omni::sum(rows, {0}); };
    c["sum.tall"] = [=] { return omni::sum(tall, {0}); };
    c["mean.tall"] = [=] { return omni::mean(tall, {0}); };

    c["softmax"] = [=] { return omni::softmax(rows, -1); };
    c["log_softmax"] = [=] { return omni::log_softmax(rows, -1); };
    c["softmax.axis0"] = [=] { return omni::softmax(rows, 0); };
    c["layer_norm"] = [=] { return omni::layer_norm(rows, w, b, 1e-5); };
    c["layer_norm.plain"] = [=] { return omni::layer_norm(rows, T(), T(), 1e-5); };
    c["rms_norm"] = [=] { return omni::rms_norm(rows, w, 1e-6); };
    c["l2_normalize"] = [=] { return omni::l2_normalize(rows, -1, 1e-12); };

    c["matmul"] = [=] { return omni::matmul(rows, mb); };
    c["linear"] = [=] { return omni::linear(rows, mb.transpose(0, 1).contiguous(), input("linear.bias")); };

    const T q = input("att.q"), k = input("att.k"), v = input("att.v"), mask = input("att.mask").to(omni::dtype::b8);
    c["attention"] = [=] { return omni::attention(q, k, v, mask); };
    c["attention.empty_row"] = [=] {
        return omni::attention(q, k, v, T::from_data(std::vector<double>{0, 0, 0, 1, 1, 1}, Shape{2, 3}).to(omni::dtype::b8));
    };

    const auto targets = refs().at("targets").values;
    for (std::int64_t i = 0; i < rows.size(0); ++i) {
        const T logits = rows.slice(0, i, i + 1);
        const T target = T::from_data(std::vector<std::int64_t>{static_cast<std::int64_t>(targets[i])}, Shape{1});
        c["cross_entropy." + std::to_string(i)] = [=] { return omni::loss::cross_entropy(logits, target); };
        c["cross_entropy_smooth." + std::to_string(i)] = [=] { return omni::loss::cross_entropy(logits, target, 0.1); };
    }
    return c;
}

const std::set<std::string> kInputs = {"x", "rows", "tall", "w", "b", "mb", "cond", "targets", "linear.bias", "att.q", "att.k", "att.v", "att.mask"};

}  // namespace

TEST(NanSemantics, EveryOpMatchesPyTorchOnNanInfAndSignedZero) {
    const auto all = cases();
    std::size_t checked = 0;
    for (const auto& [name, run] : all) {
        SCOPED_TRACE(name);
        const auto ref = refs().find(name);
        ASSERT_NE(ref, refs().end()) << "no reference for " << name << " (tests/parity/nan_reference.py)";
        const std::string diff = compare(run(), ref->second);
        if (const auto expected = kExpectedDifferences.find(name); expected != kExpectedDifferences.end()) {
            EXPECT_FALSE(diff.empty()) << name << " now matches PyTorch: remove it from kExpectedDifferences and docs/reliability.md";
            std::printf("expected difference %s (%s):%s\n", name.c_str(), expected->second.c_str(), diff.c_str());
        } else {
            EXPECT_TRUE(diff.empty()) << name << " differs from PyTorch:" << diff;
        }
        ++checked;
    }
    // Every reference output has a case here: an op added to the script cannot go unchecked.
    for (const auto& [name, r] : refs()) {
        if (!kInputs.count(name)) {
            EXPECT_TRUE(all.count(name)) << "reference " << name << " has no C++ case";
        }
    }
    EXPECT_EQ(checked + kInputs.size(), refs().size());
}
