"""The machine's processes as Linux's /proc shows them: what the scheduler raises and the filler
gate counts. Elsewhere (no /proc) there are none."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    pid: int
    state: str  # R running or runnable, S sleeping, T stopped, ...
    group: int  # its process group


def processes() -> Iterator[Process]:
    try:
        entries = os.scandir("/proc")
    except OSError:
        return
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()  # after "pid (name)"
            except OSError:  # gone meanwhile
                continue
            yield Process(int(entry.name), fields[0].decode(), int(fields[2]))  # state, ppid, pgrp
