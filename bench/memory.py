"""Resident memory (RSS) of a process and all its descendants, from /proc (Linux)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Dict, List

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> Dict[int, List[int]]:
    tree: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` plus every descendant, in MB (10^6 bytes)."""
    tree, total, todo = _children(), 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_bytes(current)
        todo.extend(tree.get(current, []))
    return total / 1e6


class PeakSampler:
    """Samples ``tree_rss_mb`` of some processes every ``interval_s`` while running."""

    def __init__(self, pids: Dict[str, int], interval_s: float = 0.5) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.peak_mb: Dict[str, float] = {name: 0.0 for name in pids}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.peak_mb[name] = max(self.peak_mb[name], tree_rss_mb(pid))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval_s)

    async def __aenter__(self) -> PeakSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
        self.sample()
