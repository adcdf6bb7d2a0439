"""Photos and voice messages attached to registry records: checked, cleaned and sized.

Pure functions over bytes. A photo is decoded with Pillow, turned upright from its
EXIF orientation, flattened to sRGB, shrunk (never enlarged) and re-encoded as a JPEG
without any metadata, so location and device data in the camera's EXIF never reach
storage. A voice message is stored as sent, but its type comes from its first bytes,
not from what the client claims.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from fengqiao.errors import InvalidInput
from fengqiao.i18n import _

MAX_PHOTO_BYTES = 15 * 1024 * 1024  # upload limit before resizing
MAX_VOICE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 60_000_000  # refuse decompression bombs
PHOTO_LONG_SIDE = 1600  # stored photo: longest side at most this many px
THUMB_LONG_SIDE = 320
JPEG_QUALITY = 82

# Pillow's names of the formats we accept. MPO is how Pillow names the multi-picture
# JPEGs that many phones (iPhone portrait mode among them) write; it is a JPEG.
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP"})

_MB = 1024 * 1024
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class StoredPhoto:
    data: bytes  # JPEG, upright, RGB, no EXIF or other metadata
    thumbnail: bytes  # JPEG, longest side at most THUMB_LONG_SIDE
    width: int
    height: int
    content_type: str  # "image/jpeg"
    sha256: str  # of data


@dataclass(frozen=True)
class StoredVoice:
    data: bytes
    content_type: str  # detected from magic bytes, not trusted from the client
    sha256: str


def _name(filename: str) -> str:
    return filename or _("the upload")


def _megabytes(size: int) -> str:
    """Size in MB with one decimal, rounded up so that anything over a limit reads as over."""
    return f"{math.ceil(size * 10 / _MB) / 10:.1f}"


def _limit_mb(limit: int) -> str:
    return f"{limit / _MB:g}"


# --- photos -------------------------------------------------------------------------------


def _not_a_photo(filename: str) -> InvalidInput:
    return InvalidInput(
        _(
            "“{name}” is not a photo we can read: send a JPEG, PNG, WebP, GIF (first frame only) "
            "or BMP image. HEIC photos, PDFs and other documents are not accepted; on an iPhone, "
            "set Camera › Formats to “Most Compatible” or share the photo as JPEG."
        ).format(name=_name(filename))
    )


def _too_many_pixels(
    filename: str, width: int | None = None, height: int | None = None
) -> InvalidInput:
    limit = f"{MAX_PIXELS / 1e6:g}"
    if width is None or height is None:
        return InvalidInput(
            _(
                "“{name}” has more than the {limit} million pixels allowed: reduce its size "
                "and send it again."
            ).format(name=_name(filename), limit=limit)
        )
    return InvalidInput(
        _(
            "“{name}” is {width} × {height} pixels, more than the {limit} million pixels "
            "allowed: reduce its size and send it again."
        ).format(name=_name(filename), width=width, height=height, limit=limit)
    )


def _damaged(filename: str) -> InvalidInput:
    return InvalidInput(
        _(
            "“{name}” is damaged or incomplete and cannot be read: send the photo again, "
            "or take a new one."
        ).format(name=_name(filename))
    )


def _check_header(raw: bytes, filename: str) -> None:
    """Open the image header only: refuse unknown formats and too many pixels."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            fmt = img.format or ""
            width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own, looser limit (its warning is an error where warnings are errors).
        raise _too_many_pixels(filename) from None
    except Exception as exc:  # Pillow raises many types for data it cannot identify
        raise _not_a_photo(filename) from exc
    if fmt not in PHOTO_FORMATS:
        raise InvalidInput(
            _(
                "“{name}” is a {format} image, which is not accepted: send a JPEG, PNG, WebP, "
                "GIF (first frame only) or BMP image."
            ).format(name=_name(filename), format=fmt or _("unknown"))
        )
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(filename, width, height)


def _decode(raw: bytes, filename: str) -> Image.Image:
    """Verify, then fully decode the (first frame of the) image."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.verify()
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            return img.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(filename) from None
    except Exception as exc:  # truncated data, bad checksums, broken headers
        raise _damaged(filename) from exc


def _to_srgb(img: Image.Image) -> Image.Image:
    """An RGB image without alpha: transparency flattened on white, colour profile applied."""
    icc = img.info.get("icc_profile")
    if img.mode in _HIGH_BIT_DEPTH_MODES:
        # 16-bit greyscale (PNG): scale to 8 bits rather than clip everything to white.
        return img.convert("I").point(lambda v: v / 256).convert("L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    if isinstance(icc, bytes) and icc and img.mode in ("RGB", "CMYK", "L"):
        try:
            converted = ImageCms.profileToProfile(
                img,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken or mismatched profile: fall back to a plain conversion
        if converted is not None:
            img = converted
    return img if img.mode == "RGB" else img.convert("RGB")


def _fit(img: Image.Image, long_side: int) -> Image.Image:
    """A copy whose longest side is at most ``long_side``; never enlarged, aspect kept."""
    out = img.copy()
    out.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return out


def _jpeg(img: Image.Image) -> bytes:
    img.info.clear()  # no comment, XMP, EXIF or ICC profile is carried into the file
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def prepare_photo(raw: bytes, *, filename: str = "") -> StoredPhoto:
    """Check an uploaded photo and turn it into the stored JPEG and its thumbnail.

    Raises ``InvalidInput`` naming the file when it is empty, larger than
    ``MAX_PHOTO_BYTES``, not a JPEG, PNG, WebP, GIF or BMP image, larger than
    ``MAX_PIXELS`` pixels, or damaged. GIFs keep their first frame only.
    """
    if not raw:
        raise InvalidInput(
            _("“{name}” is empty: choose the photo again and resend it.").format(
                name=_name(filename)
            )
        )
    if len(raw) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            _(
                "“{name}” is {size} MB, more than the {limit} MB allowed for a photo: "
                "send a smaller photo or lower the camera resolution."
            ).format(
                name=_name(filename), size=_megabytes(len(raw)), limit=_limit_mb(MAX_PHOTO_BYTES)
            )
        )
    _check_header(raw, filename)
    decoded = _decode(raw, filename)
    upright = ImageOps.exif_transpose(decoded)
    photo = _fit(_to_srgb(upright), PHOTO_LONG_SIDE)
    thumb = _fit(photo, THUMB_LONG_SIDE)
    data = _jpeg(photo)
    return StoredPhoto(
        data=data,
        thumbnail=_jpeg(thumb),
        width=photo.width,
        height=photo.height,
        content_type="image/jpeg",
        sha256=hashlib.sha256(data).hexdigest(),
    )


# --- voice --------------------------------------------------------------------------------


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a real version and layer (not AAC's ADTS)."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    return version != 0b01 and layer != 0b00


def _voice_type(raw: bytes) -> str | None:
    if raw.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if raw.startswith(b"OggS"):
        return "audio/ogg"
    if raw.startswith(b"RIFF") and raw[8:12] == b"WAVE":
        return "audio/wav"
    if raw.startswith(b"ID3") or _is_mp3_frame(raw[:2]):
        return "audio/mpeg"
    if raw[4:8] == b"ftyp":
        return "audio/mp4"
    if raw.startswith(b"#!AMR"):
        return "audio/amr"
    return None


def prepare_voice(raw: bytes, *, filename: str = "") -> StoredVoice:
    """Check an uploaded voice message; its content type is read from its first bytes.

    Accepts WebM/Matroska, Ogg, WAV, MP3, MP4/M4A/3GP and AMR. Raises ``InvalidInput``
    naming the file when it is empty, larger than ``MAX_VOICE_BYTES`` or of another type.
    """
    if not raw:
        raise InvalidInput(
            _("“{name}” is empty: record the voice message again.").format(name=_name(filename))
        )
    if len(raw) > MAX_VOICE_BYTES:
        raise InvalidInput(
            _(
                "“{name}” is {size} MB, more than the {limit} MB allowed for a voice message: "
                "record a shorter message."
            ).format(
                name=_name(filename), size=_megabytes(len(raw)), limit=_limit_mb(MAX_VOICE_BYTES)
            )
        )
    content_type = _voice_type(raw)
    if content_type is None:
        raise InvalidInput(
            _(
                "“{name}” is not a voice recording we accept: send WebM, Ogg, WAV, MP3, "
                "M4A (MP4 or 3GP) or AMR audio."
            ).format(name=_name(filename))
        )
    return StoredVoice(data=raw, content_type=content_type, sha256=hashlib.sha256(raw).hexdigest())
