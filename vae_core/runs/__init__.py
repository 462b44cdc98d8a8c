"""Layer 8: runs outside the caller's process: the registry, the child process, snapshots, sweeps (local and Ray)."""
