"""Hypothesis strategies for hostile input, shared by the tests of this package.

Each strategy draws the kind of text or number that has broken configuration
writers before: line breaks of every kind, lines that start with ``@`` (the end
of a multi-line value) or ``include``, ``$(`` macro references, trailing
backslashes (line continuation), control and non-ASCII characters, and numbers
that are huge, negative or not finite.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

# Pieces HTCondor's configuration reader treats specially, mixed into ordinary text.
CONFIG_PIECES = (
    "\n",
    "\r\n",
    "\r",
    "\\",
    " \\",
    "\\\n",
    "@",
    "@end",
    "@jrt",
    "\n@jrt\n",
    "\n@end\n",
    "$(",
    "$(FULL_HOSTNAME)",
    "$ENV(HOME)",
    "$$(",
    "include : /etc/passwd",
    "include command : touch /tmp/osg_htc_hostile_marker",
    "include : touch /tmp/osg_htc_hostile_marker |",
    "\ninclude command : touch /tmp/osg_htc_hostile_marker\n",
    "ALLOW_WRITE = *",
    "\nALLOW_WRITE = *\n",
    "#",
    "\n#",
    "if",
    "\nendif\n",
    "=",
    ":",
    "[",
    "]",
    '"',
    ";",
    "/",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\t",
    " ",
    "é",
    "\U0001f600",
)

config_pieces = st.sampled_from(CONFIG_PIECES)
plain_words = st.text(alphabet="abcXYZ019_.-/", min_size=0, max_size=8)

hostile_text = st.lists(st.one_of(config_pieces, plain_words), min_size=1, max_size=6).map("".join)
"""Short text made of ordinary words and the pieces above."""

any_text = st.one_of(hostile_text, st.text(max_size=20))

HOSTILE_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e-320,
    2**31,
    2**63,
    -(2**63) - 1,
    10**400,
    -1,
    0,
)

hostile_numbers = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
)
"""Numbers an option or claim may be given: not finite, huge, negative, tiny."""
