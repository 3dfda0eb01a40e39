"""Planning and building. Only ``conan_adapter`` imports Conan."""
