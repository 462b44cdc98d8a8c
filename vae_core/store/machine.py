"""What this machine has to give: the memory that checks on models and imported graphs measure against."""

from __future__ import annotations

import os
from pathlib import Path


def free_memory_bytes() -> int:
    """Memory available to new allocations (Linux's MemAvailable; free pages elsewhere; 8 GB if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30
