"""main(), run on the host by pytest."""

import app


def test_greets_each_argument(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["app", "Ada", "Grace"])
    assert app.main() == 0
    assert capsys.readouterr().out == "Hello, Ada!\nHello, Grace!\n"


def test_greets_the_world_by_default(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["app"])
    assert app.main() == 0
    assert capsys.readouterr().out == "Hello, world!\n"
