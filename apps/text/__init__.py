"""The text app: IMDB sentiment with a BatchNormalization model (``regapps text``)."""
