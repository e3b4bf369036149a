"""Image model builders, one per preset, all made of the toolkit's blocks."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regapps.shared.blocks import conv_block, dense_block, dropout, output_layer
from regapps.shared.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import keras

PRESETS: Registry[keras.Model] = Registry("image preset")
DEFAULT_WIDTH = 16  # the fast preset's base channel count when neither --width nor a budget's plan sets it


@PRESETS.register("article", "Conv32 > pool > Conv64 > pool > Conv64 > Dropout > Dense64 > softmax")
def article_cnn(input_shape: tuple[int, int, int], num_classes: int, reg: Any) -> keras.Model:
    """The article's CNN. On inputs too small for its valid convolutions and pools (8x8 digits)
    a convolution keeps its size ('same' padding) and a pool is skipped instead of failing."""
    import keras

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    size = min(input_shape[0], input_shape[1])
    for i, filters in enumerate((32, 64, 64)):
        padding = "valid" if size - 2 >= 2 else "same"
        x = conv_block(x, filters, reg, name=f"conv{i + 1}", padding=padding, dropout=0.0)
        size = size - 2 if padding == "valid" else size
        if i < 2 and size >= 4:
            x = keras.layers.MaxPooling2D(name=f"pool{i + 1}")(x)
            size //= 2
    x = keras.layers.Flatten(name="flatten")(x)
    x = dropout(x, reg, name="dropout")
    x = dense_block(x, 64, reg, name="dense", dropout=0.0)
    outputs = output_layer(x, num_classes, reg, activation="softmax")
    return keras.Model(inputs, outputs, name="article_cnn")


@PRESETS.register("fast", "residual CNN (ResNet-9 style) with BatchNorm; pairs with augmentation and one-cycle SGD")
def fast_resnet(input_shape: tuple[int, int, int], num_classes: int, reg: Any,
                width: int = DEFAULT_WIDTH, whiten: bool | None = None) -> keras.Model:
    """prep(w) > [conv(2w), pool, residual(2w)] > [conv(4w), pool] > [conv(8w), pool,
    residual(8w)] > global max pool > dense. Every conv follows the config's regularization
    (BatchNorm on by this preset's defaults, so it can be ablated with --no-batchnorm). With
    ``whiten`` a frozen 2x2 patch-whitening convolution (``shared/whitening.py``; filled from the
    training images after building) takes the place of prep; None: :func:`uses_whitening`."""
    import keras
    from regapps.shared.whitening import whitening_layer

    def conv(x: Any, filters: int, name: str) -> Any:
        return conv_block(x, filters, reg, name=name, dropout=0.0)

    def pool(x: Any, name: str) -> Any:
        return keras.layers.MaxPooling2D(name=name)(x) if x.shape[1] >= 2 and x.shape[2] >= 2 else x

    def residual(x: Any, filters: int, name: str) -> Any:
        y = conv(conv(x, filters, f"{name}a"), filters, f"{name}b")
        return keras.layers.Add(name=f"{name}_add")([x, y])

    inputs = keras.Input(shape=input_shape, name="image")
    x = whitening_layer(inputs, input_shape[2]) if uses_whitening(whiten, input_shape) else conv(inputs, width, "prep")
    x = residual(pool(conv(x, 2 * width, "layer1"), "pool1"), 2 * width, "res1")
    x = pool(conv(x, 4 * width, "layer2"), "pool2")
    x = residual(pool(conv(x, 8 * width, "layer3"), "pool3"), 8 * width, "res3")
    x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
    x = dropout(x, reg, name="dropout")
    outputs = output_layer(x, num_classes, reg, activation="softmax")
    return keras.Model(inputs, outputs, name="fast_resnet")


def uses_whitening(whiten: bool | None, input_shape: tuple[int, int, int]) -> bool:
    """The fast preset's whitening choice: as given, or when unset on for colour images (three
    or more channels). One channel's 2x2 patches make only 8 whitened filters, narrower than
    the prep convolution they replace; on 8x8 digits that scored 0.933 against 0.961."""
    return whiten if whiten is not None else input_shape[2] >= 3


def build_model(preset: str, input_shape: tuple[int, int, int], num_classes: int,
                reg: Any, width: int | None = None, whiten: bool | None = None) -> keras.Model:
    """``width`` (the fast preset's; None: ``DEFAULT_WIDTH``) and ``whiten`` are ignored by
    presets without them."""
    return PRESETS.get(preset, input_shape=input_shape, num_classes=num_classes, reg=reg,
                       width=DEFAULT_WIDTH if width is None else width, whiten=whiten)
