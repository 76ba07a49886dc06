import os

import pytest
from hypothesis import settings

# CI replays the same examples every run, so a red build is reproducible rather than a dice roll.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def generated_scans(tmp_path_factory):
    """`generated_scans(scenes, seed, frames, width, height)`: a folder of that many generated scans."""
    from ssr_runtime.data.generate import GenerationSettings, generate_dataset

    def make(scenes: int, seed: int, frames: int, width: int, height: int):
        folder = tmp_path_factory.mktemp("scans")
        generate_dataset(folder, scenes=scenes, seed=seed,
                         settings=GenerationSettings(frames=frames, width=width, height=height),
                         workers=1, progress=False)
        return folder

    return make
