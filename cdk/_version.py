__version__ = "0.1.0"

# what generated connectors depend on: inside the default dependency allowlist (cdk/validators/default_policy.toml)
REQUIREMENT = "connector-cdk>=0.1,<1"
