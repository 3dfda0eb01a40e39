"""What the user sees: messages (``say``: progress and reports on stderr; ``out``: results on
stdout, for scripts and pipes), and the view of packages being fetched and built.

Two views with one interface, ``update(name, state, **info)``: a rich live table (one line per
component) on a terminal, and plain lines when output is not a TTY, with ``--plain``, or in CI.
States: waiting, downloading (done/total bytes), building|fetching (started, estimate, filler), cached,
done (elapsed), failed (reason).
"""
from __future__ import annotations

import sys
import threading
import time


def say(message: str) -> None:
    """A message for the user (stderr, so that stdout stays the command's result)."""
    print(message, file=sys.stderr, flush=True)


def out(text: str = "", end: str = "\n") -> None:
    """The command's result, on stdout (print: with stdout closed, sys.stdout is None and print
    writes nothing, as a command whose output nobody reads should)."""
    print(text, end=end)


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def human_seconds(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _Row:
    def __init__(self) -> None:
        self.state = "waiting"
        self.info: dict = {}
        self.rate_mark: tuple[float, int] | None = None
        self.rate = 0.0

    def describe(self, now: float) -> str:
        info = self.info
        if self.state == "downloading":
            done, total = info.get("done", 0), info.get("total")
            amount = f"{human_bytes(done)} / {human_bytes(total)}" if total else human_bytes(done)
            return f"downloading source  {amount}  {human_bytes(self.rate)}/s"
        if self.state in ("building", "fetching"):
            elapsed = now - info["started"]
            text = f"{self.state}  {human_seconds(elapsed)}"
            if info.get("filler"):  # off the critical path: it only gets cores the others leave idle
                text += "  on idle cores"
            estimate = info.get("estimate")
            if estimate and self.state == "building":
                remaining = estimate - elapsed
                text += f"  (ETA {human_seconds(remaining)})" if remaining > 0 else "  (longer than last time)"
            return text
        if self.state == "done":
            return f"done in {human_seconds(info.get('elapsed', 0))}"
        if self.state == "failed":
            return f"FAILED ({info.get('reason', '')})"
        return self.state

    def note_progress(self, now: float, done: int) -> None:
        if self.rate_mark is None:
            self.rate_mark = (now, done)
            return
        then, before = self.rate_mark
        if now - then >= 0.5:
            self.rate = (done - before) / (now - then)
            self.rate_mark = (now, done)


class PlainView:
    """One line per state change; byte progress is summarised, never streamed."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.rows: dict[str, _Row] = {}
        self.lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start(self, names: list[str]) -> None:
        for name in names:
            self.rows[name] = _Row()

    def update(self, name: str, state: str, **info) -> None:
        with self.lock:
            row = self.rows.setdefault(name, _Row())
            changed = state != row.state
            row.state, row.info = state, info
            if state == "downloading":
                row.note_progress(time.monotonic(), info.get("done", 0))
            if changed:
                print(f"{name}: {row.describe(time.monotonic())}", file=self.stream, flush=True)


class RichView(PlainView):
    """A live table redrawn a few times a second."""

    def __init__(self, console) -> None:
        super().__init__(console.file)
        self.console = console
        self.live = None

    def __enter__(self):
        from rich.live import Live

        self.live = Live(self._render(), console=self.console, refresh_per_second=4, get_renderable=self._render)
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, name: str, state: str, **info) -> None:
        with self.lock:
            row = self.rows.setdefault(name, _Row())
            row.state, row.info = state, info
            if state == "downloading":
                row.note_progress(time.monotonic(), info.get("done", 0))

    def _render(self):
        from rich.table import Table

        styles = {"done": "green", "cached": "green", "failed": "bold red", "building": "yellow",
                  "downloading": "cyan", "fetching": "cyan"}
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        with self.lock:
            for name, row in self.rows.items():
                table.add_row(f"[bold]{name}[/]", f"[{styles.get(row.state, 'dim')}]{row.describe(now)}[/]")
        return table


def make_view(plain: bool):
    if not plain and sys.stderr.isatty():
        from rich.console import Console

        return RichView(Console(stderr=True))
    return PlainView()
