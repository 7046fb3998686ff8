"""Keeping a Prometheus's ``targets/`` and ``rules/`` directories as the platform says, and
telling it.

A satellite (for its region) and the control plane (for the global Prometheus) call
:meth:`PrometheusFiles.publish` with everything the Prometheus should scrape and evaluate
now. Files are written atomically and only when their text changes; rule files the
platform no longer names are removed. file_sd notices target files by itself; a change of
rules needs a reload, asked for with ``POST /-/reload`` (Prometheus runs with
``--web.enable-lifecycle``). A Prometheus that does not answer keeps what it loaded and is
asked again on the next publish: it never stops scraping because its publisher is away.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from taxiway.plan.observability import prometheus_config, scrape_targets
from taxiway.system import atomic_file

log = logging.getLogger(__name__)

RULE_SUFFIX = ".yml"
RELOAD_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Published:
    targets_changed: bool
    rules_changed: bool
    reloaded: bool


def _write_if_changed(path: Path, text: str) -> bool:
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    atomic_file.write_text(path, text, mode=0o644)
    return True


def reload(url: str, timeout: float = RELOAD_TIMEOUT_SECONDS) -> bool:
    """Ask the Prometheus at ``url`` to reload its configuration and rules."""
    request = urllib.request.Request(f"{url.rstrip('/')}/-/reload", method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return bool(200 <= answer.status < 300)
    except (urllib.error.URLError, OSError) as exc:
        log.warning("Prometheus at %s did not reload (%s); it keeps its last rules", url, exc)
        return False


class PrometheusFiles:
    """One Prometheus's directory (``targets/``, ``rules/``) and, optionally, its URL."""

    def __init__(self, directory: Path, url: str | None = None) -> None:
        self.directory = directory
        self.url = url
        self._reload_owed = False

    @property
    def targets_dir(self) -> Path:
        return self.directory / prometheus_config.TARGETS_DIR

    @property
    def rules_dir(self) -> Path:
        return self.directory / prometheus_config.RULES_DIR

    def publish(
        self, targets: Mapping[str, Sequence[scrape_targets.Group]], rules: Mapping[str, str]
    ) -> Published:
        """Write each job's targets (``<job>.json``) and each rule file (``<name>.yml``)."""
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        targets_changed = False
        for job, groups in targets.items():
            targets_changed |= _write_if_changed(
                self.targets_dir / f"{job}.json", scrape_targets.render(groups)
            )
        rules_changed = False
        wanted = {f"{name}{RULE_SUFFIX}" for name in rules}
        for stale in self.rules_dir.glob(f"*{RULE_SUFFIX}"):
            if stale.name not in wanted:
                stale.unlink(missing_ok=True)
                rules_changed = True
        for name, text in rules.items():
            rules_changed |= _write_if_changed(self.rules_dir / f"{name}{RULE_SUFFIX}", text)
        self._reload_owed |= rules_changed
        reloaded = False
        if self._reload_owed and self.url is not None:
            reloaded = reload(self.url)
            self._reload_owed = not reloaded
        return Published(targets_changed, rules_changed, reloaded)
