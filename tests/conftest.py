import os

from hypothesis import settings

# CI replays the same examples every run, so a red build is reproducible rather than a dice roll.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
