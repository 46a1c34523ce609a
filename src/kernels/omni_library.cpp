// The prebuilt omni::kernels library, second part: the CPU op instantiations models use
// (autodiff/cpu_instances.hpp), the non-template code above the kernels (core/linkage.hpp:
// WAV and resampling, augmentation, tokenisation, TSV data sets, the probe, SAIL and zero-shot trainers, reports)
// emitted once, and the Omni-C preset's model and trainers instantiated once
// (train/omni_c_preset.hpp). The CPU kernels are the other part (omni_kernels.cpp); here they are
// declarations only. Nothing here needs a library beyond the C++ runtime and OpenMP.
#define OMNI_LIBRARY_BUILDING

#include "omni/data/audio/resample.hpp"
#include "omni/data/audio/wav.hpp"
#include "omni/data/image/augment.hpp"
#include "omni/data/sets/glosses.hpp"
#include "omni/data/sets/spoken_words.hpp"
#include "omni/data/text/augment.hpp"
#include "omni/data/text/unicode.hpp"
#include "omni/data/text/wordpiece.hpp"
#include "omni/data/tsv.hpp"
#include "omni/report/gnuplot.hpp"
#include "omni/report/tsne.hpp"
#include "omni/train/omni_c_preset.hpp"
#include "omni/train/options_file.hpp"
#include "omni/train/probe_selection.hpp"
#include "omni/train/sail.hpp"
#include "omni/train/zero_shot_protocol.hpp"

OMNI_CPU_OP_INSTANCES(template)
OMNI_OMNI_C_PRESET(template)
template omni::Tensor<omni::autodiff<omni::cpu>> omni::linear<omni::autodiff<omni::cpu>>(const omni::Tensor<omni::autodiff<omni::cpu>>&, const omni::Tensor<omni::autodiff<omni::cpu>>&, const omni::Tensor<omni::autodiff<omni::cpu>>&, const omni::Tensor<omni::autodiff<omni::cpu>>&);
template omni::Tensor<omni::cpu> omni::linear<omni::cpu>(const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&, const omni::Tensor<omni::cpu>&);
