"""Cross-validated hyperparameter selection: search spaces, splitters, the search engine,
trial records (resume), executors and reports. Sees apps only through the protocols
(protocols.py); apps build their tasks from the adapters (adapters.py)."""
