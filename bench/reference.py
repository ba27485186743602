"""The same-run reference: this core's RSA-2048 signing rate and argon2id verify rate.

Run pinned to the server's core (``taskset -c N python -m bench.reference``); prints one
JSON object. SRP (``--srp``): 3072-bit exponentiations with 256-bit exponents in gmpy2.
Signing: ``cryptography``, one key object reused, PKCS#1 v1.5 + SHA-256
over a token-sized message, for about ``--seconds``. Argon2id: the server's own
``Passwords`` at its default cost (m = 19 MiB, t = 2, p = 1), verifying one hash.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def sign_rate(seconds: float) -> tuple[float, float]:
    """Signatures per wall second and per CPU second of this process."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"x" * 700  # about the size of a JWT's header.payload
    pad, algo = padding.PKCS1v15(), hashes.SHA256()
    for _ in range(20):  # warm up
        key.sign(message, pad, algo)
    n = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for _ in range(20):
            key.sign(message, pad, algo)
        n += 20
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n / max(time.process_time() - cpu0, 1e-9)


def argon2_verify_rate(seconds: float) -> tuple[float, str]:
    if os.environ.get("COGNATE_TEST_PASSWORD_HASH_COST"):
        raise SystemExit("COGNATE_TEST_PASSWORD_HASH_COST must not be set for the benchmark")
    from cognate.crypto.passwords import OWASP, Passwords

    pw = Passwords()  # the default cost, as the server uses it
    stored = pw.hash("Bench-Passw0rd!")
    pw.verify(stored, "Bench-Passw0rd!")  # warm up
    n = 0
    start = time.perf_counter()
    while True:
        ok = pw.verify(stored, "Bench-Passw0rd!")
        assert ok
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            params = f"argon2id m={OWASP['memory_cost']}KiB t={OWASP['time_cost']} p={OWASP['parallelism']}"
            return n / elapsed, params


def modexp_rate(seconds: float) -> tuple[float, float]:
    """3072-bit modular exponentiations with 256-bit exponents per second, through gmpy2:
    the unit of an SRP sign-in's unavoidable work (the server does three)."""
    import secrets

    import gmpy2

    from cognate.crypto.srp import N

    modulus = gmpy2.mpz(N)
    bases = [gmpy2.mpz(secrets.randbits(3070)) for _ in range(8)]
    exps = [gmpy2.mpz(secrets.randbits(256)) for _ in range(8)]
    for b, e in zip(bases, exps, strict=True):  # warm up
        gmpy2.powmod(b, e, modulus)
    n = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for b, e in zip(bases, exps, strict=True):
            gmpy2.powmod(b, e, modulus)
        n += len(bases)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n / max(time.process_time() - cpu0, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--argon2", action="store_true", help="also measure the argon2id verify rate")
    parser.add_argument("--srp", action="store_true", help="also measure the gmpy2 exponentiation rate")
    args = parser.parse_args()
    out: dict[str, object] = {"core": sorted(os.sched_getaffinity(0))}
    # per wall second (the goals) and per CPU second (robust when other work shares the core)
    out["sign_rate"], out["sign_rate_cpu"] = sign_rate(args.seconds)
    if args.argon2:
        rate, params = argon2_verify_rate(args.seconds)
        out["argon2_verify_rate"] = rate
        out["argon2_params"] = params
    if args.srp:
        out["modexp_rate"], out["modexp_rate_cpu"] = modexp_rate(args.seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
