"""Review findings on PII masking: e-mail addresses with non-ASCII letters."""

from __future__ import annotations

import pytest

from ingest.masking import mask_pii, mask_texts


@pytest.mark.parametrize(
    "address",
    ["josé.garcía@acme.es", "müller@firma.de", "bob@münchen.de", "ślęzak@przykład.pl"],
)
def test_mask_pii_masks_whole_non_ascii_email_addresses(address: str) -> None:
    text = f"write to {address} please"
    assert mask_pii(text) == "write to [email] please"
    assert mask_texts([text, "plain"]) == ["write to [email] please", "plain"]
