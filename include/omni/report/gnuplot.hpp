#pragma once
// Plots for run reports, written as gnuplot scripts with their data inline (one self-contained
// NAME.gp beside NAME.png, so a user can restyle and replot), rendered when gnuplot is
// installed. The shapes the demos need: grouped bars with error bars (a table of scores by
// category and configuration), a timeline of labelled intervals on named tracks (what a clip
// shows and says, and when), line plots in side-by-side panels (loss curves per modality) and
// scatter plots coloured by group (2-D maps of embeddings, e.g. report/tsne.hpp's).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "omni/core/error.hpp"
#include "omni/core/linkage.hpp"

namespace omni::report {

/// One bar per category: value and the half-height of its error bar (0: none).
struct BarSeries {
    std::string name;
    std::vector<double> value, error;
};

/// A labelled interval [start, end] on one track; a point event when start == end.
struct Interval {
    std::string track;
    double start = 0, end = 0;
    std::string text;
};

/// One line of a panel: y against x (x empty: 1, 2, ..., n); a non-finite value leaves a gap.
struct LineSeries {
    std::string name;
    std::vector<double> y, x{};
};

/// One panel of side-by-side line plots.
struct LinePanel {
    std::string title;
    std::vector<LineSeries> lines;
};

/// One panel of a scatter plot: point i at (x[i], y[i]), coloured by group[i] (an index into the
/// plot's group names, shown in the key) and, when `shape` is given, marked by shape[i] (for instance a
/// class: seven marker shapes, reused cyclically).
struct ScatterPanel {
    std::string title;
    std::vector<double> x, y;
    std::vector<int> group, shape{};
};

namespace detail {
// A string as a gnuplot single-quoted literal (a quote is doubled).
inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// A value as gnuplot data: NaN (a gap) for anything non-finite.
inline void put(std::ostream& os, double v) {
    if (std::isfinite(v)) os << v;
    else os << "NaN";
}

// Colours by index (matplotlib's tab10 order, red and green moved up so three groups contrast).
inline const char* colour(std::size_t i) {
    static constexpr const char* c[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return c[i % 10];
}

// Writes NAME.gp (via a temporary file, so a half-written script is never left) and runs it;
// true when the PNG was rendered.
OMNI_LIB_INLINE bool render(const std::filesystem::path& png, const std::string& script)
#if OMNI_LIB_DEFINE
{
    std::filesystem::path gp = png;
    gp.replace_extension(".gp");
    const std::filesystem::path tmp = gp.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        f << script;
        if (!f.flush()) throw io_error("report::plot", "cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, gp);
    if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) return false;
    return std::system(("cd " + quoted(std::filesystem::absolute(gp.parent_path()).string()) + " && gnuplot " + quoted(gp.filename().string()) +
                        " > /dev/null 2>&1")
                           .c_str()) == 0;
}
#else
;
#endif
}  // namespace detail

// Grouped bars: categories along x, one coloured bar per series in each group, error bars.
// Returns whether the PNG was rendered (false: gnuplot missing; the .gp is written either way).
OMNI_LIB_INLINE bool bar_chart(const std::filesystem::path& png, const std::string& title, const std::string& ylabel,
                      const std::vector<std::string>& categories, const std::vector<BarSeries>& series, double ymax = 0)
#if OMNI_LIB_DEFINE
{
    if (categories.empty() || series.empty()) throw value_error("report::bar_chart", "expected categories and series, got none");
    for (const auto& s : series)
        if (s.value.size() != categories.size() || (!s.error.empty() && s.error.size() != categories.size()))
            throw value_error("report::bar_chart", "series '" + s.name + "': expected " + std::to_string(categories.size()) + " values and errors, got " +
                                                       std::to_string(s.value.size()) + " and " + std::to_string(s.error.size()));
    std::ostringstream gp;
    gp.precision(6);
    gp << "set terminal pngcairo size 1000,460 font ',10' noenhanced\nset output " << detail::quoted(png.filename().string()) << "\n"
       << "set title " << detail::quoted(title) << "\nset ylabel " << detail::quoted(ylabel) << "\n"
       << "set style data histogram\nset style histogram errorbars gap 1 lw 1\nset style fill solid 0.8 border -1\n"
       << "set boxwidth 0.9\nset key outside right top\nset grid ytics\nset yrange [0:" << (ymax > 0 ? std::to_string(ymax) : std::string("*")) << "]\n"
       << "$data << EOD\n";
    for (std::size_t c = 0; c < categories.size(); ++c) {
        gp << '"' << categories[c] << '"';
        for (const auto& s : series) gp << ' ' << s.value[c] << ' ' << (s.error.empty() ? 0.0 : s.error[c]);
        gp << '\n';
    }
    gp << "EOD\nplot ";
    for (std::size_t i = 0; i < series.size(); ++i)
        gp << (i ? ", " : "") << "$data using " << 2 + 2 * i << ':' << 3 + 2 * i << (i ? "" : ":xtic(1)") << " title " << detail::quoted(series[i].name);
    gp << '\n';
    return detail::render(png, gp.str());
}
#else
;
#endif

// A timeline: one row per track (top to bottom in the given order), each interval a labelled
// box, each point event a labelled tick; `caption` under the plot (e.g. a question and answer).
OMNI_LIB_INLINE bool timeline(const std::filesystem::path& png, const std::string& title, const std::vector<std::string>& tracks,
                     const std::vector<Interval>& items, double duration, const std::string& caption = {})
#if OMNI_LIB_DEFINE
{
    if (tracks.empty() || !(duration > 0)) throw value_error("report::timeline", "expected tracks and a positive duration, got " +
                                                                                     std::to_string(tracks.size()) + " tracks, " + std::to_string(duration) + " s");
    std::ostringstream gp;
    gp.precision(6);
    const auto row = [&](const std::string& t) -> std::size_t {
        for (std::size_t i = 0; i < tracks.size(); ++i)
            if (tracks[i] == t) return tracks.size() - i;
        throw value_error("report::timeline", "expected an interval on one of the tracks, got track '" + t + "'");
    };
    gp << "set terminal pngcairo size 1100," << 140 + 70 * tracks.size() << " font ',10' noenhanced\nset output " << detail::quoted(png.filename().string()) << "\n"
       << "set title " << detail::quoted(title) << "\nset xlabel 'time (s)'\nset xrange [0:" << duration << "]\nset yrange [0.4:" << tracks.size() + 0.6
       << "]\nunset key\nset grid xtics\nset ytics (";
    for (std::size_t i = 0; i < tracks.size(); ++i) gp << (i ? ", " : "") << detail::quoted(tracks[i]) << ' ' << tracks.size() - i;
    gp << ")\n";
    int n = 0;
    for (const auto& it : items) {
        const double y = static_cast<double>(row(it.track));
        ++n;
        if (it.end > it.start)
            gp << "set object " << n << " rect from " << it.start << ',' << y - 0.3 << " to " << it.end << ',' << y + 0.3
               << " fc rgb '#9ecae1' fs solid 0.7 border lc rgb '#3182bd'\n";
        gp << "set label " << n << ' ' << detail::quoted(it.text) << " at " << 0.5 * (it.start + it.end) << ',' << y << " center front\n";
    }
    if (!caption.empty()) gp << "set label " << n + 1 << ' ' << detail::quoted(caption) << " at screen 0.01, screen 0.05 left\nset bmargin 6\n";
    gp << "plot NaN\n";
    return detail::render(png, gp.str());
}
#else
;
#endif

// Line plots side by side, one panel per entry (a 1 x K multiplot under `title`, sharing the axis
// labels), each line named in its panel's key: e.g. a loss curve per modality, one line per
// model. Returns whether the PNG was rendered (the .gp is written either way).
OMNI_LIB_INLINE bool line_panels(const std::filesystem::path& png, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                        const std::vector<LinePanel>& panels)
#if OMNI_LIB_DEFINE
{
    const char* op = "report::line_panels";
    if (panels.empty()) throw value_error(op, "expected at least one panel, got none");
    for (const auto& p : panels) {
        if (p.lines.empty()) throw value_error(op, "panel '" + p.title + "': expected at least one line, got none");
        for (const auto& l : p.lines)
            if (!l.x.empty() && l.x.size() != l.y.size())
                throw value_error(op, "panel '" + p.title + "', line '" + l.name + "': expected " + std::to_string(l.y.size()) + " x values (one per y), got " +
                                          std::to_string(l.x.size()));
    }
    std::ostringstream gp;
    gp.precision(7);
    gp << "set terminal pngcairo size " << std::max<std::size_t>(600, 400 * panels.size()) << ",420 font ',10' noenhanced\nset output "
       << detail::quoted(png.filename().string()) << "\n";
    for (std::size_t p = 0; p < panels.size(); ++p)
        for (std::size_t l = 0; l < panels[p].lines.size(); ++l) {
            const LineSeries& s = panels[p].lines[l];
            gp << "$p" << p << "_" << l << " << EOD\n";
            for (std::size_t i = 0; i < s.y.size(); ++i) {
                detail::put(gp, s.x.empty() ? static_cast<double>(i + 1) : s.x[i]);
                gp << ' ';
                detail::put(gp, s.y[i]);
                gp << '\n';
            }
            gp << "EOD\n";
        }
    gp << "set multiplot layout 1," << panels.size() << " title " << detail::quoted(title) << "\nset xlabel " << detail::quoted(xlabel)
       << "\nset ylabel " << detail::quoted(ylabel) << "\nset key top right\nset grid\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        gp << "set title " << detail::quoted(panels[p].title) << "\nplot ";
        for (std::size_t l = 0; l < panels[p].lines.size(); ++l)
            gp << (l ? ", " : "") << "$p" << p << "_" << l << " using 1:2 with lines lw 1.5 lc rgb '" << detail::colour(l) << "' title "
               << detail::quoted(panels[p].lines[l].name);
        gp << '\n';
    }
    gp << "unset multiplot\n";
    return detail::render(png, gp.str());
}
#else
;
#endif

// Scatter plots side by side, one panel per entry, points coloured by group with one key entry
// per name in `groups` (e.g. modalities) and shaped by their `shape` (e.g. classes); `ticks`
// false hides the axes' numbers (a t-SNE map's axes mean nothing). Returns whether the PNG was
// rendered (the .gp is written either way).
OMNI_LIB_INLINE bool scatter_panels(const std::filesystem::path& png, const std::string& title, const std::vector<std::string>& groups,
                           const std::vector<ScatterPanel>& panels, bool ticks = true)
#if OMNI_LIB_DEFINE
{
    const char* op = "report::scatter_panels";
    if (panels.empty() || groups.empty())
        throw value_error(op, "expected groups and panels, got " + std::to_string(groups.size()) + " groups and " + std::to_string(panels.size()) + " panels");
    for (const auto& p : panels) {
        const std::size_t n = p.x.size();
        if (p.y.size() != n || p.group.size() != n || (!p.shape.empty() && p.shape.size() != n))
            throw value_error(op, "panel '" + p.title + "': expected " + std::to_string(n) + " y values, groups and shapes (one per x), got " +
                                      std::to_string(p.y.size()) + ", " + std::to_string(p.group.size()) + " and " + std::to_string(p.shape.size()));
        for (const int g : p.group)
            if (g < 0 || static_cast<std::size_t>(g) >= groups.size())
                throw value_error(op, "panel '" + p.title + "': expected groups in [0, " + std::to_string(groups.size()) + "), got " + std::to_string(g));
    }
    std::ostringstream gp;
    gp.precision(7);
    gp << "set terminal pngcairo size " << std::max<std::size_t>(600, 600 * panels.size()) << ",560 font ',10' noenhanced\nset output "
       << detail::quoted(png.filename().string()) << "\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const ScatterPanel& s = panels[p];
        gp << "$p" << p << " << EOD\n";
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            detail::put(gp, s.x[i]);
            gp << ' ';
            detail::put(gp, s.y[i]);
            gp << ' ' << s.group[i] << ' ' << (s.shape.empty() ? 0 : s.shape[i]) << '\n';
        }
        gp << "EOD\n";
    }
    gp << "set multiplot layout 1," << panels.size() << " title " << detail::quoted(title) << "\nunset xlabel\nunset ylabel\n"
       << (ticks ? "" : "unset xtics\nunset ytics\n") << "set key bottom right\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        gp << "set title " << detail::quoted(panels[p].title) << "\nplot ";
        // A variable point type draws no symbol in the key, so each group's key entry is a NaN
        // point of fixed shape and the data are plotted without titles.
        for (std::size_t g = 0; g < groups.size(); ++g)
            gp << (g ? ", " : "") << "$p" << p << " using ($3==" << g << "?$1:1/0):2:(int($4)%7+1) with points pt variable ps 0.8 lc rgb '"
               << detail::colour(g) << "' notitle";
        for (std::size_t g = 0; g < groups.size(); ++g)
            gp << ", NaN with points pt 7 ps 1.2 lc rgb '" << detail::colour(g) << "' title " << detail::quoted(groups[g]);
        gp << '\n';
    }
    gp << "unset multiplot\n";
    return detail::render(png, gp.str());
}
#else
;
#endif

}  // namespace omni::report
