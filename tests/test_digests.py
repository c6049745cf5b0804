"""The many-stores digest gives exactly the HMAC-SHA256 of ``identifier_digest``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stores.digests import identifier_digest, identifier_digests

# Secrets as stores have them, and the edges of the HMAC key: empty, one block, longer than
# a block (hashed first), non-ASCII.
secrets = st.one_of(
    st.text(min_size=0, max_size=100),
    st.sampled_from(["", "k" * 63, "k" * 64, "k" * 65, "ключ" * 20, "a-store-secret"]),
)


@given(
    store_secrets=st.lists(secrets, min_size=1, max_size=5),
    kinds=st.lists(st.sampled_from(["email", "customer", "visitor"]), min_size=1, unique=True),
    value=st.text(max_size=80),
)
def test_many_digests_equal_one_digest_each(store_secrets, kinds, value):
    per_kind = identifier_digests(store_secrets, tuple(kinds), value)
    assert [[d.hex() for d in many] for many in per_kind] == [
        [identifier_digest(s, kind, value) for s in store_secrets] for kind in kinds
    ]
