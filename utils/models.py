"""One copy of every model (and model-measuring) function the lessons teach.

Each lesson writes its functions out in full, because reading them is the lesson. Later
lessons (08 in particular) need the same functions without repeating them, so they
import them from here. ``tests/test_models.py`` parses both copies and fails when the
notebook's code and this module's code differ (docstrings aside), so the two cannot
drift apart. ``TAUGHT_IN`` names the notebook that teaches each function.

Module-level constants that the functions read (``NUM_CLASSES``, ``BN_MOMENTUM``, ...)
must have the same value as in the teaching notebook; the test checks that too.

Example:
    >>> from utils import models
    >>> models.build_article_cnn().count_params()
    54410
    >>> models.TAUGHT_IN["build_resnet_style"]
    '05_architectures'
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import utils.data

NUM_CLASSES = 10  # Digits (lesson 04) and Fashion-MNIST classes (lesson 05).
BN_MOMENTUM = 0.9  # Lesson 05's BatchNorm momentum.

TAUGHT_IN: dict[str, str] = {
    "count_flops": "02_cnn_math",
    "build_article_cnn": "04_mnist_cnn",
    "conv_block": "04_mnist_cnn",
    "build_cnn": "04_mnist_cnn",
    "build_lenet5": "05_architectures",
    "layer_macs": "05_architectures",
    "count_macs": "05_architectures",
    "build_alexnet_style": "05_architectures",
    "build_vgg_style": "05_architectures",
    "residual_block": "05_architectures",
    "build_resnet_style": "05_architectures",
    "build_augmentation": "07_augmentation",
    "build_flowers_cnn": "07_augmentation",
    "bootstrap_interval": "07_augmentation",
    "build_feature_extractor": "08_transfer_learning",
    "split_at": "08_transfer_learning",
    "build_classifier_head": "08_transfer_learning",
    "grad_cam": "08_transfer_learning",
    "build_generator": "09_dcgan",
    "build_discriminator": "09_dcgan",
    "DCGAN": "09_dcgan",
    "frechet_distance": "09_dcgan",
    "classify_digits": "09_dcgan",
    "measure_digits": "09_dcgan",
}


def count_flops(model: keras.Model) -> dict[str, int]:
    """FLOPs per operation type of one forward pass, from TensorFlow's profiler.

    Args:
        model: A Keras model with a defined input shape.

    Returns:
        Floating-point operations for one image, keyed by operation type
        (``"convolution"``, ``"MatMul"``, ``"BiasAdd"``, ...).

    Example:
        >>> flops = count_flops(build_article_cnn())
        >>> flops["convolution"] == 2 * 26 * 26 * 3 * 3 * 1 * 32
        True
    """
    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    graph = tf.function(model).get_concrete_function(spec).graph
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    profile = tf.compat.v1.profiler.profile(graph=graph, options=options)
    flops = {}
    for node in profile.children:
        op_type = node.name.rsplit("/", 1)[-1]
        flops[op_type] = flops.get(op_type, 0) + node.total_float_ops
    return flops


def build_article_cnn() -> keras.Model:
    """The article's CNN: one 3x3 convolution, 2x2 max pooling, a softmax layer."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def conv_block(x, filters: int, *, name: str, batch_norm: bool, strides: int = 1):
    """3x3 convolution with 'same' padding, optional BatchNorm, then ReLU."""
    x = keras.layers.Conv2D(
        filters,
        3,
        strides=strides,
        padding="same",
        use_bias=not batch_norm,  # BatchNorm's shift replaces the bias.
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_cnn(
    *, batch_norm: bool = True, dropout: float = 0.4, dense_units: int = 128
) -> keras.Model:
    """Three conv blocks (16, 32, 32 filters), two 2x2 poolings, a classifier head."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = conv_block(inputs, 16, name="block1", batch_norm=batch_norm)  # 28 x 28
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)  # 14 x 14
    x = conv_block(x, 32, name="block2", batch_norm=batch_norm)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)  # 7 x 7
    x = conv_block(x, 32, name="block3", batch_norm=batch_norm)
    x = keras.layers.Flatten(name="flatten")(x)  # 7 * 7 * 32 = 1,568 values
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout1")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu", name="hidden")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="dropout2")(x)
    logits = keras.layers.Dense(NUM_CLASSES, name="logits")(x)
    outputs = keras.layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, outputs, name="cnn")


def build_lenet5() -> keras.Model:
    """LeNet-5 (LeCun et al., 1998) for 28 x 28 x 1 inputs."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1")(inputs)
    x = layers.AveragePooling2D(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation="tanh", name="c3")(x)
    x = layers.AveragePooling2D(2, name="s4")(x)
    x = layers.Conv2D(120, 5, activation="tanh", name="c5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation="tanh", name="f6")(x)
    outputs = layers.Dense(10, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="lenet5")


def layer_macs(layer: layers.Layer) -> int:
    """Multiply-accumulates of one Conv2D or Dense layer for one image (else 0)."""
    if isinstance(layer, layers.Conv2D):
        kernel_height, kernel_width = layer.kernel_size
        channels_in = layer.input.shape[-1]
        _, height_out, width_out, channels_out = layer.output.shape
        per_output = kernel_height * kernel_width * channels_in // layer.groups
        return height_out * width_out * channels_out * per_output
    if isinstance(layer, layers.Dense):
        return layer.input.shape[-1] * layer.units
    return 0


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass for one image."""
    return sum(layer_macs(layer) for layer in model.layers)


def build_alexnet_style(width: int = 1) -> keras.Model:
    """An AlexNet-style network for 28 x 28 x 1 inputs; `width` scales channels."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(
        32 * width, kernel_size=7, strides=2, padding="same", activation="relu"
    )(inputs)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)  # 14 -> 7, overlapping
    x = layers.Conv2D(48 * width, 5, padding="same", activation="relu")(x)
    for filters in (64, 64, 48):
        x = layers.Conv2D(filters * width, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)  # 7 -> 4, overlapping
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(256 * width, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="alexnet_style")


def build_vgg_style(width: int = 1) -> keras.Model:
    """A VGG-style network for 28 x 28 x 1 inputs; `width` multiplies the channels."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters in (16 * width, 32 * width):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)  # 28 -> 14 -> 7
    x = layers.Flatten()(x)
    x = layers.Dense(128 * width, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="vgg_style")


def residual_block(x, filters: int, strides: int = 1):
    """Two 3 x 3 Conv-BN layers plus a shortcut: ReLU(F(x) + x)."""
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM)(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=BN_MOMENTUM)(y)
    if strides != 1 or x.shape[-1] != filters:  # Project x to the new shape.
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM)(shortcut)
    y = layers.Add()([y, shortcut])
    return layers.Activation("relu")(y)


def build_resnet_style(
    stages: tuple = ((32, 1), (64, 2), (64, 1)), width: int = 1
) -> keras.Model:
    """A ResNet-style network for 28 x 28 x 1 inputs, one residual block per stage."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(stages[0][0] * width, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(2)(x)  # 28 -> 14
    for filters, strides in stages:
        x = residual_block(x, filters * width, strides)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet_style")


# ---- Lesson 07: augmentation, BatchNorm, Dropout (functions below this line) ----

NUM_FLOWER_CLASSES = 5  # Lesson 07's flowers (utils.data.FLOWER_CLASSES).


def build_augmentation(seed: int | None = None) -> keras.Sequential:
    """Random flips, rotations, zooms, shifts and contrast changes (training only).

    Taught in 07_augmentation.ipynb. The layers transform their input only when
    called with ``training=True`` (as ``fit()`` does) and are the identity at
    inference, so the pipeline can live inside a model. They expect RGB pixels in
    [0, 255] (``RandomContrast`` clips to that range).

    Each layer draws from its own stream (seeds ``seed``, ``seed + 1``, ...): layers
    given one shared seed draw the same numbers, which would tie their decisions
    (every mirrored photo turned the same way). ``RandomContrast`` gets the pair
    ``(0.2, 0.2)``, since Keras 3 reads a single 0.2 as factors in [1.0, 1.2] only.

    Args:
        seed: Seed of the first layer's random draws (the others get
            ``seed + 1``, ...), for repeatable runs; ``None`` leaves every layer
            unseeded.

    Returns:
        A ``keras.Sequential`` named ``"augmentation"``: ``RandomFlip("horizontal")``,
        ``RandomRotation(0.05)``, ``RandomZoom(0.15)``,
        ``RandomTranslation(0.1, 0.1)`` and ``RandomContrast((0.2, 0.2))``.

    Example:
        >>> import numpy as np
        >>> augmentation = build_augmentation(seed=0)
        >>> photos = np.full((2, 16, 16, 3), 100.0, dtype="float32")
        >>> bool(np.array_equal(augmentation(photos, training=False), photos))
        True
        >>> [type(layer).__name__ for layer in augmentation.layers][:2]
        ['RandomFlip', 'RandomRotation']
        >>> [layer.seed for layer in augmentation.layers]
        [0, 1, 2, 3, 4]
    """
    seeds = [None if seed is None else seed + index for index in range(5)]
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seeds[0]),
            layers.RandomRotation(0.05, seed=seeds[1]),
            layers.RandomZoom(0.15, seed=seeds[2]),
            layers.RandomTranslation(0.1, 0.1, seed=seeds[3]),
            layers.RandomContrast((0.2, 0.2), seed=seeds[4]),  # Factors in [0.8, 1.2].
        ],
        name="augmentation",
    )


def build_flowers_cnn(
    image_size: int,
    *,
    augmentation: keras.layers.Layer | None = None,
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> keras.Model:
    """A small CNN for RGB flower photos in [0, 255]; the switches add remedies.

    Taught in 07_augmentation.ipynb. Four blocks of a 3 x 3 convolution (16, 32, 64,
    128 channels), an optional BatchNorm (Keras' default momentum, 0.99), a ReLU and a
    2 x 2 max pooling; then Flatten, Dense(128, ReLU) with optional Dropout before
    and after it, and a softmax over ``NUM_FLOWER_CLASSES`` classes. The input is
    rescaled to [0, 1] inside, after the optional augmentation.

    Lesson 07 trains every variant at ``image_size=64`` (batches of 32, Adam with a
    cosine-decayed learning rate from 3e-3, 40 epochs in cpu mode). Its best
    regularised model is::

        build_flowers_cnn(
            64, augmentation=build_augmentation(seed), batch_norm=True, dropout=0.3
        )

    Args:
        image_size: Side of the square input photos in pixels (at least 16).
        augmentation: Layers applied to the raw input first, e.g.
            :func:`build_augmentation`; ``None`` for none. Pass a fresh one per
            model.
        batch_norm: Add BatchNorm between each convolution and its ReLU (the
            convolutions then have no bias).
        dropout: Dropout rate before and after the dense layer; 0 for none.

    Returns:
        An uncompiled ``keras.Model`` named ``"flowers_cnn"`` mapping
        (batch, image_size, image_size, 3) to (batch, NUM_FLOWER_CLASSES)
        probabilities.

    Raises:
        ValueError: If ``image_size`` < 16 or ``dropout`` is not in [0, 1).

    Example:
        >>> model = build_flowers_cnn(64)
        >>> model.output.shape, model.count_params()
        ((None, 5), 360357)
        >>> build_flowers_cnn(64, batch_norm=True, dropout=0.3).output.shape
        (None, 5)
    """
    if image_size < 16 or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"Got image_size={image_size} and dropout={dropout}; expected "
            "image_size >= 16 (four 2 x 2 poolings) and 0 <= dropout < 1. "
            "Fix: use for example build_flowers_cnn(64, dropout=0.3)."
        )
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = inputs if augmentation is None else augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)  # [0, 255] -> [0, 1]
    for filters in (16, 32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)  # Keras' default momentum, 0.99.
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Dense(128, activation="relu")(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_FLOWER_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="flowers_cnn")


def bootstrap_interval(
    values: np.ndarray, *, num_resamples: int = 10_000, seed: int = 42
) -> tuple[float, float, float]:
    """Mean of per-photo `values` and its 95% bootstrap interval (photos resampled).

    Taught in 07_augmentation.ipynb. Pass one number per photo: 1 or 0 for a right
    or wrong prediction (the interval of an accuracy), or the difference of two
    models' outcomes on the same photos (a paired interval of the difference in
    accuracy). The photos are drawn with replacement ``num_resamples`` times; the
    interval is the 2.5th and 97.5th percentile of the resampled means. It covers
    the noise of which photos were drawn, not the noise of retraining.

    Args:
        values: One number per photo.
        num_resamples: Bootstrap resamples.
        seed: Seed of the resampling, for repeatable intervals.

    Returns:
        ``(mean, low, high)``: the mean of ``values`` and its 95% interval.

    Example:
        >>> right_a = np.array([1, 1, 0, 1] * 100, dtype=bool)
        >>> right_b = np.array([1, 1, 1, 1] * 100, dtype=bool)
        >>> mean, low, high = bootstrap_interval(right_b.astype(float) - right_a)
        >>> mean, bool(0.18 < low < mean < high < 0.32)
        (0.25, True)
    """
    values = np.asarray(values, dtype="float64")
    rng = np.random.default_rng(seed)
    resampled = values[rng.integers(0, len(values), (num_resamples, len(values)))]
    low, high = np.percentile(resampled.mean(axis=1), [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


# ---- Lesson 08: transfer learning (functions below this line) ----


def build_feature_extractor(
    image_size: int = 128, backbone_size: int = 224
) -> keras.Model:
    """Frozen ImageNet MobileNet v1: 0-255 RGB photos in, 1,024 pooled features out.

    Taught in 08_transfer_learning.ipynb. The model resizes its input to
    ``backbone_size`` (MobileNet's ImageNet resolution is 224), scales the pixels to
    [-1, 1] like ``keras.applications.mobilenet.preprocess_input``, runs the frozen
    backbone (ImageNet weights from :func:`utils.data.mobilenet_weights`, offline)
    and averages its last feature map (7 x 7 x 1,024 at 224 px) over the positions.
    Passing ``input_tensor`` makes the layers one flat model, so
    ``model.get_layer("conv_pw_13_relu")`` works, as :func:`grad_cam` needs.

    Args:
        image_size: Side of the square input photos, in pixels.
        backbone_size: Side the photos are resized to before the backbone.

    Returns:
        A model from (batch, image_size, image_size, 3) float RGB in [0, 255] to
        (batch, 1024) features, with no trainable weights.

    Raises:
        ValueError: If either size is below 32 pixels.

    Example:
        >>> extractor = build_feature_extractor(128)  # doctest: +SKIP
        >>> extractor.output.shape, len(extractor.trainable_weights)  # doctest: +SKIP
        ((None, 1024), 0)
    """
    if min(image_size, backbone_size) < 32:
        raise ValueError(
            f"Got image_size={image_size}, backbone_size={backbone_size}; MobileNet "
            "needs at least 32 pixels. Fix: use backbone_size=224 (its ImageNet size)."
        )
    inputs = keras.Input(shape=(image_size, image_size, 3), name="photos")
    x = layers.Resizing(backbone_size, backbone_size, name="resize")(inputs)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(x)  # To [-1, 1].
    backbone = keras.applications.MobileNet(
        input_tensor=x,
        include_top=False,
        weights=str(utils.data.mobilenet_weights(include_top=False)),
        pooling="avg",
    )
    backbone.trainable = False
    return backbone


def split_at(model: keras.Model, layer_name: str) -> tuple[keras.Model, keras.Model]:
    """Split a chain-shaped model into (bottom, top) at the output of a layer.

    Taught in 08_transfer_learning.ipynb, to cache the output of a frozen bottom
    once and fine-tune only the top. ``top`` re-applies the layers after the cut in
    order, so it is exact only for a plain chain of layers (MobileNet v1, VGG; not
    ResNet or MobileNetV2, whose skip connections cross the cut). Both parts share
    the layer objects, hence the weights, with ``model``.

    Args:
        model: A functional model whose layers form a single chain.
        layer_name: The layer whose output is the cut.

    Returns:
        ``(bottom, top)``: ``bottom`` maps the model's input to the cut
        activations, ``top`` maps cut activations to the model's output, and
        ``top(bottom(x))`` equals ``model(x)``.

    Raises:
        ValueError: If ``model`` has no layer called ``layer_name`` (from Keras).

    Example:
        >>> inputs = keras.Input((4,))
        >>> hidden = layers.Dense(3, name="hidden")(inputs)
        >>> chain = keras.Model(inputs, layers.Dense(2, name="out")(hidden))
        >>> bottom, top = split_at(chain, "hidden")
        >>> bottom.output.shape, top.input.shape
        ((None, 3), (None, 3))
    """
    cut = model.get_layer(layer_name)
    bottom = keras.Model(model.input, cut.output, name="bottom")
    inputs = keras.Input(shape=cut.output.shape[1:], name="cut_activations")
    x = inputs
    for layer in model.layers[model.layers.index(cut) + 1 :]:
        x = layer(x)
    return bottom, keras.Model(inputs, x, name="top")


def build_classifier_head(
    num_features: int, num_classes: int = 5, *, dropout: float = 0.2
) -> keras.Model:
    """Dropout and a dense softmax layer on top of pooled features.

    Taught in 08_transfer_learning.ipynb, as the new head of a pretrained backbone
    (a logistic regression on its features). The pre-softmax scores have their own
    layer, ``"logits"``, so that :func:`grad_cam` can reach them through
    ``keras.Model(head.input, head.get_layer("logits").output)``.

    Args:
        num_features: Length of the feature vectors (1,024 for MobileNet v1).
        num_classes: Number of classes.
        dropout: Dropout rate applied to the features during training.

    Returns:
        A model named ``"head"`` from (batch, num_features) to (batch,
        num_classes) probabilities.

    Raises:
        ValueError: If ``num_features`` < 1, ``num_classes`` < 2 or ``dropout`` is
            outside [0, 1).

    Example:
        >>> build_classifier_head(1024, 5).count_params()
        5125
    """
    if num_features < 1 or num_classes < 2 or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"Got num_features={num_features}, num_classes={num_classes}, "
            f"dropout={dropout}; expected >= 1, >= 2 and 0 <= dropout < 1. "
            "Fix: for MobileNet features use build_classifier_head(1024, 5)."
        )
    inputs = keras.Input(shape=(num_features,), name="features")
    x = layers.Dropout(dropout, name="head_dropout")(inputs)
    logits = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(logits)
    return keras.Model(inputs, outputs, name="head")


def grad_cam(
    model: keras.Model, layer_name: str, image: np.ndarray, class_index: int
) -> np.ndarray:
    """Grad-CAM heat map of one class for one image (Selvaraju et al., 2017).

    Taught in 08_transfer_learning.ipynb. With ``A`` the feature maps of
    ``layer_name`` and ``y`` the model's output for ``class_index``, each channel k
    gets the weight ``mean_ij dy/dA[i, j, k]`` and the map is
    ``ReLU(sum_k weight_k * A[:, :, k])``. Pass a model whose output is the class
    scores before the softmax, as the paper does; the layer must sit in the
    model's own (flat) graph, as in :func:`build_feature_extractor`.

    Args:
        model: A functional model; its output holds one score per class.
        layer_name: A convolutional layer of ``model``, usually the last one.
        image: One input image, shaped like the model's input without the batch
            axis.
        class_index: The class to explain.

    Returns:
        The heat map, shaped like the layer's height x width, not normalised
        (zero where nothing speaks for the class).

    Raises:
        ValueError: If ``image`` is not shaped like one input of ``model``.

    Example:
        >>> inputs = keras.Input((8, 8, 3))
        >>> maps = layers.Conv2D(4, 3, name="conv")(inputs)
        >>> pooled = layers.GlobalAveragePooling2D()(maps)
        >>> model = keras.Model(inputs, layers.Dense(2)(pooled))
        >>> grad_cam(model, "conv", np.ones((8, 8, 3), "float32"), 0).shape
        (6, 6)
    """
    expected_shape = tuple(model.inputs[0].shape[1:])
    if np.shape(image) != expected_shape:
        raise ValueError(
            f"image has shape {np.shape(image)}; expected one image of shape "
            f"{expected_shape}. Fix: pass images[index], not a batch."
        )
    probe = keras.Model(
        model.inputs, [model.get_layer(layer_name).output, model.output]
    )
    with tf.GradientTape() as tape:
        feature_maps, scores = probe(image[np.newaxis], training=False)
        score = scores[0, class_index]
    gradients = tape.gradient(score, feature_maps)[0]
    weights = tf.reduce_mean(gradients, axis=(0, 1))  # alpha_k: one per channel.
    heat_map = tf.nn.relu(tf.reduce_sum(feature_maps[0] * weights, axis=-1))
    return heat_map.numpy()


# ---- Lesson 09: DCGAN (functions below this line) ----

LATENT_DIM = 100  # Lesson 09: length of the generator's noise vector z.
CONFIDENCE = 0.9  # Lesson 09: a digit is "confident" at this top probability.


def build_generator(
    latent_dim: int = LATENT_DIM, widths: tuple = (32, 16)
) -> keras.Model:
    """DCGAN generator: z -> Dense -> 7x7 maps -> transposed convs -> 28x28x1 tanh.

    Taught in 09_dcgan.ipynb. ``widths=(32, 16)`` is the lesson's CPU network;
    ``(256, 128, 64)`` is the TensorFlow tutorial's generator (a stride-1 transposed
    convolution at 7 x 7 comes first).

    Args:
        latent_dim: Length of the noise vector z.
        widths: Channels of the 7 x 7 maps, then of each hidden transposed
            convolution; only the last hidden one has stride 2 (7 -> 14).

    Returns:
        A model from (batch, latent_dim) noise to (batch, 28, 28, 1) images in
        [-1, 1].

    Example:
        >>> build_generator(16).output.shape
        (None, 28, 28, 1)
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(7 * 7 * widths[0], use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, widths[0]))(x)
    for index, filters in enumerate(widths[1:]):
        strides = 2 if index == len(widths) - 2 else 1  # Only the last: 7 -> 14.
        x = layers.Conv2DTranspose(
            filters, 5, strides=strides, padding="same", use_bias=False
        )(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    images = layers.Conv2DTranspose(  # 14 -> 28, one channel in [-1, 1].
        1, 5, strides=2, padding="same", activation="tanh"
    )(x)
    return keras.Model(z, images, name="generator")


def build_discriminator(
    widths: tuple = (16, 32), dropout: float = 0.3, l2: float = 0.0
) -> keras.Model:
    """DCGAN discriminator: strided convs, LeakyReLU, Dropout -> one logit.

    Taught in 09_dcgan.ipynb.

    Args:
        widths: Filters of the stride-2 5 x 5 convolutions (28 -> 14 -> 7).
        dropout: Dropout rate after each convolution (0 for none).
        l2: L2 penalty on the kernels (0 for none); collected in ``model.losses``.

    Returns:
        A model from (batch, 28, 28, 1) images to (batch, 1) logits ("real" if > 0).

    Example:
        >>> build_discriminator().output.shape
        (None, 1)
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    images = keras.Input(shape=(28, 28, 1), name="images")
    x = images
    for filters in widths:  # 28 -> 14 -> 7
        x = layers.Conv2D(
            filters, 5, strides=2, padding="same", kernel_regularizer=regularizer
        )(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, kernel_regularizer=regularizer)(x)  # "Real" if > 0.
    return keras.Model(images, logit, name="discriminator")


class DCGAN(keras.Model):
    """A generator and a discriminator trained against each other by fit().

    Taught in 09_dcgan.ipynb. Each ``train_step`` takes one Adam step for D on
    -L_D = -(E[log D(x)] + E[log(1 - D(G(z)))]) and one for G on the
    non-saturating loss -log D(G(z)). Both optimizers are attributes, so
    ``BackupAndRestore`` saves and restores their state with the weights.

    Args:
        generator: Model from z (its first input) to images in [-1, 1].
        discriminator: Model from images to one logit.
        label_smoothing: Real images get the label 1 - label_smoothing.
        instance_noise: Std. of Gaussian noise added to every image D sees.

    Example:
        >>> gan = DCGAN(build_generator(16), build_discriminator())
        >>> gan.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(2e-4))
        >>> sorted(gan.train_step(tf.zeros((4, 28, 28, 1))))
        ['d_loss', 'g_loss']
    """

    def __init__(
        self, generator, discriminator, *, label_smoothing=0.0, instance_noise=0.0
    ):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator.inputs[0].shape[-1]  # z is the first input.
        self.label_smoothing = label_smoothing  # Real images get label 1 - this.
        self.instance_noise = instance_noise  # Std. of noise added to D's inputs.
        self.noise_seeds = keras.random.SeedGenerator(0)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True  # G and D are built already; BackupAndRestore checks.

    def compile(self, d_optimizer, g_optimizer):
        """Set both optimizers and build their state (for BackupAndRestore)."""
        super().compile(optimizer=None)  # fit() uses the two optimizers below.
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Create the optimizers' state now, so that a backup can be loaded into it.
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        """The two loss trackers, reset by fit() every epoch."""
        return [self.d_loss_tracker, self.g_loss_tracker]

    def sample_z(self, batch_size):
        """A batch of noise vectors z ~ N(0, I)."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.noise_seeds)

    def judge(self, images):
        """D's logits; instance noise blurs real and fake images alike."""
        if self.instance_noise:
            noise = keras.random.normal(tf.shape(images), seed=self.noise_seeds)
            images = images + self.instance_noise * noise
        return self.discriminator(images, training=True)

    def discriminator_loss(self, real_logits, fake_logits):
        """-L_D: D maximises log D(x) + log(1 - D(G(z)))."""
        real_labels = tf.ones_like(real_logits) * (1.0 - self.label_smoothing)
        return self.bce(real_labels, real_logits) + self.bce(
            tf.zeros_like(fake_logits), fake_logits
        )

    def generator_loss(self, fake_logits):
        """Non-saturating: G maximises log D(G(z))."""
        return self.bce(tf.ones_like(fake_logits), fake_logits)

    def train_step(self, real_images):
        """One step for D, then one for G; returns the mean losses so far."""
        batch_size = tf.shape(real_images)[0]
        fake_images = self.generator(self.sample_z(batch_size), training=True)
        with tf.GradientTape() as tape:  # 1. One step for D.
            d_loss = self.discriminator_loss(
                self.judge(real_images), self.judge(fake_images)
            )
            d_loss += tf.add_n([0.0, *self.discriminator.losses])  # L2, if any.
        weights = self.discriminator.trainable_variables
        gradients = tape.gradient(d_loss, weights)
        self.d_optimizer.apply_gradients(zip(gradients, weights, strict=True))
        with tf.GradientTape() as tape:  # 2. One step for G, through D.
            fake_images = self.generator(self.sample_z(batch_size), training=True)
            g_loss = self.generator_loss(self.judge(fake_images))
        weights = self.generator.trainable_variables
        gradients = tape.gradient(g_loss, weights)
        self.g_optimizer.apply_gradients(zip(gradients, weights, strict=True))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors.

    Taught in 09_dcgan.ipynb: ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)),
    with tr (S_a S_b)^(1/2) computed from symmetric matrices only.

    Args:
        features_a: Array (num_a, dim) of feature vectors.
        features_b: Array (num_b, dim) of feature vectors.

    Returns:
        The squared Frechet distance (0 for identical statistics).

    Example:
        >>> features = np.random.default_rng(0).normal(size=(100, 3))
        >>> abs(round(frechet_distance(features, features), 6))
        0.0
        >>> round(frechet_distance(features, features + 2.0), 6)
        12.0
    """
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    # tr sqrt(cov_a cov_b) = tr sqrt(S cov_b S), S = sqrt(cov_a): symmetric, stable.
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    cross_values = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_of_root = np.sqrt(np.clip(cross_values, 0.0, None)).sum()
    squared_mean_distance = np.sum((mean_a - mean_b) ** 2)
    return float(
        squared_mean_distance + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_of_root
    )


def classify_digits(classifier: keras.Model, images) -> tuple:
    """Class probabilities and "hidden"-layer features of digits in [-1, 1].

    Taught in 09_dcgan.ipynb.

    Args:
        classifier: A model like ``build_cnn()``, trained on digits in [0, 1], with
            a layer named "hidden".
        images: Array (num, 28, 28, 1) in the generator's range [-1, 1].

    Returns:
        ``(probabilities, features)``: arrays (num, 10) and (num, hidden units).

    Example:
        >>> outputs = classify_digits(build_cnn(), np.zeros((2, 28, 28, 1)))
        >>> outputs[0].shape, outputs[1].shape
        ((2, 10), (2, 128))
    """
    two_outputs = keras.Model(
        classifier.inputs, [classifier.output, classifier.get_layer("hidden").output]
    )
    unit_images = (np.asarray(images, dtype="float32") + 1.0) / 2.0  # To [0, 1].
    return two_outputs.predict(unit_images, batch_size=500, verbose=0)


def measure_digits(classifier: keras.Model, images, real_features) -> dict:
    """Confident share, class shares and Frechet distance of digits in [-1, 1].

    Taught in 09_dcgan.ipynb.

    Args:
        classifier: As for ``classify_digits``.
        images: Array (num, 28, 28, 1) in [-1, 1].
        real_features: "hidden" features of real digits (the reference set).

    Returns:
        A dict with ``confident_share`` (share with top probability >= CONFIDENCE),
        ``min_class_share``, ``max_class_share``, ``frechet_distance`` and
        ``class_shares`` (array of NUM_CLASSES shares).

    Example:
        >>> images = np.random.default_rng(0).uniform(-1, 1, size=(20, 28, 28, 1))
        >>> _, reference = classify_digits(build_cnn(), images)
        >>> sorted(measure_digits(build_cnn(), images, reference))[:2]
        ['class_shares', 'confident_share']
    """
    probabilities, features = classify_digits(classifier, images)
    class_shares = np.bincount(
        probabilities.argmax(axis=1), minlength=NUM_CLASSES
    ) / len(images)
    return {
        "confident_share": float(np.mean(probabilities.max(axis=1) >= CONFIDENCE)),
        "min_class_share": float(class_shares.min()),
        "max_class_share": float(class_shares.max()),
        "frechet_distance": frechet_distance(features, real_features),
        "class_shares": class_shares,
    }
