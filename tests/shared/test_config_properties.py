"""Property tests: any bytes given as a --config file (YAML, TOML or JSON) either build a valid
configuration or raise ConfigError, never anything else."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from regapps.apps.image.config import ImageConfig
from regapps.apps.ts.config import TsConfig
from regapps.shared.config import build_config
from regapps.shared.errors import ConfigError

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KEYS = ["training", "epochs", "regularization", "dropout", "optimizer", "name", "model", "preset",
        "data", "ticker", "search", "meta", "l2", "batch_size"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=True),
                    st.sampled_from(["adam", "../x", "fast", "1e-3", ""]))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)), max_leaves=12)


@SETTINGS
@given(st.sampled_from([".yaml", ".json", ".toml"]),
       st.one_of(st.binary(max_size=600), trees.map(lambda t: json.dumps(t).encode()),
                 trees.map(lambda t: yaml.safe_dump(t).encode())))
@example(".json", b"[" * 50_000)  # nested beyond the parser's recursion limit
@example(".yaml", b"[" * 50_000)
@example(".toml", b"a = " + b"[" * 50_000)
@example(".yaml", b"a: &a [1, 2]\nb: &b [*a, *a]\nsearch: {l2: *b}\n")
@example(".yaml", b"!!python/object/apply:os.system ['true']\n")
def test_config_file_bytes(tmp_path_factory: object, suffix: str, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("cfg")) / f"config{suffix}"  # type: ignore[attr-defined]
    path.write_bytes(data)
    for cls in (ImageConfig, TsConfig):
        try:
            config = build_config(cls, config_file=path)
        except ConfigError as exc:
            assert "\n" not in str(exc).strip()
            continue
        assert cls.model_validate(config.to_dict()) == config


GRID_KEYS = ["l2", "dropout", "optimizer", "model.preset", "training", "training.epochs", "search", "data.ticker"]
GRID_VALUES = ["0", "1e-3", "[1]", '{"a": 1}', "null", "true", "fast", "adam", "", "2", "[]"]


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), trees, max_size=4),
       st.lists(st.tuples(st.sampled_from(GRID_KEYS), st.lists(st.sampled_from(GRID_VALUES), max_size=3)),
                max_size=2),
       st.lists(st.tuples(st.sampled_from(GRID_KEYS + ["model", "regularization.l2"]),
                          st.sampled_from(GRID_VALUES)), max_size=2))
@example({"search": ["l2"]}, [], [])
@example({"search": {"l2": None}}, [], [])
@example({"model": {"preset": ["fast"]}}, [], [])
@example({}, [("model.preset", ["[1]", "fast"])], [])
@example({}, [], [("model.preset", "[1]")])
def test_cv_boundaries(tmp_path_factory: object, tree: dict, grid: list, sets: list) -> None:
    """Whatever a config file's sections and `search:` mapping, `--grid` and `--set` hold, the cv
    command's plan is made or ConfigError says why in one line; nothing else escapes."""
    from regapps.apps.options import base_tree
    from regapps.shared.selection.runner import make_plan

    path = Path(tmp_path_factory.mktemp("cfg")) / "config.json"  # type: ignore[attr-defined]
    path.write_text(json.dumps(tree))
    items = [f"{k}={','.join(v)}" for k, v in grid]
    for cls in (ImageConfig, TsConfig):
        try:
            base = base_tree(cls, path, {}, [f"{k}={v}" for k, v in sets])
            make_plan(cls, base, grid=items, search="grid", n_iter=2, folds=2, seeds=1, eta=2, seed=0)
        except ConfigError as exc:
            assert "\n" not in str(exc).strip()
