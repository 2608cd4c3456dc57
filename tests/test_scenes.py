"""utils.scenes: seeded scenes of MNIST digits whose boxes and masks are exact.

Lesson 06 trains and scores its localiser, detector and U-Net against this ground
truth, so a box that is not tight, a mask pixel outside its box or a scene that
changes between runs would corrupt every figure the lesson reports.
"""

import numpy as np
import pytest

from utils import data, scenes


@pytest.fixture(scope="module")
def train_digits():
    (images, labels), _ = data.load_mnist()
    return images[:2_000], labels[:2_000]


@pytest.fixture(scope="module")
def crowded(train_digits):
    return scenes.make_scenes(train_digits, num_scenes=60, num_digits=(0, 3), seed=3)


def test_the_same_seed_gives_the_same_scenes(train_digits):
    first = scenes.make_scenes(train_digits, num_scenes=5, num_digits=(1, 3), seed=7)
    again = scenes.make_scenes(train_digits, num_scenes=5, num_digits=(1, 3), seed=7)
    other = scenes.make_scenes(train_digits, num_scenes=5, num_digits=(1, 3), seed=8)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.masks, again.masks)
    for boxes, same in zip(first.boxes, again.boxes, strict=True):
        np.testing.assert_array_equal(boxes, same)
    for labels, same in zip(first.labels, again.labels, strict=True):
        np.testing.assert_array_equal(labels, same)
    assert not np.array_equal(first.images, other.images)


def test_scenes_have_the_documented_shapes_and_ranges(crowded):
    assert len(crowded) == 60
    assert crowded.images.shape == (60, 64, 64) and crowded.images.dtype == np.float32
    assert crowded.masks.shape == (60, 64, 64) and crowded.masks.dtype == np.uint8
    assert 0.0 <= crowded.images.min() and crowded.images.max() <= 1.0
    counts = [len(labels) for labels in crowded.labels]
    assert set(counts) == {0, 1, 2, 3}, "every count from 0 to 3 occurs in 60 scenes"
    for boxes, labels in zip(crowded.boxes, crowded.labels, strict=True):
        assert boxes.shape == (len(labels), 4) and boxes.dtype == np.float32
        assert labels.dtype == np.int64 and set(labels) <= set(range(10))


def test_each_box_is_tight_around_its_digits_mask_pixels(crowded):
    for mask, boxes, labels in zip(
        crowded.masks, crowded.boxes, crowded.labels, strict=True
    ):
        for box, digit in zip(boxes, labels, strict=True):
            x_min, y_min, x_max, y_max = box.astype(int)
            np.testing.assert_array_equal(box, box.astype(int), "whole-pixel corners")
            inside = mask[y_min:y_max, x_min:x_max] == 1 + digit
            assert inside[0].any() and inside[-1].any(), "touches top and bottom"
            assert inside[:, 0].any() and inside[:, -1].any(), "touches left and right"


def test_masks_hold_exactly_the_boxed_digits(crowded):
    for mask, boxes, labels in zip(
        crowded.masks, crowded.boxes, crowded.labels, strict=True
    ):
        covered = np.zeros(mask.shape, dtype=bool)
        for (x_min, y_min, x_max, y_max), digit in zip(
            boxes.astype(int), labels, strict=True
        ):
            window = mask[y_min:y_max, x_min:x_max]
            assert set(np.unique(window)) <= {0, 1 + digit}, "one digit per box"
            covered[y_min:y_max, x_min:x_max] = True
        assert not mask[~covered].any(), "no digit pixel outside the boxes"
        assert set(np.unique(mask)) - {0} == {1 + digit for digit in labels}


def test_digits_do_not_overlap_and_stay_on_the_canvas(crowded):
    for boxes in crowded.boxes:
        scenes.check_boxes(boxes, canvas_size=64)
        for first in range(len(boxes)):
            for second in range(first + 1, len(boxes)):
                a, b = boxes[first], boxes[second]
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, f"boxes {a} and {b} overlap"


def test_digit_sizes_follow_the_requested_range(train_digits):
    made = scenes.make_scenes(
        train_digits, num_scenes=40, digit_size=(30, 36), canvas_size=96, seed=1
    )
    longer_sides = [float(np.max(boxes[0, 2:] - boxes[0, :2])) for boxes in made.boxes]
    # The ink threshold may trim a pixel from the resized digit's longer side.
    assert 28 <= min(longer_sides) and max(longer_sides) <= 36
    assert made.images.shape == (40, 96, 96)


def test_empty_scenes_are_pure_background(train_digits):
    made = scenes.make_scenes(train_digits, num_scenes=3, num_digits=(0, 0), seed=2)
    assert all(boxes.shape == (0, 4) for boxes in made.boxes)
    assert not made.masks.any()
    assert made.images.std() > 0.02, "noise, ramp and fragments are there"


def test_a_digit_without_ink_has_no_box_and_is_refused(train_digits):
    images, labels = train_digits
    blank = np.zeros_like(images[:3])
    with pytest.raises(ValueError, match="no pixel with ink.*empty box"):
        scenes.make_scenes((blank, labels[:3]), num_scenes=1)


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        (np.zeros((3, 28, 28)), "pair \\(images, labels\\)"),
        ((np.zeros((0, 28, 28)), np.zeros(0, int)), "non-empty batch"),
        ((np.zeros((3, 28)), np.zeros(3, int)), "non-empty batch"),
        ((np.ones((3, 28, 28)), np.zeros(2, int)), "one label per digit"),
        ((np.ones((3, 28, 28)), np.array([0, 1, 10])), "digit classes 0..9"),
    ],
)
def test_bad_digits_are_refused_with_what_was_expected(digits, message):
    with pytest.raises(ValueError, match=message):
        scenes.make_scenes(digits, num_scenes=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_scenes": -1}, "0 or more"),
        ({"num_scenes": 1, "canvas_size": 4}, "at least 8"),
        ({"num_scenes": 1, "num_digits": (3, 1)}, "num_digits is \\(3, 1\\)"),
        ({"num_scenes": 1, "digit_size": (20, 80)}, "digit_size is \\(20, 80\\)"),
        ({"num_scenes": 1, "num_digits": (9, 9), "digit_size": (28, 28)}, "place 9"),
    ],
)
def test_impossible_requests_are_refused(train_digits, options, message):
    with pytest.raises(ValueError, match=message):
        scenes.make_scenes(train_digits, **options)


def test_check_boxes_accepts_lists_and_empty_input():
    np.testing.assert_array_equal(
        scenes.check_boxes([[1, 2, 3, 4]], canvas_size=64), [[1.0, 2.0, 3.0, 4.0]]
    )
    assert scenes.check_boxes([]).shape == (0, 4)
    assert scenes.check_boxes(np.zeros((0, 4))).shape == (0, 4)
    # A box of zero width is degenerate but valid: it overlaps nothing.
    assert scenes.check_boxes([[5, 5, 5, 9]]).shape == (1, 4)


@pytest.mark.parametrize(
    ("boxes", "canvas_size", "message"),
    [
        ([1, 2, 3, 4], None, "shape \\(4,\\)"),
        ([[1, 2, 3]], None, "shape \\(1, 3\\)"),
        ([[10, 2, 3, 4]], None, "inverted"),
        ([[1, 9, 3, 4]], None, "inverted"),
        ([[-1, 2, 3, 4]], 64, "outside the 64 x 64 canvas"),
        ([[1, 2, 3, 65]], 64, "outside the 64 x 64 canvas"),
    ],
)
def test_check_boxes_refuses_bad_boxes(boxes, canvas_size, message):
    with pytest.raises(ValueError, match=message):
        scenes.check_boxes(boxes, canvas_size=canvas_size)


def test_show_scenes_draws_each_scene_and_its_mask(crowded):
    figure = scenes.show_scenes(
        crowded.images[:3],
        boxes=crowded.boxes[:3],
        captions=[[str(d) for d in labels] for labels in crowded.labels[:3]],
        masks=crowded.masks[:3],
    )
    assert len(figure.axes) == 6
    drawn = sum(len(axis.patches) for axis in figure.axes[:3])
    assert drawn == sum(len(boxes) for boxes in crowded.boxes[:3])


def test_show_scenes_refuses_mismatched_or_off_canvas_input(crowded):
    with pytest.raises(ValueError, match="boxes has 1 entries for 2 images"):
        scenes.show_scenes(crowded.images[:2], boxes=crowded.boxes[:1])
    with pytest.raises(ValueError, match="outside the 64 x 64 canvas"):
        scenes.show_scenes(crowded.images[:1], boxes=[np.array([[0, 0, 70, 10]])])
    with pytest.raises(ValueError, match="num_scenes, size, size"):
        scenes.show_scenes(crowded.images[0])
