"""The evidence archive: raw blobs stored once under their SHA-256, write-once."""

import hashlib
import os
from pathlib import Path

from sovaudit.fsutil import write_atomic


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceArchive:
    def __init__(self, root: Path):
        self.root = root

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store `data`; return its digest and whether it was new. An existing blob is never rewritten."""
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.exists():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
        os.chmod(target, 0o444)
        return digest, True

    def read(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()

    def digests(self):
        for sub in sorted(self.root.glob("??")):
            for blob in sorted(sub.iterdir()):
                if not blob.name.startswith("."):
                    yield blob.name
