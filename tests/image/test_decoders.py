"""load_image: every decoder failure is a DataError naming the file; 16-bit, alpha, palette,
CMYK, 1-bit and EXIF-rotated images come back as the 8-bit pixels a viewer shows."""
from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from regapps.apps.image.formats import load_image, read_class_tree
from regapps.shared.errors import DataError

from .pngs import png_bytes

SIXTEEN = np.array([[0, 255, 256, 1000], [30000, 65535, 257, 40000]], dtype=np.uint16)
SIXTEEN_AS_8 = np.array([[0, 0, 1, 3], [117, 255, 1, 156]], dtype=np.uint8)  # the high byte


# --- decoder failures ---------------------------------------------------------------------------

def test_header_far_over_the_pixel_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"  # 20000 x 20000 claimed: more than twice PIL's limit
    path.write_bytes(png_bytes(20000, 20000, 8, 2, None))
    with pytest.raises(DataError, match=r"bomb.png is not a readable image: its header claims "
                                        r"400,000,000 pixels.*decompression-bomb"):
        load_image(path, (8, 8), 3)


def test_header_between_the_limit_and_twice_it(tmp_path: Path) -> None:
    path = tmp_path / "big.png"  # 10000 x 10000: PIL only warns, then would allocate and decode
    path.write_bytes(png_bytes(10000, 10000, 8, 0, None))
    with pytest.raises(DataError, match=r"big.png is not a readable image: its header claims "
                                        r"100,000,000 pixels.*decompression-bomb"):
        load_image(path, None, 1)


@pytest.mark.parametrize("error", [OSError("broken data stream"), ValueError("bad"), SyntaxError("bad"),
                                   struct.error("unpack requires a buffer"), EOFError(), MemoryError(),
                                   IndexError("list index out of range"), KeyError("x"), TypeError("x")])
def test_every_decoder_error_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             error: Exception) -> None:
    from PIL import PngImagePlugin

    path = tmp_path / "odd.png"
    Image.new("RGB", (4, 4)).save(path)

    def load(self: object) -> None:
        raise error

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", load)
    with pytest.raises(DataError, match=rf"odd.png is not a readable image \({type(error).__name__}\)"):
        load_image(path, None, 3)


def test_truncated_png_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="cut.png is not a readable image"):
        load_image(path, None, 3)


# --- 16-bit -------------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 3])
def test_16bit_png_is_scaled_not_clipped(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(SIXTEEN).save(path)  # PIL writes mode I;16 as a 16-bit greyscale PNG
    with Image.open(path) as check:
        assert check.mode == "I;16" and np.asarray(check).max() == 65535
    image = load_image(path, None, channels)
    assert image.shape == (2, 4, channels) and image.dtype == np.uint8
    for c in range(channels):
        np.testing.assert_array_equal(image[..., c], SIXTEEN_AS_8)


def test_16bit_png_written_by_hand_and_resized(tmp_path: Path) -> None:
    path = tmp_path / "hand.png"
    flat = np.full((6, 6), 40000, dtype=">u2")
    path.write_bytes(png_bytes(6, 6, 16, 0, flat))
    image = load_image(path, (3, 3), 1)
    assert image.shape == (3, 3, 1) and set(np.unique(image)) == {156}


@pytest.mark.parametrize("mode", ["I;16B", "I"])
def test_16bit_tiff_modes(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "deep.tif"
    values = SIXTEEN.astype(">u2") if mode == "I;16B" else SIXTEEN.astype(np.int32)
    Image.frombytes(mode, (4, 2), values.tobytes()).save(path)
    with Image.open(path) as check:
        assert check.mode == mode
    np.testing.assert_array_equal(load_image(path, None, 1)[..., 0], SIXTEEN_AS_8)


def test_16bit_colour_png_agrees_with_16bit_grey(tmp_path: Path) -> None:
    grey, colour = tmp_path / "grey.png", tmp_path / "colour.png"
    Image.fromarray(SIXTEEN).save(grey)
    rgb = np.repeat(SIXTEEN.astype(">u2")[..., None], 3, axis=2)
    colour.write_bytes(png_bytes(4, 2, 16, 2, rgb))
    np.testing.assert_array_equal(load_image(grey, None, 3), load_image(colour, None, 3))


def test_16bit_scaling_is_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for i in range(3):
        (tmp_path / "a").mkdir(exist_ok=True)
        Image.fromarray(SIXTEEN).save(tmp_path / "a" / f"{i}.png")
    (tmp_path / "b").mkdir()
    Image.new("L", (4, 2), 7).save(tmp_path / "b" / "plain.png")
    with caplog.at_level(logging.INFO, logger="regapps"):
        split, names = read_class_tree(tmp_path, None, None, 1)
    assert names == ["a", "b"] and split.x.shape == (4, 2, 4, 1)
    np.testing.assert_array_equal(split.x[0, ..., 0], SIXTEEN_AS_8)
    records = [r.getMessage() for r in caplog.records if "16-bit" in r.getMessage()]
    assert len(records) == 1 and records[0].startswith("3 16-bit image(s)") and "8 bits" in records[0]


# --- alpha, palette, CMYK, 1-bit, EXIF ------------------------------------------------------------

def test_palette_with_transparency_shows_white(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    img = Image.new("P", (2, 1))
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.putpixel((0, 0), 0)
    img.putpixel((1, 0), 1)
    img.save(path, transparency=0)  # palette entry 0 (black) is fully transparent
    image = load_image(path, None, 3)
    np.testing.assert_array_equal(image[0], [[255, 255, 255], [255, 0, 0]])


def test_rgba_is_composited_over_white(tmp_path: Path) -> None:
    path = tmp_path / "rgba.png"
    Image.fromarray(np.array([[[10, 20, 30, 0], [255, 0, 0, 128], [0, 0, 255, 255]]], np.uint8)).save(path)
    image = load_image(path, None, 3).astype(int)
    np.testing.assert_array_equal(image[0, 0], [255, 255, 255])
    np.testing.assert_allclose(image[0, 1], [255, 127, 127], atol=1)
    np.testing.assert_array_equal(image[0, 2], [0, 0, 255])


def test_la_is_composited_over_white(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    Image.fromarray(np.array([[[50, 0], [200, 255]]], np.uint8), mode="LA").save(path)
    np.testing.assert_array_equal(load_image(path, None, 1)[0, :, 0], [255, 200])


def test_cmyk_and_one_bit(tmp_path: Path) -> None:
    cmyk = tmp_path / "c.tif"
    Image.new("CMYK", (1, 1), (100, 50, 0, 60)).save(cmyk)
    expected = [round(255 * (1 - v / 255) * (1 - 60 / 255)) for v in (100, 50, 0)]
    np.testing.assert_allclose(load_image(cmyk, None, 3)[0, 0], expected, atol=1)
    bit = tmp_path / "b.png"
    one = Image.new("1", (2, 1))
    one.putpixel((1, 0), 1)
    one.save(bit)
    np.testing.assert_array_equal(load_image(bit, None, 1)[0, :, 0], [0, 255])
    np.testing.assert_array_equal(load_image(bit, None, 3)[0, 1], [255, 255, 255])


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "phone.png"
    pixels = np.zeros((2, 4, 3), np.uint8)
    pixels[0, 0] = 255  # top-left marker
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(path, exif=exif)
    image = load_image(path, None, 3)
    assert image.shape == (4, 2, 3)
    assert image[0, 1].tolist() == [255, 255, 255]  # the marker is now top-right
