"""Daily prevention tasks: generated each morning per grid, done on the officer's phone."""
