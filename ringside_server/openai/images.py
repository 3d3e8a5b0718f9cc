"""OpenAI's image routes as metered calls: each image priced by the model's catalog table
(`image_prices`, "<quality>/<size>" → nano-USD per image), metered as one output unit per image.

A metered call prices tokens; an image model's call is priced as a model whose output price is its
per-image price per million units, and whose answer reports one output unit per image returned, so
the hold, the room rule (fewer images when the room pays for fewer) and the settle are chat's own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import PRICE_CLASSES, CatalogModel

UNITS_PER_PRICE = 1_000_000  # catalog prices are per 1M units
AUTO = "auto"


def _defaults(model: CatalogModel, quality: str | None, size: str | None) -> tuple[str, str]:
    """OpenAI's defaults: DALL·E draws `standard` 1024x1024; gpt-image-1 chooses (`auto`)."""
    dall_e = any(key.startswith("standard/") for key in model.image_prices)
    return quality or ("standard" if dall_e else AUTO), size or ("1024x1024" if dall_e else AUTO)


def per_image_nano(model: CatalogModel, quality: str | None, size: str | None) -> int:
    """The price of one image; `auto` is priced as the dearest choice the model may make."""
    quality, size = _defaults(model, quality, size)
    matching = [
        nano
        for key, nano in model.image_prices.items()
        if (quality == AUTO or key.split("/")[0] == quality) and (size == AUTO or key.split("/")[-1] == size)
    ]
    if not matching:
        offered = ", ".join(sorted(model.image_prices)) or "none"
        raise RingsideError(
            "invalid_request",
            f"'{model.ref}' does not offer quality '{quality}' at size '{size}'; it offers (quality/size): {offered}.",
            "size",
        )
    return max(matching)


def priced_per_image(quality: str | None, size: str | None, images: int) -> Any:
    """The request's `priced` hook: the model with its per-image price as the output price (and a
    400 when it cannot draw that many images at once)."""

    def priced(model: CatalogModel) -> CatalogModel:
        if images > model.max_output_tokens:
            most = model.max_output_tokens
            raise RingsideError("invalid_request", f"'{model.ref}' draws at most {most} image(s) a request.", "n")
        nano = per_image_nano(model, quality, size)
        return replace(model, prices={**dict.fromkeys(PRICE_CLASSES, 0), "output": nano * UNITS_PER_PRICE})

    return priced


def images_usage(answer: Any, model: CatalogModel) -> dict[str, int]:
    """One output unit per image the answer holds."""
    data = answer.get("data") if isinstance(answer, dict) else None
    images = len(data) if isinstance(data, list) else 0
    return {"prompt_tokens": 0, "completion_tokens": images, "total_tokens": images}


def answer_problem(answer: Any) -> str | None:
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        return "The provider's answer was not a list of images."
    return None


def upstream_body(body: dict[str, Any], model: CatalogModel, max_images: int, limited: bool) -> dict[str, Any]:
    """The provider's model name, and `n` lowered to what the room pays for."""
    upstream = {**body, "model": model.name}
    if limited and max_images:
        upstream["n"] = max_images
    return upstream
