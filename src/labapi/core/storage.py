"""Files on disk, served safely; no model and no web framework is imported here.

- `resolve_key`: a key of a JSON mapping (an analysis' `results`, an assembly's
  `reference_data`, an experiment's `bam_files`) to a path: the value itself or its `url`.
- `open_in_roots`: opens a path only if it is a regular file inside the storage roots.
  `..`, relative paths, other schemes, absolute paths elsewhere, symlinks leading out of a
  root, directories, devices, fifos and sockets are refused (403; a missing file is a 404),
  and every refusal is logged. Containment is checked on the path as given (before the file
  system is touched, so a refusal tells nothing about files elsewhere), on its real path,
  and on the opened descriptor itself (`/proc/self/fd`), so a symlink swapped in between
  check and open is caught too.
- `parse_range`: HTTP byte ranges (`a-b`, `a-`, `-n`); several ranges are served as the
  first satisfiable one (RFC 9110 lets a server send fewer parts than asked).
- `iter_file`: the bytes of a window of an open file, in chunks read in a worker thread,
  so memory stays flat whatever the file's size.
- `read_lines`: cat-like text (`offset`, `lines`, `reverse`), gzip decompressed; reverse reads
  plain files backwards in blocks, never the whole file.
- `sign_file_link` / `check_file_link`: short-lived HMAC tokens that let a browser fetch one
  file (the IGV page's range requests carry no Authorization header).
"""

import gzip
import hashlib
import hmac
import logging
import mimetypes
import os
import re
import stat
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit

import anyio
import orjson

from labapi.core.errors import BadRequest, NotFound, PermissionDenied, RangeNotSatisfiable

log = logging.getLogger("labapi.files")

CHUNK = 1024 * 1024
BLOCK = 64 * 1024
# Lines longer than this are cut in `raw` (a 5 GB file without newline is one line).
LINE_MAX = 1024 * 1024
# The first bytes of a text stream that are looked at to tell binary from text.
SNIFF = 8192
GZIP_MAGIC = b"\x1f\x8b"
_LINK = re.compile(r"^([0-9a-f]{1,16})\.([0-9a-f]{1,16})\.([0-9a-f]{40})$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


# ------------------------------------------------------------------ key -> path
def resolve_key(mapping: Mapping[str, Any] | None, key: str | None, *, param: str) -> str:
    """The path stored under `key`: the value itself or its `url` (`{"url": path}`).

    Raises:
        NotFound: no such key, or no path under it.
    """
    mapping = mapping or {}
    if not key:
        raise NotFound(f"'{param}' names no file; known: {_known(mapping)}")
    value = mapping.get(key)
    if isinstance(value, Mapping):
        value = value.get("url")
    if not isinstance(value, str) or not value:
        raise NotFound(f"{param} {key!r} names no file; known: {_known(mapping)}")
    return value


def _known(mapping: Mapping[str, Any]) -> str:
    names = sorted(str(name) for name in mapping)
    return ", ".join(names[:50]) or "none"


# ------------------------------------------------------------------ opening
@dataclass
class OpenFile:
    """A regular file inside a storage root, opened for reading."""

    path: str  # its real path
    file: BinaryIO
    size: int
    mtime: float

    def close(self) -> None:
        """Close the descriptor."""
        self.file.close()


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _refuse(raw: str, reason: str) -> PermissionDenied:
    log.warning("file refused (%s): %r", reason, raw)
    return PermissionDenied(f"This file is not served: {reason}.")


def _local_path(raw: str) -> str:
    if raw.startswith("file://"):
        return unquote(urlsplit(raw).path)
    if _SCHEME.match(raw):
        log.warning("file refused (not a local path): %r", raw)
        raise NotFound("The file is not on this server's storage.")
    return raw


def open_in_roots(raw: str, roots: Sequence[str]) -> OpenFile:
    """Open `raw` if it names a regular file inside one of `roots`.

    Raises:
        PermissionDenied: anything outside the roots, or not a regular file.
        NotFound: no such file (inside a root), or a path of another scheme (`s3://`).
    """
    path = _local_path(raw)
    if "\x00" in path:
        raise _refuse(raw, "NUL in the path")
    if not path.startswith("/"):
        raise _refuse(raw, "not an absolute path")
    if ".." in PurePosixPath(path).parts:
        raise _refuse(raw, "'..' in the path")
    if not roots:
        raise _refuse(raw, "no storage roots are configured")
    lexical = os.path.normpath(path)
    given = [os.path.normpath(os.path.abspath(root)) for root in roots]
    real_roots = [os.path.realpath(root) for root in roots]
    if not any(_inside(lexical, root) for root in (*given, *real_roots)):
        raise _refuse(raw, "outside the storage roots")
    try:
        real = os.path.realpath(lexical, strict=True)
    except FileNotFoundError:
        raise NotFound("No such file.") from None
    except OSError as exc:  # a symlink loop, a component that is not a directory
        raise _refuse(raw, f"unreadable path ({exc.strerror})") from None
    if not any(_inside(real, root) for root in real_roots):
        raise _refuse(raw, "a symlink leads outside the storage roots")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        # O_NONBLOCK: opening a fifo must not hang waiting for a writer.
        fd = os.open(real, flags)
    except FileNotFoundError:
        raise NotFound("No such file.") from None
    except OSError as exc:
        raise _refuse(raw, f"cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(raw, "not a regular file")
        proc = f"/proc/self/fd/{fd}"
        if os.path.exists(proc):
            opened = os.path.realpath(proc)
            if not any(_inside(opened, root) for root in real_roots):
                raise _refuse(raw, "the path changed while it was opened")
        return OpenFile(real, os.fdopen(fd, "rb", buffering=0), info.st_size, info.st_mtime)
    except BaseException:
        os.close(fd)
        raise


# Index files next to a data file, tried in order (`x.bam.bai`, then `x.bai`, …).
_INDEX_SUFFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (".bam", (".bam.bai", ".bai", ".bam.csi")),
    (".cram", (".cram.crai", ".crai")),
    (".fasta", (".fasta.fai",)),
    (".fa", (".fa.fai",)),
    (".fna", (".fna.fai",)),
    (".gz", (".gz.tbi", ".gz.csi")),
    (".bgz", (".bgz.tbi", ".bgz.csi")),
)


def index_candidates(path: str) -> list[str]:
    """Where the index of `path` may be, most usual first."""
    lower = path.lower()
    for suffix, options in _INDEX_SUFFIXES:
        if lower.endswith(suffix):
            stem = path[: -len(suffix)]
            return [stem + option for option in options]
    return [path + ".idx"]


def open_index(raw: str, roots: Sequence[str]) -> OpenFile:
    """Open the index file next to `raw` (same rules as `open_in_roots`).

    Raises:
        NotFound: no index next to it.
    """
    for candidate in index_candidates(_local_path(raw)):
        try:
            return open_in_roots(candidate, roots)
        except NotFound:
            continue
    raise NotFound("No index file next to this file.")


# ------------------------------------------------------------------ types and names
_TYPES = (
    (".bam", "application/x-bam"),
    (".cram", "application/x-cram"),
    (".sam", "text/plain; charset=utf-8"),
    (".bai", "application/octet-stream"),
    (".crai", "application/octet-stream"),
    (".csi", "application/octet-stream"),
    (".tbi", "application/octet-stream"),
    (".gzi", "application/octet-stream"),
    # `.vcf` is a vCard to `mimetypes`; bgzip files are gzip *files*, never a
    # Content-Encoding (a client would decompress them transparently).
    (".vcf", "text/plain; charset=utf-8"),
    (".gz", "application/gzip"),
    (".bgz", "application/gzip"),
    (".fai", "text/plain; charset=utf-8"),
    (".fa", "text/plain; charset=utf-8"),
    (".fasta", "text/plain; charset=utf-8"),
    (".fna", "text/plain; charset=utf-8"),
    (".bed", "text/plain; charset=utf-8"),
    (".tsv", "text/tab-separated-values; charset=utf-8"),
    (".csv", "text/csv; charset=utf-8"),
    (".txt", "text/plain; charset=utf-8"),
    (".log", "text/plain; charset=utf-8"),
    (".err", "text/plain; charset=utf-8"),
    (".out", "text/plain; charset=utf-8"),
    (".json", "application/json"),
    (".yaml", "text/plain; charset=utf-8"),
    (".yml", "text/plain; charset=utf-8"),
    (".md5", "text/plain; charset=utf-8"),
)


def content_type(path: str) -> str:
    """The media type of a file, by its name."""
    lower = path.lower()
    for suffix, media in _TYPES:
        if lower.endswith(suffix):
            return media
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed or "application/octet-stream"


def file_headers() -> dict[str, str]:
    """Headers every served file carries: the stored bytes are never run as a page."""
    return {
        "X-Content-Type-Options": "nosniff",
        # An HTML or SVG result opened from this origin must not run scripts in it.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Accept-Ranges": "bytes",
    }


def attachment(path: str) -> str:
    """`Content-Disposition` for downloading `path` under its own name (RFC 6266)."""
    name = os.path.basename(path) or "download"
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


# ------------------------------------------------------------------ byte ranges
@dataclass(frozen=True)
class ByteRange:
    """Bytes `start` to `end`, both included."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes."""
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        """The `Content-Range` value."""
        return f"bytes {self.start}-{self.end}/{size}"


_SPEC = re.compile(r"^\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.ASCII)
MAX_RANGES = 100


def _parse_specs(value: str) -> list[tuple[int | None, int | None]] | None:
    unit, sep, specs = value.partition("=")
    if not sep:
        unit, specs = "bytes", value
    if unit.strip().lower() != "bytes":
        return None
    parts = specs.split(",")
    if not 0 < len(parts) <= MAX_RANGES:
        return None
    out: list[tuple[int | None, int | None]] = []
    for part in parts:
        if not part.strip():
            continue  # RFC 9110 allows empty list elements
        match = _SPEC.match(part)
        if match is None or not (match[1] or match[2]):
            return None
        first = int(match[1]) if match[1] else None
        last = int(match[2]) if match[2] else None
        if first is not None and last is not None and last < first:
            return None
        out.append((first, last))
    return out or None


def parse_range(value: str | None, size: int, *, strict: bool = False) -> ByteRange | None:
    """The byte range to serve of a file of `size` bytes; None: the whole file.

    `value` is a `Range` header (`bytes=0-99`, `bytes=-500`, `bytes=9500-`) or the
    `bytes` parameter (the same, `bytes=` optional). A malformed header is ignored, as
    RFC 9110 says; a malformed parameter (`strict`) is a 400. Of several ranges the first
    satisfiable one is served.

    Raises:
        RangeNotSatisfiable: no range overlaps the file (any range of an empty file).
        BadRequest: a malformed range with `strict`.
    """
    if value is None or not value.strip():
        return None
    specs = _parse_specs(value)
    if specs is None:
        if strict:
            raise BadRequest(f"invalid byte range {value[:100]!r}; expected e.g. 0-1023, -500")
        return None
    for first, last in specs:
        if first is None:  # suffix: the last `last` bytes
            assert last is not None
            if last > 0 and size > 0:
                return ByteRange(max(0, size - last), size - 1)
        elif first < size:
            return ByteRange(first, size - 1 if last is None else min(last, size - 1))
    raise RangeNotSatisfiable(
        f"no requested range overlaps the file ({size} bytes)",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def iter_file(
    opened: OpenFile, start: int = 0, length: int | None = None
) -> AsyncIterator[bytes]:
    """The bytes of `opened` from `start` (`length` of them, or to the end), in chunks read
    in a worker thread; the file is closed at the end."""
    fd = opened.file.fileno()
    position = start
    left = opened.size - start if length is None else length
    try:
        while left > 0:
            data = await anyio.to_thread.run_sync(os.pread, fd, min(CHUNK, left), position)
            if not data:  # the file shrank since it was opened
                break
            position += len(data)
            left -= len(data)
            yield data
    finally:
        opened.close()


# ------------------------------------------------------------------ text lines
class _LineReader:
    """Lines of a byte stream, each cut at `line_max` bytes, with a fast `skip`."""

    def __init__(self, read: Callable[[int], bytes], line_max: int) -> None:
        self.read = read
        self.line_max = line_max
        self.buf = b""
        self.pos = 0
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.read(BLOCK)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        return True

    def skip(self, count: int) -> bool:
        """Skip `count` lines; False when the stream ends first."""
        while count > 0:
            found = self.buf.count(b"\n", self.pos)
            if found >= count:
                for _ in range(count):
                    self.pos = self.buf.index(b"\n", self.pos) + 1
                return True
            count -= found
            self.pos = len(self.buf)
            if not self._fill():
                if self.pos < len(self.buf):  # a last line without newline
                    self.pos = len(self.buf)
                    count -= 1
                return count <= 0
        return True

    def readline(self) -> bytes:
        """The next line (with its newline, cut at `line_max`); b"" at the end."""
        while True:
            end = self.buf.find(b"\n", self.pos, self.pos + self.line_max)
            if end >= 0:
                line = self.buf[self.pos : end + 1]
                self.pos = end + 1
                return line
            if len(self.buf) - self.pos >= self.line_max:
                line = self.buf[self.pos : self.pos + self.line_max]
                self.pos += self.line_max
                return line + (b"\n" if self._drop_rest() else b"")
            if not self._fill():
                line = self.buf[self.pos :]
                self.pos = len(self.buf)
                return line

    def _drop_rest(self) -> bool:
        """Discard the rest of an over-long line; True if it ended with a newline."""
        while True:
            end = self.buf.find(b"\n", self.pos)
            if end >= 0:
                self.pos = end + 1
                return True
            self.pos = len(self.buf)
            if not self._fill():
                return False


def _forward(
    reader: _LineReader, offset: int, count: int, budget: int, keep_last: bool
) -> list[bytes]:
    """`count` lines after `offset` lines; at most `budget` bytes, keeping the first
    lines (or the last ones, `keep_last`)."""
    if count <= 0 or not reader.skip(offset):
        return []
    out: deque[bytes] = deque()
    used = 0
    while len(out) < count:
        line = reader.readline()
        if not line:
            break
        out.append(line)
        used += len(line)
        if used > budget and len(out) > 1:
            if not keep_last:
                out.pop()
                break
            while used > budget and len(out) > 1:
                used -= len(out.popleft())
    return list(out)


def _backward(
    f: BinaryIO, size: int, offset: int, count: int, budget: int, line_max: int
) -> list[bytes]:
    """The `count` lines before the last `offset` ones, read from the end in blocks."""
    if count <= 0 or size == 0:
        return []
    fd = f.fileno()
    newline = os.pread(fd, 1, size - 1) == b"\n"  # whether the current line ends with one
    pos = size - 1 if newline else size
    carry = b""  # the first bytes (up to line_max) of the current line seen so far
    skip, used = offset, 0
    out: list[bytes] = []

    def emit(line: bytes, terminated: bool) -> bool:
        nonlocal skip, used
        if skip:
            skip -= 1
            return True
        line = line[:line_max] + (b"\n" if terminated else b"")
        if used + len(line) > budget and out:
            return False
        out.append(line)
        used += len(line)
        return len(out) < count

    while pos > 0:
        start = max(0, pos - BLOCK)
        data = os.pread(fd, pos - start, start) + carry
        pos = start
        end = len(data)
        if skip:  # whole runs of skipped lines are counted, not split
            found = data.count(b"\n")
            if found and found < skip:
                skip -= found
                first = data.index(b"\n")
                carry, newline = data[: min(first, line_max)], True
                continue
        while True:
            cut = data.rfind(b"\n", 0, end)
            if cut < 0:
                break
            if not emit(data[cut + 1 : end], newline):
                return out[::-1]
            newline, end = True, cut
        carry = data[: min(end, line_max)]
    if carry or newline:
        emit(carry, newline)
    return out[::-1]


def _is_gzip(f: BinaryIO) -> bool:
    return os.pread(f.fileno(), 2, 0) == GZIP_MAGIC


def _decoded_stream(f: BinaryIO) -> Callable[[int], bytes]:
    f.seek(0)
    if _is_gzip(f):
        return gzip.GzipFile(fileobj=f, mode="rb").read
    return f.read


def read_lines(
    opened: OpenFile,
    *,
    offset: int = 0,
    lines: int = 5000,
    reverse: bool = False,
    max_bytes: int = 16 * 1024 * 1024,
    line_max: int = LINE_MAX,
) -> bytes:
    """`lines` lines of text from 0-based line `offset` (counted from the end, `reverse`),
    in file order, as UTF-8 (undecodable bytes replaced), gzip decompressed.

    Raises:
        BadRequest: the file is binary (a NUL in its first bytes) or corrupt gzip.
    """
    f = opened.file
    try:
        sample = _decoded_stream(f)(SNIFF)
        if b"\x00" in sample:
            raise BadRequest(
                "The file is binary; use download or stream instead of raw.",
            )
        if not reverse:
            reader = _LineReader(_decoded_stream(f), line_max)
            found = _forward(reader, offset, lines, max_bytes, keep_last=False)
        elif not _is_gzip(f):
            found = _backward(f, opened.size, offset, lines, max_bytes, line_max)
        else:
            # A gzip stream cannot be read backwards: count its lines, then read forward.
            total = _count_lines(_decoded_stream(f))
            first = max(0, total - offset - lines)
            wanted = min(lines, max(0, total - offset))
            reader = _LineReader(_decoded_stream(f), line_max)
            found = _forward(reader, first, wanted, max_bytes, keep_last=True)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise BadRequest(f"The file cannot be read as text: {exc}") from None
    return b"".join(found).decode("utf-8", "replace").encode("utf-8")


def _count_lines(read: Callable[[int], bytes]) -> int:
    total, last = 0, b"\n"
    while block := read(CHUNK):
        total += block.count(b"\n")
        last = block[-1:]
    return total + (0 if last == b"\n" else 1)


# ------------------------------------------------------------------ signed links
def sign_file_link(
    key: bytes, scope: Sequence[str], user_id: int, ttl_seconds: int, now: float | None = None
) -> str:
    """A token letting user `user_id` read the file named by `scope` for `ttl_seconds`."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    return f"{expires:x}.{user_id:x}.{_link_mac(key, scope, user_id, expires)}"


def check_file_link(
    key: bytes, scope: Sequence[str], token: str, now: float | None = None
) -> int | None:
    """The user id a valid, unexpired token for `scope` was made for; None otherwise."""
    match = _LINK.match(token)
    if match is None:
        return None
    expires, user_id = int(match[1], 16), int(match[2], 16)
    expected = _link_mac(key, scope, user_id, expires)
    if not hmac.compare_digest(expected, match[3]):
        return None
    if (now if now is not None else time.time()) > expires:
        return None
    return user_id


def _link_mac(key: bytes, scope: Sequence[str], user_id: int, expires: int) -> str:
    # JSON keeps the scope's parts apart: ("a:b", "c") and ("a", "b:c") differ.
    message = orjson.dumps(["file-link", list(scope), user_id, expires])
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]
