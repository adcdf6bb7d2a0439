"""The basic-information registry (一标三实): standard addresses, and the actual
people, houses and units at them, collected while doing the work."""
