# Shared set-up for the PyGObject suite: an isolated home for the XDG
# directories (GLib reads them once, so this happens before gi is imported),
# and the MsgObj typelib from the build tree (GI_TYPELIB_PATH set by meson).
import os
import tempfile

_home = tempfile.mkdtemp(prefix="msgobj-pytest-")
for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                 ("XDG_CACHE_HOME", "cache"), ("HOME", "home")):
    path = os.path.join(_home, sub)
    os.makedirs(path, exist_ok=True)
    os.environ[var] = path
os.environ.pop("MSGOBJ_CONFIG", None)

import gi  # noqa: E402

gi.require_version("MsgObj", "1.0")
gi.require_version("Gio", "2.0")

import pytest  # noqa: E402
from gi.repository import GLib, MsgObj  # noqa: E402,F401


@pytest.fixture
def tmp_dir(tmp_path):
    return str(tmp_path)

