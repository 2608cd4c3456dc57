"""utils.models: generated from the lessons' marked cells, and what later lessons need.

The first tests keep the generated module equal to the lessons and the markers to
what later lessons reuse; the others check that each exported model behaves as the
lessons that reuse it rely on (11_trends measures their cost, 08 and 11 train them).
"""

import ast
import shutil

import keras
import nbformat
import numpy as np
import pytest

from scripts import export_models
from utils import models

LESSONS = export_models.lessons()


def test_utils_models_is_generated_from_the_current_lessons():
    assert export_models.MODULE.read_text() == export_models.generate(LESSONS), (
        "utils/models.py differs from the lessons' marked cells: run "
        "`python -m scripts.export_models` (make models)"
    )


def test_only_what_a_later_lesson_reuses_is_exported():
    assert export_models.export_problems(LESSONS) == []


def edited_copy(tmp_path, stem, cell_id, edit):
    """Copy every lesson to tmp_path, with one cell of one lesson edited."""
    for path in LESSONS:
        shutil.copy(path, tmp_path / path.name)
    path = tmp_path / f"{stem}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.get("id") == cell_id)
    cell.source = edit(cell.source)
    nbformat.write(notebook, path)
    return export_models.lessons(tmp_path)


def cell_defining(stem, name):
    return next(
        statement.cell_id
        for statement in export_models.lesson_statements(
            export_models.SOURCE_DIR / f"{stem}.ipynb"
        )
        if name in statement.binds
    )


def test_a_changed_lesson_cell_changes_the_generated_module(tmp_path):
    cell_id = cell_defining("05_architectures", "build_lenet5")
    paths = edited_copy(
        tmp_path,
        "05_architectures",
        cell_id,
        lambda source: source.replace("Dense(84", "Dense(85"),
    )
    generated = export_models.generate(paths)
    assert "Dense(85" in generated and "Dense(84" not in generated
    assert f"# From instructor/05_architectures.ipynb, cell {cell_id}." in generated


def test_the_marker_check_finds_missing_and_unneeded_markers(tmp_path):
    unmarked = edited_copy(
        tmp_path,
        "05_architectures",
        cell_defining("05_architectures", "build_lenet5"),
        lambda source: source.replace(export_models.MARKER + "\n", ""),
    )
    assert any(
        "use utils.models.build_lenet5, which no cell" in problem
        for problem in export_models.export_problems(unmarked)
    )
    extra = edited_copy(
        tmp_path,
        "09_dcgan",
        cell_defining("09_dcgan", "images_per_second"),
        lambda source: export_models.MARKER + "\n" + source,
    )
    assert any(
        "exports images_per_second, which no later lesson uses" in problem
        for problem in export_models.export_problems(extra)
    )


def test_an_exported_cell_runs_no_lesson_code(tmp_path):
    paths = edited_copy(
        tmp_path,
        "05_architectures",
        cell_defining("05_architectures", "build_lenet5"),
        lambda source: source + "\n\n\nbuild_lenet5().summary()",
    )
    with pytest.raises(ValueError, match="holds `build_lenet5\\(\\).summary\\(\\)`"):
        export_models.generate(paths)


def test_no_lesson_keeps_a_second_copy_of_exported_code():
    exported = {
        name: statement
        for name, statement in export_models.exported_names(LESSONS).items()
        if isinstance(statement.node, ast.FunctionDef | ast.ClassDef)
    }
    for path in LESSONS:
        for statement in export_models.lesson_statements(path):
            if not isinstance(statement.node, ast.FunctionDef | ast.ClassDef):
                continue
            for name in statement.binds & set(exported):
                teacher = exported[name]
                assert path.stem == teacher.lesson, (
                    f"{statement.where} defines {name} again; import it from "
                    f"utils.models (taught in {teacher.where})"
                )


# What the lessons rely on, model by model.

MODEL_BUILDERS = [
    models.build_article_cnn,
    models.build_cnn,
    models.build_lenet5,
    models.build_alexnet_style,
    models.build_vgg_style,
    models.build_resnet_style,
]


@pytest.mark.parametrize("build", MODEL_BUILDERS, ids=lambda build: build.__name__)
def test_counted_macs_agree_with_the_profilers_flops(build):
    """Two independent counts: each multiply-accumulate is two floating-point ops."""
    model = build()
    flops = models.count_flops(model)
    assert 2 * models.count_macs(model) == flops["convolution"] + flops["MatMul"]


def test_layer_macs_by_hand():
    inputs = keras.Input((8, 8, 4))
    conv = keras.layers.Conv2D(6, 3, strides=2, padding="same")
    grouped = keras.layers.Conv2D(6, 3, groups=2)
    dense = keras.layers.Dense(5)
    keras.Model(inputs, [conv(inputs), grouped(inputs), dense(inputs)])
    assert models.layer_macs(conv) == 4 * 4 * 6 * (3 * 3 * 4)
    assert models.layer_macs(grouped) == 6 * 6 * 6 * (3 * 3 * 4 // 2)
    assert models.layer_macs(dense) == 4 * 5
    assert models.layer_macs(keras.layers.ReLU()) == 0


def test_the_article_cnn_and_lenet5_have_their_published_sizes():
    assert models.build_article_cnn().count_params() == 54_410
    assert models.build_lenet5().count_params() == 61_706
    assert models.count_macs(models.build_lenet5()) == 416_520


def test_build_cnn_switches_and_the_hidden_layer_lesson_09_reads():
    full = models.build_cnn()
    kinds = [type(layer).__name__ for layer in full.layers]
    assert kinds.count("BatchNormalization") == 3 and kinds.count("Dropout") == 2
    assert full.get_layer("hidden").units == 128
    assert full.output.shape == (None, models.NUM_CLASSES)
    plain = models.build_cnn(batch_norm=False, dropout=0.0, dense_units=0)
    kinds = [type(layer).__name__ for layer in plain.layers]
    assert "BatchNormalization" not in kinds and "Dropout" not in kinds
    assert plain.get_layer("block1_conv").use_bias
    assert not full.get_layer("block1_conv").use_bias
    probabilities = full.predict(np.zeros((2, 28, 28, 1)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_residual_block_projects_the_shortcut_only_when_the_shape_changes():
    inputs = keras.Input((8, 8, 16))
    same = keras.Model(inputs, models.residual_block(inputs, 16))
    halved = keras.Model(inputs, models.residual_block(inputs, 32, 2))

    def convolutions(model):
        return sum(isinstance(layer, keras.layers.Conv2D) for layer in model.layers)

    assert convolutions(same) == 2 and same.output.shape == (None, 8, 8, 16)
    assert convolutions(halved) == 3 and halved.output.shape == (None, 4, 4, 32)
    momenta = {
        layer.momentum
        for layer in models.build_resnet_style().layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }
    assert momenta == {models.BN_MOMENTUM}


@pytest.mark.parametrize(
    "build",
    [models.build_alexnet_style, models.build_vgg_style, models.build_resnet_style],
    ids=lambda build: build.__name__,
)
def test_width_multiplies_the_channels(build):
    def widest(model):
        return max(
            layer.filters
            for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D)
        )

    narrow, wide = build(width=1), build(width=2)
    assert widest(wide) == 2 * widest(narrow)
    assert wide.output.shape == narrow.output.shape == (None, 10)


def test_augmentation_changes_photos_in_training_only():
    photos = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("f4")
    augmentation = models.build_augmentation(seed=0)
    np.testing.assert_array_equal(augmentation(photos, training=False), photos)
    changed = np.asarray(augmentation(photos, training=True))
    assert changed.shape == photos.shape and not np.allclose(changed, photos)
    again = np.asarray(models.build_augmentation(seed=0)(photos, training=True))
    np.testing.assert_allclose(again, changed, atol=1e-3)


def test_flowers_cnn_variants_and_inputs_it_refuses():
    plain = models.build_flowers_cnn(64)
    assert plain.count_params() == 360_357
    assert plain.output.shape == (None, models.NUM_FLOWER_CLASSES)
    regularised = models.build_flowers_cnn(
        64, augmentation=models.build_augmentation(0), batch_norm=True, dropout=0.3
    )
    kinds = [type(layer).__name__ for layer in regularised.layers]
    assert kinds.count("BatchNormalization") == 4 and kinds.count("Dropout") == 2
    assert "Sequential" in kinds  # The augmentation runs inside the model.
    for image_size, dropout in ((8, 0.0), (64, 1.0)):
        with pytest.raises(ValueError, match="expected image_size >= 16"):
            models.build_flowers_cnn(image_size, dropout=dropout)


def test_feature_extractor_is_frozen_and_flat():
    extractor = models.build_feature_extractor(64, backbone_size=96)
    assert extractor.output.shape == (None, 1024)
    assert extractor.trainable_weights == []
    extractor.get_layer("conv_pw_13_relu")  # Grad-CAM in lesson 08 reaches it.
    features = extractor.predict(np.full((1, 64, 64, 3), 128.0), verbose=0)
    assert features.shape == (1, 1024) and np.isfinite(features).all()
    with pytest.raises(ValueError, match="needs at least 32 pixels"):
        models.build_feature_extractor(16)


def test_classifier_head_exposes_its_logits():
    head = models.build_classifier_head(1024, 5)
    assert head.count_params() == 1024 * 5 + 5
    assert head.get_layer("logits").units == 5
    probabilities = head.predict(np.ones((3, 1024)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="expected >= 1, >= 2"):
        models.build_classifier_head(1024, 1)


@pytest.mark.parametrize("widths", [(32, 16), (64, 32, 16)])
def test_generator_makes_digits_in_the_tanh_range(widths):
    generator = models.build_generator(widths=widths)
    assert generator.input.shape == (None, models.LATENT_DIM)
    images = generator.predict(
        np.random.default_rng(0).normal(size=(4, 100)), verbose=0
    )
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_discriminator_gives_one_logit_and_an_l2_penalty_when_asked():
    assert models.build_discriminator().output.shape == (None, 1)
    assert models.build_discriminator().losses == []
    penalised = models.build_discriminator(l2=1e-3)
    penalised(np.zeros((1, 28, 28, 1)))
    assert len(penalised.losses) == 3  # Two convolutions and the dense layer.
