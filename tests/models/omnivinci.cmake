# The assembled OmniVinci model: counts, splice, ablations, gradcheck, training with resume, generation.
omni_add_test(omnivinci_test models/omnivinci_test.cpp)
