"""Bad option values are refused by the parser with the option and the reason: exit status 2,
no traceback, nothing started (``commands.arguments``)."""

from __future__ import annotations

import pytest

from ville_autonome.commands.main import build_parser, main

BAD = [
    (["simulate", "--speed", "0"], "--speed", "greater than 0"),
    (["simulate", "--speed", "-5"], "--speed", "greater than 0"),
    (["simulate", "--speed", "nan"], "--speed", "not a finite number"),
    (["simulate", "--speed", "inf"], "--speed", "not a finite number"),
    (["simulate", "--speed", "fast"], "--speed", "not a number"),
    (["simulate", "--backfill-days", "nan"], "--backfill-days", "not a finite number"),
    (["simulate", "--backfill-days", "0"], "--backfill-days", "greater than 0"),
    (["simulate", "--backfill-days", "1", "--step-s", "0"], "--step-s", "greater than 0"),
    (["simulate", "--step-s", "1.5"], "--step-s", "not an integer"),
    (["simulate", "--control-port", "70000"], "--control-port", "1…65535"),
    (["simulate", "--control-port", "0"], "--control-port", "1…65535"),
    (["demo", "--speed", "0"], "--speed", "greater than 0"),
    (["demo", "--speed=-inf"], "--speed", "not a finite number"),
    (["demo", "--backfill-days", "-1"], "--backfill-days", "0 or more"),
    (["demo", "--backfill-days", "nan"], "--backfill-days", "not a finite number"),
    (["demo", "--port", "65536"], "--port", "1…65535"),
    (["demo", "--mqtt-port", "-1"], "--mqtt-port", "1…65535"),
    (["demo", "--webhook-port", "x"], "--webhook-port", "not an integer"),
    (["--log-level", "LOUD", "demo"], "--log-level", "not one of DEBUG, INFO"),
]


@pytest.mark.parametrize(("argv", "option", "reason"), BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_a_bad_option_value_is_refused_with_its_reason(
    argv: list[str], option: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert f"error: argument {option}" in line, err
    assert reason in line, err


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["simulate", "--speed", "0.5"], "speed", 0.5),
        (["simulate", "--speed", "60"], "speed", 60.0),
        (["simulate", "--step-s", "60"], "step_s", 60),
        (["demo", "--backfill-days", "0"], "backfill_days", 0.0),
        (["demo", "--port", "8080"], "port", 8080),
    ],
)
def test_a_good_option_value_is_taken(argv: list[str], option: str, value: float) -> None:
    args = build_parser().parse_args(argv)
    assert getattr(args, option) == value


def test_a_bad_log_level_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VA_LOG_LEVEL", "verbose")
    with pytest.raises(SystemExit) as exited:
        main(["check-config", "config/amiens.yaml"])
    assert exited.value.code == 2
    assert "error: argument --log-level: 'verbose' is not one of" in capsys.readouterr().err


def test_the_log_level_takes_any_case() -> None:
    assert build_parser().parse_args(["--log-level", "debug", "demo"]).log_level == "DEBUG"
