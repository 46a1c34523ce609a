#pragma once
// Plots for run reports, written as gnuplot scripts with their data inline (one self-contained
// NAME.gp beside NAME.png, so a user can restyle and replot), rendered when gnuplot is
// installed. Two shapes the demos need: grouped bars with error bars (a table of scores by
// category and configuration) and a timeline of labelled intervals on named tracks (what a clip
// shows and says, and when).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "omni/core/error.hpp"

namespace omni::report {

// One bar per category: value and the half-height of its error bar (0: none).
struct BarSeries {
    std::string name;
    std::vector<double> value, error;
};

// A labelled interval [start, end] on one track; a point event when start == end.
struct Interval {
    std::string track;
    double start = 0, end = 0;
    std::string text;
};

namespace detail {
// A string as a gnuplot single-quoted literal (a quote is doubled).
inline std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// Writes NAME.gp (via a temporary file, so a half-written script is never left) and runs it;
// true when the PNG was rendered.
inline bool render(const std::filesystem::path& png, const std::string& script) {
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
}  // namespace detail

// Grouped bars: categories along x, one coloured bar per series in each group, error bars.
// Returns whether the PNG was rendered (false: gnuplot missing; the .gp is written either way).
inline bool bar_chart(const std::filesystem::path& png, const std::string& title, const std::string& ylabel,
                      const std::vector<std::string>& categories, const std::vector<BarSeries>& series, double ymax = 0) {
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

// A timeline: one row per track (top to bottom in the given order), each interval a labelled
// box, each point event a labelled tick; `caption` under the plot (e.g. a question and answer).
inline bool timeline(const std::filesystem::path& png, const std::string& title, const std::vector<std::string>& tracks,
                     const std::vector<Interval>& items, double duration, const std::string& caption = {}) {
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

}  // namespace omni::report
