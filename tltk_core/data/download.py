"""Downloading, verifying and unpacking benchmark files.

- :func:`download` fetches a URL (``https://``, ``http://`` or ``file://``)
  into a temporary file next to the destination, checks the byte count the
  server announced and the SHA-256 written in the dataset's code, and only
  then moves it into place. A mismatch is an :class:`InputError`; the bad
  bytes are removed, never kept.
- :func:`verify_file` checks a file already in the data directory (a
  corrupt or truncated cached file is an error, never silently re-used);
  results are remembered per process by path, size and modification time.
- :func:`extract` unpacks a tar or zip archive, refusing members that would
  land outside the destination (absolute paths, ``..``, links, devices).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import InputError

CHUNK = 1 << 20
_VERIFIED: dict = {}


class ChecksumError(InputError):
    """A file's SHA-256 is not the one written in the code."""


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path, sha256: str):
    """Raise :class:`ChecksumError` unless ``path`` has SHA-256 ``sha256``."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(key) == sha256:
        return
    got = sha256_of(path)
    if got != sha256.lower():
        raise ChecksumError(f"{path}: SHA-256 {got} does not match the expected {sha256} "
                            "(corrupt, truncated or a different version); delete it and "
                            "fetch it again")
    _VERIFIED[key] = sha256


def download(url: str, dest, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` once its SHA-256 is verified."""
    import urllib.request

    if not sha256:
        raise InputError(f"refusing to download {url} without a known SHA-256")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    h = hashlib.sha256()
    n = 0
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                expected = r.headers.get("Content-Length") if hasattr(r, "headers") else None
                for block in iter(lambda: r.read(CHUNK), b""):
                    out.write(block)
                    h.update(block)
                    n += len(block)
        except Exception as exc:  # URLError, OSError, http.client.IncompleteRead, ...
            raise InputError(f"could not download {url}: {type(exc).__name__}: {exc}") from None
        if expected is not None and expected.isdigit() and int(expected) != n:
            raise InputError(f"could not download {url}: got {n} bytes, the server "
                             f"announced {expected} (truncated transfer)")
        got = h.hexdigest()
        if got != sha256.lower():
            raise ChecksumError(f"{url}: SHA-256 {got} does not match the expected {sha256}; "
                                "the file was not stored")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def _safe_target(dest: Path, name: str) -> Path:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise InputError(f"archive member {name!r} would be written outside {dest}; "
                         "refusing to extract")
    target = (dest / Path(*p.parts)).resolve() if p.parts else dest.resolve()
    if target != dest.resolve() and dest.resolve() not in target.parents:
        raise InputError(f"archive member {name!r} would be written outside {dest}; "
                         "refusing to extract")
    return target


def extract(archive, dest) -> Path:
    """Unpack a tar (any compression) or zip ``archive`` into ``dest`` safely.

    Every member is checked before anything is written: absolute names,
    ``..`` components, symbolic or hard links and device files are refused.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                infos = z.infolist()
                targets = [_safe_target(dest, i.filename) for i in infos]
                for i, t in zip(infos, targets):
                    if (i.external_attr >> 16) & 0o170000 == 0o120000:
                        raise InputError(f"archive member {i.filename!r} is a symbolic link; "
                                         "refusing to extract")
                for i, t in zip(infos, targets):
                    if i.is_dir():
                        t.mkdir(parents=True, exist_ok=True)
                        continue
                    t.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(i) as src, open(t, "wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
            return dest
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for m in members:
                _safe_target(dest, m.name)
                if not (m.isfile() or m.isdir()):
                    raise InputError(f"archive member {m.name!r} is a link or device; "
                                     "refusing to extract")
            for m in members:
                t = _safe_target(dest, m.name)
                if m.isdir():
                    t.mkdir(parents=True, exist_ok=True)
                    continue
                t.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                with src, open(t, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
    except InputError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"{archive}: not a readable archive (truncated or corrupt?): "
                         f"{type(exc).__name__}: {exc}") from None
    return dest
