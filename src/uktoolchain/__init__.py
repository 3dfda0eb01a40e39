"""uktoolchain: cross-compilation toolchains for OCaml unikernels, built and cached with Conan 2."""

__version__ = "0.1.0"
