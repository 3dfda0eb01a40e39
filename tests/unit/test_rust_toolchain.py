"""The Rust toolchain selection rule, on fake toolchains (real executables on a controlled PATH)."""
from __future__ import annotations

import pytest

import rustfakes
from uktoolchain import doctor, rust_toolchain
from uktoolchain.errors import ConfigError, RustSourceMissingError, RustToolchainMissingError


@pytest.fixture
def cb_registry(tmp_path):
    return str(rustfakes.registry(tmp_path / "registry", "0.1.9", "0.1.70"))


def test_first_usable_rustc_on_path_wins_over_one_without_rust_src(tmp_path, cb_registry):
    rustup = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    debian = rustfakes.toolchain(tmp_path / "debian", "1.63.0")
    env = {"PATH": f"{rustup.parent}:{debian.parent}"}
    found = rust_toolchain.survey(env, fallbacks=(), registry=cb_registry)
    assert [c.release for c in found.looked_at] == ["1.95.0", "1.63.0"]
    assert "rust-src missing" in found.looked_at[0].problems[0]
    chosen = rust_toolchain.select(env, fallbacks=(), registry=cb_registry)
    assert chosen.rustc == debian and chosen.cargo == debian.parent / "cargo"
    assert chosen.release == "1.63.0"
    # The newest packaged compiler_builtins, by version number (0.1.70 > 0.1.9).
    assert chosen.compiler_builtins.name == "compiler_builtins-0.1.70"


def test_fallback_finds_a_toolchain_shadowed_off_path(tmp_path, cb_registry):
    debian = rustfakes.toolchain(tmp_path / "usr", "1.63.0")
    empty = tmp_path / "empty"
    empty.mkdir()
    chosen = rust_toolchain.select({"PATH": str(empty)}, fallbacks=(str(debian),), registry=cb_registry)
    assert chosen.rustc == debian


def test_in_tree_compiler_builtins_need_no_registry(tmp_path):
    rustc = rustfakes.toolchain(tmp_path / "tc", "1.90.0", in_tree_builtins=True)
    chosen = rust_toolchain.select({"PATH": str(rustc.parent)}, fallbacks=(), registry=str(tmp_path / "none"))
    assert chosen.compiler_builtins == chosen.library / "compiler-builtins" / "compiler-builtins"


def test_explicit_rustc_is_never_replaced_by_another(tmp_path, cb_registry):
    lacking = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    usable = rustfakes.toolchain(tmp_path / "debian", "1.63.0")
    env = {"PATH": str(usable.parent), "UKTOOLCHAIN_RUSTC": str(lacking)}
    with pytest.raises(RustSourceMissingError) as caught:
        rust_toolchain.select(env, fallbacks=(), registry=cb_registry)
    assert caught.value.exit_code == 4
    assert "rustup component add rust-src" in str(caught.value)
    assert str(lacking) in str(caught.value)


def test_explicit_cargo_and_bad_explicit_rustc(tmp_path, cb_registry):
    rustc = rustfakes.toolchain(tmp_path / "tc", "1.63.0", cargo=False)
    other_cargo = rustfakes.toolchain(tmp_path / "other", "1.64.0").parent / "cargo"
    chosen = rust_toolchain.select({"UKTOOLCHAIN_RUSTC": str(rustc), "UKTOOLCHAIN_CARGO": str(other_cargo)},
                                   fallbacks=(), registry=cb_registry)
    assert chosen.cargo == other_cargo
    with pytest.raises(ConfigError) as caught:
        rust_toolchain.select({"UKTOOLCHAIN_RUSTC": str(tmp_path / "nope")}, fallbacks=(), registry=cb_registry)
    assert caught.value.exit_code == 3 and "UKTOOLCHAIN_RUSTC" in str(caught.value)


def test_no_toolchain_at_all(tmp_path, cb_registry):
    with pytest.raises(RustToolchainMissingError) as caught:
        rust_toolchain.select({"PATH": str(tmp_path)}, fallbacks=(), registry=cb_registry)
    assert caught.value.exit_code == 6
    assert "apt-get install -y rustc cargo rust-src" in str(caught.value)


def test_missing_pieces_are_named_with_their_fix(tmp_path, cb_registry):
    no_cargo = rustfakes.toolchain(tmp_path / "a", "1.63.0", cargo=False)
    with pytest.raises(RustToolchainMissingError, match="no cargo beside"):
        rust_toolchain.select({"PATH": str(no_cargo.parent)}, fallbacks=(), registry=cb_registry)
    no_builtins = rustfakes.toolchain(tmp_path / "b", "1.63.0")
    with pytest.raises(RustSourceMissingError, match="no compiler_builtins source") as caught:
        rust_toolchain.select({"PATH": str(no_builtins.parent)}, fallbacks=(), registry=str(tmp_path / "none"))
    assert "librust-compiler-builtins-dev" in str(caught.value)


def test_fingerprint_follows_the_compiler(tmp_path, cb_registry):
    one = rust_toolchain.select({"PATH": str(rustfakes.toolchain(tmp_path / "a", "1.63.0").parent)},
                                fallbacks=(), registry=cb_registry)
    again = rust_toolchain.select({"PATH": str(one.rustc.parent)}, fallbacks=(), registry=cb_registry)
    other = rust_toolchain.select({"PATH": str(rustfakes.toolchain(tmp_path / "b", "1.64.0").parent)},
                                  fallbacks=(), registry=cb_registry)
    assert one.fingerprint() == again.fingerprint() != other.fingerprint()
    conf = dict(item.split("=", 1) for item in one.conan_conf())
    assert conf["user.uktoolchain:rustc"] == str(one.rustc)


def test_doctor_names_the_toolchain_and_what_others_lack(tmp_path, monkeypatch):
    rustup = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    monkeypatch.setenv("PATH", str(rustup.parent))
    monkeypatch.setenv("UKTOOLCHAIN_RUSTC", str(rustup))
    [check] = doctor.run_checks(["rust"])
    assert not check.ok
    assert "1.95.0" in check.detail and "rust-src missing" in check.detail
    assert check.hint("debian").startswith("rustup component add rust-src")
    monkeypatch.delenv("UKTOOLCHAIN_RUSTC")
    monkeypatch.setenv("PATH", f"{rustup.parent}:{rustfakes.toolchain(tmp_path / 'deb', '1.63.0', in_tree_builtins=True).parent}")
    [check] = doctor.run_checks(["rust"])
    assert check.ok, check.detail
    assert check.detail.startswith(f"will use (by the rule) rustc {tmp_path / 'deb' / 'bin' / 'rustc'} (1.63.0)")
    assert "passed over" in check.detail and "1.95.0" in check.detail


# -- the choice recorded at install, checked by stat ------------------------------------------------


@pytest.fixture
def runs(monkeypatch):
    """Every rustc/cargo the selection runs, in order."""
    ran: list[str] = []
    real = rust_toolchain._run

    def counting(argv):
        ran.append(argv[0])
        return real(argv)

    monkeypatch.setattr(rust_toolchain, "_run", counting)
    return ran


def test_recorded_choice_is_answered_without_running_a_compiler(tmp_path, cb_registry, runs):
    rustup = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    debian = rustfakes.toolchain(tmp_path / "debian", "1.63.0")
    env = {"PATH": f"{rustup.parent}:{debian.parent}", "RUSTUP_HOME": str(tmp_path / "rustup-home")}
    record_file = tmp_path / "state" / "rust-toolchain.json"
    chosen = rust_toolchain.select_recorded(record_file, env, fallbacks=(), registry=cb_registry)
    assert chosen == rust_toolchain.select(env, fallbacks=(), registry=cb_registry)
    assert runs and record_file.is_file()
    runs.clear()
    again = rust_toolchain.select_recorded(record_file, env, fallbacks=(), registry=cb_registry)
    assert again == chosen and runs == []
    assert rust_toolchain.ToolchainRecord.from_json(record_file.read_text()).toolchain == chosen


def _changes(tmp_path):
    """Changes after which the rule may choose another toolchain: each must make the record stale."""
    def replaced_compiler(debian, rustup, env):
        debian.write_text(debian.read_text() + "# upgraded\n")

    def rust_src_added_to_the_earlier_toolchain(debian, rustup, env):
        rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=True, rustup=True)

    def explicit_choice(debian, rustup, env):
        env["UKTOOLCHAIN_RUSTC"] = str(rustfakes.toolchain(tmp_path / "other", "1.70.0"))

    def new_rustc_earlier_on_path(debian, rustup, env):
        env["PATH"] = f"{rustfakes.toolchain(tmp_path / 'new', '1.80.0').parent}:{env['PATH']}"

    def rustup_default_changed(debian, rustup, env):
        (tmp_path / "rustup-home").mkdir(exist_ok=True)
        (tmp_path / "rustup-home" / "settings.toml").write_text('default_toolchain = "nightly"\n')

    return [replaced_compiler, rust_src_added_to_the_earlier_toolchain, explicit_choice, new_rustc_earlier_on_path,
            rustup_default_changed]


@pytest.mark.parametrize("change", range(5))
def test_record_goes_stale_when_the_rule_may_choose_otherwise(tmp_path, cb_registry, runs, change):
    rustup = rustfakes.toolchain(tmp_path / "rustup", "1.95.0", rust_src=False, rustup=True)
    debian = rustfakes.toolchain(tmp_path / "debian", "1.63.0")
    env = {"PATH": f"{rustup.parent}:{debian.parent}", "RUSTUP_HOME": str(tmp_path / "rustup-home")}
    record = rust_toolchain.record_choice(env, fallbacks=(), registry=cb_registry)
    assert rust_toolchain.still_chosen(record, env, fallbacks=())
    apply = _changes(tmp_path)[change]
    apply(debian, rustup, env)
    assert not rust_toolchain.still_chosen(record, env, fallbacks=()), apply.__name__
    record_file = tmp_path / "record.json"
    rust_toolchain.save_record(record_file, record)
    runs.clear()
    assert rust_toolchain.select_recorded(record_file, env, fallbacks=(), registry=cb_registry) == \
        rust_toolchain.select(env, fallbacks=(), registry=cb_registry)
    assert runs  # applied the rule again, and recorded its new answer
    assert rust_toolchain.still_chosen(rust_toolchain.ToolchainRecord.from_json(record_file.read_text()), env, fallbacks=())


def test_unreadable_or_old_record_means_applying_the_rule(tmp_path, cb_registry):
    debian = rustfakes.toolchain(tmp_path / "debian", "1.63.0")
    record_file = tmp_path / "record.json"
    record_file.write_text('{"format": 0}')
    assert rust_toolchain.ToolchainRecord.from_json(record_file.read_text()) is None
    assert rust_toolchain.select_recorded(record_file, {"PATH": str(debian.parent)}, fallbacks=(),
                                          registry=cb_registry).rustc == debian
    record_file.write_text("not json")
    assert rust_toolchain.select_recorded(record_file, {"PATH": str(debian.parent)}, fallbacks=(),
                                          registry=cb_registry).rustc == debian
