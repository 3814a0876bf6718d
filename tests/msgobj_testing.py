# Helpers shared by the Python suites, tests/python and tests/integration:
# meson puts this directory on PYTHONPATH for both.


def run_async(start, finish, *args, timeout=30):
    """Runs an _async/_finish pair on a fresh GLib.MainLoop; returns the
    result or raises the GLib.Error, like the sync call would.

    Fails when the call has not finished within timeout seconds: every
    operation under test has its own clocks (the connection time-out, at
    most 20 s in these suites), so waiting longer would only hide a hang.
    """
    # Imported here, not at the top: a suite isolates the XDG directories
    # before anything of GLib is loaded.
    from gi.repository import GLib

    loop = GLib.MainLoop()
    box = {}

    def done(source, result, *unused):
        try:
            box["value"] = finish(result)
        except GLib.Error as error:
            box["error"] = error
        loop.quit()

    start(*args, done)
    timer = GLib.timeout_add_seconds(timeout, loop.quit)
    loop.run()
    if "value" in box or "error" in box:
        GLib.source_remove(timer)
    if "error" in box:
        raise box["error"]
    assert "value" in box, "async call did not finish in %d s" % timeout
    return box["value"]
