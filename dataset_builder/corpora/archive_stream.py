"""Reading a ``.tar.xz`` archive, split or whole, as one stream: never extracted, never joined on disk.

CodecFake+ publishes its CoRS archive as ``Codecfake_plus_CoRS.part0`` ... ``part3``, pieces of one
``tar.xz`` cut by size (``cat`` joins them). :class:`ChainedFiles` reads the pieces one after the other as
one file (hashing each as it goes), and :class:`ArchiveCursor` walks the tar members of that stream with
:mod:`tarfile`'s stream mode (``r|xz``): a member's bytes are read from the decompressed stream into
memory, nothing is written to disk. An xz stream cannot be entered in the middle, so a cursor only goes
forward; reading the part of an archive after the one just read continues the same cursor.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import tarfile
from collections.abc import Sequence
from pathlib import Path

from dataset_builder import DatasetBuildError


class ChainedFiles(io.RawIOBase):
    """The files ``paths`` read as one file, in order; the sha256 of each is computed as it is read."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self.paths = list(paths)
        self._index = 0
        self._handle = self.paths[0].open("rb")
        self._hashes = [hashlib.sha256() for _ in self.paths]
        self._sizes = [0] * len(self.paths)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            count = self._handle.readinto(buffer)
            if count:
                self._hashes[self._index].update(memoryview(buffer)[:count])
                self._sizes[self._index] += count
                return count
            if self._index + 1 == len(self.paths):
                return 0
            self._handle.close()
            self._index += 1
            self._handle = self.paths[self._index].open("rb")

    def close(self) -> None:
        self._handle.close()
        super().close()

    def read_to_end(self) -> list[dict]:
        """Read what is left (an archive's padding after its last member) and return, per file, its
        ``name``, ``bytes`` and ``sha256``."""
        while self.read(1 << 20):
            pass
        return [
            {"name": path.name, "bytes": size, "sha256": digest.hexdigest()}
            for path, size, digest in zip(self.paths, self._sizes, self._hashes)
        ]


class ArchiveCursor:
    """The members of the ``tar.xz`` stream made of ``paths``, walked forward (module docstring).

    ``position`` counts the members the caller has counted (:meth:`advance`), so a corpus can cut
    an archive into parts by member position.
    """

    def __init__(self, paths: Sequence[Path], name: str) -> None:
        self.name = name
        self.reader = ChainedFiles(paths)
        try:
            self._tar = tarfile.open(fileobj=self.reader, mode="r|xz")
        except (tarfile.TarError, lzma.LZMAError, EOFError) as error:
            raise self._damaged(error) from None
        self._members = iter(self._tar)
        self.position = 0

    def _damaged(self, error: Exception) -> DatasetBuildError:
        return DatasetBuildError(
            f"{self.name}: not a readable tar.xz stream ({type(error).__name__}: {error}); the download is "
            "damaged or incomplete: download it again (every piece, for a split archive)"
        )

    def next_file(self) -> tarfile.TarInfo | None:
        """The next regular file member (folders and links are passed over), None at the end."""
        try:
            for member in self._members:
                if member.isfile():
                    return member
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as error:
            raise self._damaged(error) from None
        return None

    def read(self, member: tarfile.TarInfo) -> bytes:
        """The bytes of ``member``, the member :meth:`next_file` returned last."""
        try:
            return self._tar.extractfile(member).read()
        except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as error:
            raise self._damaged(error) from None

    def advance(self) -> None:
        self.position += 1

    def finish(self) -> list[dict]:
        """Read the stream to its end; the files read, with their sha256 (:meth:`ChainedFiles.read_to_end`)."""
        read = self.reader.read_to_end()
        self.close()
        return read

    def close(self) -> None:
        self._tar.close()
        self.reader.close()
