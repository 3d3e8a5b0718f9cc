"""What the edge knows of a call before it goes upstream: the input of admission (metering.py)
and of the effective limits (limits.py), kept apart from both so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass

from ringside_server import admission
from ringside_server.money import Price


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What the edge knows of a call before it goes upstream."""

    api_key: str
    customer_ref: str
    user: str
    model_ref: str
    provider: str
    price: Price
    input_tokens_bound: int
    requested_output_tokens: int
    model_max_output_tokens: int
    choices: int = 1
    client_ip: str = ""
    client_token_id: str = ""
    client_token_rpm: int = 0  # 0: the operator's default
    client_token: str = ""  # a browser's call: the JWT instead of a secret key
    key_id: str = ""  # internal: a call Ringside makes on a key's behalf (a file's ingest), by key id
    request_id: str = ""  # internal, with key_id: the id Ringside chose for the call (a batch's line)
    # The rates its estimate is priced at (admission.estimate_rates: the classes the request can
    # incur); None: the model's whole price. The hold keeps `price`, which prices the settle.
    estimate_price: Price | None = None

    @property
    def rates(self) -> Price:
        return self.estimate_price or self.price

    def tokens_bound(self, output_tokens: int) -> int:
        """What the call counts against a TPM limit until settled (admission.tokens_bound)."""
        return admission.tokens_bound(self.input_tokens_bound, self.choices, output_tokens)
