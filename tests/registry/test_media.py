"""Photo and voice uploads: cleaned, sized and refused with messages naming the file."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from PIL import Image, ImageCms

from fengqiao.errors import InvalidInput
from fengqiao.registry import media
from fengqiao.registry.media import (
    MAX_PHOTO_BYTES,
    MAX_VOICE_BYTES,
    PHOTO_LONG_SIDE,
    THUMB_LONG_SIDE,
    prepare_photo,
    prepare_voice,
)

ORIENTATION = 0x0112
RED = (220, 30, 30)
BLUE = (30, 30, 220)


def _encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _close(actual: object, expected: tuple[int, ...], tolerance: int = 40) -> bool:
    """Whether a pixel from ``getpixel`` is within ``tolerance`` of ``expected`` per channel."""
    assert isinstance(actual, tuple), actual
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def _halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 2, height))
    return img


# --- photos: accepted ---------------------------------------------------------------------


def test_big_jpeg_is_shrunk_with_aspect_kept_and_a_small_thumbnail() -> None:
    raw = _encode(Image.new("RGB", (4000, 3000), (90, 140, 60)), "JPEG", quality=95)

    photo = prepare_photo(raw, filename="street.jpg")

    assert (photo.width, photo.height) == (PHOTO_LONG_SIDE, 1200)
    stored = _open(photo.data)
    assert stored.format == "JPEG"
    assert stored.size == (photo.width, photo.height)
    thumb = _open(photo.thumbnail)
    assert thumb.format == "JPEG"
    assert thumb.size == (THUMB_LONG_SIDE, 240)
    assert photo.content_type == "image/jpeg"


def test_sha256_is_of_the_stored_data() -> None:
    photo = prepare_photo(_encode(_halves(800, 600), "PNG"), filename="a.png")

    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    assert photo.sha256 != hashlib.sha256(photo.thumbnail).hexdigest()


def test_exif_rotated_photo_comes_out_upright_without_exif() -> None:
    # Stored 400 × 200 landscape, left half red; orientation 6 means "rotate 90° clockwise
    # to display", so the upright photo is 200 × 400 with red on top.
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    raw = _encode(_halves(400, 200), "JPEG", exif=exif.tobytes(), comment=b"secret note")
    assert _open(raw).getexif()[ORIENTATION] == 6

    photo = prepare_photo(raw, filename="portrait.jpg")

    assert (photo.width, photo.height) == (200, 400)
    stored = _open(photo.data)
    assert _close(stored.getpixel((100, 50)), RED)
    assert _close(stored.getpixel((100, 350)), BLUE)
    assert len(stored.getexif()) == 0
    assert "exif" not in stored.info
    assert "comment" not in stored.info
    assert b"PhoneMaker" not in photo.data
    assert b"secret note" not in photo.data
    assert b"PhoneMaker" not in photo.thumbnail


def test_png_with_alpha_becomes_jpeg_flattened_on_white() -> None:
    img = Image.new("RGBA", (200, 100), (0, 0, 0, 0))  # fully transparent black
    img.paste((0, 0, 255, 255), (100, 0, 200, 100))  # right half opaque blue

    photo = prepare_photo(_encode(img, "PNG"), filename="logo.png")

    stored = _open(photo.data)
    assert stored.format == "JPEG"
    assert stored.mode == "RGB"
    assert _close(stored.getpixel((50, 50)), (255, 255, 255))
    assert _close(stored.getpixel((150, 50)), (0, 0, 255))


def test_small_image_is_not_upscaled() -> None:
    photo = prepare_photo(_encode(_halves(120, 80), "JPEG"), filename="tiny.jpg")

    assert (photo.width, photo.height) == (120, 80)
    assert _open(photo.data).size == (120, 80)
    assert _open(photo.thumbnail).size == (120, 80)


def test_tall_image_is_limited_on_its_long_side() -> None:
    photo = prepare_photo(_encode(Image.new("L", (500, 2000), 128), "PNG"), filename="tall.png")

    assert (photo.width, photo.height) == (400, PHOTO_LONG_SIDE)
    assert _open(photo.thumbnail).size == (80, THUMB_LONG_SIDE)


def test_gif_keeps_its_first_frame_and_transparent_gif_is_white() -> None:
    frames = [Image.new("RGB", (64, 64), RED), Image.new("RGB", (64, 64), BLUE)]
    raw = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    photo = prepare_photo(raw, filename="anim.gif")
    assert _close(_open(photo.data).getpixel((32, 32)), RED)

    transparent = Image.new("P", (32, 32), 0)
    transparent.putpalette([0, 0, 0] * 256)
    photo = prepare_photo(_encode(transparent, "GIF", transparency=0), filename="clear.gif")
    assert _close(_open(photo.data).getpixel((16, 16)), (255, 255, 255))


@pytest.mark.parametrize("fmt", ["BMP", "WEBP"])
def test_bmp_and_webp_are_accepted(fmt: str) -> None:
    photo = prepare_photo(_encode(_halves(100, 60), fmt), filename=f"x.{fmt.lower()}")

    stored = _open(photo.data)
    assert stored.format == "JPEG"
    assert _close(stored.getpixel((10, 30)), RED)
    assert _close(stored.getpixel((90, 30)), BLUE)


def test_cmyk_jpeg_becomes_rgb() -> None:
    raw = _encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG")  # red in CMYK

    stored = _open(prepare_photo(raw, filename="print.jpg").data)

    assert stored.mode == "RGB"
    assert _close(stored.getpixel((20, 20)), (255, 0, 0), tolerance=60)


def test_16_bit_greyscale_png_is_scaled_not_clipped() -> None:
    raw = _encode(Image.new("I;16", (40, 40), 32768), "PNG")  # mid grey in 16 bits

    stored = _open(prepare_photo(raw, filename="scan.png").data)

    assert _close(stored.getpixel((20, 20)), (128, 128, 128), tolerance=5)


def test_icc_profile_is_applied_and_not_kept() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    raw = _encode(Image.new("RGB", (40, 40), RED), "JPEG", icc_profile=icc)
    assert "icc_profile" in _open(raw).info

    stored = _open(prepare_photo(raw, filename="p3.jpg").data)

    assert "icc_profile" not in stored.info
    assert _close(stored.getpixel((20, 20)), RED)


# --- photos: refused ----------------------------------------------------------------------


def _refused(raw: bytes, filename: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        prepare_photo(raw, filename=filename)
    assert caught.value.status == 422
    assert filename in caught.value.message
    return caught.value.message


def test_text_file_renamed_jpg_is_not_a_photo() -> None:
    message = _refused(b"meeting notes, not a picture\n", "notes.jpg")

    assert "not a photo" in message
    assert "JPEG, PNG, WebP, GIF" in message
    assert "HEIC" in message


def test_pdf_is_not_a_photo() -> None:
    message = _refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n", "scan.jpg")

    assert "not a photo" in message


def test_heic_is_not_a_photo() -> None:
    message = _refused(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "i.heic")

    assert "HEIC" in message


def test_other_image_formats_are_refused_by_name() -> None:
    message = _refused(_encode(_halves(20, 20), "TIFF"), "fax.tif")

    assert "TIFF" in message


def test_empty_photo_is_refused() -> None:
    assert "empty" in _refused(b"", "blank.jpg")


def test_empty_photo_without_a_name_is_still_explained() -> None:
    with pytest.raises(InvalidInput, match="the upload"):
        prepare_photo(b"")


def test_truncated_jpeg_is_refused_as_damaged() -> None:
    raw = _encode(Image.effect_noise((400, 400), 80).convert("RGB"), "JPEG", quality=95)

    message = _refused(raw[: len(raw) // 2], "half.jpg")

    assert "damaged or incomplete" in message


def test_png_with_a_bad_checksum_is_refused_as_damaged() -> None:
    raw = bytearray(_encode(Image.effect_noise((64, 64), 80), "PNG"))
    idat = raw.index(b"IDAT")
    length = int.from_bytes(raw[idat - 4 : idat], "big")
    raw[idat + 4 + length] ^= 0xFF  # only the CRC: decoding alone would not notice

    assert "damaged or incomplete" in _refused(bytes(raw), "broken.png")


def test_oversized_photo_is_refused_for_size_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(*_args: object, **_kwargs: object) -> Image.Image:
        raise AssertionError("an oversized upload must not be decoded")

    monkeypatch.setattr(Image, "open", no_decoding)

    message = _refused(bytes(MAX_PHOTO_BYTES + 1), "huge.jpg")

    assert "15.1 MB" in message
    assert "15 MB allowed" in message


def test_photo_of_exactly_the_limit_is_not_refused_for_size() -> None:
    raw = _encode(Image.new("RGB", (10, 10), RED), "PNG")
    padded = raw + bytes(MAX_PHOTO_BYTES - len(raw))  # PNG readers ignore trailing bytes

    assert prepare_photo(padded, filename="padded.png").width == 10


def test_too_many_pixels_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "MAX_PIXELS", 1000)
    raw = _encode(Image.new("RGB", (50, 40), RED), "PNG")

    message = _refused(raw, "bomb.png")

    assert "50 × 40 pixels" in message
    monkeypatch.setattr(media, "MAX_PIXELS", 2000)
    assert prepare_photo(raw, filename="bomb.png").width == 50


# --- voice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "audio/webm"),
        (b"OggS\x00\x02\x00\x00", "audio/ogg"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00", "audio/mpeg"),  # MPEG-1 layer III frame
        (b"\xff\xf3\x90\x64\x00", "audio/mpeg"),  # MPEG-2 layer III frame
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00", "audio/mp4"),
        (b"#!AMR\n\x3c", "audio/amr"),
    ],
)
def test_voice_type_comes_from_magic_bytes(head: bytes, content_type: str) -> None:
    raw = head + bytes(200)

    voice = prepare_voice(raw, filename="note.bin")

    assert voice.content_type == content_type
    assert voice.data == raw
    assert voice.sha256 == hashlib.sha256(raw).hexdigest()


def _voice_refused(raw: bytes, filename: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        prepare_voice(raw, filename=filename)
    assert caught.value.status == 422
    assert filename in caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        b"just some text, named .mp3",
        b"%PDF-1.7\n",
        b"RIFF\x24\x08\x00\x00AVI LIST",  # RIFF, but video
        b"\xff\xf1\x50\x80",  # AAC in ADTS: frame sync, but not MPEG audio layers
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # a JPEG
    ],
)
def test_unknown_voice_bytes_are_refused(raw: bytes) -> None:
    message = _voice_refused(raw + bytes(50), "voice.mp3")

    assert "not a voice recording" in message
    assert "WebM, Ogg, WAV, MP3" in message


def test_empty_voice_is_refused() -> None:
    assert "empty" in _voice_refused(b"", "silence.webm")


def test_oversized_voice_is_refused_even_with_good_magic() -> None:
    message = _voice_refused(b"OggS" + bytes(MAX_VOICE_BYTES), "long.ogg")

    assert "5.1 MB" in message
    assert "5 MB allowed" in message


@pytest.mark.parametrize("side", [8000, 10000])  # over our limit; also over Pillow's own
def test_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    raw = _encode(Image.new("1", (side, side), 0), "PNG")  # tiny file, many pixels
    assert len(raw) < MAX_PHOTO_BYTES

    message = _refused(raw, "bomb.png")

    assert "60 million pixels" in message
