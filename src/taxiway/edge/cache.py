"""The PoP's last acknowledged config, on disk before anything acts on it.

One JSON file in the state directory (:attr:`EdgeSettings.cache_file`), the wire shape of
:meth:`PopConfig.to_json`. The puller saves every config it accepts here *before* the
controller sees it, so a restarted edge (with the control plane away, or after the
machine rebooted and took HAProxy with it) routes exactly what it last acknowledged. A
save is :func:`taxiway.system.atomic_file.write`: a crash leaves the old file or the new
one, never half of one.

A file that cannot be read back (truncated by a full disk, edited by hand) is moved
aside as ``<name>.corrupt`` with a warning and the edge starts as if it had none: the
control plane's next answer replaces it, and HAProxy, if it still runs, keeps serving.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from taxiway.errors import ConfigurationError, TaxiwayError
from taxiway.plan.edge import popconfig
from taxiway.system import atomic_file

log = logging.getLogger(__name__)


class ConfigCache:
    def __init__(self, path: Path, pop: str) -> None:
        self.path = path
        self.pop = pop

    def load(self) -> popconfig.PopConfig | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigurationError(f"{self.path}: cannot read the cached PoP config ({exc})") from exc
        try:
            parsed = popconfig.parse(json.loads(text), self.pop)
        except (ValueError, TaxiwayError) as exc:
            aside = self.path.with_name(self.path.name + ".corrupt")
            os.replace(self.path, aside)
            log.warning(
                "%s is unreadable (%s); moved to %s, starting without a cached config", self.path, exc, aside
            )
            return None
        for problem in parsed.problems:
            log.warning("cached config: %s", problem)
        return parsed.config

    def save(self, config: popconfig.PopConfig) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.dumps(config.to_json(), indent=1, sort_keys=True) + "\n"
        try:
            atomic_file.write_text(self.path, data)
        except OSError as exc:
            raise ConfigurationError(f"{self.path}: cannot save the PoP config ({exc})") from exc
