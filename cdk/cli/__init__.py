"""Command-line interface: argument parsing and printing only; behaviour lives in the library."""
