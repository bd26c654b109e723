"""Accuracy as a measured number: a labelled corpus generator, a scorer, and a noise scan of
real code (issue 9). ``python -m benchmarks.accuracy`` runs all three."""
