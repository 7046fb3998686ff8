"""A failing instance's log excerpt starts where the error does, not 20 lines from the end."""

from __future__ import annotations

from taxiway.satellite import log_excerpt

STAMP = "2026-12-01T09:10:11.123Z "


def frames(count: int) -> list[str]:
    lines = []
    for index in range(count):
        lines += [
            f'  File "/srv/app/layer{index}.py", line {index}, in call',
            f"    return layer{index + 1}()",
        ]
    return lines


def test_a_deep_traceback_is_shown_from_its_first_line_to_its_last() -> None:
    crash = [
        "Traceback (most recent call last):",
        *frames(12),
        "ModuleNotFoundError: No module named 'flask'",
    ]
    log = [STAMP + line for line in ["[INFO] Starting gunicorn 23.0.0", "[INFO] Booting worker", *crash]]
    shown = log_excerpt.excerpt(log)
    assert shown == crash, "the old last-20-lines tail began mid-traceback and lost its first line"


def test_only_the_last_crash_is_shown_with_its_chained_exceptions() -> None:
    first_crash = ["Traceback (most recent call last):", *frames(1), "KeyError: 'old'"]
    last = [
        "Traceback (most recent call last):",
        *frames(1),
        "KeyError: 'DATABASE_URL'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        *frames(1),
        "RuntimeError: DATABASE_URL is not set",
    ]
    assert log_excerpt.excerpt([*first_crash, "restarting", *last]) == last


def test_without_a_traceback_the_last_block_of_errors_is_shown() -> None:
    log = [
        "starting",
        "listening on 8080",
        "ERROR: cannot bind 127.0.0.1:8080",
        "  address in use",
        "exiting",
    ]
    assert log_excerpt.excerpt(log) == log[2:]


def test_a_log_without_any_error_shows_its_last_lines() -> None:
    log = [f"line {index}" for index in range(50)]
    assert log_excerpt.excerpt(log) == log[-log_excerpt.FALLBACK_LINES :]


def test_a_long_excerpt_keeps_its_head_and_its_end() -> None:
    crash = [
        "Traceback (most recent call last):",
        *frames(40),
        "RecursionError: maximum recursion depth exceeded",
    ]
    shown = log_excerpt.excerpt(crash)
    assert len(shown) == log_excerpt.MAX_LINES
    assert shown[0] == crash[0]
    assert shown[-1] == crash[-1]
    left_out = len(crash) - log_excerpt.MAX_LINES + 1
    assert f"… {left_out} lines left out …" in shown
