"""An owner's instance is an untrusted tenant: it reads nothing of the platform's, nor of
another service's (issue: an instance printed the admin token into its own log).

A "spy" service (greeter's name, hello's code) is given the path of every file, directory
and socket of the world — the control plane's database, sealing key and admin token, every
satellite's token, store, key and ingress sockets, the users registry, the other service's
homes, artifacts and ``/proc/<pid>/environ`` (which holds its secret) — and tries to read,
list or connect to each one before it serves. The test reads what it managed from its log.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.e2e.world import World, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="instances run as other users only under a root satellite"),
]

SPY = """
import os, runpy, socket, stat

tried, read = 0, []
for path in open("paths.txt").read().splitlines():
    tried += 1
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            os.listdir(path)
        elif stat.S_ISSOCK(mode):
            with socket.socket(socket.AF_UNIX) as peer:
                peer.connect(path)
        else:
            with open(path, "rb") as file:
                file.read(1)
        read.append(path)
    except OSError:
        pass
own = open(os.path.abspath("app.py"), "rb").read(1) and os.access(os.environ["HOME"], os.W_OK)
print(f"spy: tried {tried}, read {len(read)}, own files {'ok' if own else 'NOT READABLE'}", flush=True)
for path in read:
    print(f"spy: READ {path}", flush=True)
runpy.run_path("app.py", run_name="__main__")
"""


def spy_service(root: Path, paths: list[str]) -> Path:
    directory = root / "spy"
    shutil.copytree(EXAMPLES / "hello", directory)
    manifest = directory / ".taxiway" / "service.yaml"
    text = manifest.read_text().replace("name: hello", "name: greeter").replace("team-hello", "team-greeter")
    text = text.replace("command: [python3, app.py]", "command: [python3, spy.py]")
    text = text.replace(", asia-northeast3]", "]", 1)  # greeter runs in two regions
    manifest.write_text(text)
    (directory / ".taxiway" / "env-production.yaml").unlink()
    (directory / ".taxiway" / "service-staging.yaml").unlink()
    (directory / "spy.py").write_text(SPY)
    (directory / "paths.txt").write_text("\n".join(paths) + "\n")
    return directory


def everything_of(world: World, hello_pids: set[int]) -> list[str]:
    found = [world.root, world.tenants_root]
    for top in (world.root, world.tenants_root):
        found += sorted(top.rglob("*"))
    paths = [str(p) for p in found if "spy" not in p.parts]
    paths += [f"/proc/{pid}/environ" for pid in sorted(hello_pids)]
    return paths


@pytest.mark.timeout(240)
def test_an_instance_reads_no_token_key_database_or_other_tenant_file(world: World) -> None:
    assert world.deploy().returncode == 0
    world.wait_ready()
    hello_pids = set().union(*world.instance_pids().values())
    paths = everything_of(world, hello_pids)
    names = {Path(p).name for p in paths}
    # What there is to steal is really on the list.
    for secret in ("admin.token", "sealing.key", "taxiway.db", "satellite.key", "satellite.db", "users.json"):
        assert secret in names, f"{secret} is not in the world any more: the test no longer covers it"
    assert any(p.endswith(".token") and "/tokens/" in p for p in paths)
    assert any(Path(p).parent.name == "homes" and Path(p).name.startswith("hello-") for p in paths)

    spy = spy_service(world.root, paths)
    result = world.taxiway("deploy", str(spy), "--env", "production", "--timeout", "90s")
    assert result.returncode == 0, result.stdout + result.stderr

    instances = world.state_dir("us-east1") / "runtime" / "instances"

    def spied() -> list[str] | None:
        logs = instances.glob("greeter-*/instance.log")
        lines = [line for path in logs for line in path.read_text().splitlines() if "spy: " in line]
        return lines if any("spy: tried" in line for line in lines) else None

    lines = wait_for(spied, within=60, what="the spy's report in its log")
    summary = next(line for line in lines if "spy: tried" in line)
    assert f"tried {len(paths)}," in summary, summary
    assert "own files ok" in summary, summary  # it could read: its own code and home
    leaks = [line for line in lines if "spy: READ" in line]
    assert not leaks, "\n".join(leaks)
    assert "read 0," in summary, summary
