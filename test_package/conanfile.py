"""The package's consumer test: builds and runs a tiny Omni-C forward against the created package."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class OmniTestPackage(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    # CMakeToolchain puts the package's lib/cmake/omni on CMAKE_PREFIX_PATH; CMakeDeps writes
    # config files for any requirement that comes from a Conan package rather than the platform.
    generators = "CMakeToolchain", "CMakeDeps"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.cpp.build.bindir, "omni_test_package"), env="conanrun")
