"""Cross-validated hyperparameter selection: search spaces, splitters, the search engine,
trial records (resume), and reports. Sees apps only through the small CVTask protocol."""
