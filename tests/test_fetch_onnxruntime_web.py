"""tools/fetch_onnxruntime_web.py without the network: a tarball made here stands in for npm's. Only files that match
the committed sums are written; a changed one is refused and nothing is written; a failure never fails `make run`."""

import hashlib
import importlib.util
import io
import tarfile

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("fetch_onnxruntime_web", ROOT / "tools" / "fetch_onnxruntime_web.py")
fetch_ort = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_ort)

FILES = {"ort.wasm.bundle.min.mjs": b"export const ort = 1;\n", "ort-wasm-simd-threaded.wasm": b"\0asm\1\0\0\0"}
SUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


def tarball(files: dict, extra: dict | None = None) -> bytes:
    """An npm-style .tgz: the files under package/dist/, and any extra members as named."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in {**{f"package/dist/{n}": d for n, d in files.items()}, **(extra or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_committed_sums_name_the_two_files_the_page_loads():
    from vae_core.store.web_runtime import MODULE, WASM

    sums = fetch_ort.read_sums()
    assert sorted(sums) == sorted([MODULE, WASM])
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in sums.values())


def test_a_matching_tarball_installs_both_files_and_a_second_fetch_downloads_nothing(tmp_path):
    dest = tmp_path / "static" / "onnxruntime-web"
    assert fetch_ort.fetch(dest, SUMS, get=lambda: tarball(FILES, {"package/dist/other.js": b"not wanted"}))
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == FILES  # only the named files, nothing else
    assert fetch_ort.fetch(dest, SUMS, get=lambda: pytest.fail("downloaded again"))


def test_a_tampered_file_is_refused_and_nothing_is_written(tmp_path):
    dest = tmp_path / "ort"
    tampered = {**FILES, "ort-wasm-simd-threaded.wasm": b"\0asm\1\0\0\0 and more"}
    with pytest.raises(fetch_ort.FetchError, match="does not match its SHA-256"):
        fetch_ort.fetch(dest, SUMS, get=lambda: tarball(tampered))
    assert not dest.exists() or not any(dest.iterdir())


def test_a_file_changed_on_disk_counts_as_absent_and_is_fetched_again(tmp_path):
    fetch_ort.fetch(tmp_path, SUMS, get=lambda: tarball(FILES))
    (tmp_path / "ort.wasm.bundle.min.mjs").write_bytes(b"alert('changed')")
    assert not fetch_ort.installed(tmp_path, SUMS)
    assert fetch_ort.fetch(tmp_path, SUMS, get=lambda: tarball(FILES))
    assert (tmp_path / "ort.wasm.bundle.min.mjs").read_bytes() == FILES["ort.wasm.bundle.min.mjs"]


def test_a_missing_member_or_a_broken_archive_is_refused(tmp_path):
    with pytest.raises(fetch_ort.FetchError):
        fetch_ort.fetch(tmp_path, SUMS, get=lambda: tarball({"ort.wasm.bundle.min.mjs": FILES["ort.wasm.bundle.min.mjs"]}))
    with pytest.raises(fetch_ort.FetchError):
        fetch_ort.fetch(tmp_path, SUMS, get=lambda: b"not a tarball")


def test_offline_the_script_says_so_in_one_line_and_exits_0(tmp_path, capsys):
    def offline():
        raise fetch_ort.FetchError("cannot download it (no network)")

    assert fetch_ort.main(tmp_path, get=offline) == 0  # `make run` goes on; the app decodes on the server
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no network" in out and "decodes on the server" in out
    assert fetch_ort.main(tmp_path, get=lambda: tarball({**FILES, "ort.wasm.bundle.min.mjs": b"evil"})) == 0
    assert "refused" in capsys.readouterr().out and not any(tmp_path.iterdir())
