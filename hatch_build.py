"""Build hook: on Python 3.13 and later, compile the small library that lets durable_rules import.

durable_rules 2.0.28 (its last release) calls ``PyEval_CallObject``, which Python 3.13 removed
from the C API: its extension builds, with a warning, but fails at import with ``undefined symbol:
PyEval_CallObject``. The library compiled here defines that symbol; ``compliance.rules.durable``
loads it with ``RTLD_GLOBAL`` before importing durable_rules, so the symbol resolves and the
extension imports. docs/ENGINE.md says why the symbol stops the process instead of calling.

On Python 3.10-3.12 nothing is compiled and the wheel stays pure Python. On 3.13 a build without a
working C compiler fails here, loudly: durable_rules itself needs one to install, so no install
could have gone further.

``pip install .`` puts the library in the wheel; an editable install (``pip install -e .``)
compiles it next to the sources, where the editable install imports the package from.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIM = "_pyeval_shim"

SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* durable_rules 2.0.28 calls PyEval_CallObject, removed from the C API in Python 3.13. Built
   against 3.13 headers, its calls declare the function implicitly, as returning an int: no
   definition could hand a PyObject pointer back through that call intact. Its only callers are
   the storage callbacks, which compliance never installs. Should one run all the same, the
   process stops with this message instead of using a cut pointer. */
__attribute__((visibility("default"))) int PyEval_CallObject(PyObject *callable, PyObject *args)
{
    (void)callable;
    (void)args;
    Py_FatalError("durable_rules called PyEval_CallObject (its storage callbacks), which Python "
                  "3.13 removed; compliance never installs those callbacks");
}

static struct PyModuleDef shim = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pyeval_shim",
    .m_doc = "Defines PyEval_CallObject for durable_rules 2.0.28 on Python 3.13 and later.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__pyeval_shim(void) { return PyModule_Create(&shim); }
"""


def needed() -> bool:
    """Whether this Python lacks ``PyEval_CallObject`` (removed in 3.13)."""
    return sys.version_info >= (3, 13)


def file_name() -> str:
    return SHIM + str(sysconfig.get_config_var("EXT_SUFFIX"))


def compile_shim(out: Path) -> None:
    """Compile and link the library into ``out`` with this Python's own compiler settings (as
    setuptools would: ``CC`` from the environment replaces the configured compiler)."""
    link = shlex.split(str(sysconfig.get_config_var("LDSHARED") or "cc -shared"))
    if os.environ.get("CC"):
        link = [*shlex.split(os.environ["CC"]), *link[1:]]
    ccshared = shlex.split(str(sysconfig.get_config_var("CCSHARED") or "-fPIC"))
    include = sysconfig.get_paths()["include"]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, f"{SHIM}.c")
        source.write_text(SOURCE, encoding="utf-8")
        command = [*link, *ccshared, "-O2", "-I", include, str(source), "-o", str(out)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise RuntimeError(_failure(command, str(exc))) from None
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(_failure(command, done.stderr.strip() or done.stdout.strip()))


def _failure(command: list[str], detail: str) -> str:
    return (
        "compliance: on Python 3.13 and later the install compiles a small library that lets "
        "durable_rules 2.0.28 import, and it could not be compiled (durable_rules needs the same "
        "C compiler and Python headers to install). Install a C compiler and this Python's "
        f"headers, or use Python 3.10-3.12.\ncommand: {shlex.join(command)}\n{detail}"
    )


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or not needed():
            return
        if version == "editable":
            # The editable install imports the package from the source tree: put it there.
            compile_shim(Path(self.root, "compliance", file_name()))
            return
        out = Path(self.directory, f".{SHIM}-build", file_name())
        out.parent.mkdir(parents=True, exist_ok=True)
        compile_shim(out)
        build_data["force_include"][str(out)] = f"compliance/{file_name()}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = Path(self.directory, f".{SHIM}-build")
        for leftover in scratch.glob("*"):
            leftover.unlink()
        if scratch.is_dir():
            scratch.rmdir()
