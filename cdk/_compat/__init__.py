"""Small shims over differences between the Python versions cdk supports."""
