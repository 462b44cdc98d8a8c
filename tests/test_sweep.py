"""`python -m vae_core sweep`: a grid of betas x seeds, one ordinary checkpoint each, resumable, and robust to a
run that fails (diverges, or its process dies)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from vae_core import ModelChoice, RunSpec, TrainConfig, load_checkpoint
from vae_core.runs.sweep import run_local, train_one

OPTIONS = ["--epochs", "2", "--hidden", "32"]


def sweep(*args, quiet=True):
    return subprocess.run(
        [sys.executable, "-m", "vae_core", "sweep", *OPTIONS, *(["--quiet"] if quiet else []), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_sweep_trains_the_grid_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    proc = sweep("--betas", "0.5,4", "--seeds", "0,1", "--out-dir", str(out), "--workers", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["beta"], r["seed"]) for r in rows] == [(0.5, 0), (0.5, 1), (4.0, 0), (4.0, 1)]
    assert {r["status"] for r in rows} == {"trained"}
    for r in rows:  # ordinary checkpoints, the numbers in the table are theirs
        model, meta = load_checkpoint(r["path"])
        assert meta.train.beta == r["beta"] and meta.train.seed == r["seed"]
        assert meta.metrics["test_loss"] == pytest.approx(r["test_loss"])
        assert r["test_loss"] == pytest.approx(r["test_recon"] + r["test_kl"])
    (out / "beta4-seed1.pt").unlink()
    again = json.loads(sweep("--betas", "0.5,4", "--seeds", "0,1", "--out-dir", str(out), "--json").stdout)
    assert [r["status"] for r in again] == ["done before", "done before", "done before", "trained"]
    assert again[0]["test_loss"] == pytest.approx(rows[0]["test_loss"])


def test_a_diverging_run_is_reported_and_the_others_finish(tmp_path):
    proc = sweep("--betas", "1,1e30", "--out-dir", str(tmp_path), "--workers", "1", quiet=False)
    assert proc.returncode == 1  # not every run succeeded
    lines = proc.stdout.splitlines()
    assert "trained" in lines[1] and "failed" in lines[2] and "diverged" in lines[2]
    assert (tmp_path / "beta1-seed0.pt").is_file() and not (tmp_path / "beta1e+30-seed0.pt").exists()
    assert "started  beta=1 seed=0" in proc.stderr and "failed   beta=1e+30" in proc.stderr  # progress lines


def dies_on_seed_1(spec, out, send, threads):
    """A worker whose process is killed mid-run, as the OOM killer would."""
    if spec.train.seed == 1:
        os._exit(3)
    send.send(train_one(spec, out))


def test_a_worker_that_dies_fails_only_its_own_run(tmp_path):
    spec = RunSpec(model=ModelChoice(hidden=(32,)), train=TrainConfig(epochs=2))
    rows = []
    todo = [(spec.with_beta_and_seed(1.0, seed), str(tmp_path / f"s{seed}.pt")) for seed in (0, 1, 2)]
    run_local(todo, workers=2, on_start=lambda b, s: None, on_done=rows.append, target=dies_on_seed_1)
    by_seed = {r["seed"]: r for r in rows}
    assert by_seed[1]["status"] == "failed" and "died (exit code 3)" in by_seed[1]["error"]
    assert by_seed[0]["status"] == by_seed[2]["status"] == "trained"


def descendants(pid: int) -> set[int]:
    """pid and every process below it, from /proc (Ray's servers are the sweep's children, its workers the
    raylet's)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        found.add(todo[-1])
        todo += parents.get(todo.pop(), [])
    return found


def listening_sockets(pids: set[int]) -> list[tuple[str, str]]:
    """(process name, local address) of every listening TCP socket or bound UDP socket the processes hold."""
    local = {}  # socket inode -> local address
    for table, listening in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == listening:
                local[fields[9]] = fields[1]
    found = []
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        found += [(name, local[link[8:-1]]) for link in links if link.startswith("socket:[") and link[8:-1] in local]
    return found


def is_loopback(hex_address: str) -> bool:
    """/proc/net's "0100007F:1F90" (127.0.0.1, little-endian) or an IPv6 one, loopback or IPv4-mapped loopback."""
    host = hex_address.split(":")[0]
    if len(host) == 8:
        return host.endswith("7F")
    return host == "0" * 31 + "1" or (host[:24] == "0000000000000000FFFF0000" and host[-2:] == "7F")


def ended(proc: subprocess.Popen, within_s: float) -> bool:
    try:
        proc.wait(timeout=within_s)
        return True
    except subprocess.TimeoutExpired:
        return False


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the sockets from Linux's /proc")
def test_a_sweep_on_a_local_ray_instance_trains_listens_on_loopback_only_and_resumes(tmp_path):
    """A `--ray local` sweep trains each run as a Ray task (one diverges, one does not). Ray runs any run it is sent,
    so while it runs, no process of it may listen beyond 127.0.0.1. Run again, every run is done before: the sweep
    says so without reaching any cluster (the address given has none). One Ray start: each costs tens of seconds."""
    command = ["sweep", *OPTIONS, "--quiet", "--betas", "0.5,1e30", "--out-dir", str(tmp_path), "--ray", "local", "--json"]
    with open(tmp_path / "rows.json", "w") as stdout, open(tmp_path / "sweep.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "vae_core", *command], cwd=ROOT, stdout=stdout, stderr=log)
        seen, deadline = set(), time.monotonic() + 600
        while not ended(proc, within_s=0.2):  # look until the sweep is over: Ray's servers and workers come and go
            seen.update(listening_sockets(descendants(proc.pid) - {proc.pid}))
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the sweep did not end within 10 minutes")
    names = {name for name, _ in seen}
    assert {"gcs_server", "raylet"} <= names, f"Ray's servers were never seen listening: {sorted(names)}"
    exposed = sorted(f"{name} on {address}" for name, address in seen if not is_loopback(address))
    assert not exposed, f"listening beyond loopback: {exposed}"
    assert proc.returncode == 1, (tmp_path / "sweep.log").read_text()[-2000:]  # not every run succeeded
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["status"] for r in rows] == ["trained", "failed"] and "diverged" in rows[1]["error"]
    assert load_checkpoint(rows[0]["path"])[1].train.beta == 0.5
    again = sweep("--betas", "0.5", "--out-dir", str(tmp_path), "--ray", "127.0.0.1:9", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["status"] == "done before"


def test_ray_missing_is_a_message_with_the_install_command(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None  # as if Ray were not installed\n"
        "from vae_core.cli import main\n"
        f"sys.exit(main(['sweep', '--betas', '1', '--out-dir', {str(tmp_path)!r}, '--ray', 'local', '--quiet']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "pip install '.[ray]'" in proc.stderr and "Traceback" not in proc.stderr


def test_a_sweep_on_sprites_reports_each_runs_disentanglement(tmp_path):
    proc = sweep(
        "--data",
        "sprites",
        "--sprites-n",
        "200",
        "--image-size",
        "16",
        "--betas",
        "1,4",
        "--out-dir",
        str(tmp_path),
        "--workers",
        "2",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    for row in json.loads(proc.stdout):
        meta = load_checkpoint(row["path"])[1]
        assert meta.dataset == "sprites" and row["mig"] == pytest.approx(meta.metrics["mig"])
        assert 0 <= row["dci_disentanglement"] <= 1 and 0 <= row["factorvae"] <= 1
