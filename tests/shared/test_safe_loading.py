"""Nothing regapps loads can run code or write outside its folders: .keras files load with
safe_mode (a Lambda layer is refused), and archives are read member by member, never extracted
(a member named ../evil or /abs, or a link out of the archive, reaches no file outside)."""
from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest
from regapps.shared.errors import DataError, ModelLoadError

from ..hostile.world import model_bytes
from ..image.fixtures import cifar_files

ROOT = Path(__file__).resolve().parents[2]


def test_no_archive_is_extracted_to_disk_without_the_data_filter() -> None:
    """Archives are read with extractfile(); any future extract()/extractall() must pass
    filter="data" (no absolute paths, no "..", no links out)."""
    calls = []
    for path in [*(ROOT / "apps").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]:
        for match in re.finditer(r"\.extract(all)?\((?P<args>[^)]*)\)", path.read_text()):
            calls.append((path.name, match.group("args")))
    assert all('filter="data"' in args for _, args in calls), calls


def _hostile_tar(path: Path, secret: Path, real: dict[str, bytes]) -> Path:
    """A tar with path-traversal names, an absolute name, and symlink/hardlink members pointing
    at ``secret`` outside it, each under a name a loader looks for, plus ``real`` members."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in {"../evil.txt": b"escaped", "/tmp/regapps-abs-evil.txt": b"absolute", **real}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for kind, name in ((tarfile.SYMTYPE, "cifar-10-batches-bin/data_batch_1.bin"),
                           (tarfile.LNKTYPE, "aclImdb/train/pos/0_9.txt"),
                           (tarfile.SYMTYPE, "pkg/data.csv")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, str(secret)
            archive.addfile(info)
    return path


def _outside_files(root: Path) -> set[Path]:
    return set(root.rglob("*")) | set(Path("/tmp").glob("regapps-abs-evil*"))


def test_hostile_tar_members_reach_nothing_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from regapps.apps.image.formats import read_cifar_archive
    from regapps.apps.text.formats import read_acl_tarball
    from regapps.shared.pkgdata import extract_member

    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"SECRET " * 500)
    work = tmp_path / "work" / "inner"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # where a "../evil.txt" extraction would land one level up
    real = {**cifar_files("binary", skip=("data_batch_1.bin",)), "aclImdb/train/neg/1_2.txt": b"dull and long"}
    archive = _hostile_tar(tmp_path / "hostile.tar.gz", secret, real)
    before = _outside_files(tmp_path)
    with pytest.raises(DataError, match="lacks CIFAR-10 batch file.*data_batch_1.bin"):  # a link is no batch
        read_cifar_archive(archive)
    local = read_acl_tarball(archive)  # only the one real review is read; the link is skipped
    assert local.train is not None and local.train.x == ["dull and long"]
    with pytest.raises(DataError, match="has no member|not a readable archive"):
        extract_member(archive.read_bytes(), "hostile.tar.gz", ["pkg/data.csv"])
    assert extract_member(archive.read_bytes(), "hostile.tar.gz", ["../evil.txt"]) == b"escaped"  # bytes, not a file
    assert _outside_files(tmp_path) == before
    assert not (tmp_path / "work" / "evil.txt").exists() and not Path("/tmp/regapps-abs-evil.txt").exists()


def test_lambda_layer_is_refused(tmp_path: Path) -> None:
    from regapps.shared.modelio import load_model

    path = tmp_path / "model.keras"
    path.write_bytes(model_bytes("lambda"))
    with pytest.raises(ModelLoadError, match=r"model\.keras contains code .*safe_mode=True"):
        load_model(path)
    path.write_bytes(model_bytes("plain"))
    assert load_model(path).output_shape == (None, 10)  # the same loader takes a plain model
