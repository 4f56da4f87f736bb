"""The one SHA-256 helper for files (checkpoint manifests, zoo checksums)."""

import hashlib

_CHUNK_BYTES = 1 << 20


def sha256_file(path):
    """The hex SHA-256 digest of the file at `path`, read in 1 MiB chunks.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "empty")
    >>> open(path, "wb").close()
    >>> sha256_file(path)
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
