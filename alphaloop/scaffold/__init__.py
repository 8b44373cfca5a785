"""``alphaloop init``: add AlphaLoop to an existing strategy repository.

The files come from the templates shipped with the package (the project's own
``policies/``, ``roles/`` and ``.github/``, and a starter ``task.md``); see
:func:`init_project`.
"""

from alphaloop.scaffold.install import (
    CONFIG_FILE,
    InitError,
    InitResult,
    check_entry,
    init_project,
    template_files,
)

__all__ = ["CONFIG_FILE", "InitError", "InitResult", "check_entry", "init_project",
           "template_files"]
