"""Every hash carries a quality score, 0-100: how much structure the picture has at the
scale the hash sees. Blank and near-uniform pictures, whose bits are noise, score near 0;
photos score high."""

from __future__ import annotations

import io

import numpy as np
import pytest
from neardup.index import hash_image
from neardup.index.fingerprint import ALGORITHMS
from neardup.index.fingerprint.quality import structure_quality
from PIL import Image, ImageDraw

from ...conftest import read_image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_solid_colour_scores_zero() -> None:
    assert hash_image(png(Image.new("RGB", (300, 200), "#7f3f10"))).quality == 0


def test_a_small_sprite_on_a_transparent_background_scores_low() -> None:
    sprite = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(sprite).ellipse((118, 118, 138, 138), fill=(200, 30, 30, 255))
    assert hash_image(png(sprite)).quality < 20


def test_a_photo_scores_high() -> None:
    assert hash_image(read_image("mate__Garden.jpg")).quality >= 80


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_scores_its_hashes(algorithm: str) -> None:
    photo = hash_image(read_image("mate__Garden.jpg"), algorithm).quality
    blank = hash_image(png(Image.new("L", (64, 64), 90)), algorithm).quality
    assert 0 <= blank < 5 < 50 <= photo <= 100


def test_the_score_does_not_depend_on_orientation() -> None:
    pixels = np.random.default_rng(3).uniform(0, 255, size=(32, 32))
    turned = [np.rot90(pixels, k) for k in range(4)] + [pixels[:, ::-1], pixels.T]
    assert len({structure_quality(p) for p in turned}) == 1


def test_the_score_grows_with_contrast() -> None:
    edge = np.zeros((32, 32))
    edge[:, 16:] = 1.0
    scores = [structure_quality(edge * contrast) for contrast in (10, 60, 255)]
    assert scores == sorted(scores) and scores[0] < scores[-1]
