"""`sdl bench` with a peer of the bench extra missing: one line naming the extra, exit 2,
before any benchmark work (the peers of `bench bo` import only when their runs start)."""

from __future__ import annotations

import sys

import pytest

from sdl.cli import main


@pytest.mark.parametrize("peer", ["ax", "baybe"])
def test_missing_peer_is_one_clear_line_before_any_run(peer, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, peer, None)  # `import peer` raises ModuleNotFoundError
    code = main(["bench", "bo", "--methods", f"sobol,{peer}", "--problems", "cdse-colour",
                 "--seeds", "1", "--budget", "9", "--timing", ""])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (f"sdl bench: error: benchmark 'bo' needs {peer}: install the bench "
                           "extra (.venv/bin/pip install -e '.[bench]')")
    assert "seed" not in err  # no run started


def test_our_own_missing_module_is_not_blamed_on_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "benchmarks.bench_sim", None)
    assert main(["bench", "sim", "--json"]) == 3
    assert "internal error" in capsys.readouterr().err
