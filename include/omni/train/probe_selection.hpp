#pragma once
// Validation-selected linear probe: the probe's own settings (epochs, lr, weight decay) are
// chosen per feature set on a held-out part of the *training* labels, then the probe is retrained
// on every training row with the winner and scored on the test split once.
//
//   auto s = train::select_linear_probe(f_train, y_train, f_test, y_test, 10, base, {});
//   s.chosen.epochs, s.chosen.lr, s.chosen.weight_decay;  s.result.final_top1;  s.trials
//
// One fixed setting favours whichever features it happens to suit: a 784-pixel probe overfits
// 6,000 labels in the epochs a 128-wide feature needs to converge. Choosing per feature set on
// held-out training labels (as CLIP's logistic-regression protocol does for its L2 strength)
// compares each at its own best without ever looking at the test split.
#include <algorithm>
#include <cmath>
#include <vector>

#include "omni/train/linear_probe.hpp"

namespace omni::train {

/// The settings select_linear_probe tries (epochs x lr x weight decay) and the validation fraction.
struct ProbeGrid {
    std::vector<std::int64_t> epochs{40, 100, 200};
    std::vector<double> lr{1e-3, 3e-3, 1e-2};
    std::vector<double> weight_decay{1e-4, 1e-2, 1e-1};
    double validation_fraction = 0.2;  // of each class's training rows
    std::uint64_t seed = 0;            // the split
};

/// One grid point of select_linear_probe and its validation top-1.
struct ProbeTrial {
    std::int64_t epochs = 0;
    double lr = 0, weight_decay = 0;
    double validation_top1 = 0;  // last epoch's, on the held-out training rows
};

/// What select_linear_probe returns: the chosen settings, every trial, and the final probe's result.
struct SelectedProbe {
    ProbeOptions chosen;             // `base` with the winning epochs, lr and weight decay
    std::vector<ProbeTrial> trials;  // every grid point, epochs-major, then lr, then weight decay
    ProbeResult result;              // `chosen` trained on all training rows, scored on the test rows
};

// Stratified split of the rows of `labels` [N] (classes in [0, classes)): round(fraction x count)
// rows of each class, drawn at random, go to validation; a class keeps at least one training row.
OMNI_LIB_INLINE std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> stratified_split(const Tensor<cpu>& labels, std::int64_t classes,
                                                                                       double fraction, Generator& gen)
#if OMNI_LIB_DEFINE
{
    const std::vector<std::int64_t> y = labels.to(dtype::i64).to_vector<std::int64_t>();
    std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(classes));
    for (std::size_t i = 0; i < y.size(); ++i) by_class[static_cast<std::size_t>(y[i])].push_back(static_cast<std::int64_t>(i));
    std::vector<std::int64_t> train, validation;
    for (const auto& rows : by_class) {
        const std::vector<std::int64_t> order = shuffled(static_cast<std::int64_t>(rows.size()), gen);
        const auto held = std::min(static_cast<std::size_t>(std::llround(fraction * static_cast<double>(rows.size()))),
                                   rows.empty() ? 0 : rows.size() - 1);
        for (std::size_t k = 0; k < rows.size(); ++k) (k < held ? validation : train).push_back(rows[static_cast<std::size_t>(order[k])]);
    }
    std::sort(train.begin(), train.end());
    std::sort(validation.begin(), validation.end());
    return {train, validation};
}
#else
;
#endif

OMNI_LIB_INLINE SelectedProbe select_linear_probe(const Tensor<cpu>& train_x, const Tensor<cpu>& train_y, const Tensor<cpu>& test_x,
                                         const Tensor<cpu>& test_y, std::int64_t classes, const ProbeOptions& base = {},
                                         const ProbeGrid& grid = {})
#if OMNI_LIB_DEFINE
{
    const char* op = "train::select_linear_probe";
    if (grid.epochs.empty() || grid.lr.empty() || grid.weight_decay.empty())
        throw value_error(op, "expected at least one value for epochs, lr and weight_decay, got " + std::to_string(grid.epochs.size()) + ", " +
                                  std::to_string(grid.lr.size()) + " and " + std::to_string(grid.weight_decay.size()));
    if (!(grid.validation_fraction > 0 && grid.validation_fraction < 1))
        throw value_error(op, "expected a validation_fraction in (0, 1), got " + std::to_string(grid.validation_fraction));
    for (const std::int64_t e : grid.epochs)
        if (e <= base.warmup_epochs)
            throw value_error(op, "expected every grid epochs > warmup_epochs (" + std::to_string(base.warmup_epochs) + "), got " + std::to_string(e));
    if (train_y.dim() != 1 || train_x.dim() != 2 || train_y.size(0) != train_x.size(0))
        throw shape_error(op, "expected features [N, F] and labels [N], got " + train_x.shape().str() + " and " + train_y.shape().str());
    for (const std::int64_t c : train_y.to(dtype::i64).to_vector<std::int64_t>())
        if (c < 0 || c >= classes) throw value_error(op, "expected labels in [0, " + std::to_string(classes) + "), got " + std::to_string(c));

    Generator gen(grid.seed);
    const auto [fit_rows, val_rows] = stratified_split(train_y, classes, grid.validation_fraction, gen);
    if (val_rows.empty())
        throw value_error(op, "validation_fraction " + std::to_string(grid.validation_fraction) + " of " + std::to_string(train_y.size(0)) +
                                  " training rows holds out none; use more rows or a larger fraction");
    const auto rows = [](const Tensor<cpu>& t, const std::vector<std::int64_t>& r) {
        return index_select(t, 0, Tensor<cpu>::from_data(r, {static_cast<std::int64_t>(r.size())}));
    };
    const Tensor<cpu> fx = rows(train_x, fit_rows), fy = rows(train_y, fit_rows), vx = rows(train_x, val_rows), vy = rows(train_y, val_rows);

    SelectedProbe s;
    double best = -1;
    for (const std::int64_t e : grid.epochs)
        for (const double lr : grid.lr)
            for (const double wd : grid.weight_decay) {
                ProbeOptions o = base;
                o.epochs = e, o.lr = lr, o.weight_decay = wd;
                const double acc = linear_probe(fx, fy, vx, vy, classes, o).final_top1;
                s.trials.push_back({e, lr, wd, acc});
                if (acc > best) best = acc, s.chosen = o;  // ties keep the earlier (shorter, gentler) setting
            }
    s.result = linear_probe(train_x, train_y, test_x, test_y, classes, s.chosen);
    return s;
}
#else
;
#endif

}  // namespace omni::train
