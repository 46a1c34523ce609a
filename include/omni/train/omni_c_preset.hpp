#pragma once
// The Omni-C preset: `OmniC<P, image, audio, text>` (the paper's three modalities, in the
// release's order) and its trainers, instantiated once in omni::kernels. A translation unit
// that links omni::kernels (OMNI_KERNELS_PREBUILT) and includes this header declares them
// `extern template`, so it compiles none of the model's or the trainers' bodies itself; header-
// only, or without this header, they are instantiated where they are used, as any template.
// A model with another list of modalities is instantiated where it is used, whatever the mode.
#include "omni/core/linkage.hpp"
#include "omni/models/omni_c.hpp"
#include "omni/train/finetune.hpp"
#include "omni/train/linear_probe.hpp"
#include "omni/train/pretrain.hpp"

namespace omni::train {

template <class P> using OmniCPreset = models::OmniC<P, models::image, models::audio, models::text>;

}  // namespace omni::train

// One list, read twice: as `extern template` by users, as explicit instantiation definitions by
// src/kernels/omni_library.cpp.
#define OMNI_OMNI_C_PRESET(prefix)                                                                                                  \
    prefix struct omni::models::OmniC<omni::cpu, omni::models::image, omni::models::audio, omni::models::text>;                     \
    prefix struct omni::models::OmniC<omni::autodiff<omni::cpu>, omni::models::image, omni::models::audio, omni::models::text>;     \
    prefix omni::train::PretrainResult omni::train::pretrain(omni::train::OmniCPreset<omni::autodiff<omni::cpu>>&,                   \
                                                             const std::vector<omni::train::ModalityViews>&,                       \
                                                             const omni::train::PretrainOptions&);                                \
    prefix omni::train::FinetuneResult omni::train::finetune(omni::train::OmniCPreset<omni::autodiff<omni::cpu>>&, std::string_view, \
                                                             const omni::train::LabelledSplit&, const omni::train::LabelledSplit&,  \
                                                             std::int64_t, const omni::train::FinetuneOptions&);                   \
    prefix omni::Tensor<omni::cpu> omni::train::encode(const omni::train::OmniCPreset<omni::autodiff<omni::cpu>>&, std::string_view,   \
                                                       std::int64_t, const omni::train::BatchMaker&, std::int64_t, bool);

#if OMNI_LIB_EXTERN
OMNI_OMNI_C_PRESET(extern template)
#endif
