"""The regapps applications: image, text and time-series."""
