#pragma once
// The data layer's parts that need nothing beyond the C++ standard library: WAV reading and
// resampling, image transforms and SimCLR augmentations, BERT WordPiece and the text views, the
// data root, TSV files, the text and audio sets and the modality-separated sampler.
// Heavy dependencies stay opt-in by include, so this header never pulls them in:
//   FFTW (link omni::fftw): omni/data/audio/fbank.hpp, frontend.hpp, whisper_mel.hpp
//   stb_image:              omni/data/image/decode.hpp (JPEG through libjpeg-turbo: link omni::jpeg)
//   zlib (link ZLIB::ZLIB): omni/data/image/idx.hpp, omni/data/sets/fashion_mnist.hpp
#include "omni/data/audio/resample.hpp"
#include "omni/data/audio/wav.hpp"
#include "omni/data/data_dir.hpp"
#include "omni/data/image/augment.hpp"
#include "omni/data/image/transforms.hpp"
#include "omni/data/modality_sampler.hpp"
#include "omni/data/sets/glosses.hpp"
#include "omni/data/sets/spoken_words.hpp"
#include "omni/data/text/augment.hpp"
#include "omni/data/text/wordpiece.hpp"
#include "omni/data/tsv.hpp"
