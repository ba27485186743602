"""How usernames and sign-in aliases are compared: one Unicode profile for storage and lookup.

Without one, ``café`` typed as NFC (U+00E9) and as NFD (``e`` + U+0301) are two users who
look the same, and an attacker can register the twin of a victim's name. Cognate uses
the profiles of RFC 8265 (PRECIS, "Preparation, Enforcement, and Comparison of
Internationalized Strings Representing Usernames"):

* a case-insensitive pool (``UsernameConfiguration.CaseSensitive`` false) compares by
  **UsernameCaseMapped** (section 3.3): width mapping (fullwidth and halfwidth forms to
  their ordinary ones), then Unicode ``toLowerCase``, then NFC;
* a case-sensitive pool (Cognito's default) compares by **NFC** alone.

The username is stored as typed but in NFC (so what users see is canonical); its key,
unique per pool, is the profile's form, and every lookup computes the same key. Email
and ``preferred_username`` aliases are keyed the same way; phone numbers are E.164 digits.
docs/usernames.md says what happens to rows written before this rule.
"""

from __future__ import annotations

import unicodedata


def stored(name: str) -> str:
    """The username as kept: NFC."""
    return unicodedata.normalize("NFC", name)


def _width_mapped(name: str) -> str:
    """RFC 8265 section 3.3.1 rule 1: fullwidth and halfwidth characters to their decomposition."""
    return "".join(
        unicodedata.normalize("NFKC", ch)
        if unicodedata.decomposition(ch).startswith(("<wide>", "<narrow>"))
        else ch
        for ch in name
    )


def key(name: str, *, case_sensitive: bool) -> str:
    """The comparison key: NFC, or UsernameCaseMapped in a case-insensitive pool."""
    if case_sensitive:
        return unicodedata.normalize("NFC", name)
    return unicodedata.normalize("NFC", _width_mapped(name).lower())
