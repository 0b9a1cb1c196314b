import pytest

from inventory import progress


def test_no_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(progress.progress(range(3), "counting")) == [0, 1, 2]
    bar = progress.bar(5, "working")
    bar.update(5)
    bar.close()
    assert capsys.readouterr() == ("", "")


def test_bars_go_to_stderr_only(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setattr(progress, "interactive", lambda: True)
    assert list(progress.progress(range(3), "counting", total=3)) == [0, 1, 2]
    out, err = capsys.readouterr()
    assert out == ""
    assert "counting" in err and "3/3" in err and "it/s" in err


def test_muted_swallows_library_output_unless_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    progress.quiet_libraries(verbose=True)
    with progress.muted():
        print("shown", file=sys.stderr)
    progress.quiet_libraries(verbose=False)
    with progress.muted():
        print("noise", file=sys.stderr)
    assert capsys.readouterr().err == "shown\n"
