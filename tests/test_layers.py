"""The import rules of the layers (README "Dependencies"), checked by parsing every
import statement (module level and inside functions) of the product packages.

- `sdl.vocab` (the shared vocabulary) imports nothing else of ours; `sdl/__init__` nothing;
- `hardware`, `surrogates` and `simulator` import from `sdl` only `sdl.vocab`;
- `hardware` outside `hardware/emulators` never imports `simulator`;
- `sdl.analysis` imports from `sdl` only itself and `sdl.vocab`, and no other package;
- `simulator` and `surrogates` import neither `hardware` nor each other;
- each layer has its own error base, none deriving from another's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("sdl", "hardware", "surrogates", "simulator")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `path`, including string literals
    given to `importlib.import_module`."""
    tree = ast.parse(path.read_text(), str(path))
    out: list[tuple[int, str]] = []
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names if mod in OURS]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.args[0].value))
    return out


def _files(pattern: str) -> list[Path]:
    return sorted(ROOT.glob(pattern))


def _top(mod: str) -> str:
    return mod.split(".")[0]


def _is(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def _violations(files: list[Path], allowed) -> list[str]:
    bad = []
    for f in files:
        for line, mod in _imports(f):
            if _top(mod) in OURS and not allowed(f, mod):
                bad.append(f"{f.relative_to(ROOT)}:{line} imports {mod}")
    return bad


def test_the_import_parser_sees_function_level_and_relative_imports(tmp_path):
    pkg = ROOT / "sdl" / "analysis" / "photon_files" / "__init__.py"
    mods = [m for _, m in _imports(pkg)]
    assert "sdl.analysis.photon_files.ptu" in mods
    assert any(m == "sdl.analysis.g2" for _, m in _imports(ROOT / "sdl" / "analysis" / "score.py"))


def test_vocab_is_a_leaf():
    assert _violations(_files("sdl/vocab/**/*.py"), lambda f, m: _is(m, "sdl.vocab")) == []
    assert [m for _, m in _imports(ROOT / "sdl" / "__init__.py") if _top(m) in OURS] == []


@pytest.mark.parametrize("package", ["hardware", "surrogates", "simulator"])
def test_layers_take_only_the_vocabulary_from_sdl(package):
    def allowed(f: Path, mod: str) -> bool:
        return _top(mod) != "sdl" or _is(mod, "sdl.vocab")

    assert _violations(_files(f"{package}/**/*.py"), allowed) == []


def test_hardware_outside_the_emulators_never_imports_the_simulator():
    files = [f for f in _files("hardware/**/*.py") if "emulators" not in f.parts]
    assert files
    assert _violations(files, lambda f, m: _top(m) != "simulator") == []


@pytest.mark.parametrize("package,forbidden", [
    ("simulator", ("hardware", "surrogates")),
    ("surrogates", ("hardware", "simulator")),
])
def test_numeric_cores_stand_alone(package, forbidden):
    assert _violations(_files(f"{package}/**/*.py"), lambda f, m: _top(m) not in forbidden) == []


def test_analysis_imports_only_itself_and_the_vocabulary():
    def allowed(f: Path, mod: str) -> bool:
        return _is(mod, "sdl.analysis") or _is(mod, "sdl.vocab")

    assert _violations(_files("sdl/analysis/**/*.py"), allowed) == []


def test_each_layer_has_its_own_error_base():
    from hardware.errors import HardwareLayerError
    from sdl.analysis.errors import AnalysisError
    from sdl.errors import SdlError, exit_code_of
    from surrogates.errors import SurrogateError

    bases = [SdlError, AnalysisError, HardwareLayerError, SurrogateError]
    for a in bases:
        for b in bases:
            assert a is b or not issubclass(a, b), (a, b)
        assert exit_code_of(a("x")) == a.exit_code
    assert exit_code_of(ValueError("a bug")) is None
    assert HardwareLayerError.exit_code == 3 and AnalysisError.exit_code == 2
