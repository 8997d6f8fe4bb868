"""The one way the course checksums a file."""

import hashlib

from course.checksums import file_sha256


def test_file_sha256_is_the_hex_sha256_of_the_file_s_bytes(tmp_path):
    path = tmp_path / "abc.txt"
    path.write_bytes(b"abc")
    assert (
        file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )  # FIPS 180-2's example
    path.write_bytes(bytes(range(256)) * 1000)
    assert file_sha256(str(path)) == hashlib.sha256(path.read_bytes()).hexdigest()  # a path given as text too
