// report::bar_chart, timeline, line_panels and scatter_panels: the script they leave beside the
// PNG holds the data and labels given, quotes are escaped, no temporary file is left, and bad
// input is refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <sstream>

#include "omni/report/gnuplot.hpp"

namespace fs = std::filesystem;
using namespace omni;

static std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

static fs::path fresh_dir(const char* name) {
    const fs::path d = fs::temp_directory_path() / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

TEST(Gnuplot, BarChartScriptHoldsEveryValue) {
    const fs::path d = fresh_dir("omni_gnuplot_bars");
    report::bar_chart(d / "acc.png", "it's a title", "accuracy (%)", {"visual", "audio"},
                      {{"concat", {10.5, 20.25}, {1, 2}}, {"+ TEG", {30, 40}, {}}}, 100);
    const std::string gp = slurp(d / "acc.gp");
    EXPECT_NE(gp.find("'it''s a title'"), std::string::npos);
    EXPECT_NE(gp.find("\"visual\" 10.5 1 30 0"), std::string::npos);
    EXPECT_NE(gp.find("\"audio\" 20.25 2 40 0"), std::string::npos);
    EXPECT_NE(gp.find("title '+ TEG'"), std::string::npos);
    EXPECT_NE(gp.find("set yrange [0:100"), std::string::npos);
    EXPECT_FALSE(fs::exists(d / "acc.gp.tmp"));
    if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) EXPECT_GT(fs::file_size(d / "acc.png"), 1000u);
}

TEST(Gnuplot, TimelinePlacesIntervalsOnTheirTracks) {
    const fs::path d = fresh_dir("omni_gnuplot_timeline");
    report::timeline(d / "t.png", "clip", {"frames", "speech"}, {{"frames", 0, 1, "bag"}, {"speech", 0.5, 1.25, "seven"}}, 4, "Q: a ?");
    const std::string gp = slurp(d / "t.gp");
    EXPECT_NE(gp.find("rect from 0,1.7 to 1,2.3"), std::string::npos) << gp;     // frames: the upper row
    EXPECT_NE(gp.find("rect from 0.5,0.7 to 1.25,1.3"), std::string::npos) << gp;  // speech: the lower row
    EXPECT_NE(gp.find("'seven' at 0.875,1"), std::string::npos) << gp;
    EXPECT_NE(gp.find("'Q: a ?'"), std::string::npos);
}

TEST(Gnuplot, RefusesMismatchedInput) {
    const fs::path d = fresh_dir("omni_gnuplot_errors");
    EXPECT_THROW(report::bar_chart(d / "a.png", "t", "y", {"a", "b"}, {{"s", {1}, {}}}), value_error);
    EXPECT_THROW(report::bar_chart(d / "a.png", "t", "y", {}, {}), value_error);
    EXPECT_THROW(report::timeline(d / "t.png", "t", {"frames"}, {{"speech", 0, 1, "x"}}, 4), value_error);
    EXPECT_THROW(report::timeline(d / "t.png", "t", {"frames"}, {}, 0), value_error);
    try {
        report::bar_chart(d / "a.png", "t", "y", {"a", "b"}, {{"s", {1}, {}}});
    } catch (const value_error& e) {
        EXPECT_NE(std::string(e.what()).find("report::bar_chart"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("expected 2 values"), std::string::npos);
    }
}

TEST(Gnuplot, LinePanelsHoldEveryLineInItsPanel) {
    const fs::path d = fresh_dir("omni_gnuplot_lines");
    const double gap = std::numeric_limits<double>::quiet_NaN();
    report::line_panels(d / "loss.png", "NT-Xent", "step", "loss",
                        {{"image", {{"Omni-C", {4.5, 4.25}}, {"expert", {4.75, gap, 3.5}}}}, {"it's text", {{"Omni-C", {2.5}, {10}}}}});
    const std::string gp = slurp(d / "loss.gp");
    EXPECT_NE(gp.find("size 800,420"), std::string::npos) << gp;  // two panels
    EXPECT_NE(gp.find("set multiplot layout 1,2 title 'NT-Xent'"), std::string::npos) << gp;
    EXPECT_NE(gp.find("$p0_0 << EOD\n1 4.5\n2 4.25\nEOD"), std::string::npos) << gp;  // x defaults to 1, 2, ...
    EXPECT_NE(gp.find("$p0_1 << EOD\n1 4.75\n2 NaN\n3 3.5\nEOD"), std::string::npos) << gp;  // a gap
    EXPECT_NE(gp.find("$p1_0 << EOD\n10 2.5\nEOD"), std::string::npos) << gp;  // x given
    EXPECT_NE(gp.find("set title 'it''s text'\nplot $p1_0 using 1:2"), std::string::npos) << gp;
    EXPECT_NE(gp.find("$p0_1 using 1:2 with lines lw 1.5 lc rgb '#d62728' title 'expert'"), std::string::npos) << gp;
    EXPECT_NE(gp.find("unset multiplot"), std::string::npos);
    EXPECT_FALSE(fs::exists(d / "loss.gp.tmp"));
    if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) EXPECT_GT(fs::file_size(d / "loss.png"), 1000u);
}

TEST(Gnuplot, ScatterPanelsColourByGroupAndShapeByClass) {
    const fs::path d = fresh_dir("omni_gnuplot_scatter");
    report::scatter_panels(d / "map.png", "t-SNE", {"image", "audio"},
                           {{"left", {0.5, -1}, {2, 3}, {0, 1}, {4, 9}}, {"right", {1, 2, 3}, {1, 2, 3}, {1, 1, 0}}}, false);
    const std::string gp = slurp(d / "map.gp");
    EXPECT_NE(gp.find("size 1200,560"), std::string::npos) << gp;
    EXPECT_NE(gp.find("$p0 << EOD\n0.5 2 0 4\n-1 3 1 9\nEOD"), std::string::npos) << gp;
    EXPECT_NE(gp.find("$p1 << EOD\n1 1 1 0\n2 2 1 0\n3 3 0 0\nEOD"), std::string::npos) << gp;  // no shapes: 0
    EXPECT_NE(gp.find("$p0 using ($3==1?$1:1/0):2:(int($4)%7+1) with points pt variable ps 0.8 lc rgb '#d62728' notitle"), std::string::npos) << gp;
    EXPECT_NE(gp.find("NaN with points pt 7 ps 1.2 lc rgb '#1f77b4' title 'image'"), std::string::npos) << gp;
    EXPECT_NE(gp.find("unset xtics\nunset ytics"), std::string::npos) << gp;
    if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) EXPECT_GT(fs::file_size(d / "map.png"), 1000u);
    report::scatter_panels(d / "ticks.png", "t", {"a"}, {{"p", {1}, {1}, {0}}});
    EXPECT_EQ(slurp(d / "ticks.gp").find("unset xtics"), std::string::npos);
}

TEST(Gnuplot, LineAndScatterRefuseMismatchedInput) {
    const fs::path d = fresh_dir("omni_gnuplot_errors2");
    const auto message = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const value_error& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    EXPECT_EQ(message([&] { report::line_panels(d / "l.png", "t", "x", "y", {}); }),
              "value_error: report::line_panels: expected at least one panel, got none");
    EXPECT_EQ(message([&] { report::line_panels(d / "l.png", "t", "x", "y", {{"p", {}}}); }),
              "value_error: report::line_panels: panel 'p': expected at least one line, got none");
    EXPECT_EQ(message([&] { report::line_panels(d / "l.png", "t", "x", "y", {{"p", {{"a", {1, 2}, {1}}}}}); }),
              "value_error: report::line_panels: panel 'p', line 'a': expected 2 x values (one per y), got 1");
    EXPECT_EQ(message([&] { report::scatter_panels(d / "s.png", "t", {"g"}, {{"p", {1, 2}, {1}, {0, 0}}}); }),
              "value_error: report::scatter_panels: panel 'p': expected 2 y values, groups and shapes (one per x), got 1, 2 and 0");
    EXPECT_EQ(message([&] { report::scatter_panels(d / "s.png", "t", {"g"}, {{"p", {1}, {1}, {1}}}); }),
              "value_error: report::scatter_panels: panel 'p': expected groups in [0, 1), got 1");
    EXPECT_THROW(report::scatter_panels(d / "s.png", "t", {}, {{"p", {1}, {1}, {0}}}), value_error);
    EXPECT_FALSE(fs::exists(d / "l.gp"));  // nothing is written for refused input
}
