// report::bar_chart and report::timeline: the script they leave beside the PNG holds the data and
// labels given, quotes are escaped, no temporary file is left, and bad input is refused by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
