"""wennuan: the 送温暖 statistics and report workflow of a city federation of trade unions."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat, papermill and the Jupyter server) compiles an IRI grammar (rfc3987_syntax)
# at import — 1.1 s of CPU in every process (measured 2026-12-05: 1.07–1.09 s) — for a string format none of
# our notebooks or schemas uses. When that module is unavailable jsonschema skips the format (its import is
# wrapped in suppress(ImportError)); so it is made unavailable wherever wennuan_lib is imported: the command,
# the kernel that runs the notebooks, the tests, JupyterLab's server.
sys.modules.setdefault("rfc3987_syntax", None)
# The other string formats jsonschema checks only when their optional module is there (each import wrapped the
# same way), for schemas that use them: nbformat's use no format at all. Nothing else imports these modules
# (measured 2026-12-06: 0.04 s in every process, isoduration with arrow most of it).
for _format in ("isoduration", "rfc3986_validator", "rfc3339_validator", "webcolors", "uri_template", "fqdn"):
    sys.modules.setdefault(_format, None)
del _format
