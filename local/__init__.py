"""Offline stack: emulates the deployed system from template.yaml."""

import sys
from pathlib import Path

# The domain package (schedule expressions, ...) lives in the template's layer; the Lambda runtime adds
# each function's layers itself, the launcher needs this one from the start.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "imagestudio" / "python")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
