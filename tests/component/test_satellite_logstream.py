"""Following a log file the way the shim writes it: across rotations, no line lost or repeated."""

from __future__ import annotations

from pathlib import Path

from taxiway.plan.region.instance_spec import InstanceSpec
from taxiway.runtime import fake, logfile
from taxiway.satellite import logstream


def test_following_starts_at_the_end_and_survives_rotation(tmp_path: Path) -> None:
    path = tmp_path / "instance.log"
    log = logfile.RotatingLog(path, logfile.Rotation(max_bytes=64, keep=2))
    log.write(b"before the follower\n")
    follower = logstream.FileFollower(path)
    received: list[str] = []
    for index in range(40):  # 40 lines of ~10 bytes through 64-byte files: several rotations
        log.write(f"line {index:03d}\n".encode())
        if index % 7 == 0:
            received += follower.read()
    log.write(b"half a li")
    received += follower.read()
    log.write(b"ne\n")
    received += follower.read()
    log.close()
    follower.close()
    assert received == [f"line {index:03d}" for index in range(40)] + ["half a line"]
    assert path.with_name("instance.log.2").exists(), "the test did rotate"


def test_a_file_created_or_truncated_later_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "instance.log"
    follower = logstream.FileFollower(path)
    try:
        assert follower.read() == []
        path.write_text("first line\n")
        assert follower.read() == ["first line"]
        path.write_text("new\n")  # truncated in place, now shorter than what was read
        assert follower.read() == ["new"]
    finally:
        follower.close()


def test_the_driver_follower_passes_on_only_new_lines() -> None:
    runtime = fake.FakeDriver()
    spec = InstanceSpec("a-production-r1-0", "a", "production", "r", 1, "dc", "n", ("x",))
    runtime.start(spec)
    follower = logstream.DriverFollower(runtime, spec.instance_id)
    assert follower.read() == []
    runtime.crash(spec.instance_id)
    runtime.start(spec)
    (line,) = follower.read()
    assert line.startswith("started a-production-r1-0")
    assert follower.read() == []
