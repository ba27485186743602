"""core.ids: the fast version-4 UUIDs are real version-4 UUIDs, unique, and not shared across a fork."""

from __future__ import annotations

import os
import uuid

from cognate.core import ids


def test_uuid4_is_a_version_4_uuid_in_its_text_form() -> None:
    made = [ids.uuid4() for _ in range(3000)]  # beyond one 4 KiB draw of random bytes
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # every bit outside version and variant varies
    ones = 0
    zeros = 0
    for text in made:
        value = uuid.UUID(text).int
        ones |= value
        zeros |= ~value
    fixed = (0xF << 76) | (0x3 << 62)
    assert ones | fixed == (1 << 128) - 1 and zeros & ((1 << 128) - 1) | fixed == (1 << 128) - 1


def test_a_forked_child_draws_its_own_random_bytes() -> None:
    ids.uuid4()  # the parent holds a buffer
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what its next UUID is
        os.write(write, ids.uuid4().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert child != ids.uuid4()
    assert uuid.UUID(child).version == 4
