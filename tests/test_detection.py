"""Lesson 06's IoU, non-maximum suppression and average precision, from its own cells.

The functions are defined exactly as the lesson defines them (`lesson_definitions`
runs the cells' definitions in a fresh namespace), so these tests check the code a
learner reads. Average precision is checked against COCO's own evaluation code
(pycocotools) on the same boxes: the lesson says its AP is COCO's AP50.
"""

import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from scripts.export_models import lesson_definitions
from utils import data, scenes

LESSON = "06_detection_segmentation"


@pytest.fixture(scope="module")
def lesson():
    return lesson_definitions(
        LESSON,
        "box_iou",
        "pairwise_iou",
        "non_max_suppression",
        "match_detections",
        "precision_recall",
        "average_precision",
        "evaluate_detections",
        "decode_grid",
        "detect",
        "encode_targets",
        "targets_as_grid",
    )


def random_boxes(rng, count, canvas=64.0):
    corners = rng.uniform(0, canvas * 0.7, size=(count, 2))
    sizes = rng.uniform(1, canvas * 0.3, size=(count, 2))
    return np.concatenate([corners, corners + sizes], axis=1)


# IoU


def test_iou_by_hand(lesson):
    box_iou = lesson["box_iou"]
    assert box_iou([0, 0, 4, 4], [2, 2, 6, 6]) == pytest.approx(4 / 28)
    assert box_iou([0, 0, 4, 4], [0, 0, 4, 4]) == 1.0
    assert box_iou([0, 0, 4, 4], [4, 0, 8, 4]) == 0.0, "touching edges share no area"
    assert box_iou([0, 0, 4, 4], [10, 10, 12, 12]) == 0.0
    assert box_iou([0, 0, 10, 10], [2, 2, 5, 6]) == pytest.approx(12 / 100), "nested"
    assert box_iou([3, 3, 3, 3], [3, 3, 3, 3]) == 0.0, "zero area: 0, not NaN"


def test_iou_agrees_with_cocos_box_iou(lesson):
    rng = np.random.default_rng(0)
    first, second = random_boxes(rng, 30), random_boxes(rng, 20)
    to_xywh = np.concatenate([first[:, :2], first[:, 2:] - first[:, :2]], axis=1)
    other_xywh = np.concatenate([second[:, :2], second[:, 2:] - second[:, :2]], axis=1)
    reference = coco_mask.iou(to_xywh, other_xywh, [0] * len(second))
    np.testing.assert_allclose(
        lesson["pairwise_iou"](first, second), reference, rtol=1e-12
    )
    np.testing.assert_allclose(
        lesson["box_iou"](first[:20], second), np.diag(reference[:20]), rtol=1e-12
    )


def test_pairwise_iou_shapes_and_empty_lists(lesson):
    pairwise_iou = lesson["pairwise_iou"]
    boxes = random_boxes(np.random.default_rng(1), 3)
    assert pairwise_iou(boxes, boxes[:2]).shape == (3, 2)
    assert pairwise_iou(boxes, []).shape == (3, 0)
    assert pairwise_iou(np.zeros((0, 4)), boxes).shape == (0, 3)
    np.testing.assert_allclose(pairwise_iou(boxes, boxes), pairwise_iou(boxes, boxes).T)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ([0, 0, 4], [0, 0, 4, 4], "boxes_a has shape \\(3,\\); expected \\(..., 4\\)"),
        ([0, 0, 4, 4], 5.0, "boxes_b has shape \\(\\)"),
        ([4, 0, 0, 4], [0, 0, 4, 4], "x_max < x_min"),
        ([0, 0, 4, 4], [0, 9, 4, 4], "y_max < y_min"),
    ],
)
def test_iou_refuses_bad_boxes(lesson, first, second, message):
    with pytest.raises(ValueError, match=message):
        lesson["box_iou"](first, second)


def test_pairwise_iou_refuses_a_single_box_or_rows_of_three(lesson):
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        lesson["pairwise_iou"]([0, 0, 4, 4], [[0, 0, 4, 4]])
    with pytest.raises(ValueError, match="shape \\(1, 3\\)"):
        lesson["pairwise_iou"]([[0, 0, 4, 4]], [[0, 0, 4]])


# Non-maximum suppression


def reference_nms(boxes, scores, threshold, box_iou):
    """Keep a box if it overlaps no better box already kept (the textbook loop)."""
    kept = []
    for index in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(box_iou(boxes[index], boxes[k]) <= threshold for k in kept):
            kept.append(index)
    return kept


def test_nms_by_hand(lesson):
    nms = lesson["non_max_suppression"]
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]]
    assert nms(boxes, [0.6, 0.9, 0.8]).tolist() == [1, 2]
    assert nms(boxes, [0.6, 0.9, 0.8], iou_threshold=0.9).tolist() == [1, 2, 0]
    assert nms(boxes[:2] * 2, [0.1, 0.2, 0.3, 0.4]).tolist() == [3], "duplicates go"


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_matches_the_textbook_loop(lesson, threshold):
    rng = np.random.default_rng(int(threshold * 10))
    boxes = random_boxes(rng, 40, canvas=30.0)
    scores = rng.uniform(size=40)
    kept = lesson["non_max_suppression"](boxes, scores, iou_threshold=threshold)
    assert kept.tolist() == reference_nms(boxes, scores, threshold, lesson["box_iou"])
    assert np.all(np.diff(scores[kept]) <= 0), "best first"


def test_nms_of_nothing_is_nothing(lesson):
    kept = lesson["non_max_suppression"](np.zeros((0, 4)), np.zeros(0))
    assert kept.shape == (0,) and kept.dtype == np.int64


@pytest.mark.parametrize(
    ("boxes", "scores", "message"),
    [
        (
            [[0, 0, 4, 4], [1, 1, 5, 5]],
            [0.5],
            "scores have shape \\(1,\\); expected \\(2,\\)",
        ),
        ([[0, 0, 4, 4]], [[0.5]], "expected \\(1,\\)"),
        ([[0, 0, 4]], [0.5], "shape \\(1, 3\\)"),
        ([[4, 0, 0, 4]], [0.5], "inverted"),
    ],
)
def test_nms_refuses_bad_input(lesson, boxes, scores, message):
    with pytest.raises(ValueError, match=message):
        lesson["non_max_suppression"](boxes, scores)


# Matching, precision-recall and AP


def test_matching_counts_duplicates_as_false_positives(lesson):
    scores, hits = lesson["match_detections"](
        [[1, 0, 11, 10], [0, 0, 10, 10], [30, 30, 40, 40]],
        [0.8, 0.9, 0.7],
        [[0, 0, 10, 11]],
    )
    assert scores.tolist() == [0.9, 0.8, 0.7], "highest score first"
    assert hits.tolist() == [True, False, False]


def test_a_better_scored_detection_claims_the_box_first(lesson):
    # The lower-scored detection fits better, but the first one claims the box.
    _, hits = lesson["match_detections"](
        [[0, 0, 10, 10], [0, 0, 10, 12]], [0.9, 0.5], [[0, 0, 10, 12]]
    )
    assert hits.tolist() == [True, False]


def test_matching_without_truth_or_detections(lesson):
    match = lesson["match_detections"]
    assert match([[0, 0, 4, 4]], [0.5], np.zeros((0, 4)))[1].tolist() == [False]
    scores, hits = match(np.zeros((0, 4)), np.zeros(0), [[0, 0, 4, 4]])
    assert scores.shape == hits.shape == (0,)
    with pytest.raises(ValueError, match="scores have shape"):
        match([[0, 0, 4, 4]], [0.5, 0.4], [[0, 0, 4, 4]])


def test_average_precision_by_hand(lesson):
    curve, ap = lesson["precision_recall"], lesson["average_precision"]
    assert ap(*curve([0.9, 0.8], [True, True], 2)) == 1.0
    assert ap(*curve([0.9], [True], 2)) == pytest.approx(51 / 101)
    # A false positive ranked first: precision 0.5 up to recall 1.
    assert ap(*curve([0.9, 0.8], [False, True], 1)) == pytest.approx(0.5)
    # Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: the envelope is 1 then 2/3.
    expected = (51 * 1 + 50 * 2 / 3) / 101
    assert ap(*curve([0.9, 0.8, 0.7], [True, False, True], 2)) == pytest.approx(
        expected
    )
    assert ap(np.zeros(0), np.zeros(0)) == 0.0, "no detection: AP 0"


def test_average_precision_refuses_bad_curves(lesson):
    with pytest.raises(ValueError, match="num_true is 0"):
        lesson["precision_recall"]([0.9], [True], 0)
    with pytest.raises(ValueError, match="equal length"):
        lesson["average_precision"]([1.0, 0.5], [0.5])
    with pytest.raises(ValueError, match="1-D"):
        lesson["average_precision"]([[1.0]], [[0.5]])


def test_evaluation_refuses_detections_for_other_scenes(lesson):
    made = scenes.make_scenes(data.load_mnist()[1], num_scenes=2, seed=0)
    with pytest.raises(ValueError, match="1 detection lists for 2 scenes"):
        lesson["evaluate_detections"](
            [(np.zeros((0, 4)), np.zeros(0), np.zeros(0))], made
        )


def coco_ap50(true_boxes, true_labels, detections):
    """COCO's AP at IoU 0.5, all areas, per class, from pycocotools."""
    dataset = {
        "images": [
            {"id": image, "width": 64, "height": 64} for image in range(len(true_boxes))
        ],
        "categories": [{"id": digit} for digit in range(10)],
        "annotations": [],
    }
    for image, (boxes, labels) in enumerate(zip(true_boxes, true_labels, strict=True)):
        for box, digit in zip(boxes, labels, strict=True):
            width, height = float(box[2] - box[0]), float(box[3] - box[1])
            dataset["annotations"].append(
                {
                    "id": len(dataset["annotations"]) + 1,
                    "image_id": image,
                    "category_id": int(digit),
                    "bbox": [float(box[0]), float(box[1]), width, height],
                    "area": width * height,
                    "iscrowd": 0,
                }
            )
    results = [
        {
            "image_id": image,
            "category_id": int(digit),
            "bbox": [
                float(box[0]),
                float(box[1]),
                float(box[2] - box[0]),
                float(box[3] - box[1]),
            ],
            "score": float(score),
        }
        for image, (boxes, scores, digits) in enumerate(detections)
        for box, score, digit in zip(boxes, scores, digits, strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = dataset
        truth.createIndex()
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluation.params.iouThrs = np.array([0.5])
        evaluation.params.areaRng = [[0, 1e10]]
        evaluation.params.areaRngLbl = ["all"]
        evaluation.params.maxDets = [100]
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][0, :, :, 0, 0]  # (recall levels, classes)
    per_class = {
        digit: float(precision[:, digit].mean())
        for digit in range(10)
        if precision[0, digit] > -1
    }
    return per_class


def simulated_detections(scene_set, seed):
    """Jittered true boxes (some with the wrong digit), duplicates and false alarms.

    Scores are rounded to two decimals, so ties occur and their order matters.
    """
    rng = np.random.default_rng(seed)
    detections = []
    for boxes, labels in zip(scene_set.boxes, scene_set.labels, strict=True):
        found, scores, digits = [], [], []
        for box, digit in zip(boxes, labels, strict=True):
            for _ in range(rng.integers(0, 3)):  # Missed, found, or found twice.
                jittered = box + rng.normal(0, 2.5, size=4)
                jittered[2:] = np.maximum(jittered[2:], jittered[:2] + 1)
                found.append(np.clip(jittered, 0, 64))
                wrong = rng.uniform() > 0.85
                digits.append(rng.integers(0, 10) if wrong else digit)
                scores.append(round(rng.uniform(), 2))
        for _ in range(rng.integers(0, 3)):  # False alarms.
            corner = rng.uniform(0, 44, size=2)
            found.append(np.concatenate([corner, corner + rng.uniform(5, 20, size=2)]))
            digits.append(rng.integers(0, 10))
            scores.append(round(rng.uniform(), 2))
        detections.append(
            (
                np.array(found).reshape(-1, 4),
                np.array(scores),
                np.array(digits, dtype=int),
            )
        )
    return detections


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ap50_equals_cocos_on_the_same_boxes(lesson, seed):
    _, test_split = data.load_mnist()
    scene_set = scenes.make_scenes(
        test_split, num_scenes=150, num_digits=(0, 3), seed=seed
    )
    detections = simulated_detections(scene_set, seed)
    _, ap_per_digit = lesson["evaluate_detections"](detections, scene_set)
    reference = coco_ap50(scene_set.boxes, scene_set.labels, detections)
    assert set(ap_per_digit) == set(reference)
    for digit, value in reference.items():
        assert ap_per_digit[digit] == pytest.approx(value, abs=1e-9), f"digit {digit}"
    mean_ap = np.mean(list(ap_per_digit.values()))
    assert mean_ap == pytest.approx(np.mean(list(reference.values())), abs=1e-9)
    assert 0.2 < mean_ap < 0.9, "the simulated detector is neither useless nor perfect"


# The grid: encoding, decoding and detection


def test_a_perfect_grid_decodes_to_the_true_boxes(lesson):
    _, test_split = data.load_mnist()
    scene_set = scenes.make_scenes(test_split, num_scenes=20, num_digits=(0, 3), seed=4)
    targets = lesson["encode_targets"](scene_set)
    assert targets.shape == (20, 8, 8, 6)
    assert targets[..., 0].sum() == sum(len(labels) for labels in scene_set.labels)
    detections = [lesson["detect"](lesson["targets_as_grid"](grid)) for grid in targets]
    for (boxes, scores, digits), truth, labels in zip(
        detections, scene_set.boxes, scene_set.labels, strict=True
    ):
        order, true_order = np.lexsort(boxes.T[::-1]), np.lexsort(truth.T[::-1])
        np.testing.assert_allclose(boxes[order], truth[true_order], atol=1e-3)
        np.testing.assert_array_equal(digits[order], labels[true_order])
        assert np.all(scores > 0.99)
    _, ap_per_digit = lesson["evaluate_detections"](detections, scene_set)
    assert all(value == 1.0 for value in ap_per_digit.values())
