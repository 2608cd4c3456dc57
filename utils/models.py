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
    '04_architectures'
"""

import keras
from keras import layers

NUM_CLASSES = 10  # Digits (lesson 03) and Fashion-MNIST classes (lesson 04).
BN_MOMENTUM = 0.9  # Lesson 04's BatchNorm momentum.

TAUGHT_IN: dict[str, str] = {
    "build_article_cnn": "03_mnist_cnn",
    "conv_block": "03_mnist_cnn",
    "build_cnn": "03_mnist_cnn",
    "build_lenet5": "04_architectures",
    "layer_macs": "04_architectures",
    "count_macs": "04_architectures",
    "build_alexnet_style": "04_architectures",
    "build_vgg_style": "04_architectures",
    "residual_block": "04_architectures",
    "build_resnet_style": "04_architectures",
    # Lesson 05 entries go here.
    # Lesson 06 entries go here.
    # Lesson 07 entries go here.
}


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


# ---- Lesson 05: augmentation, BatchNorm, Dropout (functions below this line) ----


# ---- Lesson 06: transfer learning (functions below this line) ----


# ---- Lesson 07: DCGAN (functions below this line) ----
