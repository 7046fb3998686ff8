"""Size-based log rotation on a real directory: bounds, line boundaries, tail across files."""

from __future__ import annotations

from pathlib import Path

from taxiway.runtime import logfile


def sizes(directory: Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in sorted(directory.iterdir())}


def test_rotation_splits_at_line_boundaries_and_keeps_the_newest(tmp_path: Path) -> None:
    log = logfile.RotatingLog(tmp_path / "instance.log", logfile.Rotation(max_bytes=100, keep=2))
    for index in range(30):
        log.write(f"line {index:02d} {'.' * 20}\n".encode())  # 29 bytes each: three per file
    log.close()
    assert sizes(tmp_path) == {"instance.log": 87, "instance.log.1": 87, "instance.log.2": 87}
    assert logfile.tail(tmp_path / "instance.log", 2, 4) == [
        f"line {index:02d} {'.' * 20}" for index in range(26, 30)
    ]


def test_a_line_longer_than_the_bound_is_hard_split(tmp_path: Path) -> None:
    log = logfile.RotatingLog(tmp_path / "instance.log", logfile.Rotation(max_bytes=64, keep=5))
    log.write(b"x" * 200 + b"\n")
    log.close()
    assert all(size <= 64 for size in sizes(tmp_path).values())
    assert sum(sizes(tmp_path).values()) == 201


def test_keep_zero_holds_one_file(tmp_path: Path) -> None:
    log = logfile.RotatingLog(tmp_path / "instance.log", logfile.Rotation(max_bytes=10, keep=0))
    log.write(b"aaaa\nbbbb\ncccc\n")
    log.close()
    assert sizes(tmp_path) == {"instance.log": 5}
    assert logfile.tail(tmp_path / "instance.log", 0, 10) == ["cccc"]


def test_a_reopened_log_continues_where_it_was(tmp_path: Path) -> None:
    rotation = logfile.Rotation(max_bytes=10, keep=1)
    for _ in range(2):
        log = logfile.RotatingLog(tmp_path / "instance.log", rotation)
        log.write(b"12345\n")
        log.close()
    assert sizes(tmp_path) == {"instance.log": 6, "instance.log.1": 6}


def test_every_line_is_stamped_once_however_the_output_is_chunked() -> None:
    stamper = logfile.Stamper()
    written = stamper.apply(b"starting", 0.0) + stamper.apply(b" up\n\nTraceback", 1.5)
    written += stamper.apply(b" (most recent call last):\n", 2.0)
    assert written.decode().splitlines() == [
        "1970-01-01T00:00:00.000Z starting up",
        "1970-01-01T00:00:01.500Z ",
        "1970-01-01T00:00:01.500Z Traceback (most recent call last):",
    ]
    assert [logfile.split_stamp(line) for line in written.decode().splitlines()][1:] == [
        ("1970-01-01T00:00:01.500Z", ""),
        ("1970-01-01T00:00:01.500Z", "Traceback (most recent call last):"),
    ]
    assert logfile.split_stamp("no stamp here") == (None, "no stamp here")


def test_since_keeps_the_lines_stamped_at_or_after_the_moment() -> None:
    lines = [
        "1970-01-01T00:00:00.000Z a",
        "old line",
        "1970-01-01T00:00:01.000Z b",
        "1970-01-01T00:00:02.000Z c",
    ]
    assert logfile.since(lines, logfile.stamp(1.0)) == lines[2:]
