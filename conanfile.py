"""Conan 2 recipe for omni: header-only by default, the prebuilt CPU kernels (and CUDA) as options.

Consumers get find_package(omni) from the package's own omniConfig.cmake, the one CMake installs
and scripts/check_install.sh tests, not from a CMakeDeps-generated config: that file already
carries what a generated one would have to repeat here and keep in step by hand (OpenMP,
OMNI_KERNELS_PREBUILT and the FFTW/zlib definitions on omni::kernels, the omni::fftw lookup,
the Eigen/ZLIB/CUDAToolkit find_dependency calls). So cmake_find_mode is "none" and the core
component's builddirs put lib/cmake/omni on the consumer's CMAKE_PREFIX_PATH (CMakeToolchain).
The cpp_info components below describe the same targets for other generators (PkgConfigDeps,
MSBuildDeps) and give the dependency graph its edges.

Offline use on Debian: conan/profiles/debian maps every requirement to the system packages
(docs/packaging.md); scripts/conan_package.sh runs `conan create` with it.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import load

required_conan_version = ">=2.0.5"


class OmniConan(ConanFile):
    name = "omni"
    description = "Header-only C++20 library for omni-modal representation learning (Omni-C, OmniVinci)"
    topics = ("deep-learning", "autodiff", "header-only", "eigen", "multimodal")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # The opt-in parts follow the library's rule "heavy dependencies are opt-in by header": each
    # option only adds a requirement and a component; the headers are the same either way.
    options = {
        "kernels": [True, False],     # omni::kernels, the compiled mode (docs/architecture.md)
        "cuda": [True, False],        # omni::cuda, prebuilt CUDA instantiations (needs nvcc)
        "native": [True, False],      # -march=native for the prebuilt kernels: this machine only
        "fftw": [True, False],        # omni::fftw: log-mel frontends (libfftw3f)
        "image": [True, False],       # IDX / Fashion-MNIST (zlib), JPEG (libjpeg-turbo); PNG needs stb headers too
        "checkpoint": [True, False],  # cereal checkpoints, the train layer; rapidjson for JSON options and clips
        "xtensor": [True, False],     # xtensor views and .npy
    }
    default_options = {
        "kernels": False,
        "cuda": False,
        "native": False,
        "fftw": True,
        "image": True,
        "checkpoint": True,
        "xtensor": True,
    }
    # Only what the install needs: tests, benchmarks and examples are not built in the package.
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "src/*"

    def set_version(self):
        # One version, the one project() declares.
        text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = re.search(r"project\(omni VERSION ([0-9.]+)", text).group(1)

    def configure(self):
        if self.options.kernels or self.options.cuda:
            self.package_type = "static-library"
        else:
            self.options.rm_safe("native")

    def layout(self):
        cmake_layout(self, src_folder=".")

    def requirements(self):
        # Ranges, not pins: a [platform_requires] entry (the Debian profile) satisfies a range.
        self.requires("eigen/[>=3.4.0 <4]")
        if self.options.fftw:
            self.requires("fftw/[>=3.3.8 <4]")
        if self.options.image:
            self.requires("zlib/[>=1.2.11 <2]")
            self.requires("libjpeg-turbo/[>=2.0.0 <4]")
        if self.options.checkpoint:
            self.requires("cereal/[>=1.3.0 <2]")
            self.requires("rapidjson/[>=1.1.0 <2]")
        if self.options.xtensor:
            self.requires("xtensor/[>=0.24.0 <0.26]")

    def validate(self):
        check_min_cppstd(self, 20)
        # omni::kernels compiles the audio frontend and the IDX reader into the library and tells
        # its users so by definitions; without FFTW or zlib it would be a different library.
        if self.options.kernels and not (self.options.fftw and self.options.image):
            raise ConanInvalidConfiguration("omni: kernels=True needs fftw=True and image=True")

    def package_id(self):
        if not (self.info.options.kernels or self.info.options.cuda):
            self.info.clear()  # headers only: one package for every compiler and build type
        else:
            # Options that only add header-only requirements do not change the library.
            del self.info.options.checkpoint
            del self.info.options.xtensor

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["OMNI_BUILD_TESTS"] = False
        tc.cache_variables["OMNI_BUILD_BENCHMARKS"] = False
        tc.cache_variables["OMNI_BUILD_EXAMPLES"] = False
        tc.cache_variables["OMNI_BUILD_KERNELS"] = bool(self.options.kernels)
        tc.cache_variables["OMNI_ENABLE_CUDA"] = bool(self.options.cuda)
        tc.cache_variables["OMNI_NATIVE"] = bool(self.options.get_safe("native", False))
        tc.cache_variables["CMAKE_INSTALL_MESSAGE"] = "NEVER"  # 170 header paths say nothing
        if not self.options.image:
            tc.cache_variables["CMAKE_DISABLE_FIND_PACKAGE_ZLIB"] = True
        tc.generate()
        # Dependencies that come from Conan packages (not the platform) get their config files here.
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()  # header-only: configure only, for the install rules and omniConfig.cmake
        if self.options.kernels:
            cmake.build(target="omni_kernels")
        if self.options.cuda:
            cmake.build(target="omni_cuda")

    def package(self):
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.set_property("cmake_file_name", "omni")
        openmp = ["-fopenmp"] if self.settings.compiler in ("gcc", "clang") else []

        core = self.cpp_info.components["omni"]
        core.set_property("cmake_target_name", "omni::omni")
        core.set_property("pkg_config_name", "omni")
        core.builddirs = [os.path.join("lib", "cmake", "omni")]
        core.libdirs = []
        core.bindirs = []
        core.requires = ["eigen::eigen"]
        core.cxxflags = openmp
        core.exelinkflags = openmp
        core.sharedlinkflags = openmp
        if self.settings.os in ("Linux", "FreeBSD"):
            core.system_libs = ["pthread", "m"]

        def header_part(name, requires):
            c = self.cpp_info.components[name]
            c.set_property("pkg_config_name", f"omni-{name}")
            c.libdirs = []
            c.bindirs = []
            c.includedirs = []
            c.requires = ["omni"] + requires
            return c

        if self.options.fftw:
            header_part("fftw", ["fftw::fftw"]).set_property("cmake_target_name", "omni::fftw")
        # No CMake target of their own (the headers are opt-in, the user links the dependency):
        # these components exist for non-CMake generators and to name the requirement.
        if self.options.image:
            header_part("image", ["zlib::zlib"])
            # omni::jpeg: decode_image's JPEG through libjpeg-turbo instead of stb_image.
            jpeg = header_part("jpeg", ["libjpeg-turbo::jpeg"])
            jpeg.set_property("cmake_target_name", "omni::jpeg")
            jpeg.defines = ["OMNI_WITH_LIBJPEG"]
        if self.options.checkpoint:
            header_part("checkpoint", ["cereal::cereal", "rapidjson::rapidjson"])
        if self.options.xtensor:
            header_part("xtensor", ["xtensor::xtensor"])

        if self.options.kernels:
            k = self.cpp_info.components["kernels"]
            k.set_property("cmake_target_name", "omni::kernels")
            k.set_property("pkg_config_name", "omni-kernels")
            k.libs = ["omni_kernels"]
            k.includedirs = []
            k.defines = ["OMNI_KERNELS_PREBUILT", "OMNI_KERNELS_FFTW", "OMNI_KERNELS_ZLIB"]
            k.requires = ["omni", "fftw", "image"]
        if self.options.cuda:
            c = self.cpp_info.components["cuda"]
            c.set_property("cmake_target_name", "omni::cuda")
            c.set_property("pkg_config_name", "omni-cuda")
            c.libs = ["omni_cuda"]
            c.includedirs = []
            c.defines = ["OMNI_CUDA_PREBUILT"]
            c.system_libs = ["cudart", "cublas"]
            c.requires = ["omni"]
