"""Model presets and the augmenting input pipeline."""
from __future__ import annotations

import numpy as np
import pytest
from regapps.apps.image.config import ImageConfig
from regapps.apps.image.data import augment_batch, make_dataset
from regapps.apps.image.model import build_model
from regapps.shared.config import RegularizationConfig, build_config


def test_article_cnn_matches_the_article() -> None:
    model = build_model("article", (32, 32, 3), 10, RegularizationConfig(l2=1e-3, dropout=0.5))
    # Conv32 896 + Conv64 18,496 + Conv64 36,928 + Dense64 65,600 + Dense10 650
    assert model.count_params() == 122_570
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 3 and kinds.count("MaxPooling2D") == 2 and "Dropout" in kinds
    assert all(layer.kernel_regularizer is not None for layer in model.layers if hasattr(layer, "kernel"))


@pytest.mark.parametrize("shape", [(8, 8, 1), (12, 10, 3), (32, 32, 3), (64, 48, 3)])
@pytest.mark.parametrize("preset", ["article", "fast", "fast+whiten"])
def test_presets_accept_any_input_shape(shape: tuple[int, int, int], preset: str) -> None:
    name, _, whiten = preset.partition("+")
    model = build_model(name, shape, 7, RegularizationConfig(batchnorm=name == "fast"), whiten=bool(whiten))
    out = model(np.zeros((2, *shape), "float32"))
    assert tuple(out.shape) == (2, 7)
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), 1.0, rtol=1e-5)


def test_fast_preset_size_and_defaults() -> None:
    reg = RegularizationConfig(batchnorm=True)
    assert build_model("fast", (32, 32, 3), 10, reg, whiten=False).count_params() == 414_074
    # whitening: a frozen 2x2 conv to 24 filters (312 weights) for the 3x3 prep conv + BN (496),
    # and layer1 reads 24 channels instead of 16 (+2,304)
    assert build_model("fast", (32, 32, 3), 10, reg).count_params() == 414_074 - 496 + 312 + 2_304
    cfg = build_config(ImageConfig, flags={"model.preset": "fast", "training.batch_size": 128})
    assert cfg.regularization.batchnorm and cfg.augment.flip and cfg.schedule.name == "onecycle"
    assert cfg.model.whiten is None and cfg.augment.flip_average and cfg.augment.translate_average
    assert cfg.training.batch_size == 128  # a flag beats the preset's default
    article = build_config(ImageConfig)
    assert article.augment.flip is False  # the article preset does not augment
    assert not (article.model.whiten or article.augment.flip_average or article.augment.translate_average)


@pytest.mark.parametrize(("shape", "whiten", "expected"), [
    ((32, 32, 3), None, True), ((8, 8, 1), None, False), ((8, 8, 1), True, True), ((32, 32, 3), False, False),
    ((16, 16, 4), None, True)])
def test_whitening_is_on_for_colour_images_unless_set(shape: tuple[int, int, int], whiten: bool | None,
                                                       expected: bool) -> None:
    model = build_model("fast", shape, 5, RegularizationConfig(batchnorm=True), width=8, whiten=whiten)
    names = [layer.name for layer in model.layers]
    assert ("whiten" in names) is expected and ("prep" in names) is not expected


def test_flip_and_crop_augmentation() -> None:
    images = np.random.default_rng(0).random((64, 6, 6, 1)).astype("float32")
    flipped = np.asarray(augment_batch(images, flip=True, crop_padding=0, seed=1))
    same = np.all(flipped == images, axis=(1, 2, 3))
    mirrored = np.all(flipped == images[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and 10 < same.sum() < 54  # each image flipped or not, at random
    cropped = np.asarray(augment_batch(images, flip=False, crop_padding=2, seed=1))
    assert cropped.shape == images.shape
    assert np.mean(np.all(cropped == images, axis=(1, 2, 3))) < 0.3  # most images shifted
    # a shifted image still shows the original's centre pixels somewhere
    assert all(np.isin(images[i, 2:4, 2:4], cropped[i]).all() for i in range(8))


def _flipped_by_label(ds: object) -> dict[int, bool]:
    """Which images (by label) a pipeline over the marked images of :func:`_marked` flipped."""
    out = {}
    for batch, labels in ds.as_numpy_iterator():  # type: ignore[attr-defined]
        out.update({int(label): bool(image[0, 0, 0] > 0.5) for image, label in zip(batch, labels, strict=True)})
    return out


def _marked(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros((n, 2, 2, 1), np.uint8)
    x[:, :, 1] = 255  # the right column white: a flipped image has it on the left
    return x, np.arange(n)


def test_alternating_flips_show_each_image_both_ways_every_two_epochs() -> None:
    from regapps.apps.image.data import EpochCounter

    x, y = _marked(200)
    counter = EpochCounter()
    ds = make_dataset(x, y, 16, shuffle=True, seed=3, flip=True, flip_epoch=counter.variable)
    seen = []
    for epoch in range(4):
        counter.variable.assign(epoch)
        seen.append(_flipped_by_label(ds))
    assert 70 < sum(seen[0].values()) < 130  # a seeded half in the first epoch
    assert all(seen[1][i] != seen[0][i] for i in range(200))  # then each image the other way
    assert seen[2] == seen[0] and seen[3] == seen[1]
    again = EpochCounter()
    assert _flipped_by_label(make_dataset(x, y, 16, shuffle=True, seed=3, flip=True,
                                          flip_epoch=again.variable)) == seen[0]
    # a fold's pipeline flips its images as the whole set's does: the draw is by index into x
    fold = make_dataset(x, y, 16, shuffle=True, seed=3, flip=True, flip_epoch=again.variable,
                        indices=np.arange(50, 120))
    assert _flipped_by_label(fold) == {i: seen[0][i] for i in range(50, 120)}
    assert _flipped_by_label(make_dataset(x, y, 16, shuffle=True, seed=4, flip=True,
                                          flip_epoch=again.variable)) != seen[0]


def test_training_tells_the_pipeline_each_epoch(tmp_path: object) -> None:
    from regapps.apps.image.data import load_digits, split_indices
    from regapps.apps.image.task import ImageFit

    data = load_digits()
    cfg = build_config(ImageConfig, flags={"model.preset": "fast", "model.width": 4, "training.epochs": 5,
                                           "training.batch_size": 256, "training.precision": "float32",
                                           "augment.alternate_flips": True, "training.validation_split": 0.2})
    train_idx, val_idx = split_indices(data.y_train, 0.2, 0)
    job = ImageFit(cfg, data, train_idx, val_idx)
    assert job.flip_epoch is not None
    job.trainer.train_until(3)
    assert int(job.flip_epoch.variable.numpy()) == 2  # set as each epoch began
    job.trainer.train_until(5)  # a later leg goes on counting
    assert int(job.flip_epoch.variable.numpy()) == 4
    off = build_config(ImageConfig, flags={"model.preset": "fast", "model.width": 4, "augment.flip": False,
                                           "augment.alternate_flips": True})
    assert ImageFit(off, data, train_idx, val_idx).flip_epoch is None  # nothing to alternate


def test_pipeline_keeps_uint8_and_normalizes_batches() -> None:
    x = np.full((10, 4, 4, 1), 255, np.uint8)
    y = np.arange(10)
    batches = list(make_dataset(x, y, 4, shuffle=True, seed=0).as_numpy_iterator())
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype == np.float32 and batches[0][0].max() == pytest.approx(1.0)
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(10))
    one_hot = next(make_dataset(x, y, 4, shuffle=False, seed=0, num_classes=10).as_numpy_iterator())[1]
    assert one_hot.shape == (4, 10) and one_hot[1, 1] == 1.0


@pytest.mark.slow
def test_fast_preset_learns_digits(cli: object, tmp_path: object) -> None:
    import json

    # float32 whatever this CPU offers (the preset's precision is auto), and a validation part of
    # 288 images: the preset's 4% (57 digits) reaches 100% within 3 epochs, and restoring that first
    # perfect epoch made the test accuracy hinge on float rounding (0.88 to 0.98 across seeds)
    result = cli("image", "train", "--dataset", "digits", "--preset", "fast", "--epochs", "8",  # type: ignore[operator]
                 "--batch-size", "64", "--learning-rate", "0.05", "--set", "augment.flip=false",
                 "--set", "augment.crop_padding=0", "--precision", "float32", "--validation-split", "0.2",
                 "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["test"]["accuracy"] >= 0.95


@pytest.mark.parametrize("flags", [{}, {"regularization.l1": 0.01}, {"optimizer.learning_rate": 3e-4},
                                   {"training.epochs": 5}])
def test_setting_one_key_keeps_the_presets_other_defaults(flags: dict[str, object]) -> None:
    cfg = build_config(ImageConfig, flags=flags)
    assert cfg.regularization.l2 == 1e-3 and cfg.regularization.dropout == 0.5
    assert cfg.optimizer.name == "adam" and cfg.training.batch_size == 64
    for key, value in flags.items():
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == value


def test_split_indices_is_stratified_disjoint_and_seeded() -> None:
    from regapps.apps.image.data import split_indices

    y = np.repeat(np.arange(4), [50, 30, 15, 5])
    train, val = split_indices(y, 0.2, seed=3)
    assert len(val) == 20 and not set(train) & set(val) and len(train) + len(val) == len(y)
    assert np.bincount(y[val], minlength=4).tolist() == [10, 6, 3, 1]
    again, _ = split_indices(y, 0.2, seed=3)
    assert np.array_equal(train, again)
    assert not np.array_equal(train, split_indices(y, 0.2, seed=4)[0])


def test_flip_average_is_the_mean_over_each_image_and_its_mirror() -> None:
    import keras
    from regapps.apps.image.task import predict_probs

    keras.utils.set_random_seed(0)
    model = build_model("article", (8, 8, 1), 4, RegularizationConfig())
    x = np.random.default_rng(1).integers(0, 256, (5, 8, 8, 1), dtype=np.uint8)
    plain = predict_probs(model, x)
    mirrored = predict_probs(model, x[:, :, ::-1])
    averaged = predict_probs(model, x, flip_average=True)
    np.testing.assert_allclose(averaged, (plain + mirrored) / 2, rtol=1e-6)
    assert not np.allclose(plain, mirrored)  # the model is not mirror-symmetric, so it matters


def test_translate_average_weighs_the_image_and_two_one_pixel_shifts() -> None:
    import keras
    from regapps.apps.image.task import predict_probs

    keras.utils.set_random_seed(0)
    model = build_model("article", (8, 8, 1), 4, RegularizationConfig())
    x = np.random.default_rng(2).integers(0, 256, (5, 8, 8, 1), dtype=np.uint8)
    def shifts(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        padded = np.pad(images, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
        return padded[:, :8, :8], padded[:, 2:, 2:]  # content moved down-right, up-left

    down_right, up_left = shifts(x)
    assert np.array_equal(down_right[:, 1:, 1:], x[:, :-1, :-1]) and np.array_equal(up_left[:, :-1, :-1], x[:, 1:, 1:])
    plain, shifted = predict_probs(model, x), 0.25 * (predict_probs(model, down_right) + predict_probs(model, up_left))
    np.testing.assert_allclose(predict_probs(model, x, translate_average=True), 0.5 * plain + shifted, rtol=1e-5)
    both = predict_probs(model, x, flip_average=True, translate_average=True)
    mirror_dr, mirror_ul = shifts(x[:, :, ::-1])  # the mirror image, then shifted
    mirror = 0.5 * predict_probs(model, x[:, :, ::-1]) + 0.25 * (
        predict_probs(model, mirror_dr) + predict_probs(model, mirror_ul))
    np.testing.assert_allclose(both, (0.5 * plain + shifted + mirror) / 2, rtol=1e-5)
    assert not np.allclose(plain, 2 * shifted, rtol=1e-3)  # the shifts change the answer


def test_fast_preset_components_have_flags() -> None:
    from regapps.apps.commands import training_flags

    cfg = build_config(ImageConfig, flags={
        "model.preset": "fast", "augment.flip": False, "augment.crop_padding": 0, "augment.flip_average": False,
        "augment.translate_average": False, "model.whiten": False,
        **{k: v for k, v in training_flags(weight_decay=0.0, schedule="constant", batchnorm=False).items()
           if v is not None}})
    assert not (cfg.augment.flip or cfg.augment.crop_padding or cfg.augment.flip_average)
    assert not (cfg.augment.translate_average or cfg.model.whiten)
    assert cfg.optimizer.weight_decay == 0.0 and cfg.schedule.name == "constant"
    assert not cfg.regularization.batchnorm and cfg.optimizer.name == "nesterov"  # the rest stays
