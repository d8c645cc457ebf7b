"""The file machinery on real files in temporary directories: which paths are served,
byte ranges at every edge, cat-like lines forwards and backwards (against a Python
oracle), gzip, binary files, signed links."""

import gzip
import os
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labapi.core import storage
from labapi.core.errors import BadRequest, NotFound, PermissionDenied, RangeNotSatisfiable


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A storage root with files, a directory, symlinks in and out, a fifo and a socket."""
    base = tmp_path / "root"
    (base / "dir").mkdir(parents=True)
    (base / "a.txt").write_bytes(b"hello\n")
    (base / "dir" / "b.bam").write_bytes(b"BAM\x01")
    (base / "dir" / "b.bam.bai").write_bytes(b"BAI\x01")
    (base / "dir" / "c.bam").write_bytes(b"BAM\x01")
    (base / "dir" / "c.bai").write_bytes(b"BAI\x01")
    (tmp_path / "secret.txt").write_bytes(b"secret\n")
    (base / "out").symlink_to(tmp_path / "secret.txt")
    (base / "outdir").symlink_to(tmp_path)
    (base / "in").symlink_to(base / "a.txt")
    (base / "zero").symlink_to("/dev/zero")
    (base / "loop").symlink_to(base / "loop")
    os.mkfifo(base / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(base / "sock"))
    sock.close()
    return base


def outcome(raw: str, roots: list[str]) -> str:
    """What opening `raw` gives: the content, or the error's class name."""
    try:
        opened = storage.open_in_roots(raw, roots)
    except (PermissionDenied, NotFound) as exc:
        return type(exc).__name__
    try:
        return opened.file.read().decode("latin-1")
    finally:
        opened.close()


class TestOpenInRoots:
    def test_only_regular_files_inside_the_roots_are_opened(
        self, root: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        roots = [str(root)]
        r = str(root)
        cases = {
            f"{r}/a.txt": "hello\n",
            f"file://{r}/a.txt": "hello\n",
            f"file://{r}/%61.txt": "hello\n",
            f"{r}//dir/../a.txt": "PermissionDenied",
            f"{r}/./a.txt": "hello\n",
            f"{r}/in": "hello\n",  # a symlink that stays inside
            f"{r}/missing.txt": "NotFound",
            f"{r}/../secret.txt": "PermissionDenied",
            f"{r}/dir/%2e%2e/a.txt": "NotFound",  # no decoding: a name with percents
            f"file://{r}/dir/%2e%2e/%2e%2e/secret.txt": "PermissionDenied",
            f"{r}/out": "PermissionDenied",  # symlink to a file outside
            f"{r}/outdir/secret.txt": "PermissionDenied",  # through a symlinked directory
            f"{r}/zero": "PermissionDenied",  # /dev/zero
            "/dev/zero": "PermissionDenied",
            "/etc/passwd": "PermissionDenied",
            "/etc/no-such-file": "PermissionDenied",  # outside: no existence oracle
            f"{r}/dir": "PermissionDenied",
            r: "PermissionDenied",
            f"{r}/fifo": "PermissionDenied",
            f"{r}/sock": "PermissionDenied",
            f"{r}/loop": "PermissionDenied",
            f"{r}/a.txt/x": "PermissionDenied",  # a file used as a directory
            f"{r}/a.txt\x00.bam": "PermissionDenied",
            "a.txt": "PermissionDenied",
            "dir/b.bam": "PermissionDenied",
            "s3://bucket/a.txt": "NotFound",
            "https://example.org/a.txt": "NotFound",
            f"{r}x/a.txt": "PermissionDenied",  # a sibling sharing the root's prefix
        }
        (Path(f"{r}x")).mkdir()
        (Path(f"{r}x") / "a.txt").write_bytes(b"sibling\n")
        with caplog.at_level("WARNING", logger="labapi.files"):
            found = {raw: outcome(raw, roots) for raw in cases}
        assert found == cases
        refused = sum(1 for value in cases.values() if value == "PermissionDenied")
        assert len([r for r in caplog.records if "refused" in r.getMessage()]) >= refused

    def test_a_directory_swapped_for_a_symlink_while_opening_is_caught(
        self, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "b.bam").write_bytes(b"outside")
        real_open = os.open

        def racing_open(path: str, flags: int) -> int:
            # Between the checks and the open, dir/ becomes a symlink out of the root.
            (root / "dir").rename(tmp_path / "moved")
            (root / "dir").symlink_to(tmp_path / "elsewhere")
            return real_open(path, flags)

        monkeypatch.setattr(storage.os, "open", racing_open)
        assert outcome(str(root / "dir" / "b.bam"), [str(root)]) == "PermissionDenied"

    def test_no_roots_serve_nothing(self, root: Path) -> None:
        assert outcome(str(root / "a.txt"), []) == "PermissionDenied"

    def test_a_root_given_through_a_symlink(self, root: Path, tmp_path: Path) -> None:
        alias = tmp_path / "alias"
        alias.symlink_to(root)
        assert outcome(str(alias / "a.txt"), [str(alias)]) == "hello\n"
        assert outcome(str(root / "a.txt"), [str(alias)]) == "hello\n"
        assert outcome(str(alias / "out"), [str(alias)]) == "PermissionDenied"

    def test_the_whole_file_system_as_a_root_still_refuses_devices(self, root: Path) -> None:
        assert outcome(str(root / "a.txt"), ["/"]) == "hello\n"
        assert outcome("/dev/zero", ["/"]) == "PermissionDenied"
        assert outcome(str(root), ["/"]) == "PermissionDenied"

    def test_index_files_next_to_the_file(self, root: Path) -> None:
        roots = [str(root)]
        for bam in ("b.bam", "c.bam"):
            opened = storage.open_index(str(root / "dir" / bam), roots)
            assert opened.file.read() == b"BAI\x01"
            opened.close()
        with pytest.raises(NotFound):
            storage.open_index(str(root / "a.txt"), roots)
        assert storage.index_candidates("/x/g.fa") == ["/x/g.fa.fai"]
        assert storage.index_candidates("/x/v.vcf.gz") == ["/x/v.vcf.gz.tbi", "/x/v.vcf.gz.csi"]
        assert storage.index_candidates("/x/r.CRAM") == ["/x/r.cram.crai", "/x/r.crai"]


class TestResolveKey:
    def test_values_and_urls(self) -> None:
        mapping = {"bam": "/d/x.bam", "vcf": {"url": "/d/x.vcf"}, "n": None, "d": {"x": 1}}
        assert storage.resolve_key(mapping, "bam", param="result") == "/d/x.bam"
        assert storage.resolve_key(mapping, "vcf", param="result") == "/d/x.vcf"
        for key in ("n", "d", "missing", "", None, "..", "%2e%2e"):
            with pytest.raises(NotFound) as caught:
                storage.resolve_key(mapping, key, param="result")
            assert "bam, d, n, vcf" in caught.value.detail
        with pytest.raises(NotFound):
            storage.resolve_key(None, "bam", param="result")


class TestParseRange:
    def test_every_edge(self) -> None:
        size = 100
        cases: dict[str | None, tuple[int, int] | str | None] = {
            None: None,
            "": None,
            "bytes=0-0": (0, 0),  # first byte
            "bytes=99-99": (99, 99),  # last byte
            "bytes=99-": (99, 99),
            "bytes=0-": (0, 99),
            "bytes=0-99": (0, 99),
            "bytes=0-1000": (0, 99),  # end past the end is clamped
            "bytes=100-": "416",  # starts past the end
            "bytes=100-200": "416",
            "bytes=-1": (99, 99),
            "bytes=-100": (0, 99),
            "bytes=-1000": (0, 99),  # suffix bigger than the file
            "bytes=-0": "416",
            "bytes=5-1": None,  # invalid: ignored
            "bytes=a-b": None,
            "bytes=-": None,
            "items=0-1": None,
            "bytes=1-2,5-9": (1, 2),  # several: the first one
            "bytes=200-300,5-9": (5, 9),  # the first satisfiable one
            "bytes=200-300,300-": "416",
            "bytes= 3 - 4 ": (3, 4),
            "BYTES=3-4": (3, 4),
            "bytes=99999999999999999999999-": "416",
            "bytes=0-99999999999999999999999": (0, 99),
            "bytes=١-٢": None,  # non-ASCII digits
            "bytes=" + ",".join(["0-1"] * 101): None,  # too many ranges
        }
        found: dict[str | None, tuple[int, int] | str | None] = {}
        for value, _ in cases.items():
            try:
                window = storage.parse_range(value, size)
            except RangeNotSatisfiable as exc:
                found[value] = "416" if exc.headers == {"Content-Range": "bytes */100"} else "?"
            else:
                found[value] = None if window is None else (window.start, window.end)
        assert found == cases

    def test_an_empty_file_satisfies_no_range(self) -> None:
        for value in ("bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-100"):
            with pytest.raises(RangeNotSatisfiable):
                storage.parse_range(value, 0)
        assert storage.parse_range(None, 0) is None

    def test_the_parameter_is_strict_and_takes_the_bare_form(self) -> None:
        window = storage.parse_range("10-19", 100, strict=True)
        assert window == storage.ByteRange(10, 19)
        assert window.length == 10
        assert window.content_range(100) == "bytes 10-19/100"
        assert storage.parse_range("-5", 100, strict=True) == storage.ByteRange(95, 99)
        for bad in ("5-1", "x", "bytes=a-", "items=0-1"):
            with pytest.raises(BadRequest):
                storage.parse_range(bad, 100, strict=True)


def write(path: Path, data: bytes, *, compress: bool = False) -> storage.OpenFile:
    path.write_bytes(gzip.compress(data) if compress else data)
    return storage.open_in_roots(str(path), [str(path.parent)])


def oracle(data: bytes, offset: int, lines: int, reverse: bool) -> bytes:
    """What `raw` must answer, from splitlines on the whole file."""
    all_lines = data.splitlines(keepends=True)
    if reverse:
        end = max(0, len(all_lines) - offset)
        picked = all_lines[max(0, end - lines) : end]
    else:
        picked = all_lines[offset : offset + lines]
    return b"".join(picked)


def raw(opened: storage.OpenFile, **kw: int | bool) -> bytes:
    try:
        return storage.read_lines(opened, **kw)  # type: ignore[arg-type]
    finally:
        opened.close()


class TestReadLines:
    @pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
    def test_table(self, tmp_path: Path, compress: bool, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(storage, "BLOCK", 4)  # every line crosses a block boundary
        files = {
            "final-newline": b"l0\nline1\nl2\n",
            "no-final-newline": b"l0\nline1\nl2",
            "empty": b"",
            "only-newline": b"\n",
            "blank-lines": b"\n\na\n\n",
            "one-line": b"single",
            "crlf": b"a\r\nb\r\n",
        }
        queries = [
            (0, 5000, False),
            (1, 1, False),
            (2, 10, False),
            (3, 1, False),
            (10**18, 5, False),  # huge offset
            (0, 0, False),
            (0, 1, True),
            (0, 2, True),
            (1, 1, True),
            (2, 5, True),
            (10**18, 5, True),
            (0, 5000, True),
        ]
        for name, data in files.items():
            for offset, lines, reverse in queries:
                opened = write(tmp_path / f"{name}.txt", data, compress=compress)
                got = raw(opened, offset=offset, lines=lines, reverse=reverse)
                assert got == oracle(data, offset, lines, reverse), (name, offset, lines, reverse)

    @settings(max_examples=150, deadline=None)
    @given(
        data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\n\n", b"xyz\n"]), max_size=30).map(
            b"".join
        ),
        offset=st.integers(0, 12),
        lines=st.integers(0, 12),
        reverse=st.booleans(),
        block=st.integers(1, 9),
    )
    def test_agrees_with_the_oracle(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        data: bytes,
        offset: int,
        lines: int,
        reverse: bool,
        block: int,
    ) -> None:
        saved = storage.BLOCK
        storage.BLOCK = block
        try:
            opened = write(tmp_path_factory.mktemp("lines") / "f.txt", data)
            got = raw(opened, offset=offset, lines=lines, reverse=reverse)
        finally:
            storage.BLOCK = saved
        assert got == oracle(data, offset, lines, reverse)

    def test_long_lines_are_cut_and_the_budget_holds(self, tmp_path: Path) -> None:
        data = b"short\n" + b"x" * 5000 + b"\nend"
        for reverse in (False, True):
            opened = write(tmp_path / "long.txt", data)
            got = raw(opened, line_max=100, reverse=reverse)
            assert got == b"short\n" + b"x" * 100 + b"\nend"
        opened = write(tmp_path / "many.txt", b"".join(b"%04d\n" % i for i in range(1000)))
        assert raw(opened, max_bytes=20) == b"0000\n0001\n0002\n0003\n"
        opened = write(tmp_path / "many.txt", b"".join(b"%04d\n" % i for i in range(1000)))
        assert raw(opened, max_bytes=20, reverse=True) == b"0996\n0997\n0998\n0999\n"
        opened = write(
            tmp_path / "many.gz", b"".join(b"%04d\n" % i for i in range(1000)), compress=True
        )
        assert raw(opened, max_bytes=20, reverse=True) == b"0996\n0997\n0998\n0999\n"

    def test_a_long_file_is_read_backwards_without_reading_it_all(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        data = b"".join(b"line %06d\n" % i for i in range(200_000))  # 2.4 MB
        opened = write(tmp_path / "big.log", data)
        read = []
        real_pread = os.pread

        def counting_pread(fd: int, n: int, offset: int) -> bytes:
            read.append(n)
            return real_pread(fd, n, offset)

        monkeypatch.setattr(storage.os, "pread", counting_pread)
        assert raw(opened, lines=3, reverse=True) == oracle(data, 0, 3, True)
        assert sum(read) < 3 * storage.BLOCK + storage.SNIFF

    def test_gzip_and_bgzip_are_decompressed(self, tmp_path: Path) -> None:
        data = b"".join(b"row %d\n" % i for i in range(100))
        opened = write(tmp_path / "t.tsv.gz", data, compress=True)
        assert raw(opened, offset=98) == b"row 98\nrow 99\n"
        # bgzip: several gzip members one after another
        (tmp_path / "b.vcf.gz").write_bytes(gzip.compress(data[:50]) + gzip.compress(data[50:]))
        opened = storage.open_in_roots(str(tmp_path / "b.vcf.gz"), [str(tmp_path)])
        assert raw(opened, reverse=True, lines=2) == b"row 98\nrow 99\n"

    def test_binary_and_corrupt_files_are_refused(self, tmp_path: Path) -> None:
        for name, data in {
            "x.bam": gzip.compress(b"BAM\x01\x00\x00\x00\x00"),
            "x.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "corrupt.gz": b"\x1f\x8b\x08\x00garbage-not-deflate",
        }.items():
            opened = write(tmp_path / name, data)
            with pytest.raises(BadRequest):
                raw(opened)

    def test_undecodable_bytes_are_replaced(self, tmp_path: Path) -> None:
        opened = write(tmp_path / "latin1.txt", "café\n".encode("latin-1"))
        assert raw(opened) == "caf\N{REPLACEMENT CHARACTER}\n".encode()


class TestIterFile:
    async def test_windows_and_chunks(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(storage, "CHUNK", 7)
        data = bytes(range(256)) * 3
        opened = write(tmp_path / "f.bin", data)
        chunks = [chunk async for chunk in storage.iter_file(opened, 10, 100)]
        assert b"".join(chunks) == data[10:110]
        assert max(map(len, chunks)) == 7
        assert opened.file.closed
        opened = write(tmp_path / "f.bin", data)
        assert b"".join([c async for c in storage.iter_file(opened)]) == data


class TestSignedLinks:
    def test_a_link_opens_its_file_only_until_it_expires(self) -> None:
        key, scope = b"k" * 32, ("experiments", "5", "GRCh37")
        token = storage.sign_file_link(key, scope, 42, 60, now=1000.0)
        assert storage.check_file_link(key, scope, token, now=1059.0) == 42
        assert storage.check_file_link(key, scope, token, now=1061.0) is None
        assert storage.check_file_link(b"other" * 8, scope, token, now=1000.0) is None
        for other in (
            ("experiments", "6", "GRCh37"),
            ("experiments", "5", "GRCh38"),
            ("assemblies", "5", "GRCh37"),
            ("experiments", "5:GRCh37", ""),
        ):
            assert storage.check_file_link(key, other, token, now=1000.0) is None
        expires, user, mac = token.split(".")
        for forged in (
            f"{expires}.{int(user, 16) + 1:x}.{mac}",
            f"{int(expires, 16) + 10:x}.{user}.{mac}",
            f"{expires}.{user}.{mac[:-1]}0" if mac[-1] != "0" else f"{expires}.{user}.{mac[:-1]}1",
            f"{expires}.{user}",
            "",
            "x" * 500,
            f"1_{expires}.{user}.{mac}",
        ):
            assert storage.check_file_link(key, scope, forged, now=1000.0) is None


class TestNamesAndTypes:
    def test_types(self) -> None:
        cases = {
            "x.bam": "application/x-bam",
            "x.cram": "application/x-cram",
            "x.bam.bai": "application/octet-stream",
            "x.vcf": "text/plain; charset=utf-8",
            "x.vcf.gz": "application/gzip",
            "x.VCF.GZ": "application/gzip",
            "x.tsv": "text/tab-separated-values; charset=utf-8",
            "x.pdf": "application/pdf",
            "x.unknownext": "application/octet-stream",
        }
        assert {name: storage.content_type(name) for name in cases} == cases

    def test_attachment_names(self) -> None:
        assert storage.attachment("/d/x.bam") == (
            "attachment; filename=\"x.bam\"; filename*=UTF-8''x.bam"
        )
        assert storage.attachment('/d/a "b";\r\nc é.txt') == (
            'attachment; filename="a _b____c _.txt"; '
            "filename*=UTF-8''a%20%22b%22%3B%0D%0Ac%20%C3%A9.txt"
        )
