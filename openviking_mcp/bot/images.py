"""Images attached to a chat message: at most 4, each an ``https`` URL or a base64 data URL of
a JPEG, PNG, GIF or WebP image of at most 10 MiB whose bytes really are that format."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from openviking_mcp.contract.chat import ChatImage
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.images import sniff_image_type

__all__ = [
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "Attachment",
    "check_images",
    "decode_data_url",
    "sniff_image_type",
]

MAX_IMAGES = 4
MAX_IMAGE_BYTES = 10 * 1024 * 1024

_DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|gif|webp));base64,(.*)$", re.DOTALL)
# base64 of 10 MiB is about 13.4 MiB of text; anything longer cannot decode small enough.
_MAX_ENCODED = (MAX_IMAGE_BYTES + 2) // 3 * 4 + 4


@dataclass(frozen=True, slots=True)
class Attachment:
    """A checked image: its URL, and for a data URL the decoded bytes and their type."""

    url: str
    detail: str | None = None
    media_type: str | None = None
    data: bytes | None = None


def decode_data_url(url: str, *, field: str = "image") -> tuple[str, bytes]:
    """``(media_type, bytes)`` of a valid image data URL; :class:`InvalidArgumentError` else."""
    match = _DATA_URL.match(url)
    if match is None:
        raise InvalidArgumentError(
            f"{field}: a data URL must be data:image/(jpeg|png|gif|webp);base64,...",
            {"field": field},
        )
    media_type, encoded = match.group(1), match.group(2)
    if len(encoded) > _MAX_ENCODED:
        raise InvalidArgumentError(
            f"{field}: the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB",
            {"field": field, "max_bytes": MAX_IMAGE_BYTES},
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError(
            f"{field}: the data URL is not valid base64", {"field": field}
        ) from None
    if not data:
        raise InvalidArgumentError(f"{field}: the image is empty", {"field": field})
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidArgumentError(
            f"{field}: the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB",
            {"field": field, "max_bytes": MAX_IMAGE_BYTES},
        )
    if sniff_image_type(data) != media_type:
        raise InvalidArgumentError(
            f"{field}: the bytes are not a {media_type.split('/')[1].upper()} image",
            {"field": field, "media_type": media_type},
        )
    return media_type, data


def check_images(images: Sequence[ChatImage]) -> list[Attachment]:
    """Validate the attached images (count, scheme, data-URL type, size and signature); data
    URLs are decoded once, here."""
    if len(images) > MAX_IMAGES:
        raise InvalidArgumentError(
            f"At most {MAX_IMAGES} images per message", {"field": "images", "max": MAX_IMAGES}
        )
    checked: list[Attachment] = []
    for index, image in enumerate(images):
        field = f"images[{index}]"
        url, detail = image.image_url.url, image.image_url.detail
        if url.startswith("data:"):
            media_type, data = decode_data_url(url, field=field)
            checked.append(Attachment(url, detail, media_type, data))
            continue
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise InvalidArgumentError(
                f"{field}: an image must be an https URL or a base64 data URL",
                {"field": field},
            )
        checked.append(Attachment(url, detail))
    return checked
