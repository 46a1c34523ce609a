#pragma once
// main() for each benchmark executable (one per TU, so defining it in a header is safe). It reads
// OMNI_NUM_THREADS before any kernel runs, so a run can be pinned to a thread count without a
// rebuild, and records the count in the JSON context next to the timings it explains.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "omni/core/threads.hpp"

#define OMNI_BENCHMARK_MAIN()                                                   \
    int main(int argc, char** argv) {                                           \
        if (const char* n = std::getenv("OMNI_NUM_THREADS"); n && *n)           \
            omni::set_num_threads(std::stoi(n));                                \
        benchmark::AddCustomContext("omni_num_threads", std::to_string(omni::num_threads())); \
        benchmark::Initialize(&argc, argv);                                     \
        if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;       \
        benchmark::RunSpecifiedBenchmarks();                                    \
        benchmark::Shutdown();                                                  \
        return 0;                                                               \
    }
