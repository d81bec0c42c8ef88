"""Test-session settings: klx's profile cache goes to a throw-away directory, never the user's."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KLX_CACHE_DIR", tempfile.mkdtemp(prefix="klx-test-cache-"))
