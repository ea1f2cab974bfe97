"""Build script: compiles minikv/_core.pyx when it can, else installs pure Python.

The compiled core is an accelerator, never a requirement. If Cython or a C
compiler is missing, or the build fails, the package installs without it and
minikv.BACKEND reports "pure".
"""
import os

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Treat a failed extension build as "use the pure-Python twin"."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, headers missing, ...
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        print(f"minikv: compiled core not built ({exc}); using pure Python")


def extensions():
    if os.environ.get("MINIKV_PURE") == "1":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    return cythonize(
        ["minikv/_core.pyx"],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
