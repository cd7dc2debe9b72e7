"""``python -m cdk`` runs the CLI."""

from cdk.cli.main import main

if __name__ == "__main__":
    main()
