"""Test support: the pytest plugin, cassettes, redaction, standard tests and a local demo API."""
