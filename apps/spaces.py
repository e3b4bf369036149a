"""The search space ``cv`` uses when none is given, per app and preset, in ``--space`` syntax
(``key=low..high[:log]`` or ``key=v1,v2``). Every range holds the app's own default for its key,
and TPE tries that default first, so a default search starts from what ``train`` would do.
No imports: the CLI shows these in ``--help``."""
from __future__ import annotations

IMAGE_SPACES: dict[str, tuple[str, ...]] = {
    # the article's CNN: L2 on every kernel, dropout, the optimizer and its step, batch size
    "article": ("l2=1e-5..1e-2:log", "dropout=0..0.6", "optimizer=adam,rmsprop,nesterov",
                "learning_rate=1e-4..1e-2:log", "batch_size=32,64,128"),
    # the fast preset trains with SGD + Nesterov and one-cycle: decoupled weight decay is its L2
    "fast": ("weight_decay=1e-3..2e-2:log", "dropout=0..0.3", "learning_rate=0.05..0.8:log",
             "label_smoothing=0..0.2", "batch_size=128,256,512"),
}
TEXT_SPACES: dict[str, tuple[str, ...]] = {
    # the naive-Bayes bag: input n-gram dropout, L2 toward its naive-Bayes start, Adam's step, batch
    # size (its NB smoothing follows the texts' lengths; --space model.nb_smoothing=1..50:log searches it)
    "nb": ("dropout=0..0.5", "l2=0,1e-8,1e-7,1e-6", "optimizer=adam,rmsprop", "learning_rate=3e-3..1e-1:log",
           "batch_size=64,128,256,512"),
    "embedding": ("dropout=0.2..0.6", "l2=0,1e-6,1e-5,1e-4", "optimizer=adam,rmsprop",
                  "learning_rate=1e-4..3e-3:log", "batch_size=32,64,128"),
}
TS_SPACE: tuple[str, ...] = ("l2=1e-5..1e-2:log", "dropout=0..0.5", "optimizer=adam,rmsprop",
                             "learning_rate=1e-4..1e-2:log", "batch_size=64,128,256")


def help_text(spaces: dict[str, tuple[str, ...]], label: str) -> str:
    """``--help`` lines: each preset's default space."""
    return " ".join(f"{label} {name}: " + " ".join(items) + "." for name, items in spaces.items())
