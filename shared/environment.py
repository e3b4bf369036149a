"""Process-level setup and facts: quiet TensorFlow, package versions for run records."""
from __future__ import annotations

import logging
import os
import platform
from importlib import metadata

PACKAGES = ("regapps", "tensorflow-cpu", "tensorflow", "keras", "tensorflow-datasets", "numpy",
            "pandas", "scikit-learn", "yfinance")


def quiet_tensorflow(verbose: bool = False) -> None:
    """Hide TensorFlow's C++ start-up notices unless ``verbose``; call before importing it."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
        for name in ("tensorflow", "absl", "h5py", "matplotlib", "PIL"):
            logging.getLogger(name).setLevel(logging.ERROR)


def configure_logging(verbose: bool) -> None:
    """Logs to stderr (regapps' at INFO, or DEBUG with ``verbose``) and quiet TensorFlow."""
    import sys

    quiet_tensorflow(verbose)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s" if verbose else "regapps: %(message)s",
                        force=True)
    logging.getLogger("regapps").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("distributed").setLevel(logging.INFO if verbose else logging.ERROR)


def import_tensorflow(verbose: bool = False, strategy: str = "default") -> None:
    """Import TensorFlow, set up ``strategy`` (a multi-worker one must exist before the first
    op) and run one op. Unless ``verbose``, its C++ libraries' start-up lines (written to fd 2
    before logging is initialized, ignoring TF_CPP_MIN_LOG_LEVEL) are dropped."""
    from .distribute import prepare

    quiet_tensorflow(verbose)
    if verbose:
        import tensorflow as tf

        prepare(strategy)
        tf.constant(0)
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        prepare(strategy)
        tf.constant(0) + 1  # the first op loads kernels that log at start-up
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def ensure_tensorflow(strategy: str = "default") -> None:
    """:func:`import_tensorflow` unless it is imported already (by the CLI, before the command
    ran); TensorFlow's start-up lines are shown only when regapps logs at debug level."""
    import sys

    if "tensorflow" not in sys.modules:
        import_tensorflow(logging.getLogger("regapps").isEnabledFor(logging.DEBUG), strategy)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def cache_dir() -> os.PathLike[str]:
    """Download cache: ``$REGAPPS_DATA`` or ``data/cache`` under the working directory."""
    from pathlib import Path

    return Path(os.environ.get("REGAPPS_DATA") or Path("data") / "cache")
