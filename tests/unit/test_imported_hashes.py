"""crypto/imported_hashes.py: the four algorithms' encodings, their costs bounded, verified
by the owning library with a constant-time comparison."""

from __future__ import annotations

import pytest

from cognate.crypto import imported_hashes as ih
from tests.support import import_csv as ic

PASSWORD = "Old-passw0rd!"
MAKERS = {
    "ARGON2ID": ic.argon2id_hash,
    "BCRYPT": ic.bcrypt_hash,
    "SCRYPT": ic.scrypt_hash,
    "PBKDF2_SHA256": ic.pbkdf2_hash,
}


@pytest.mark.parametrize("algorithm", sorted(MAKERS))
def test_each_algorithm_parses_and_verifies_only_its_password(algorithm: str) -> None:
    encoded = MAKERS[algorithm](PASSWORD)
    assert ih.parse(algorithm, encoded) == encoded
    assert ih.algorithm_of(encoded) == algorithm
    assert ih.verify(encoded, PASSWORD)
    assert not ih.verify(encoded, PASSWORD + "x")
    assert not ih.verify(encoded, "")
    others = [a for a in ih.ALGORITHMS if a != algorithm]
    for other in others:
        with pytest.raises(ih.UnusableHash):
            ih.parse(other, encoded)


def test_django_and_php_variants() -> None:
    assert ih.verify(ih.parse("PBKDF2_SHA256", ic.django_pbkdf2_hash(PASSWORD)), PASSWORD)
    php = ic.bcrypt_hash(PASSWORD).replace("$2b$", "$2y$", 1)
    assert ih.verify(ih.parse("BCRYPT", php), PASSWORD)
    old = ic.bcrypt_hash(PASSWORD, prefix=b"2a")
    assert ih.verify(ih.parse("BCRYPT", old), PASSWORD)


def test_bcrypt_reads_72_bytes_as_the_libraries_that_wrote_it() -> None:
    long = "x" * 80
    encoded = ic.bcrypt_hash(long[:72])
    assert ih.verify(encoded, long)


@pytest.mark.parametrize(
    ("algorithm", "encoded"),
    [
        ("BCRYPT", "$2b$17$" + "a" * 53),  # cost above 16
        ("BCRYPT", "$2b$03$" + "a" * 53),
        ("BCRYPT", "$2b$04$" + "z" * 53),  # the salt's last character holds bits a salt has not
        ("SCRYPT", "$scrypt$ln=21,r=8,p=1$c2FsdHNhbHQ$" + "A" * 43),  # N = 2^21
        ("SCRYPT", "$scrypt$ln=20,r=32,p=1$c2FsdHNhbHQ$" + "A" * 43),  # 4 GiB
        ("PBKDF2_SHA256", "$pbkdf2-sha256$5000001$c2FsdA$" + "A" * 43),
        ("ARGON2ID", "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$" + "A" * 43),  # 1 GiB
        ("ARGON2ID", "$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHQ$" + "A" * 43),  # argon2i, not id
        ("ARGON2ID", "$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHQ$" + "A" * 43),  # below argon2's minimum
        ("PBKDF2_SHA256", "$pbkdf2-sha256$1000$c2FsdA$short"),
        ("SCRYPT", "$scrypt$ln=10,r=8,p=1$!!!$" + "A" * 43),
        ("BCRYPT", "x" * 2000),
        ("MD5", "$1$abc$def"),
    ],
)
def test_costly_or_malformed_hashes_are_refused_and_never_verify(algorithm: str, encoded: str) -> None:
    with pytest.raises(ih.UnusableHash) as refused:
        ih.parse(algorithm, encoded)
    assert encoded not in str(refused.value)
    assert not ih.verify(encoded, PASSWORD)
