"""The regapps toolkit: configs, registries, training loop, runs and reports. Never imports apps."""
