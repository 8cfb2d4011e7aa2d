"""Scanning files that can run code when loaded (pickle, joblib, cloudpickle, PyTorch).

picklescan lists the imports a pickle would make; an import it knows to be dangerous
(``os.system``, ``builtins.eval``, ...) makes the file unsafe. A file it cannot read to the
end (joblib interleaves raw arrays with pickle opcodes, for example) is not called clean:
loading it then needs ``trusted=True``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

from picklescan.scanner import SafetyLevel, scan_bytes

from plinth.entities.models import ScanStatus

PICKLE_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".joblib", ".cloudpickle", ".pt", ".pth", ".ckpt", ".bin", ".dill"}
)
"""File names whose content is (or may contain) a pickle."""


@dataclass(frozen=True)
class ScanReport:
    status: ScanStatus
    findings: list[str] = field(default_factory=list)
    """One line per dangerous or unreadable thing found: ``posix.system (dangerous)``."""

    @property
    def unsafe(self) -> bool:
        return self.status is ScanStatus.UNSAFE


def needs_scan(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in PICKLE_SUFFIXES


def scan_stream(source: BinaryIO, path: str) -> ScanReport:
    """Scan one file's bytes (``path`` is only its name, for the report and the format)."""
    if not needs_scan(path):
        return ScanReport(ScanStatus.NOT_NEEDED)
    suffix = PurePosixPath(path).suffix.lower()
    result = scan_bytes(source, path, suffix)
    dangerous = [
        f"{g.module}.{g.name} ({g.safety.value})"
        for g in result.globals
        if g.safety is SafetyLevel.Dangerous
    ]
    if dangerous or result.infected_files:
        return ScanReport(ScanStatus.UNSAFE, dangerous or [f"{path}: flagged by picklescan"])
    if result.scan_err:
        return ScanReport(
            ScanStatus.NOT_SCANNED, [f"{path}: could not be read to the end; load it trusted"]
        )
    return ScanReport(ScanStatus.CLEAN)


def scan_bytes_of(data: bytes, path: str) -> ScanReport:
    return scan_stream(io.BytesIO(data), path)


def combine(reports: list[ScanReport]) -> ScanReport:
    """A directory's verdict: unsafe if any file is, clean only if every scanned file is."""
    findings = [line for report in reports for line in report.findings]
    statuses = {report.status for report in reports}
    if ScanStatus.UNSAFE in statuses:
        return ScanReport(ScanStatus.UNSAFE, findings)
    if ScanStatus.NOT_SCANNED in statuses:
        return ScanReport(ScanStatus.NOT_SCANNED, findings)
    if ScanStatus.CLEAN in statuses:
        return ScanReport(ScanStatus.CLEAN, findings)
    return ScanReport(ScanStatus.NOT_NEEDED, findings)
