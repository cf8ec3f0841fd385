"""Downloading with SHA-256 verification, and safe archive extraction.

Everything is served from this machine: a local HTTP server on 127.0.0.1 in
a thread, and file:// URLs. Nothing here touches the internet.
"""
import hashlib
import http.server
import io
import json
import tarfile
import threading
import zipfile
from functools import partial

import pytest

from core_helpers import fake_dataset_dist, run_tltk, write_toy_csvs
from tltk_core import InputError
from tltk_core.data.download import ChecksumError, download, extract, verify_file

PAYLOAD = b"tltk benchmark bytes\n" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/truncated.bin":  # announces more bytes than it sends
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "good.bin").write_bytes(PAYLOAD)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def test_download_with_good_checksum_is_stored(server, tmp_path):
    url, _ = server
    dest = tmp_path / "cache" / "sub" / "good.bin"
    assert download(f"{url}/good.bin", dest, SHA) == dest
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in dest.parent.iterdir()] == ["good.bin"]  # no temporary left


def test_download_with_bad_checksum_is_an_error_and_stores_nothing(server, tmp_path):
    url, _ = server
    dest = tmp_path / "cache" / "good.bin"
    with pytest.raises(ChecksumError, match="does not match the expected"):
        download(f"{url}/good.bin", dest, "0" * 64)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_truncated_transfer_is_an_error(server, tmp_path):
    url, _ = server
    dest = tmp_path / "cache" / "t.bin"
    with pytest.raises(InputError, match="could not download|truncated"):
        download(f"{url}/truncated.bin", dest, SHA)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_missing_url_and_file_url(server, tmp_path):
    url, root = server
    with pytest.raises(InputError, match="could not download .*404"):
        download(f"{url}/nope.bin", tmp_path / "x.bin", SHA)
    dest = download((root / "good.bin").as_uri(), tmp_path / "y.bin", SHA)
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(InputError, match="without a known SHA-256"):
        download((root / "good.bin").as_uri(), tmp_path / "z.bin", None)


def test_truncated_cached_file_fails_verification(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(PAYLOAD)
    verify_file(p, SHA)
    p.write_bytes(PAYLOAD[:-10])
    with pytest.raises(ChecksumError, match="f.bin: SHA-256"):
        verify_file(p, SHA)


def test_fetch_a_dataset_from_a_local_server(server, tmp_path):
    """tltk fetch: the dataset's URL and SHA-256 come from its code."""
    url, root = server
    sha_a, sha_b = write_toy_csvs(root / "toy")
    plugins = tmp_path / "plugins"
    fake_dataset_dist(plugins, sha_a=sha_a, sha_b=sha_b, url_a=f"{url}/toy/a.csv")
    data = tmp_path / "data"
    env = {"TLTK_DATA": str(data), "TLTK_PLUGINS": "tltk-toydata"}
    r = run_tltk(["fetch", "toy"], pythonpath=[plugins], env=env)
    assert r.returncode == 0, r.stderr
    assert (data / "toy" / "a.csv").read_bytes() == (root / "toy" / "a.csv").read_bytes()
    # the file without a URL is not fetched: the dataset is still incomplete
    r = run_tltk(["datasets", "--json"], pythonpath=[plugins], env=env)
    assert json.loads(r.stdout)["datasets"][0]["present"] is False
    # a served file that changed is refused, and the cached copy is kept verified
    (root / "toy" / "a.csv").write_text("1,2,3,4,5,6,7,8,0\n")
    r = run_tltk(["fetch", "toy", "--force"], pythonpath=[plugins], env=env)
    assert r.returncode == 2 and "does not match the expected" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert hashlib.sha256((data / "toy" / "a.csv").read_bytes()).hexdigest() == sha_a


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
    return path


def test_extract_a_good_tarball(tmp_path):
    arc = _tar(tmp_path / "ok.tar.gz", [("d/a.txt", b"a", "file"), ("d/e/b.txt", b"bb", "file")])
    out = extract(arc, tmp_path / "out")
    assert (out / "d" / "a.txt").read_bytes() == b"a"
    assert (out / "d" / "e" / "b.txt").read_bytes() == b"bb"


@pytest.mark.parametrize("members", [
    [("ok.txt", b"x", "file"), ("../evil.txt", b"x", "file")],
    [("ok.txt", b"x", "file"), ("d/../../evil.txt", b"x", "file")],
    [("/tmp/evil-tltk-abs.txt", b"x", "file")],
    [("link", "/etc/passwd", "symlink")],
    [("hard", "../evil.txt", "hardlink")],
], ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink"])
def test_path_traversal_tarball_is_refused_before_writing(tmp_path, members):
    arc = _tar(tmp_path / "bad.tar.gz", members)
    dest = tmp_path / "out"
    with pytest.raises(InputError, match="refusing to extract"):
        extract(arc, dest)
    assert not (tmp_path / "evil.txt").exists()
    assert list(dest.rglob("*")) == []  # nothing was written, not even the good member


def test_path_traversal_zip_is_refused(tmp_path):
    arc = tmp_path / "bad.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("fine.txt", "ok")
        z.writestr("../evil.txt", "x")
    with pytest.raises(InputError, match="refusing to extract"):
        extract(arc, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("d/fine.txt", "ok")
    assert (extract(good, tmp_path / "o2") / "d" / "fine.txt").read_text() == "ok"


def test_truncated_archive_is_a_clear_error(tmp_path):
    arc = _tar(tmp_path / "ok.tar.gz", [(f"f{i}.txt", bytes(range(256)) * 400, "file")
                                        for i in range(5)])
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(arc.read_bytes()[: arc.stat().st_size // 2])
    with pytest.raises(InputError, match="not a readable archive"):
        extract(cut, tmp_path / "out")
