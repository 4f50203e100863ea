"""The clinic assistant's own Python package: settings, NLU components, CLI."""
