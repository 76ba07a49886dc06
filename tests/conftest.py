import sys
from pathlib import Path

# Tests import the checkout's package (editable install or scripts/dev-build.sh).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
